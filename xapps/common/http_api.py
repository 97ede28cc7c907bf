"""The xApp's HTTP side on port 8080: health, config, metrics and the submgr notification endpoint.

``create_app`` builds the FastAPI app; ``HttpServer`` runs it with uvicorn in a daemon thread next to
the RMR loop (ricxappframe starts no HTTP server of its own).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from xapps.common.health import HealthState
from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.common.http")
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def create_app(
    health: HealthState,
    config: Callable[[], dict[str, Any]],
    metrics: XappMetrics,
    on_subscription_notification: Callable[[Any], None] | None = None,
    *,
    routers: Sequence[APIRouter] = (),
    title: str = "twinric xApp",
    openapi: bool = False,
) -> FastAPI:
    """The common endpoints, plus the xApp's own ``routers`` (documented at /docs with ``openapi``)."""
    app = FastAPI(
        title=title,
        docs_url="/docs" if openapi else None,
        redoc_url=None,
        openapi_url="/openapi.json" if openapi else None,
    )
    for router in routers:
        app.include_router(router)

    @app.get("/ric/v1/health/alive")
    def alive() -> Response:
        return JSONResponse({"alive": health.alive}, status_code=200 if health.alive else 503)

    @app.get("/ric/v1/health/ready")
    def ready() -> Response:
        ok, detail = health.readiness()
        return JSONResponse(detail, status_code=200 if ok else 503)

    @app.get("/ric/v1/config")
    def current_config() -> Response:
        return JSONResponse(config())

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=PROMETHEUS_TYPE)

    @app.post("/ric/v1/subscriptions/response")
    async def subscription_notification(request: Request) -> Response:
        if on_subscription_notification is None:
            return JSONResponse({"error": "this xApp has no E2 subscriptions"}, status_code=404)
        raw = await request.body()
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            metrics.error("bad_subscription_notification")
            return JSONResponse({"error": f"body is not JSON: {exc}"}, status_code=400)
        try:
            await asyncio.to_thread(on_subscription_notification, body)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({}, status_code=200)

    return app


class HttpServer:
    def __init__(self, app: FastAPI, host: str = "0.0.0.0", port: int = 8080) -> None:
        self.config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.server.run, name="xapp-http", daemon=True)
        self._thread.start()
        return self

    @property
    def started(self) -> bool:
        return bool(self.server.started)

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
