"""Online conformal scaling of the ensemble's interval, so the central 90 % interval covers 90 % of
what the RAN does next, not only of the held-out transitions.

Why: the trainer calibrates the std on held-out transitions interleaved with its training data
(``EnsembleTrainer.calibrate``). Those sit next to training rows in time and are easier than what
arrives later, so on fresh data the interval is too narrow (the bench measured 0.82 coverage).

How (split conformal over a sliding window, updated online): every prediction the model in service
made on data it had not seen is scored, once the truth has arrived, as ``|error| / (Z90 * std)`` per
feature, where std is the held-out-calibrated std (what the model served, divided by the multiplier
it was served with). The multiplier for the next model is the conformal quantile of the last
``window`` scores, ``ceil((n + 1) * coverage) / n``: under exchangeability of recent and coming
scores, a fraction ``coverage`` of new values falls inside ``mean +- Z90 * std * multiplier``.
Until ``min_scores`` scores exist the multiplier is 1 (held-out calibration only).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Z90 = 1.6448536269514722  # two-sided 90 % of the standard normal
MIN_MULTIPLIER, MAX_MULTIPLIER = 0.2, 20.0


class ConformalScale:
    """Per-feature multipliers of the std from a ring of the last ``window`` scores of each feature."""

    def __init__(
        self, n_features: int, *, window: int = 20_000, coverage: float = 0.9, min_scores: int = 200
    ) -> None:
        if not 0.0 < coverage < 1.0:
            raise ValueError(f"coverage {coverage} is not in (0, 1)")
        self.n_features = n_features
        self.window = window
        self.coverage = coverage
        self.min_scores = min_scores
        self.scores = np.zeros((window, n_features), dtype=np.float32)
        self.count = np.zeros(n_features, dtype=np.int64)  # scores ever added, per feature

    def add(self, err: np.ndarray, std: np.ndarray) -> int:
        """Score predictions whose truth is now known: err, std [N, F] (any leading shape, F last),
        ``std`` without this multiplier. Rows with std ~ 0 (absent cells) or non-finite values are
        left out. Returns how many scores were added."""
        err = np.abs(np.asarray(err, dtype=np.float64)).reshape(-1, self.n_features)
        std = np.asarray(std, dtype=np.float64).reshape(-1, self.n_features)
        if err.shape != std.shape:
            raise ValueError(f"err {err.shape} and std {std.shape} differ")
        added = 0
        for j in range(self.n_features):
            ok = (std[:, j] > 1e-9) & np.isfinite(err[:, j]) & np.isfinite(std[:, j])
            z = (err[ok, j] / (Z90 * std[ok, j]))[-self.window :]
            n = len(z)
            if n == 0:
                continue
            slots = (self.count[j] + np.arange(n)) % self.window
            self.scores[slots, j] = z
            self.count[j] += n
            added += n
        return added

    @property
    def multiplier(self) -> np.ndarray:
        """[F] float32: the factor on the held-out-calibrated std (1 where too few scores yet)."""
        out = np.ones(self.n_features, dtype=np.float32)
        for j in range(self.n_features):
            n = int(min(self.count[j], self.window))
            if n < self.min_scores:
                continue
            level = min(1.0, math.ceil((n + 1) * self.coverage) / n)
            q = float(np.quantile(self.scores[:n, j], level))
            out[j] = min(max(q, MIN_MULTIPLIER), MAX_MULTIPLIER)
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"scores": self.scores.copy(), "count": self.count.copy(), "coverage": self.coverage}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        scores = np.asarray(state["scores"], dtype=np.float32)
        if scores.shape != self.scores.shape:
            return  # another window or feature count: start afresh (rebuilt from fresh data)
        self.scores[:] = scores
        self.count[:] = np.asarray(state["count"], dtype=np.int64)
