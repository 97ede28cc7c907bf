"""``/v1/fidelity``: the model in service against what the RAN then did, model versions, drift."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from twin_sidecar.api.deps import Parts

router = APIRouter(prefix="/v1", tags=["fidelity"])


class FidelityOut(BaseModel):
    model_version: int
    latest: dict[str, Any] | None  # FidelityReport of the version in service on fresh data
    versions: list[dict[str, Any]]
    drift_events: list[dict[str, Any]]
    sync: dict[str, Any]
    ran_changes: list[dict[str, Any]]


@router.get("/fidelity", response_model=FidelityOut, summary="Prediction error on fresh data vs persistence")
def fidelity(parts: Parts, versions: int = 20) -> dict[str, Any]:
    sync = parts.sync
    report = sync.last_report
    return {
        "model_version": parts.dynamics.version,
        "latest": None if report is None else report.as_dict(),
        "versions": [asdict(v) for v in list(sync.versions)[-max(versions, 0) :]] if versions else [],
        "drift_events": list(sync.drift_events)[-50:],
        "sync": sync.status(),
        "ran_changes": [asdict(c) for c in list(parts.mirror.change_log)[-50:]],
    }
