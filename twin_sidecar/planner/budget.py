"""The wall-clock budget of one search, shared by the batched search and the plain baseline.

A simulation starts only if the time spent so far plus the longest simulation seen so far fits in the
budget, so a search stops early rather than late. The clock is injected (seconds, monotonic), which
lets tests drive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


class TimeBudget:
    """``may_start()`` before each simulation, ``finished()`` after it; None = no time limit."""

    def __init__(self, budget_ms: float | None, clock: Clock = time.perf_counter) -> None:
        self.clock = clock
        self.started = clock()
        self.budget_s = None if budget_ms is None else budget_ms / 1000.0
        self.longest_s = 0.0
        self._simulation_started = self.started

    def may_start(self) -> bool:
        if self.budget_s is None:
            return True
        now = self.clock()
        if now - self.started + self.longest_s >= self.budget_s:
            return False
        self._simulation_started = now
        return True

    def finished(self) -> None:
        if self.budget_s is not None:
            self.longest_s = max(self.longest_s, self.clock() - self._simulation_started)

    def elapsed_ms(self) -> float:
        return (self.clock() - self.started) * 1000.0
