"""``/v1/state`` and ``/v1/state/at``: the mirrored RAN now, and as it was at a past time."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from twin_sidecar.api.deps import Parts
from twin_sidecar.api.errors import BadRequest

router = APIRouter(prefix="/v1", tags=["state"])


class SliceOut(BaseModel):
    sst: int
    sd: int | None
    kpm: dict[str, float]
    distributions: dict[str, list[float]] = Field(
        default_factory=dict, description="counts per bin of each distribution (bins: distribution_bins)"
    )
    quota: dict[str, int]


class OffsetOut(BaseModel):
    """The cell individual offset of relation (cell, neighbour), TS 38.331 Q-OffsetRange dB."""

    neighbour: int
    nr_cell_id: int
    commanded_db: int
    acknowledged_db: int


class DistributionBinsOut(BaseModel):
    measurement: str | None = Field(description="the TS 28.552 distribution, e.g. DRB.UEThpDlDist")
    lower_edges: list[float] | None = Field(description="lower edge of each bin; the last bin is open")


class CellOut(BaseModel):
    index: int
    nr_cell_id: int
    meid: str
    reported: bool
    last_report_ns: int | None
    collection_ns: int | None
    kpm: dict[str, float]
    slices: list[SliceOut]
    offsets: list[OffsetOut] = []
    handovers_in: int
    handovers_out: int
    ues: int


class NodeOut(BaseModel):
    meid: str
    status: str
    first_report_ns: int | None
    last_report_ns: int | None
    cells: list[int]


class UeOut(BaseModel):
    ue_id: int
    cell: int
    rsrp_dbm: float
    last_seen_ns: int


class StateOut(BaseModel):
    """The mirror at one round: ``t_ns`` is the round's decision time (Unix ns), ``seq`` its record."""

    t_ns: int
    seq: int
    nodes: list[NodeOut]
    cells: list[CellOut]
    ues: list[UeOut]
    controls: list[dict[str, Any]]
    distribution_bins: dict[str, DistributionBinsOut] = {}
    history: dict[str, Any]
    observation: list[float] | None = None


def _out(parts: Parts, state: dict[str, Any], include_ues: bool, include_observation: bool) -> dict[str, Any]:
    h = parts.mirror.history
    state = dict(state)
    if not include_ues:
        state["ues"] = []
    if not include_observation:
        state["observation"] = None
    state["history"] = {
        "oldest_ns": h.oldest_ns,
        "latest_ns": h.latest_ns,
        "rounds": len(h),
        "rounds_seen": parts.mirror.rounds,
    }
    return state


@router.get("/state", response_model=StateOut, summary="The mirrored RAN now")
def state_now(
    parts: Parts,
    include_ues: bool = Query(False, description="list every UE (can be long)"),
    include_observation: bool = Query(False, description="the ran_space observation of the round"),
) -> dict[str, Any]:
    state = parts.mirror.state()
    if state is None:
        raise HTTPException(404, "no RAN-view record yet: the twin has nothing to mirror")
    return _out(parts, state, include_ues, include_observation)


@router.get("/state/at", response_model=StateOut, summary="The mirrored RAN as it was at time t")
def state_at(
    parts: Parts,
    t: float = Query(..., description="Unix time in seconds (the xApp's decision clock)"),
    include_ues: bool = False,
    include_observation: bool = False,
) -> dict[str, Any]:
    if not math.isfinite(t) or t < 0:
        raise BadRequest(f"t must be a finite, non-negative Unix time, not {t}")
    h = parts.mirror.history
    state = parts.mirror.state_at(int(t * 1e9))
    if state is None:
        oldest = None if h.oldest_ns is None else h.oldest_ns / 1e9
        raise BadRequest(f"t={t} is before the retained history (oldest round at {oldest})")
    return _out(parts, state, include_ues, include_observation)
