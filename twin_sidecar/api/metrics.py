"""``/metrics``: Prometheus exposition of the twin's own registry."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from twin_sidecar.api.deps import Parts

router = APIRouter(tags=["metrics"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(parts: Parts) -> Response:
    parts.health()  # refreshes the checkpoint-age gauge
    parts.metrics.planes.set(parts.planes.total)
    return Response(parts.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
