"""What one learner update reports: TD error, importance-weight health, policy lag, speed."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class UpdateDiagnostics:
    update: int  # learner updates so far, this one included
    loss: float
    td_error: float  # mean |target - Q(s, a)| over the batch's steps
    q_mean: float  # mean Q(s, a) of the logged actions
    ess: float  # effective sample size (sum w)^2 / sum w^2 of the ratios pi/mu over logged steps
    ess_fraction: float  # ess / number of logged steps (1 = on-policy)
    truncation_rate: float  # share of logged steps whose ratio the correction truncated
    policy_lag: float  # mean learner updates between a logged step's behaviour version and now
    policy_lag_max: int
    updates_per_s: float  # over the recent updates
    replay_size: int
    model_sequences: int  # sequences rolled out on the twin's planes (Dyna) in this batch
    search_loss: float = 0.0  # cross-entropy to the search's improved policy (0 when search targets are off)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def effective_sample_size(weights: torch.Tensor) -> float:
    """(sum w)^2 / sum w^2 of non-negative importance weights (0 when all are 0)."""
    w = weights.reshape(-1).double()
    denom = float((w * w).sum())
    return float(w.sum()) ** 2 / denom if denom > 0.0 else 0.0
