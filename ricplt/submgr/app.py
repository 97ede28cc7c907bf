"""The submgr REST API (OSC xapp-frame ``xapp_rest_api.yaml`` paths) as a FastAPI app.

``POST /ric/v1/subscriptions`` 201 ``{"SubscriptionId", "SubscriptionInstances": null}``; 400
``{"error": <reason>}`` for bodies that are not JSON or do not fit the schema (unknown fields are
ignored, as upstream); 503 ``{"error": "No E2 connection for ranName <x>"}``. ``GET
/ric/v1/subscriptions`` lists the E2 subscriptions (``SubscriptionData``: integer ``SubscriptionId`` =
E2 instance id), ``DELETE .../{id}`` answers 204, for an unknown id too (OSC's submgr does, and xApps
rely on it to shut down). ``/metrics`` serves the Prometheus metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from redis.exceptions import RedisError

from ricplt.submgr.metrics import SubmgrMetrics
from ricplt.submgr.service import (
    InvalidSubscription,
    NodeNotConnected,
    SubscriptionNotFound,
    SubscriptionService,
)
from ricplt.submgr.store import NoFreeInstance
from ricproto.subscription_api import SubscriptionParams

log = logging.getLogger("submgr.rest")


def validation_reason(error: ValidationError) -> str:
    """One line naming each offending field: ``ClientEndpoint.RMRPort: Field required; ...``."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def create_app(
    service: SubscriptionService,
    metrics: SubmgrMetrics,
    background: Callable[[], list[asyncio.Task]] | None = None,
) -> FastAPI:
    """The app; ``background`` starts the tasks that live as long as it (cancelled at shutdown)."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tasks = background() if background else []
        await service.resume()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await service.close()

    app = FastAPI(title="twinric submgr", lifespan=lifespan)

    def bad_request(reason: str, metric_reason: str) -> JSONResponse:
        metrics.error(metric_reason)
        log.warning("subscription request rejected: %s", reason)
        return JSONResponse({"error": reason}, status_code=400)

    @app.exception_handler(RedisError)
    async def redis_failed(_request: Request, exc: RedisError) -> JSONResponse:
        metrics.error("dbaas-failed")
        log.error("Redis failed: %s", exc)
        return JSONResponse({"error": f"subscription store unavailable: {exc}"}, status_code=500)

    @app.post("/ric/v1/subscriptions")
    async def subscribe(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return bad_request(f"body is not JSON: {exc}", "bad-request-json")
        try:
            params = SubscriptionParams.model_validate(body)
        except ValidationError as exc:
            return bad_request(validation_reason(exc), "bad-request-body")
        try:
            subscription_id = await service.create(params)
        except InvalidSubscription as exc:
            return bad_request(str(exc), "bad-request-body")
        except NodeNotConnected as exc:
            metrics.error("node-not-connected")
            log.warning("subscription to %s refused: not connected", exc.ran_name)
            return JSONResponse({"error": str(exc)}, status_code=503)
        except NoFreeInstance as exc:
            metrics.error("no-free-instance")
            return JSONResponse({"error": str(exc)}, status_code=503)
        return JSONResponse(
            {"SubscriptionId": subscription_id, "SubscriptionInstances": None}, status_code=201
        )

    @app.get("/ric/v1/subscriptions")
    async def list_subscriptions() -> JSONResponse:
        return JSONResponse([entry for record in await service.store.all() for entry in record.listing()])

    @app.delete("/ric/v1/subscriptions/{subscription_id}")
    async def unsubscribe(subscription_id: str) -> Response:
        try:
            await service.delete(subscription_id)
        except SubscriptionNotFound:
            log.info("DELETE of unknown subscription %s: nothing to delete (204, as OSC's submgr)",
                     subscription_id)
        return Response(status_code=204)

    @app.get("/ric/v1/health/alive")
    async def alive() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/ric/v1/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
