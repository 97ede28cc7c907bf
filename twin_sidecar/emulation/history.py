"""A bounded, time-indexed ring of per-round states: the memory behind the mirror's time travel.

Every round appends one row, a dict of named arrays, when full the oldest row is dropped.
``index_at(t)`` finds the latest row at or before t by bisection over the round times (appended in
non-decreasing order), as Ditto's history answers "the thing at timestamp t".

Rows hold references, not copies: the mirror replaces an array when it changes (copy-on-write) and
never writes into one it has handed to the history, so a round that changes little costs little and
unchanged arrays are shared between rows. Readers must not write into what ``row`` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class RoundHistory:
    """Rows ``name -> array`` in append order, with ``t_ns`` and ``seq`` per row."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.t_ns = np.zeros(capacity, dtype=np.int64)
        self.seq = np.zeros(capacity, dtype=np.int64)
        self.rows: list[dict[str, np.ndarray] | None] = [None] * capacity
        self.count = 0  # rows ever appended
        self._last_t = np.iinfo(np.int64).min

    def __len__(self) -> int:
        return min(self.count, self.capacity)

    def append(self, t_ns: int, seq: int, row: dict[str, np.ndarray]) -> None:
        t_ns = max(int(t_ns), int(self._last_t))  # keep the index sorted even if a clock steps back
        slot = self.count % self.capacity
        self.rows[slot] = row
        self.t_ns[slot] = t_ns
        self.seq[slot] = seq
        self.count += 1
        self._last_t = t_ns

    def _slot(self, i: int) -> int:
        """Slot of the i-th retained row (0 = oldest)."""
        return (max(0, self.count - self.capacity) + i) % self.capacity

    @property
    def oldest_ns(self) -> int | None:
        return int(self.t_ns[self._slot(0)]) if self.count else None

    @property
    def latest_ns(self) -> int | None:
        return int(self.t_ns[self._slot(len(self) - 1)]) if self.count else None

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
        row = self.rows[slot]
        assert row is not None
        return {**row, "t_ns": int(self.t_ns[slot]), "seq": int(self.seq[slot])}

    def last(self, name: str, n: int) -> np.ndarray:
        """The last n rows of one array, stacked oldest first ([min(n, len), *shape])."""
        k = min(n, len(self))
        if k == 0:
            return np.zeros((0,), dtype=np.float32)
        first = len(self) - k
        return np.stack([self.rows[self._slot(first + i)][name] for i in range(k)])  # type: ignore[index]

    def rewrite(self, name: str, fn: Callable[[np.ndarray | None], np.ndarray]) -> None:
        """Replace array ``name`` of every retained row by ``fn(array)`` (``fn(None)`` where a row lacks
        it): for a change of what a row holds, e.g. a column added. Rows that shared an array share
        its replacement."""
        done: dict[int, tuple[np.ndarray | None, np.ndarray]] = {}  # keeps the old arrays alive
        for i in range(len(self)):
            row = self.rows[self._slot(i)]
            assert row is not None
            old = row.get(name)
            if id(old) not in done:
                done[id(old)] = (old, fn(old))
            row[name] = done[id(old)][1]

    def state_dict(self) -> dict[str, Any]:
        """Rows stacked per name, oldest first (compact; shared arrays are stored per row)."""
        n = len(self)
        idx = [self._slot(i) for i in range(n)]
        names = list(self.rows[idx[0]]) if n else []  # type: ignore[arg-type]
        return {
            "capacity": self.capacity,
            "count": self.count,
            "t_ns": self.t_ns[idx].copy(),
            "seq": self.seq[idx].copy(),
            "arrays": {k: np.stack([self.rows[s][k] for s in idx]) for k in names},  # type: ignore[index]
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore (a smaller capacity keeps the newest rows); ``count`` keeps counting all rounds."""
        t, seq, arrays = state["t_ns"], state["seq"], state["arrays"]
        n = len(t)
        keep = range(max(0, n - self.capacity), n)
        self.rows = [None] * self.capacity
        self.count = int(state.get("count", n)) - len(keep)
        self._last_t = np.iinfo(np.int64).min
        for i in keep:
            self.append(int(t[i]), int(seq[i]), {k: v[i] for k, v in arrays.items()})
