"""The reward of a (predicted) next observation, in ``RanSpace.reward``'s form with fitted weights.

``RanSpace.reward`` is the mean throughput feature of present cells minus ``imbalance_weight`` x the
standard deviation of their PRB load; the xApp scales throughput and the imbalance penalty by the A1
objective weights (``BehaviorPolicy.reward``). Both are linear in (mean throughput, load std), so the
twin fits the two weights to the logged rewards by least squares and scores any observation the way
the xApp would have. Until fitted: throughput weight 1, the space's imbalance weight.
"""

from __future__ import annotations

import numpy as np
import torch

from ricproto.ran_space import RanSpace


def reward_terms(obs: torch.Tensor, space: RanSpace) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean throughput of present cells, std of their PRB load), Tensor[B] each, for obs Tensor[B, D]."""
    rows = obs.reshape(obs.shape[0], space.max_cells, space.n_features).to(torch.float64)
    present = (rows[:, :, 0] > 0.5).to(torch.float64)
    n = present.sum(1).clamp(min=1.0)
    thp = (rows[:, :, 2] * present).sum(1) / n
    load = rows[:, :, 1]
    mean = (load * present).sum(1) / n
    std = (((load - mean[:, None]) ** 2 * present).sum(1) / n).sqrt()
    return thp * (present.sum(1) > 0), std


class RewardModel:
    def __init__(self, space: RanSpace) -> None:
        self.space = space
        self.weights = torch.tensor([1.0, -space.imbalance_weight], dtype=torch.float64)  # thp, std

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        thp, std = reward_terms(obs, self.space)
        return (self.weights[0] * thp + self.weights[1] * std).to(torch.float32)

    def fit(self, s_next: np.ndarray, reward: np.ndarray) -> float:
        """Least squares on logged (s', r); returns the RMSE of the fit (keeps the old weights if the
        data cannot identify both, e.g. all loads equal)."""
        thp, std = reward_terms(torch.as_tensor(s_next), self.space)
        x = torch.stack([thp, std], dim=1).numpy()
        y = np.asarray(reward, dtype=np.float64)
        if len(y) < 8 or np.linalg.matrix_rank(x) < 2:
            return float(np.sqrt(np.mean((x @ self.weights.numpy() - y) ** 2))) if len(y) else 0.0
        w, *_ = np.linalg.lstsq(x, y, rcond=None)
        self.weights = torch.as_tensor(w, dtype=torch.float64)
        return float(np.sqrt(np.mean((x @ w - y) ** 2)))
