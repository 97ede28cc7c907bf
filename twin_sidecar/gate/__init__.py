"""The verification plane and promotion gate: OPE on held-out logs, test plans on planes, rollback."""

from twin_sidecar.gate.evaluation_policy import EvaluationPolicy, SnapshotPolicy
from twin_sidecar.gate.ope import FqeConfig, OpeInputs, behaviour_inputs, compare, policy_inputs
from twin_sidecar.gate.plans import VerificationPlan, default_plans, perturb, run_plan
from twin_sidecar.gate.policy_store import PolicyStore
from twin_sidecar.gate.promotion import GateSettings, PromotionGate
from twin_sidecar.gate.report import GateEvidence, GateRecord, OpeEvidence, PlanResult, PolicyReport
from twin_sidecar.gate.rollback import RollbackMonitor, RollbackSettings
from twin_sidecar.gate.segments import LoggedSegments
from twin_sidecar.plane_dynamics import PlaneDynamics

__all__ = [
    "EvaluationPolicy",
    "FqeConfig",
    "GateEvidence",
    "GateRecord",
    "GateSettings",
    "LoggedSegments",
    "OpeEvidence",
    "OpeInputs",
    "PlanResult",
    "PlaneDynamics",
    "PolicyReport",
    "PolicyStore",
    "PromotionGate",
    "RollbackMonitor",
    "RollbackSettings",
    "SnapshotPolicy",
    "VerificationPlan",
    "behaviour_inputs",
    "compare",
    "default_plans",
    "perturb",
    "policy_inputs",
    "run_plan",
]
