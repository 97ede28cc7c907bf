"""The action shield: overload and ping-pong rules, reasons, and the shielded distribution."""

from __future__ import annotations

import numpy as np
import pytest

from ricproto.ran_space import CellLayout, OffsetStep, RanSpace, Snssai, SteerUes
from xapps.control.shield import ActionShield, shielded_distribution

SPACE = RanSpace(max_cells=3, n_neighbours=2, slices=(Snssai(1),), conn_ref=10.0, steer_count=2)
LAYOUT = CellLayout((1, 2, 3), ((1, 2), (0, 2), (0, 1)))


def obs(loads, conns=(10, 10, 10)):
    rows = np.zeros((3, SPACE.n_features), dtype=np.float32)
    rows[:, 0] = 1
    rows[:, 1] = loads
    rows[:, 3] = np.asarray(conns) / SPACE.conn_ref
    return rows.reshape(-1)


def test_overload_steer_is_muted_with_reason():
    shield = ActionShield(SPACE, LAYOUT)
    # cell 0 at 0.9 load with 10 UEs: steering 2 UEs moves ~0.18; cell 1 at 0.8 -> 0.98 > 0.9
    verdict = shield.verdict(obs([0.9, 0.8, 0.2]), limit=0.9)
    to_1 = SPACE.encode(SteerUes(0, 0))
    to_2 = SPACE.encode(SteerUes(0, 1))
    assert not verdict.allowed[to_1]
    assert "overload" in verdict.reasons[to_1] and "cell 1" in verdict.reasons[to_1]
    assert verdict.allowed[to_2] and verdict.allowed[0]


def test_raising_the_limit_unmutes():
    shield = ActionShield(SPACE, LAYOUT)
    assert shield.verdict(obs([0.9, 0.8, 0.2]), limit=1.0).allowed[SPACE.encode(SteerUes(0, 0))]


def test_predicted_load_is_used_when_higher():
    shield = ActionShield(SPACE, LAYOUT)
    to_2 = SPACE.encode(SteerUes(0, 1))
    assert shield.verdict(obs([0.5, 0.2, 0.2]), 0.9).allowed[to_2]
    predicted = np.array([0.5, 0.2, 0.85])
    assert not shield.verdict(obs([0.5, 0.2, 0.2]), 0.9, predicted_load=predicted).allowed[to_2]


def test_ping_pong_is_muted_within_the_window():
    shield = ActionShield(SPACE, LAYOUT, ping_pong_window_s=1.0)
    shield.record_steer(1, 0, at=100.0)
    back = SPACE.encode(SteerUes(0, 0))  # 0 -> 1, right after 1 -> 0
    verdict = shield.verdict(obs([0.3, 0.3, 0.3]), 0.9, now=100.5)
    assert not verdict.allowed[back] and verdict.reasons[back].startswith("ping-pong")
    assert shield.verdict(obs([0.3, 0.3, 0.3]), 0.9, now=101.5).allowed[back]


def test_shielded_distribution_moves_mass_to_noop():
    mu = np.array([0.1, 0.5, 0.4])
    allowed = np.array([True, False, True])
    out = shielded_distribution(mu, allowed)
    assert out.tolist() == pytest.approx([0.6, 0.0, 0.4])


# Values exact in float32 and float64, so the boundary is the boundary: 8 UEs, 2 steered = 1/4 of the load.
EXACT = RanSpace(max_cells=3, n_neighbours=2, slices=(Snssai(1),), conn_ref=8.0, steer_count=2)


def exact_obs(loads, conns):
    rows = np.zeros((3, EXACT.n_features), dtype=np.float32)
    rows[:, 0] = 1
    rows[:, 1] = loads
    rows[:, 3] = np.asarray(conns, dtype=np.float64) / EXACT.conn_ref
    return rows.reshape(-1)


def test_a_steer_landing_exactly_on_the_load_limit_is_allowed_and_just_above_is_muted():
    shield = ActionShield(EXACT, LAYOUT)
    to_1 = EXACT.encode(SteerUes(0, 0))
    # cell 0: load 0.5, 8 UEs -> steering 2 moves 0.125; cell 1 at 0.625 -> exactly 0.75
    observed = exact_obs([0.5, 0.625, 0.0], (8, 8, 8))
    assert shield.verdict(observed, limit=0.75).allowed[to_1]  # at the limit: not over it
    muted = shield.verdict(observed, limit=0.749)
    assert not muted.allowed[to_1] and "0.75 > limit 0.75" in muted.reasons[to_1]


def test_steering_more_ues_than_the_cell_has_moves_its_whole_load_at_most():
    shield = ActionShield(EXACT, LAYOUT)
    to_1 = EXACT.encode(SteerUes(0, 0))
    for conns in ((1, 8, 8), (0, 8, 8)):  # 2 of 1 UE (or none reported): the share is capped at 1
        observed = exact_obs([0.5, 0.25, 0.0], conns)
        assert shield.verdict(observed, limit=0.75).allowed[to_1]  # 0.25 + 0.5 = 0.75
        assert not shield.verdict(observed, limit=0.7).allowed[to_1]


def test_offset_steps_move_load_and_obey_both_rules():
    shield = ActionShield(SPACE, LAYOUT, ping_pong_window_s=1.0)
    verdict = shield.verdict(obs([0.9, 0.8, 0.2]), limit=0.9)
    toward_1 = SPACE.encode(OffsetStep(0, 0, +1))  # load 0 -> 1, which is near the limit
    from_1 = SPACE.encode(OffsetStep(0, 0, -1))  # load 1 -> 0
    toward_2 = SPACE.encode(OffsetStep(0, 1, +1))
    assert not verdict.allowed[toward_1] and "overload" in verdict.reasons[toward_1]
    assert verdict.allowed[toward_2]
    assert not verdict.allowed[from_1]  # cell 0 is at 0.9 already
    shield.record_steer(2, 0, at=50.0)  # an offset step moved load 2 -> 0
    later = shield.verdict(obs([0.3, 0.3, 0.3]), 0.9, now=50.5)
    assert not later.allowed[toward_2] and later.reasons[toward_2].startswith("ping-pong")
    assert later.allowed[toward_1]
