"""TimeBudget: a simulation starts only if the time spent plus the longest simulation so far fits."""

from __future__ import annotations

from twin_sidecar.planner.budget import TimeBudget


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_no_budget_never_stops() -> None:
    clock = Clock()
    budget = TimeBudget(None, clock)
    clock.now += 1e6
    assert budget.may_start()


def test_stops_when_the_next_simulation_would_overrun() -> None:
    clock = Clock()
    budget = TimeBudget(9.0, clock)
    assert budget.may_start()
    clock.now += 0.004  # a 4 ms simulation
    budget.finished()
    assert budget.may_start()  # 4 + 4 < 9
    clock.now += 0.002  # a quicker one: the longest stays 4 ms
    budget.finished()
    assert not budget.may_start()  # 6 + 4 >= 9
    assert abs(budget.elapsed_ms() - 6.0) < 1e-6


def test_time_spent_before_the_first_simulation_counts() -> None:
    clock = Clock()
    budget = TimeBudget(2.0, clock)
    clock.now += 0.003  # the root evaluation alone took 3 ms
    assert not budget.may_start()
    assert not TimeBudget(0.0, clock).may_start()
