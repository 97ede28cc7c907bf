"""Cell individual offsets: the Q-OffsetRange value set and the pairwise load-balancing step."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ricproto.cell_offset import Q_OFFSET_RANGE_DB, is_q_offset, nearest_q_offset, step_pair_offsets


def test_q_offset_range_is_the_38331_enumeration() -> None:
    assert len(Q_OFFSET_RANGE_DB) == 31
    assert Q_OFFSET_RANGE_DB[0] == -24 and Q_OFFSET_RANGE_DB[-1] == 24
    assert set(range(-6, 7)) <= set(Q_OFFSET_RANGE_DB)  # 1 dB steps inside +-6 dB
    assert 7 not in Q_OFFSET_RANGE_DB and -9 not in Q_OFFSET_RANGE_DB  # 2 dB steps outside
    assert all(is_q_offset(v) for v in Q_OFFSET_RANGE_DB)
    for bad in (7, 25, -26, 2.5, True, "3", None):
        assert not is_q_offset(bad)
    assert is_q_offset(4.0)


def test_nearest_value_prefers_zero_on_ties() -> None:
    assert nearest_q_offset(7) == 6 and nearest_q_offset(-7) == -6
    assert nearest_q_offset(0.5) == 0 and nearest_q_offset(30) == 24


def test_a_step_moves_the_two_sides_of_a_relation_in_opposite_directions() -> None:
    assert step_pair_offsets(0, 0, +1, 2, 8) == (2, -2)
    assert step_pair_offsets(2, -2, -1, 2, 8) == (0, 0)
    assert step_pair_offsets(8, -8, +1, 2, 8) == (8, -8)  # held at the limit
    with pytest.raises(ValueError):
        step_pair_offsets(0, 0, 0, 2, 8)
    with pytest.raises(ValueError):
        step_pair_offsets(0, 0, 1, 0, 8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([1, -1]), max_size=30), st.integers(1, 6), st.integers(1, 24))
def test_steps_stay_legal_bounded_and_antisymmetric(moves: list[int], step: int, limit: int) -> None:
    forward = backward = 0
    for direction in moves:
        new_f, new_b = step_pair_offsets(forward, backward, direction, step, limit)
        assert is_q_offset(new_f) and is_q_offset(new_b)
        assert abs(new_f) <= max(limit, 0) + 1 and abs(new_b) <= limit + 1  # rounding onto the set
        assert new_f == -new_b
        assert (new_f - forward) * direction >= 0  # never against the asked direction
        forward, backward = new_f, new_b
