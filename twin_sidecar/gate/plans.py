"""Test plans on the twin's virtual planes: surge, hotspot and outage, in the scenario vocabulary.

A plan perturbs recent real observations the way the e2sim scenario events of the same name change
a RAN (``traffic_surge``: a slice's load on some cells times ``factor``; ``hotspot``: a share of all
connected UEs crowd into one cell; ``cell_outage``: a cell goes dark and its load lands on its
neighbours), then rolls the candidate and the policy in force greedily for ``steps`` report periods
on planes stepped by the predictive model. The perturbation is applied to the planes' start states;
from there the model carries it. A plan passes when the candidate brings no more cell-load-limit
violations than the policy in force (plus a tolerance) and its return is no worse than the
incumbent's beyond a relative tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from pydantic import BaseModel, Field

from ricproto.ran_space import BASE_FEATURES, CellLayout, RanSpace
from twin_sidecar.gate.evaluation_policy import EvaluationPolicy
from twin_sidecar.gate.report import PlanResult
from twin_sidecar.plane_dynamics import PlaneDynamics

PRESENT, PRB_USAGE, THROUGHPUT, CONNECTED = 0, 1, 2, 3  # ran_space per-cell columns

PlanKind = Literal["none", "traffic_surge", "hotspot", "cell_outage"]


class VerificationPlan(BaseModel):
    name: str
    kind: PlanKind
    cells: list[int] = Field(default_factory=list, description="traffic_surge: cell indices")
    cell: int | None = Field(None, description="hotspot / cell_outage: the cell index")
    slice: int | None = Field(None, description="traffic_surge: slice index in the RanSpace (None = all)")
    factor: float = Field(1.0, ge=0.0, description="traffic_surge: load multiplier")
    fraction: float = Field(0.0, ge=0.0, le=1.0, description="hotspot: share of all connected UEs drawn in")
    steps: int = Field(10, ge=1, le=1000, description="report periods rolled out on the planes")


def default_plans() -> list[VerificationPlan]:
    """The events of the shipped scenarios (small.yaml), as plans."""
    return [
        VerificationPlan(name="recent", kind="none"),
        VerificationPlan(name="surge", kind="traffic_surge", cells=[0, 1], slice=0, factor=3.0),
        VerificationPlan(name="hotspot", kind="hotspot", cell=3, fraction=0.25),
        VerificationPlan(name="outage", kind="cell_outage", cell=5),
    ]


def check_plan(plan: VerificationPlan, space: RanSpace) -> None:
    """Raise ValueError when the plan names a cell or slice the space does not have."""
    touched = plan.cells if plan.kind == "traffic_surge" else [] if plan.cell is None else [plan.cell]
    for c in touched:
        if not 0 <= c < space.max_cells:
            raise ValueError(f"plan {plan.name}: cell {c} outside 0..{space.max_cells - 1}")
    if plan.slice is not None and not 0 <= plan.slice < len(space.slices):
        raise ValueError(f"plan {plan.name}: slice {plan.slice} outside 0..{len(space.slices) - 1}")
    if plan.kind in ("hotspot", "cell_outage") and plan.cell is None:
        raise ValueError(f"plan {plan.name}: {plan.kind} needs a cell")


@torch.no_grad()
def perturb(
    obs: torch.Tensor, plan: VerificationPlan, space: RanSpace, layout: CellLayout | None
) -> torch.Tensor:
    """Perturbed copies of observations [B, D] (values stay in [0, 1])."""
    rows = obs.reshape(obs.shape[0], space.max_cells, space.n_features).clone()  # [B, C, F]
    check_plan(plan, space)
    n_s = len(space.slices)
    present = rows[..., PRESENT] > 0.5  # [B, C]

    if plan.kind == "traffic_surge":
        slices = range(n_s) if plan.slice is None else [plan.slice]
        for c in plan.cells:
            for s in slices:
                share = rows[:, c, BASE_FEATURES + s]
                extra = share * (plan.factor - 1.0)
                rows[:, c, BASE_FEATURES + s] = share + extra
                rows[:, c, PRB_USAGE] += extra
    elif plan.kind == "hotspot":
        c = plan.cell
        total_conn = (rows[..., CONNECTED] * present).sum(-1)  # [B]
        added = plan.fraction * total_conn
        before = rows[:, c, CONNECTED].clamp_min(1e-6)
        rows[:, c, PRB_USAGE] *= 1.0 + added / before
        rows[:, c, CONNECTED] += added
        rows[:, c, BASE_FEATURES : BASE_FEATURES + n_s] *= (1.0 + added / before).unsqueeze(-1)
    elif plan.kind == "cell_outage":
        c = plan.cell
        if layout is not None and c < len(layout.neighbours):
            targets = [j for j in layout.neighbours[c][: space.n_neighbours] if j < space.max_cells]
        else:
            targets = [j for j in range(space.max_cells) if j != c]
        others = torch.zeros(space.max_cells, dtype=torch.bool)
        others[targets] = True
        receivers = present & others  # [B, C]
        n_recv = receivers.sum(-1, keepdim=True).clamp_min(1)  # [B, 1]
        for col in (PRB_USAGE, CONNECTED):
            moved = rows[:, c, col].unsqueeze(-1) / n_recv  # [B, 1]
            rows[..., col] += receivers * moved
        rows[:, c, :] = 0.0  # absent: no report from it
    return rows.clamp(0.0, 1.0).reshape(obs.shape)


@dataclass(frozen=True)
class Rollout:
    discounted_return: float  # mean over planes
    violation_rate: float  # share of (plane, step) where some present cell is above the limit
    max_load: float


@torch.no_grad()
def roll(
    dynamics: PlaneDynamics,
    policy: EvaluationPolicy,
    start: torch.Tensor,
    steps: int,
    gamma: float,
    load_limit: float,
    space: RanSpace,
) -> Rollout:
    """Greedy rollout of ``policy`` from start [B, D] on the ensemble-mean planes."""
    s = start
    ret = torch.zeros(start.shape[0])
    violations = 0.0
    max_load = 0.0
    for t in range(steps):
        action = policy.probs(s).argmax(-1)
        s, r = dynamics.step(s, action, None)
        ret += gamma**t * r
        rows = s.reshape(s.shape[0], space.max_cells, space.n_features)
        load = torch.where(rows[..., PRESENT] > 0.5, rows[..., PRB_USAGE], torch.zeros(()))  # [B, C]
        violations += float((load.max(-1).values > load_limit).float().sum())
        max_load = max(max_load, float(load.max()))
    return Rollout(float(ret.mean()), violations / (start.shape[0] * steps), max_load)


def run_plan(
    plan: VerificationPlan,
    dynamics: PlaneDynamics,
    candidate: EvaluationPolicy,
    incumbent: EvaluationPolicy | None,
    recent_obs: torch.Tensor,
    space: RanSpace,
    layout: CellLayout | None,
    gamma: float,
    load_limit: float,
    return_tolerance: float,
    violation_tolerance: float,
) -> PlanResult:
    start = perturb(recent_obs, plan, space, layout)
    cand = roll(dynamics, candidate, start, plan.steps, gamma, load_limit, space)
    inc = roll(dynamics, incumbent, start, plan.steps, gamma, load_limit, space) if incumbent else None
    reasons = []
    allowed = (inc.violation_rate if inc else 0.0) + violation_tolerance
    if cand.violation_rate > allowed:
        reasons.append(
            f"load above {load_limit:.2f} on {cand.violation_rate:.1%} of plane steps "
            f"(allowed {allowed:.1%}{', as the policy in force' if inc else ''})"
        )
    if inc is not None and cand.discounted_return < inc.discounted_return - return_tolerance * abs(
        inc.discounted_return
    ):
        reasons.append(
            f"return {cand.discounted_return:.4f} below the policy in force {inc.discounted_return:.4f} "
            f"by more than {return_tolerance:.1%}"
        )
    return PlanResult(
        name=plan.name,
        kind=plan.kind,
        passed=not reasons,
        candidate_return=cand.discounted_return,
        incumbent_return=inc.discounted_return if inc else None,
        candidate_violation_rate=cand.violation_rate,
        incumbent_violation_rate=inc.violation_rate if inc else None,
        candidate_max_load=cand.max_load,
        reasons=reasons,
    )
