"""The gate's records and the policy report (pydantic), ready for ``GET /v1/policy``.

Every promotion, refusal, rollback and kept version is a ``GateRecord`` with its evidence; the
``PolicyStore`` keeps them in Redis and assembles the ``PolicyReport`` (versions in force and
candidate, lineage, history), so the router only returns it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

RecordKind = Literal["promotion", "refusal", "rollback", "kept"]


class OpeEvidence(BaseModel):
    estimator: Literal["wis", "pdwis", "dr", "fqe"]
    candidate: float | None = Field(description="estimated H-step discounted return of the candidate")
    incumbent: float | None = Field(description="same estimator for the policy in force")
    improvement: float | None
    lcb: float | None = Field(description="bootstrap lower confidence bound of the improvement")
    ucb: float | None
    defined_share: float = Field(description="share of bootstrap samples where the estimator was defined")


class PlanResult(BaseModel):
    name: str
    kind: str
    passed: bool
    candidate_return: float
    incumbent_return: float | None
    candidate_violation_rate: float = Field(
        description="share of (plane, step) with a cell above the load limit"
    )
    incumbent_violation_rate: float | None
    candidate_max_load: float
    reasons: list[str] = Field(default_factory=list)


class GateEvidence(BaseModel):
    incumbent: str = Field(description="what the candidate was compared with")
    decision_estimator: str
    confidence: float
    horizon: int
    gamma: float
    n_segments: int
    ope: list[OpeEvidence]
    plans: list[PlanResult]


class RollbackEvidence(BaseModel):
    n_before: int
    n_after: int
    reward_before: float
    reward_after: float
    reward_z: float = Field(description="Welch z of block-mean rewards, after minus before")
    intervention_before: float
    intervention_after: float
    intervention_z: float = Field(description="two-proportion z of shield interventions, after minus before")


class GateRecord(BaseModel):
    kind: RecordKind
    version: str = Field(description="the candidate (promotion/refusal) or the version rolled back or kept")
    previous_version: str | None = Field(description="version in force before this record")
    in_force: str | None = Field(description="version in force after this record (None = heuristic)")
    at: float = Field(description="Unix time")
    reasons: list[str]
    gate: GateEvidence | None = None
    rollback: RollbackEvidence | None = None


class VersionInfo(BaseModel):
    version: str
    created_at: float
    obs_dim: int
    n_actions: int


class PolicyReport(BaseModel):
    xapp: str
    in_force: VersionInfo | None = Field(description="promoted snapshot the xApp follows (None = heuristic)")
    candidate: GateRecord | None = Field(description="the latest candidate decision")
    lineage: list[str] = Field(description="promoted versions still in force order, oldest first")
    history: list[GateRecord] = Field(description="newest last")
