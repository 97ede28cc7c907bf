"""The reward of a (predicted) next observation, in ``RanSpace.reward``'s form with fitted weights.

``RanSpace.reward`` is linear in four terms of the observation: the mean throughput feature of present
cells, the eMBB 5th-percentile throughput feature (cells weighted by their eMBB samples), the standard
deviation of the present cells' PRB load, and the share of URLLC delay samples over budget; the xApp
weighs them by the A1 objective weights (``BehaviorPolicy.reward``: throughput, ``p5_weight``,
``imbalance_weight``, ``sla_weight``). So the twin fits the four weights to the logged rewards by least
squares and scores any observation the way the xApp would have. Until fitted, and for a term the data
cannot identify (e.g. no URLLC slice: that term is zero throughout), the space's own weights hold.
"""

from __future__ import annotations

import numpy as np
import torch

from ricproto.ran_space import PRB_USAGE_COLUMN, PRESENT_COLUMN, THROUGHPUT_COLUMN, RanSpace

TERMS = ("throughput", "embb_p5", "load_std", "urllc_over_budget")


def reward_terms(obs: torch.Tensor, space: RanSpace) -> torch.Tensor:
    """The four terms (``TERMS``) of ``RanSpace.reward``, Tensor[B, 4] float64, for obs Tensor[B, D]."""
    rows = obs.reshape(obs.shape[0], space.max_cells, space.n_features).to(torch.float64)
    present = (rows[:, :, PRESENT_COLUMN] > 0.5).to(torch.float64)
    count = present.sum(1)
    n = count.clamp(min=1.0)
    thp = (rows[:, :, THROUGHPUT_COLUMN] * present).sum(1) / n
    load = rows[:, :, PRB_USAGE_COLUMN]
    mean = (load * present).sum(1) / n
    std = (((load - mean[:, None]) ** 2 * present).sum(1) / n).sqrt()
    obj = space.objective_column

    def weighted(weight_col: int, value_col: int) -> torch.Tensor:
        w = rows[:, :, weight_col] * present
        total = w.sum(1)
        return torch.where(total > 0, (w * rows[:, :, value_col]).sum(1) / total.clamp(min=1e-12), 0.0)

    terms = torch.stack([thp, weighted(obj, obj + 1), std, weighted(obj + 2, obj + 3)], dim=1)
    return terms * (count > 0).to(torch.float64)[:, None]


def space_weights(space: RanSpace) -> torch.Tensor:
    """``RanSpace.reward``'s own weights of ``TERMS``, Tensor[4] float64."""
    return torch.tensor(
        [1.0, space.p5_weight, -space.imbalance_weight, -space.sla_weight], dtype=torch.float64
    )


class RewardModel:
    def __init__(self, space: RanSpace) -> None:
        self.space = space
        self.weights = space_weights(space)  # Tensor[4] float64, one per TERMS

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        return (reward_terms(obs, self.space) @ self.weights).to(torch.float32)

    def load_weights(self, weights: list[float]) -> None:
        """Weights from a checkpoint; one of another form (fewer terms) leaves the space's weights."""
        if len(weights) == len(TERMS):
            self.weights = torch.tensor(weights, dtype=torch.float64)

    def fit(self, s_next: np.ndarray, reward: np.ndarray) -> float:
        """Least squares on logged (s', r); returns the RMSE of the fit. Terms the data cannot identify
        (linearly dependent on the others, e.g. constant zero) keep their current weight."""
        x = reward_terms(torch.as_tensor(s_next), self.space).numpy()
        y = np.asarray(reward, dtype=np.float64)
        w = self.weights.numpy().copy()
        if len(y) < 8:
            return float(np.sqrt(np.mean((x @ w - y) ** 2))) if len(y) else 0.0
        free: list[int] = []
        for j in range(x.shape[1]):
            if np.linalg.matrix_rank(x[:, [*free, j]]) == len(free) + 1:
                free.append(j)
        fixed = [j for j in range(x.shape[1]) if j not in free]
        if free:
            w[free], *_ = np.linalg.lstsq(x[:, free], y - x[:, fixed] @ w[fixed], rcond=None)
        self.weights = torch.as_tensor(w, dtype=torch.float64)
        return float(np.sqrt(np.mean((x @ w - y) ** 2)))
