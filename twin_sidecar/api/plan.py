"""``POST /v1/plan``: MCTS on the twin from the state the xApp sees, within the xApp's A1 budget.

The contract the control xApp uses (``xapps/control/README.md``): ``{"observation", "mask",
"budget_ms", "policy_version"}`` -> ``{"action"}``; the answer adds the root's visits, improved policy,
completed Q and value, and the search statistics. Optional ``simulations``, ``max_depth`` and
``seed`` override the sidecar's defaults (``controls.twin.planner``).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from twin_sidecar.api.deps import Parts
from twin_sidecar.api.errors import BadRequest
from twin_sidecar.planner.online import PlanRequestError

router = APIRouter(prefix="/v1", tags=["planning"])


class PlanIn(BaseModel):
    observation: list[float] = Field(..., description="the RAN-space observation the policy sees")
    mask: list[int] = Field(..., description="1 = the action may be taken (masked and shield-muted: 0)")
    budget_ms: float = Field(..., gt=0, le=10_000, description="the xApp's wall-clock budget (A1)")
    policy_version: str | None = Field(None, description="the xApp's promoted policy, echoed")
    simulations: int | None = Field(None, ge=0)
    max_depth: int | None = Field(None, ge=1)
    seed: int | None = None


class SearchStatsOut(BaseModel):
    simulations: int
    max_depth: int
    nodes: int
    model_calls: int
    elapsed_ms: float
    search_budget_ms: float
    stop_reason: str


class PlanOut(BaseModel):
    action: int
    visits: list[int]  # [A] root visits
    policy: list[float]  # [A] improved policy (Gumbel) or visit distribution (PUCT)
    q_values: list[float]  # [A] completed Q at the root, 0 on masked actions
    root_value: float
    q_source: str  # "target_policy" | "uniform" (no target policy yet: model rewards only)
    q_version: str
    policy_version: str | None
    model_version: int
    member: int | None  # the ensemble member planned on (None: the ensemble mean)
    seed: int
    stats: SearchStatsOut


@router.post("/plan", response_model=PlanOut, summary="Plan the next action on the twin (MCTS)")
async def plan(body: PlanIn, parts: Parts) -> JSONResponse:
    # Planned in the event loop, not the thread pool: the search is bounded by the budget (ms), and
    # the hop to a worker thread would cost the xApp's loop more than it frees.
    planner = parts.planner
    if planner is None:
        raise HTTPException(503, "this sidecar has no planner")
    try:
        out = planner.plan(
            body.observation,
            body.mask,
            body.budget_ms,
            simulations=body.simulations,
            max_depth=body.max_depth,
            seed=body.seed,
        )
    except PlanRequestError as exc:
        raise BadRequest(str(exc)) from None
    stats = out.stats
    parts.metrics.plans.labels(stop_reason=stats.stop_reason, q_source=out.q_source).inc()
    return JSONResponse(
        {
            "action": out.action,
            "visits": out.visits,
            "policy": out.policy,
            "q_values": out.q_values,
            "root_value": out.root_value,
            "q_source": out.q_source,
            "q_version": out.q_version,
            "policy_version": body.policy_version,
            "model_version": out.model_version,
            "member": out.member,
            "seed": out.seed,
            "stats": {
                "simulations": stats.simulations,
                "max_depth": stats.max_depth,
                "nodes": stats.nodes,
                "model_calls": stats.model_calls,
                "elapsed_ms": stats.elapsed_ms,
                "search_budget_ms": out.budget_ms,
                "stop_reason": stats.stop_reason,
            },
        }
    )
