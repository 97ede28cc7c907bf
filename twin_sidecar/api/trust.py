"""``/v1/trust``: the security analytics' trust score of every subject, with its explanation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from twin_sidecar.api.deps import Parts

router = APIRouter(prefix="/v1", tags=["security"])
KINDS = ("xapp", "e2node", "ue")


class TrustOut(BaseModel):
    subjects: list[
        dict[str, Any]
    ]  # subject, score, t_s, explanation (signal -> trust taken), signals, evidence
    status: dict[str, Any]  # rounds scored, publishing, errors, training-guard exclusions


@router.get(
    "/trust", response_model=TrustOut, summary="Trust scores per subject (UE, E2 node, xApp), explained"
)
def trust_scores(
    parts: Parts,
    kind: str | None = Query(None, description="only subjects of this kind: xapp, e2node or ue"),
    below: float | None = Query(None, ge=0.0, le=1.0, description="only subjects scored below this"),
) -> dict[str, Any]:
    if kind is not None and kind not in KINDS:
        raise HTTPException(422, f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    security = parts.security
    if security is None:
        raise HTTPException(503, "security analytics are not running in this twin")
    return {"subjects": security.view(kind, below), "status": security.status()}
