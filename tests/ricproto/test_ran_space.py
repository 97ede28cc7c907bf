"""The shared observation/action space: encoding, observation layout, reward and quota steps."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ricproto.ran_space import (
    CellKpm,
    CellLayout,
    NoOp,
    QuotaStep,
    RanSpace,
    SliceQuota,
    Snssai,
    SteerUes,
    UeKpm,
    cell_features,
    select_ues_to_steer,
    step_slice_quota,
)

SLICES = (Snssai(1, 1), Snssai(2, 2), Snssai(3))
SPACE = RanSpace(max_cells=5, n_neighbours=2, slices=SLICES)


def test_sizes_and_gym_spaces() -> None:
    assert SPACE.n_features == cell_features(3) == 10
    assert SPACE.n_actions == 1 + 5 * 2 + 5 * 3 * 2
    assert SPACE.observation_space().shape == (50,)
    assert SPACE.action_space().n == SPACE.n_actions


def test_every_index_decodes_and_encodes_back() -> None:
    kinds = {NoOp: 0, SteerUes: 0, QuotaStep: 0}
    for index in range(SPACE.n_actions):
        action = SPACE.decode(index)
        kinds[type(action)] += 1
        assert SPACE.encode(action) == index
    assert kinds == {NoOp: 1, SteerUes: 10, QuotaStep: 30}
    assert SPACE.decode(1) == SteerUes(0, 0)
    assert SPACE.decode(2) == SteerUes(0, 1)
    assert SPACE.decode(11) == QuotaStep(0, 0, +1)
    assert SPACE.decode(12) == QuotaStep(0, 0, -1)
    with pytest.raises(ValueError):
        SPACE.decode(SPACE.n_actions)
    with pytest.raises(ValueError):
        SPACE.encode(SteerUes(5, 0))
    with pytest.raises(ValueError):
        SPACE.encode(QuotaStep(0, 0, 2))


def kpm(prb_pct: float, thp: float, conn: float = 10.0) -> CellKpm:
    return CellKpm(prb_pct, thp, conn, 100.0, {SLICES[0]: 30.0, SLICES[2]: 10.0}, {SLICES[0]: 999.0})


def test_observation_components_and_padding() -> None:
    obs = SPACE.observation([kpm(40.0, 999.0, 50.0), None, kpm(100.0, 0.0)])
    assert obs.dtype == np.float32 and obs.shape == (50,)
    assert SPACE.observation_space().contains(obs)
    rows = obs.reshape(5, 10)
    assert rows[0, 0] == 1.0 and rows[1, 0] == 0.0 and rows[2, 0] == 1.0
    assert rows[0, 1] == pytest.approx(0.4)
    assert rows[0, 2] == pytest.approx(np.log10(1000.0) / 6.0)
    assert rows[0, 3] == pytest.approx(0.5)
    assert rows[0, 4:7] == pytest.approx([0.3, 0.0, 0.1])
    assert rows[0, 7] == pytest.approx(0.5)  # slice 0 throughput 999 kbit/s
    assert not rows[1].any() and not rows[3:].any()
    assert rows[2, 1] == 1.0 and rows[2, 2] == 0.0


def test_observation_is_clipped_and_built_from_measurement_names() -> None:
    cell = CellKpm.from_measurements(
        {"RRU.PrbTotDl": 250.0, "DRB.UEThpDl": 1e9, "RRC.ConnMean": 1e4, "RRU.PrbAvailDl": 50.0},
        {SLICES[1]: {"RRU.PrbUsedDl": 25.0, "DRB.UEThpDl": 9.0}},
    )
    assert cell.slice_prb_used_dl == {SLICES[1]: 25.0}
    row = SPACE.observation([cell]).reshape(5, 10)[0]
    assert row[1:4].tolist() == [1.0, 1.0, 1.0]
    assert row[5] == pytest.approx(0.5)
    assert row[8] == pytest.approx(1.0 / 6.0)
    with pytest.raises(ValueError):
        SPACE.observation([cell] * 6)


def test_reward_pays_throughput_and_penalises_imbalance() -> None:
    balanced = SPACE.observation([kpm(50.0, 5000.0), kpm(50.0, 5000.0)])
    imbalanced = SPACE.observation([kpm(95.0, 5000.0), kpm(5.0, 5000.0)])
    faster = SPACE.observation([kpm(50.0, 50000.0), kpm(50.0, 50000.0)])
    assert SPACE.reward(faster) > SPACE.reward(balanced) > SPACE.reward(imbalanced)
    assert SPACE.reward(balanced) == pytest.approx(np.log10(5001.0) / 6.0, rel=1e-5)
    assert SPACE.reward(SPACE.observation([])) == 0.0


def test_action_mask_covers_only_existing_cells_and_neighbours() -> None:
    layout = CellLayout((11, 12, 13), ((1, 2), (0,), (0, 1)))
    mask = SPACE.action_mask(layout)
    assert mask[0]
    assert mask[SPACE.encode(SteerUes(1, 0))] and not mask[SPACE.encode(SteerUes(1, 1))]
    assert mask[SPACE.encode(QuotaStep(2, 2, -1))] and not mask[SPACE.encode(QuotaStep(3, 0, 1))]
    assert mask.sum() == 1 + 5 + 3 * 6


def test_select_ues_to_steer_takes_best_margin_on_source() -> None:
    ues = [
        UeKpm(1, 100, -90.0, {200: -95.0}),
        UeKpm(2, 100, -100.0, {200: -92.0}),
        UeKpm(3, 100, -80.0, {300: -70.0}),
        UeKpm(4, 200, -99.0, {100: -60.0}),
        UeKpm(5, 100, -85.0, {200: -84.0}),
    ]
    assert select_ues_to_steer(ues, 100, 200, 2) == [2, 5]
    assert select_ues_to_steer(ues, 100, 200, 10) == [2, 5, 1]
    assert select_ues_to_steer(ues, 100, 400, 3) == []


def legal(quotas: list[SliceQuota]) -> bool:
    return (
        all(0 <= q.dedicated_ratio <= q.min_ratio <= q.max_ratio <= 100 for q in quotas)
        and sum(q.min_ratio for q in quotas) <= 100
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from([1, -1])), max_size=40), st.integers(1, 30))
def test_quota_steps_keep_rrm_policy_legal(moves: list[tuple[int, int]], step: int) -> None:
    quotas = [SliceQuota(40, 100, 0), SliceQuota(20, 60, 10), SliceQuota(10, 40, 0)]
    for slice_index, direction in moves:
        new = step_slice_quota(quotas, slice_index, direction, step)
        assert legal(new)
        assert all(new[i] == quotas[i] for i in range(3) if i != slice_index)
        moved, was = new[slice_index], quotas[slice_index]
        if direction > 0:
            assert moved.min_ratio >= was.min_ratio and moved.max_ratio >= was.max_ratio
        else:
            assert moved.min_ratio <= was.min_ratio and moved.max_ratio <= was.max_ratio
        quotas = new


def test_quota_step_up_is_bounded_by_other_minimums() -> None:
    quotas = [SliceQuota(40, 100, 0), SliceQuota(50, 60, 10), SliceQuota(5, 40, 0)]
    assert step_slice_quota(quotas, 2, 1, 10)[2] == SliceQuota(10, 50, 0)


def test_ricproto_ran_space_imports_nothing_of_ours_but_ricproto() -> None:
    code = (
        "import sys, ricproto.ran_space; "
        "ours = ('e2sim', 'ricplt', 'xapps', 'twin_sidecar', 'twinric'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ours]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
