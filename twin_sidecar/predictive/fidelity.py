"""Fidelity: how well the model in service predicts what the RAN then did, on data it never saw.

The tracker keeps the most recent transitions with their arrival number; a model version published
at arrival n is scored only on transitions that arrived after n (fresh for it). Per feature of the
``ran_space`` row, over the cells of the layout:

* one-step RMSE of the ensemble mean vs persistence (next = now);
* k-step RMSE: the model rolled k steps from s_t with the logged actions vs s_{t+k}, and persistence
  s_t vs s_{t+k}, over runs of k consecutive steps;
* the PRB-load ratio model / persistence (Theil's U2: below 1 the twin beats "nothing changes"),
  exported as ``twinric_twin_fidelity_ratio{horizon}``;
* similarity 1 - RMSE / mean |value| (Colosseum's twin-vs-real KPI similarity, per feature);
* coverage of the central 90 % interval for PRB load.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ricproto.ran_space import PRB_USAGE_COLUMN, RanSpace
from ricproto.transition import TransitionBatch
from twin_sidecar.predictive.ensemble import DynamicsEnsemble

PRB = PRB_USAGE_COLUMN
Z90 = 1.6448536269514722


def feature_names(space: RanSpace) -> list[str]:
    """Names of the row's columns (``RanSpace.feature_names``)."""
    return list(space.feature_names)


@dataclass
class FidelityReport:
    model_version: int
    samples: int
    k: int
    prb_ratio_1: float | None
    prb_ratio_k: float | None
    coverage_90: float | None
    features: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "samples": self.samples,
            "k": self.k,
            "prb_ratio_1": self.prb_ratio_1,
            "prb_ratio_k": self.prb_ratio_k,
            "coverage_90": self.coverage_90,
            "features": self.features,
        }


class FidelityTracker:
    def __init__(self, space: RanSpace, n_cells: int, window: int = 500, k: int = 5) -> None:
        self.space = space
        self.n_cells = n_cells
        self.window = window
        self.k = k
        d = space.max_cells * space.n_features
        cap = 4 * window
        self.s = np.zeros((cap, d), dtype=np.float32)
        self.s_next = np.zeros((cap, d), dtype=np.float32)
        self.action = np.zeros(cap, dtype=np.int64)
        self.step = np.zeros(cap, dtype=np.int64)
        self.arrival = np.full(cap, -1, dtype=np.int64)
        self.count = 0
        self.lock = threading.Lock()
        self.names = feature_names(space)

    def add(self, batch: TransitionBatch) -> None:
        n = len(batch)
        with self.lock:
            slots = (self.count + np.arange(n)) % len(self.arrival)
            self.s[slots], self.s_next[slots] = batch.s, batch.s_next
            self.action[slots], self.step[slots] = batch.action, batch.step
            self.arrival[slots] = self.count + np.arange(n)
            self.count += n

    def fresh(self, since: int) -> dict[str, np.ndarray]:
        """Transitions that arrived after ``since`` (the last ``window``), in arrival order."""
        with self.lock:
            mask = self.arrival >= since
            idx = np.flatnonzero(mask)
            idx = idx[np.argsort(self.arrival[idx])][-self.window :]
            return {
                "s": self.s[idx].copy(),
                "s_next": self.s_next[idx].copy(),
                "action": self.action[idx].copy(),
                "step": self.step[idx].copy(),
            }

    def _rows(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), self.space.max_cells, self.space.n_features)[:, : self.n_cells]

    @torch.no_grad()
    def evaluate(self, model: DynamicsEnsemble, since: int) -> FidelityReport | None:
        data = self.fresh(since)
        n = len(data["step"])
        if n < 8:
            return None
        s, a = torch.as_tensor(data["s"]), torch.as_tensor(data["action"])
        mean, std = model.uncertainty(s, a)
        pred1 = mean.numpy()
        truth = self._rows(data["s_next"])
        err_m1 = _rmse(self._rows(pred1) - truth)
        err_p1 = _rmse(self._rows(data["s"]) - truth)
        inside = (
            np.abs(self._rows(pred1)[..., PRB] - truth[..., PRB]) <= Z90 * self._rows(std.numpy())[..., PRB]
        )
        # k-step: runs of k consecutive steps among the fresh transitions
        steps = data["step"]
        starts = [i for i in range(n - self.k + 1) if np.all(np.diff(steps[i : i + self.k]) == 1)]
        err_mk = err_pk = None
        if starts:
            idx = np.asarray(starts)
            x = s[idx]
            for j in range(self.k):
                x, _ = model.step(x, a[idx + j])
            truth_k = self._rows(data["s_next"][idx + self.k - 1])
            err_mk = _rmse(self._rows(x.numpy()) - truth_k)
            err_pk = _rmse(self._rows(data["s"][idx]) - truth_k)
        scale = np.abs(truth).reshape(-1, truth.shape[-1]).mean(0)
        features = {}
        for j, name in enumerate(self.names):
            features[name] = {
                "rmse_1": float(err_m1[j]),
                "persistence_rmse_1": float(err_p1[j]),
                "rmse_k": None if err_mk is None else float(err_mk[j]),
                "persistence_rmse_k": None if err_pk is None else float(err_pk[j]),
                "similarity": float(1.0 - err_m1[j] / scale[j]) if scale[j] > 1e-9 else None,
            }
        return FidelityReport(
            model.version,
            n,
            self.k,
            _ratio(err_m1[PRB], err_p1[PRB]),
            None if err_mk is None else _ratio(err_mk[PRB], err_pk[PRB]),
            float(inside.mean()),
            features,
        )

    def state_dict(self) -> dict[str, Any]:
        with self.lock:
            return {k: getattr(self, k).copy() for k in ("s", "s_next", "action", "step", "arrival")} | {
                "count": self.count
            }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with self.lock:
            if len(state["arrival"]) != len(self.arrival):
                return  # a different window: start afresh (fidelity is recomputed from new data)
            for k in ("s", "s_next", "action", "step", "arrival"):
                getattr(self, k)[:] = state[k]
            self.count = int(state["count"])


def _rmse(err: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(err.reshape(-1, err.shape[-1]).astype(np.float64) ** 2, axis=0))


def _ratio(a: float, b: float) -> float | None:
    return float(a / b) if b > 1e-12 else None
