"""A bounded, time-indexed ring of per-round arrays: the memory behind the mirror's time travel.

Every round appends one row to each named array (shapes fixed at the first append); when full, the
oldest row is overwritten. ``index_at(t)`` finds the latest row at or before t by bisection over the
round times (appended in non-decreasing order), as Ditto's history answers "the thing at timestamp t".
"""

from __future__ import annotations

from typing import Any

import numpy as np


class RoundHistory:
    """Arrays ``name -> [capacity, *shape]``; rows in append order; ``t_ns`` and ``seq`` per row."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.t_ns = np.zeros(capacity, dtype=np.int64)
        self.seq = np.zeros(capacity, dtype=np.int64)
        self.arrays: dict[str, np.ndarray] = {}
        self.count = 0  # rows ever appended
        self._last_t = np.iinfo(np.int64).min

    def __len__(self) -> int:
        return min(self.count, self.capacity)

    def append(self, t_ns: int, seq: int, rows: dict[str, np.ndarray]) -> None:
        t_ns = max(int(t_ns), int(self._last_t))  # keep the index sorted even if a clock steps back
        slot = self.count % self.capacity
        for name, row in rows.items():
            arr = self.arrays.get(name)
            if arr is None:
                arr = self.arrays[name] = np.zeros(
                    (self.capacity, *np.shape(row)), dtype=np.asarray(row).dtype
                )
            arr[slot] = row
        self.t_ns[slot] = t_ns
        self.seq[slot] = seq
        self.count += 1
        self._last_t = t_ns

    def _slot(self, i: int) -> int:
        """Slot of the i-th retained row (0 = oldest)."""
        first = max(0, self.count - self.capacity)
        return (first + i) % self.capacity

    @property
    def oldest_ns(self) -> int | None:
        return int(self.t_ns[self._slot(0)]) if self.count else None

    @property
    def latest_ns(self) -> int | None:
        return int(self.t_ns[self._slot(len(self) - 1)]) if self.count else None

    def times(self) -> np.ndarray:
        """Round times of the retained rows, oldest first."""
        n = len(self)
        return self.t_ns[[self._slot(i) for i in range(n)]] if n else np.zeros(0, np.int64)

    def index_at(self, t_ns: int) -> int | None:
        """Position (0 = oldest retained) of the latest row at or before t; None before the history."""
        n = len(self)
        if n == 0:
            return None
        lo, hi = 0, n  # bisect on the ring without materialising it
        while lo < hi:
            mid = (lo + hi) // 2
            if self.t_ns[self._slot(mid)] <= t_ns:
                lo = mid + 1
            else:
                hi = mid
        return lo - 1 if lo > 0 else None

    def row(self, i: int) -> dict[str, Any]:
        slot = self._slot(i)
        out: dict[str, Any] = {name: arr[slot].copy() for name, arr in self.arrays.items()}
        out["t_ns"] = int(self.t_ns[slot])
        out["seq"] = int(self.seq[slot])
        return out

    def last(self, name: str, n: int) -> np.ndarray:
        """The last n rows of one array, oldest first ([min(n, len), *shape])."""
        k = min(n, len(self))
        if k == 0 or name not in self.arrays:
            return np.zeros((0,), dtype=np.float32)
        idx = [self._slot(len(self) - k + i) for i in range(k)]
        return self.arrays[name][idx]

    def state_dict(self) -> dict[str, Any]:
        n = len(self)
        idx = [self._slot(i) for i in range(n)]
        return {
            "capacity": self.capacity,
            "count": self.count,
            "t_ns": self.t_ns[idx].copy(),
            "seq": self.seq[idx].copy(),
            "arrays": {k: v[idx].copy() for k, v in self.arrays.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore (rows re-laid oldest first; a smaller capacity keeps the newest rows)."""
        t, seq, arrays = state["t_ns"], state["seq"], state["arrays"]
        keep = slice(max(0, len(t) - self.capacity), len(t))
        self.t_ns[:] = 0
        self.seq[:] = 0
        self.arrays = {}
        self.count = 0
        self._last_t = np.iinfo(np.int64).min
        for i in range(keep.start, keep.stop):
            self.append(int(t[i]), int(seq[i]), {k: v[i] for k, v in arrays.items()})
        # `count` keeps counting rounds ever seen, not only the retained ones
        self.count = max(self.count, int(state.get("count", self.count)))
        if self.count > len(t[keep]):
            # re-lay so the retained rows end at slot (count - 1) % capacity
            n = len(t[keep])
            shift = (self.count - n) % self.capacity
            self.t_ns[:] = np.roll(self.t_ns, shift)
            self.seq[:] = np.roll(self.seq, shift)
            for k in self.arrays:
                self.arrays[k] = np.roll(self.arrays[k], shift, axis=0)
