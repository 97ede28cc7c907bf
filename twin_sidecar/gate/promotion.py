"""The promotion gate: a candidate goes into force only if OPE and the test plans both say so.

1. Off-policy evaluation on held-out logged segments: the decision estimator's bootstrap lower
   confidence bound of (candidate - policy in force) must be above ``min_improvement`` (0); the other
   estimators are computed and recorded as evidence.
2. Test plans on the virtual planes (``plans.py``) must all pass.

The policy in force is the promoted snapshot (run with the xApp's exploration ``eval_epsilon``),
another ``EvaluationPolicy`` the caller names, or, when none is in force, the logged behaviour
itself (its Monte Carlo returns; on the planes the candidate then has to keep within the load limit
on its own). ``policy_of`` says how a snapshot acts (default: epsilon-greedy over its masked values);
the caller can make it mirror the xApp more closely (its shield, say). Without planes there are no
plan results and the gate refuses. Each decision is a ``GateRecord`` with all its evidence, written
to the ``PolicyStore`` with the promotion or refusal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, Field

from ricproto.policy_snapshot import PolicySnapshot
from ricproto.ran_space import CellLayout, RanSpace
from twin_sidecar.gate.evaluation_policy import EvaluationPolicy, SnapshotPolicy
from twin_sidecar.gate.ope import ESTIMATORS, FqeConfig, behaviour_inputs, compare, policy_inputs
from twin_sidecar.gate.plans import VerificationPlan, check_plan, default_plans, run_plan
from twin_sidecar.gate.policy_store import PolicyStore
from twin_sidecar.gate.report import GateEvidence, GateRecord, OpeEvidence
from twin_sidecar.gate.segments import LoggedSegments
from twin_sidecar.plane_dynamics import PlaneDynamics

BEHAVIOUR = "behaviour (logged)"


class GateSettings(BaseModel):
    """Thresholds of the gate (settable by A1 once the sidecar is wired)."""

    horizon: int = Field(20, ge=1, le=500, description="steps per held-out OPE segment")
    gamma: float = Field(0.95, ge=0.0, lt=1.0)
    decision_estimator: Literal["wis", "pdwis", "dr", "fqe"] = "dr"
    confidence: float = Field(0.95, gt=0.5, lt=1.0, description="one-sided bootstrap confidence")
    min_improvement: float = Field(0.0, description="the lower bound must exceed this")
    bootstrap_samples: int = Field(400, ge=50, le=10_000)
    min_segments: int = Field(20, ge=2)
    eval_epsilon: float = Field(0.0, ge=0.0, le=1.0, description="exploration the xApp adds to a snapshot")
    cell_load_limit: float = Field(0.9, gt=0.0, le=1.0)
    plan_return_tolerance: float = Field(0.02, ge=0.0, description="relative return loss allowed on a plan")
    plan_violation_tolerance: float = Field(0.0, ge=0.0, le=1.0)
    plan_states: int = Field(64, ge=1, description="recent real states each plan starts from")
    plans: list[VerificationPlan] = Field(default_factory=default_plans)
    fqe_iterations: int = Field(2000, ge=100)
    fqe_hidden: list[int] = Field(default_factory=lambda: [128, 128])
    seed: int = 0


class PromotionGate:
    def __init__(
        self,
        settings: GateSettings,
        space: RanSpace,
        mask: np.ndarray,
        dynamics: PlaneDynamics | None,
        store: PolicyStore | None = None,
        layout: CellLayout | None = None,
        policy_of: Callable[[PolicySnapshot], EvaluationPolicy] | None = None,
    ) -> None:
        self.settings = settings
        self.space = space
        self.mask = np.asarray(mask, dtype=bool)
        self.dynamics = dynamics
        self.store = store
        self.layout = layout
        self.policy_of = policy_of or (lambda snap: SnapshotPolicy(snap, self.mask, settings.eval_epsilon))
        for plan in settings.plans:
            check_plan(plan, space)  # settings that do not fit the RAN are refused up front

    def evaluate(
        self,
        candidate: PolicySnapshot,
        held_out: LoggedSegments,
        recent_obs: torch.Tensor,
        incumbent: EvaluationPolicy | None = None,
    ) -> GateRecord:
        """The decision and its evidence, without writing anything."""
        cfg = self.settings
        if incumbent is None and self.store is not None:
            in_force = self.store.current()
            if in_force is not None and in_force.version != candidate.version:
                incumbent = self.policy_of(in_force)
        policy = self.policy_of(candidate)
        reasons: list[str] = []

        # 1. off-policy evaluation on held-out logged data
        ope: list[OpeEvidence] = []
        if held_out.n < cfg.min_segments:
            reasons.append(f"only {held_out.n} held-out segments, need {cfg.min_segments}")
        else:
            fqe = FqeConfig(hidden=tuple(cfg.fqe_hidden), iterations=cfg.fqe_iterations, seed=cfg.seed)
            cand_inputs = policy_inputs(held_out, policy, cfg.gamma, fqe)
            inc_inputs = (
                policy_inputs(held_out, incumbent, cfg.gamma, fqe)
                if incumbent is not None
                else behaviour_inputs(held_out, cfg.gamma)
            )
            for name in ESTIMATORS:
                rng = np.random.default_rng(cfg.seed)  # the same resamples for every estimator
                c = compare(cand_inputs, inc_inputs, name, cfg.confidence, cfg.bootstrap_samples, rng)
                ope.append(OpeEvidence(**c.__dict__))
            decisive = next(e for e in ope if e.estimator == cfg.decision_estimator)
            if decisive.lcb is None:
                reasons.append(f"{cfg.decision_estimator} gives no confidence bound (no support in the data)")
            elif decisive.lcb <= cfg.min_improvement:
                reasons.append(
                    f"{cfg.decision_estimator} improvement {decisive.improvement:+.4f}, lower bound "
                    f"{decisive.lcb:+.4f} at {cfg.confidence:.0%} is not above {cfg.min_improvement:g}"
                )

        # 2. test plans on the virtual planes
        plan_results = []
        if self.dynamics is None:
            reasons.append("no virtual planes to run the test plans on")
        else:
            start = recent_obs[-cfg.plan_states :]
            for plan in cfg.plans:
                result = run_plan(
                    plan,
                    self.dynamics,
                    policy,
                    incumbent,
                    start,
                    self.space,
                    self.layout,
                    cfg.gamma,
                    cfg.cell_load_limit,
                    cfg.plan_return_tolerance,
                    cfg.plan_violation_tolerance,
                )
                plan_results.append(result)
                reasons += [f"plan {plan.name}: {r}" for r in result.reasons]

        previous = self.store.current_version() if self.store is not None else None
        promoted = not reasons
        return GateRecord(
            kind="promotion" if promoted else "refusal",
            version=candidate.version,
            previous_version=previous,
            in_force=candidate.version if promoted else previous,
            at=time.time(),
            reasons=reasons or ["OPE lower bound above the threshold and every test plan passed"],
            gate=GateEvidence(
                incumbent=incumbent.name if incumbent is not None else BEHAVIOUR,
                decision_estimator=cfg.decision_estimator,
                confidence=cfg.confidence,
                horizon=held_out.horizon,
                gamma=cfg.gamma,
                n_segments=held_out.n,
                ope=ope,
                plans=plan_results,
            ),
        )

    def consider(
        self,
        candidate: PolicySnapshot,
        held_out: LoggedSegments,
        recent_obs: torch.Tensor,
        incumbent: EvaluationPolicy | None = None,
    ) -> GateRecord:
        """Evaluate, then promote (snapshot into force) or record the refusal."""
        if self.store is None:
            raise RuntimeError("the gate has no policy store to promote into")
        record = self.evaluate(candidate, held_out, recent_obs, incumbent)
        if record.kind == "promotion":
            self.store.promote(candidate, record)
        else:
            self.store.refuse(record)
        return record
