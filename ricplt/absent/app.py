"""One HTTP service standing in for every platform component the box does not run.

The box's service map sends the HTTP services of absent components (alarm manager, VES manager, O1
mediator, ...) here; each request is answered ``501`` with a body naming the component, logged, and
counted (``twinric_errors_total{component="absent", reason=<component>}``), so an xApp that calls one
gets a clear error instead of a hang or a connection refused, and the operator sees the call.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ricplt.error_metrics import RestErrorMetrics

log = logging.getLogger("absent")

# service-ricplt-<component>-http.ricplt (OSC ric-dep naming), any port, with or without cluster suffix
_SERVICE = re.compile(r"^service-ric(?:plt|xapp)-(?P<component>.+?)-(?:http|rmr|tcp)(?:-alpha)?(?:\.|$)")


def component_of(host_header: str) -> str:
    """The platform component a request was addressed to, from its Host header."""
    host = host_header.rpartition(":")[0] if host_header.count(":") == 1 else host_header
    match = _SERVICE.match(host.lower())
    return match.group("component") if match else (host or "unknown")


def create_app() -> FastAPI:
    metrics = RestErrorMetrics("absent", "twinric_absent_requests", "Requests to components the box lacks.")
    app = FastAPI(title="twinric: platform components not in the box")
    app.state.metrics = metrics

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
    def absent(path: str, request: Request) -> JSONResponse:
        host = request.headers.get("host", "")
        component = component_of(host)
        metrics.bad_request(component)
        log.warning("%s %s/%s: OSC's %s is not part of twinric's box", request.method, host, path, component)
        return JSONResponse(
            {
                "error": "not_in_box",
                "component": component,
                "detail": f"twinric's box does not run OSC's {component}; the request {request.method} "
                          f"/{path} to {host} was not served (see 'Test your own xApp against e2sim' in "
                          f"the README for what the box offers)",
            },
            status_code=501,
        )

    return app
