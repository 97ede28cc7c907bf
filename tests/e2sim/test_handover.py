"""Event A3 and time-to-trigger on `HandoverState` alone (pure logic, exact dB values).

A3 (TS 38.331): the neighbour must be better than the serving cell by *more than* offset + hysteresis,
and stay so for the whole time-to-trigger; leaving the condition (or switching to another neighbour)
restarts the timer from zero.
"""

from __future__ import annotations

import numpy as np
import pytest

from e2sim.ran.handover import HandoverConfig, HandoverState

CFG = HandoverConfig(a3_offset_db=3.0, hysteresis_db=1.0, time_to_trigger_s=0.16)  # margin 4 dB
DT = 0.04  # so time-to-trigger is exactly 4 steps
ACTIVE = np.ones(3, dtype=bool)


def rsrp(serving_dbm: float, neighbour_dbm: float, third_dbm: float = -140.0) -> np.ndarray:
    return np.array([[serving_dbm, neighbour_dbm, third_dbm]])


def run(state: HandoverState, levels: list[np.ndarray], start_s: float = 0.0) -> list[int]:
    """The serving cell after each step; the strongest cell is the UE's best."""
    serving = []
    for i, level in enumerate(levels):
        state.step(level, np.argmax(level, axis=1), ACTIVE, start_s + (i + 1) * DT, DT)
        serving.append(int(state.serving[0]))
    return serving


def fresh() -> HandoverState:
    return HandoverState(np.array([0]), 3, CFG)


@pytest.mark.parametrize(
    ("better_by_db", "hands_over"),
    [
        (4.5, True),  # above offset + hysteresis
        (4.0, False),  # exactly on it: not "better by more than"
        (3.5, False),  # above the offset alone, not the hysteresis
        (-6.0, False),  # weaker neighbour
    ],
)
def test_a3_needs_the_neighbour_better_by_more_than_offset_plus_hysteresis(
    better_by_db: float, hands_over: bool
) -> None:
    state = fresh()
    served = run(state, [rsrp(-90.0, -90.0 + better_by_db)] * 8)
    assert (served[-1] == 1) is hands_over
    if not hands_over:
        assert state.ttt_elapsed[0] == 0.0 and state.a3_candidate[0] == -1


def test_a3_fires_exactly_when_time_to_trigger_has_elapsed() -> None:
    state = fresh()
    served = run(state, [rsrp(-90.0, -85.0)] * 5)
    assert served == [0, 0, 0, 1, 1]  # 4 steps of 40 ms = 160 ms
    assert int(state.previous[0]) == 0 and state.ttt_elapsed[0] == 0.0


def test_leaving_the_condition_for_one_step_restarts_time_to_trigger() -> None:
    state = fresh()
    good, bad = rsrp(-90.0, -85.0), rsrp(-90.0, -88.0)
    served = run(state, [good, good, good])
    assert state.ttt_elapsed[0] == pytest.approx(3 * DT)
    served += run(state, [bad], start_s=3 * DT)
    assert state.ttt_elapsed[0] == 0.0 and state.a3_candidate[0] == -1  # out of the condition: reset
    served += run(state, [good] * 4, start_s=4 * DT)
    # 3 steps towards the trigger, one step out, then 4 full steps again
    assert served == [0, 0, 0, 0, 0, 0, 0, 1]


def test_a_different_best_neighbour_restarts_time_to_trigger() -> None:
    state = fresh()
    to_1, to_2 = rsrp(-90.0, -85.0, -86.0), rsrp(-90.0, -86.0, -85.0)
    served = run(state, [to_1, to_1, to_1, to_2, to_2, to_2, to_2])
    assert served[:6] == [0] * 6 and served[6] == 2  # the 3 steps towards cell 1 do not count for cell 2
    assert state.ttt_elapsed[0] == 0.0


def test_a_pending_commanded_handover_holds_a3() -> None:
    state = fresh()
    state.command(0, 2, now_s=0.0)  # executes after 50 ms
    served = run(state, [rsrp(-90.0, -85.0)] * 3)
    assert served == [0, 2, 2]  # the command wins; A3 towards cell 1 never ran while it was pending
