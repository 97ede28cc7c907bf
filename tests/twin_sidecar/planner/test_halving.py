"""Sequential halving as a schedule of root visit counts."""

from __future__ import annotations

import pytest

from twin_sidecar.planner.halving import considered_visit_sequence, considered_visit_table


def test_four_actions_eight_simulations() -> None:
    # Two phases: every action once, then the best two twice each.
    assert considered_visit_sequence(4, 8) == [0, 0, 0, 0, 1, 1, 2, 2]


def test_sixteen_actions_sixty_four_simulations_halve_four_times() -> None:
    # 16 actions x 1 visit, the best 8 x 2, the best 4 x 4, the best 2 x 8: 16 simulations per phase.
    expected = [0] * 16 + [v for v in (1, 2) for _ in range(8)]
    expected += [v for v in range(3, 7) for _ in range(4)] + [v for v in range(7, 15) for _ in range(2)]
    assert considered_visit_sequence(16, 64) == expected


def test_a_budget_smaller_than_the_actions_visits_the_first_ones_once() -> None:
    assert considered_visit_sequence(16, 5) == [0] * 5


def test_one_action_takes_every_simulation() -> None:
    assert considered_visit_sequence(1, 4) == [0, 1, 2, 3]
    assert considered_visit_sequence(0, 3) == [0, 1, 2]


def test_two_actions_share_the_budget_evenly() -> None:
    sequence = considered_visit_sequence(2, 10)
    assert sequence == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_table_rows_are_the_sequences() -> None:
    table = considered_visit_table(4, 8)
    assert table.shape == (5, 8)
    for k in range(5):
        assert table[k].tolist() == considered_visit_sequence(k, 8)


def test_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError):
        considered_visit_sequence(4, -1)
