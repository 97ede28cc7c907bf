"""Per-cell PRB-load forecaster for the next H report periods (the xApp's state intervention).

A pooled autoregressive model: for every cell, the next H loads are predicted from its last L loads
by ridge regression shared across cells, fitted in closed form on the mirror's load history (only
windows where the cell reported in every period). The residual standard deviation per horizon gives
the forecast's spread. Until fitted (too little history) it answers with persistence (each cell's
latest load for every horizon) and says so (``model == "persistence"``).

Prediction is numpy on a [C, L] matrix: microseconds, so ``POST /v1/predict`` stays quick.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class LoadForecaster:
    """``w``: [L + 1, H] ridge weights (lags oldest first, then the intercept); ``sigma``: [H]."""

    def __init__(self, lags: int = 8, horizon: int = 10, ridge: float = 1e-3, min_windows: int = 50) -> None:
        self.lags = lags
        self.horizon = horizon
        self.ridge = ridge
        self.min_windows = min_windows
        self.w: np.ndarray | None = None
        self.sigma = np.zeros(horizon, dtype=np.float64)
        self.fitted_on = 0
        self.version = 0

    @property
    def model(self) -> str:
        return "persistence" if self.w is None else f"ar{self.lags}-ridge"

    def windows(self, load: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(X [N, L], Y [N, H]) from load/present [T, C], all cells pooled."""
        t, _ = load.shape
        span = self.lags + self.horizon
        if t < span:
            return np.zeros((0, self.lags)), np.zeros((0, self.horizon))
        win = np.lib.stride_tricks.sliding_window_view(load, span, axis=0)  # [T-span+1, C, span]
        ok = np.lib.stride_tricks.sliding_window_view(present, span, axis=0).all(axis=2)
        win = win[ok]
        return win[:, : self.lags], win[:, self.lags :]

    def fit(self, load: np.ndarray, present: np.ndarray) -> bool:
        x, y = self.windows(np.asarray(load, np.float64), np.asarray(present, bool))
        if len(x) < self.min_windows:
            return False
        x1 = np.concatenate([x, np.ones((len(x), 1))], axis=1)
        gram = x1.T @ x1 + self.ridge * len(x1) * np.eye(x1.shape[1])
        w = np.linalg.solve(gram, x1.T @ y)
        self.sigma = np.sqrt(np.mean((x1 @ w - y) ** 2, axis=0))
        self.w = w
        self.fitted_on = len(x)
        self.version += 1
        return True

    def predict(self, recent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """recent [L', C] loads (oldest first, the current period last) -> (mean [C, H], std [C, H]).
        Fewer than L periods, or no fit yet: persistence with zero spread."""
        recent = np.asarray(recent, dtype=np.float64)
        c = recent.shape[1]
        if self.w is None or recent.shape[0] < self.lags:
            last = recent[-1] if len(recent) else np.zeros(c)
            return np.repeat(last[:, None], self.horizon, axis=1).clip(0, 1), np.zeros((c, self.horizon))
        x = np.concatenate([recent[-self.lags :].T, np.ones((c, 1))], axis=1)
        return (x @ self.w).clip(0.0, 1.0), np.broadcast_to(self.sigma, (c, self.horizon)).copy()

    def state_dict(self) -> dict[str, Any]:
        return {
            "w": None if self.w is None else self.w.copy(),
            "sigma": self.sigma.copy(),
            "fitted_on": self.fitted_on,
            "version": self.version,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        w = state["w"]
        if w is not None and np.shape(w) != (self.lags + 1, self.horizon):
            return  # lags or horizon changed: refit from the history
        self.w = None if w is None else np.asarray(w)
        self.sigma = np.asarray(state["sigma"])
        self.fitted_on, self.version = int(state["fitted_on"]), int(state["version"])
