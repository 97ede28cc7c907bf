"""The training data of the dynamics model: a bounded ring of transitions, sampled with recency weights.

Filled by the stream consumer (``TransitionBatch`` sink, ingest thread) and sampled by the trainer
(its own thread): a lock guards both, and ``sample`` returns copies. Sampling weight halves every
``half_life`` transitions of age, so after drift the sync engine can shorten the half-life and let
the recent data dominate while the older data is still there.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ricproto.transition import TransitionBatch

COLUMNS = ("s", "s_next", "action", "reward", "step")


class TransitionReplay:
    """Ring arrays s, s_next: [N, D] float32; action: [N] int64; reward: [N] float32; step: [N] int64.
    The i-th transition ever added lives in slot i % N."""

    def __init__(self, capacity: int, obs_dim: int) -> None:
        self.capacity = capacity
        self.obs_dim = obs_dim
        self.s = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.s_next = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.action = np.zeros(capacity, dtype=np.int64)
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.step = np.zeros(capacity, dtype=np.int64)
        self.count = 0  # transitions ever added
        self.valid = 0  # retained (<= capacity)
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return self.valid

    def add(self, batch: TransitionBatch, keep: np.ndarray | None = None) -> int:
        """Add the rows of ``batch`` (those where ``keep``); returns how many were added."""
        idx = np.arange(len(batch)) if keep is None else np.flatnonzero(keep)
        if idx.size == 0:
            return 0
        with self.lock:
            self._put({k: getattr(batch, k)[idx] for k in COLUMNS})
        return int(idx.size)

    def _put(self, rows: dict[str, np.ndarray]) -> None:
        n = len(rows["step"])
        if n > self.capacity:
            rows = {k: v[-self.capacity :] for k, v in rows.items()}
            self.count += n - self.capacity
            n = self.capacity
        slots = (self.count + np.arange(n)) % self.capacity
        for k, v in rows.items():
            getattr(self, k)[slots] = v
        self.count += n
        self.valid = min(self.valid + n, self.capacity)

    def _slots(self, positions: np.ndarray) -> np.ndarray:
        """Slots of retained positions (0 = oldest)."""
        return (self.count - self.valid + positions) % self.capacity

    def sample(
        self, n: int, rng: np.random.Generator, half_life: float | None = None
    ) -> dict[str, np.ndarray]:
        with self.lock:
            if self.valid == 0:
                raise ValueError("the replay is empty")
            if half_life:
                age = (self.valid - 1 - np.arange(self.valid)).astype(np.float64)
                p = np.exp2(-age / half_life)
                pos = rng.choice(self.valid, size=n, p=p / p.sum())
            else:
                pos = rng.integers(0, self.valid, size=n)
            return self._rows(self._slots(pos))

    def _rows(self, slots: np.ndarray) -> dict[str, np.ndarray]:
        return {k: getattr(self, k)[slots].copy() for k in COLUMNS}

    def all(self) -> dict[str, np.ndarray]:
        """Every retained row, oldest first."""
        with self.lock:
            return self._rows(self._slots(np.arange(self.valid)))

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count, **self.all()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        rows = {k: np.asarray(state[k]) for k in COLUMNS}
        with self.lock:
            self.count = int(state["count"]) - len(rows["step"])
            self.valid = 0
            self._put(rows)
