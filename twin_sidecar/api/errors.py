"""Bad requests get 400/422 with a reason, and every one is counted (route and status)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from twin_sidecar.metrics import TwinMetrics


class BadRequest(HTTPException):
    """400 with a reason a client can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(400, reason)


def install(app: FastAPI, metrics: TwinMetrics) -> None:
    def count(request: Request, status: int) -> None:
        route = request.scope.get("route")
        metrics.http_errors.labels(status=str(status), route=getattr(route, "path", request.url.path)).inc()
        metrics.error(f"http_{status}")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        count(request, 422)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        return JSONResponse({"detail": errors, "reason": reason}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code >= 400:
            count(request, exc.status_code)
        return JSONResponse(
            {"detail": exc.detail, "reason": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
