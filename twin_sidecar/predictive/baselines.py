"""Baselines the ensemble is measured against: persistence (next = now) and a linear model.

``LinearDynamics`` is ridge regression of the change s' - s on [s, one-hot(a), 1], fitted in closed
form on the same training data as the ensemble (the bench's "linear" line and a sanity floor).
"""

from __future__ import annotations

import numpy as np


def persistence(s: np.ndarray) -> np.ndarray:
    return np.asarray(s, dtype=np.float32).copy()


class LinearDynamics:
    def __init__(self, n_actions: int, ridge: float = 1e-2) -> None:
        self.n_actions = n_actions
        self.ridge = ridge
        self.w: np.ndarray | None = None  # [D + A + 1, D]

    def _x(self, s: np.ndarray, a: np.ndarray) -> np.ndarray:
        onehot = np.zeros((len(a), self.n_actions), dtype=np.float64)
        onehot[np.arange(len(a)), a] = 1.0
        return np.concatenate([np.asarray(s, np.float64), onehot, np.ones((len(a), 1))], axis=1)

    def fit(self, s: np.ndarray, a: np.ndarray, s_next: np.ndarray) -> LinearDynamics:
        x = self._x(s, a)
        y = np.asarray(s_next, np.float64) - np.asarray(s, np.float64)
        gram = x.T @ x + self.ridge * len(x) * np.eye(x.shape[1])
        self.w = np.linalg.solve(gram, x.T @ y)
        return self

    def predict(self, s: np.ndarray, a: np.ndarray) -> np.ndarray:
        assert self.w is not None, "fit first"
        return np.clip(np.asarray(s, np.float64) + self._x(s, a) @ self.w, 0.0, 1.0).astype(np.float32)
