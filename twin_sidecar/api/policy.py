"""``/v1/policy``: the target policy in force and its candidate, the gate's history with its evidence,
the learner's diagnostics and the thresholds in force (from settings or a ``twinric-twin`` A1 policy)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from twin_sidecar.api.deps import Parts
from twin_sidecar.gate import GateRecord, PolicyReport
from twin_sidecar.target_policy import TargetPolicy

router = APIRouter(prefix="/v1", tags=["policy"])

RecordKind = Literal["promotion", "refusal", "rollback", "kept"]


class PolicyOut(PolicyReport):
    behaviour_version: str = Field(description="policy_version of the newest logged step: what the xApp runs")
    learner: dict[str, Any] = Field(
        description="updates, replay, held-out steps, diagnostics of the last update (policy lag, ESS, "
        "truncation rate, TD error, updates/s), why no candidate was put to the gate lately"
    )
    a1: dict[str, Any] | None = Field(description="the twinric-twin A1 policies read (None: not configured)")


class EvaluateOut(BaseModel):
    queued: bool
    detail: str


def _policy(parts: Parts) -> TargetPolicy:
    if parts.policy is None:
        raise HTTPException(404, "this twin has no target policy")
    return parts.policy


@router.get("/policy", response_model=PolicyOut, summary="Target policy: versions, history with evidence")
def policy_report(
    parts: Parts,
    history: int = Query(50, ge=0, le=500, description="newest gate/rollback records to include"),
    kind: RecordKind | None = Query(None, description="only records of this kind"),
) -> dict[str, Any]:
    target = _policy(parts)
    report = target.report(500)  # filtered after reading: `history` counts records of that kind
    records: list[GateRecord] = [r for r in report.history if kind is None or r.kind == kind]
    records = records[-history:] if history else []
    status = target.status()
    return {
        **report.model_dump(),
        "history": [r.model_dump() for r in records],
        "behaviour_version": status.pop("behaviour_version"),
        "learner": status,
        "a1": parts.policy_a1.status() if parts.policy_a1 is not None else None,
    }


@router.post(
    "/policy/evaluate",
    response_model=EvaluateOut,
    status_code=202,
    summary="Put the learner's current network to the gate at the next opportunity",
)
def evaluate(parts: Parts) -> dict[str, Any]:
    target = _policy(parts)
    if not target.settings.enabled:
        raise HTTPException(409, "the target policy's learner is disabled (controls.twin.policy.enabled)")
    if target.learner.updates == 0:
        raise HTTPException(409, f"no candidate yet: {target.waiting}")
    target.evaluate_soon()
    return {"queued": True, "detail": "the candidate goes to the gate at the worker's next step"}
