"""``/health``: alive with detail (streams, lag, model, checkpoint); ``/health/ready``: 503 until ready."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from twin_sidecar.api.deps import Parts

router = APIRouter(tags=["health"])


@router.get("/health", summary="Alive and ready, with detail (no token needed)")
def health(parts: Parts) -> dict[str, Any]:
    return parts.health()


@router.get("/health/ready", summary="200 when ready, 503 otherwise (a readiness probe)")
def ready(parts: Parts) -> JSONResponse:
    report = parts.health()
    return JSONResponse(report, status_code=200 if report["ready"] else 503)
