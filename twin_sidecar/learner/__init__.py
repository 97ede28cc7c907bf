"""The target policy: a Q-network learned off-policy from the xApp's logged behaviour."""

from twin_sidecar.learner.config import LearnerConfig
from twin_sidecar.learner.diagnostics import UpdateDiagnostics
from twin_sidecar.learner.learner import IngestResult, Learner
from twin_sidecar.learner.qnetwork import QNetwork, epsilon_greedy_probs, masked_greedy

__all__ = [
    "IngestResult",
    "Learner",
    "LearnerConfig",
    "QNetwork",
    "UpdateDiagnostics",
    "epsilon_greedy_probs",
    "masked_greedy",
]
