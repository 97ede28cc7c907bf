"""The shared observation/action space: encoding, observation layout, reward and quota steps."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ricproto.kpm_distribution import (
    DELAY_DL_BIN_EDGES_MS,
    DELAY_DL_DIST,
    UE_THP_DL_BIN_EDGES_KBPS,
    UE_THP_DL_DIST,
    histogram,
)
from ricproto.ran_space import (
    BASE_FEATURES,
    CONNECTED_COLUMN,
    PRB_USAGE_COLUMN,
    PRESENT_COLUMN,
    THROUGHPUT_COLUMN,
    CellKpm,
    CellLayout,
    NoOp,
    OffsetStep,
    QuotaStep,
    RanSpace,
    SliceQuota,
    Snssai,
    SteerUes,
    UeKpm,
    cell_features,
    select_ues_to_steer,
    step_cell_offsets,
    step_slice_quota,
)

SLICES = (Snssai(1, 1), Snssai(2, 2), Snssai(3))
SPACE = RanSpace(max_cells=5, n_neighbours=2, slices=SLICES)


def test_sizes_and_gym_spaces() -> None:
    assert SPACE.n_features == cell_features(3) == 14  # 4 + 2 per slice + 4 objective columns
    assert SPACE.n_actions == 1 + 5 * 2 + 5 * 3 * 2 + 5 * 2 * 2  # ... + offset steps both ways
    assert SPACE.observation_space().shape == (70,)
    assert SPACE.action_space().n == SPACE.n_actions


def test_every_index_decodes_and_encodes_back() -> None:
    kinds = {NoOp: 0, SteerUes: 0, QuotaStep: 0, OffsetStep: 0}
    for index in range(SPACE.n_actions):
        action = SPACE.decode(index)
        kinds[type(action)] += 1
        assert SPACE.encode(action) == index
    assert kinds == {NoOp: 1, SteerUes: 10, QuotaStep: 30, OffsetStep: 20}
    assert SPACE.decode(1) == SteerUes(0, 0)
    assert SPACE.decode(2) == SteerUes(0, 1)
    assert SPACE.decode(11) == QuotaStep(0, 0, +1)
    assert SPACE.decode(12) == QuotaStep(0, 0, -1)
    assert SPACE.decode(41) == OffsetStep(0, 0, +1)  # after the old kinds: their indices are unchanged
    assert SPACE.decode(44) == OffsetStep(0, 1, -1)
    with pytest.raises(ValueError):
        SPACE.encode(OffsetStep(0, 2, 1))
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
    assert obs.dtype == np.float32 and obs.shape == (70,)
    assert SPACE.observation_space().contains(obs)
    rows = obs.reshape(5, 14)
    assert rows[0, 0] == 1.0 and rows[1, 0] == 0.0 and rows[2, 0] == 1.0
    assert rows[0, 1] == pytest.approx(0.4)
    assert rows[0, 2] == pytest.approx(np.log10(1000.0) / 6.0)
    assert rows[0, 3] == pytest.approx(0.5)
    assert rows[0, 4:7] == pytest.approx([0.3, 0.0, 0.1])
    assert rows[0, 7] == pytest.approx(0.5)  # slice 0 throughput 999 kbit/s
    assert not rows[1].any() and not rows[3:].any()
    assert rows[2, 1] == 1.0 and rows[2, 2] == 0.0
    assert not rows[:, 10:].any()  # no distributions reported: no eMBB/URLLC samples


def test_observation_is_clipped_and_built_from_measurement_names() -> None:
    cell = CellKpm.from_measurements(
        {"RRU.PrbTotDl": 250.0, "DRB.UEThpDl": 1e9, "RRC.ConnMean": 1e4, "RRU.PrbAvailDl": 50.0},
        {SLICES[1]: {"RRU.PrbUsedDl": 25.0, "DRB.UEThpDl": 9.0}},
    )
    assert cell.slice_prb_used_dl == {SLICES[1]: 25.0}
    row = SPACE.observation([cell]).reshape(5, 14)[0]
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
    assert mask[SPACE.encode(OffsetStep(2, 1, -1))] and not mask[SPACE.encode(OffsetStep(1, 1, 1))]
    assert mask.sum() == 1 + 5 + 3 * 6 + 5 * 2


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


def dist_kpm(embb_thp_kbps: list[float], urllc_delay_ms: list[float], prb_pct: float = 50.0) -> CellKpm:
    """A cell whose eMBB UEs had these throughputs and whose URLLC UEs these delays."""
    return CellKpm.from_measurements(
        {"RRU.PrbTotDl": prb_pct, "DRB.UEThpDl": 5000.0, "RRC.ConnMean": 10.0, "RRU.PrbAvailDl": 100.0},
        {},
        {
            (UE_THP_DL_DIST, SLICES[0]): histogram(
                np.array(embb_thp_kbps), UE_THP_DL_BIN_EDGES_KBPS
            ).tolist(),
            (DELAY_DL_DIST, SLICES[1]): histogram(np.array(urllc_delay_ms), DELAY_DL_BIN_EDGES_MS).tolist(),
        },
    )


def test_objective_columns_come_from_the_distributions() -> None:
    assert SPACE.embb_slices == (SLICES[0],) and SPACE.urllc_slices == (SLICES[1],)
    assert SPACE.objective_column == 10
    row = SPACE.observation([dist_kpm([3000.0] * 19 + [100.0], [1.0, 2.0, 30.0, np.inf])]).reshape(5, 14)[0]
    assert row[10] == pytest.approx(20 / SPACE.conn_ref)  # eMBB UEs sampled
    assert 0 < row[11] < np.log10(1 + 3000) / 6  # the low percentile sits in the slow UE's bin
    assert row[12] == pytest.approx(4 / SPACE.conn_ref)
    assert row[13] == pytest.approx(0.5)  # 30 ms and a starved UE are over the 10 ms budget
    tight = RanSpace(max_cells=5, n_neighbours=2, slices=SLICES, delay_budget_ms=1.0)
    row = tight.observation([dist_kpm([3000.0], [1.5, 2.0, 30.0, np.inf])]).reshape(5, 14)[0]
    assert row[13] == pytest.approx(1.0)


def test_named_columns_say_where_each_feature_is() -> None:
    """Readers (the twin, the xApp) index rows by these names: they must point at what the
    observation writes there."""
    names = SPACE.feature_names
    assert len(names) == SPACE.n_features == len(set(names))
    assert names[PRESENT_COLUMN] == "present" and names[PRB_USAGE_COLUMN] == "prb_usage_dl"
    assert names[THROUGHPUT_COLUMN] == "thp_dl" and names[CONNECTED_COLUMN] == "connected_ues"
    assert names[BASE_FEATURES : BASE_FEATURES + 3] == tuple(f"slice_{s}_prb_share" for s in SLICES)
    assert names[SPACE.objective_column :] == (
        "embb_ues_sampled",
        "embb_p5_thp_dl",
        "urllc_delay_samples",
        "urllc_over_budget",
    )
    row = SPACE.observation([kpm(40.0, 999.0, 50.0)]).reshape(5, 14)[0]
    assert row[PRESENT_COLUMN] == 1.0 and row[PRB_USAGE_COLUMN] == pytest.approx(0.4)
    assert row[CONNECTED_COLUMN] == pytest.approx(0.5)


def test_new_reward_terms_move_the_right_way() -> None:
    base = [dist_kpm([2000.0] * 20, [1.0] * 10), dist_kpm([2000.0] * 20, [1.0] * 10)]
    starved_edge = [dist_kpm([2000.0] * 18 + [60.0] * 2, [1.0] * 10), base[1]]
    late = [dist_kpm([2000.0] * 20, [1.0] * 5 + [40.0] * 5), base[1]]
    r = {
        k: SPACE.reward(SPACE.observation(v))
        for k, v in (("base", base), ("edge", starved_edge), ("late", late))
    }
    assert r["edge"] < r["base"]  # worse 5th percentile, same mean-throughput feature
    assert r["late"] < r["base"]  # URLLC over budget
    assert r["base"] - r["late"] == pytest.approx(SPACE.sla_weight * 5 / 20, rel=1e-3)  # 5 of 20 samples
    heavier = RanSpace(max_cells=5, n_neighbours=2, slices=SLICES, sla_weight=3.0)
    assert heavier.reward(heavier.observation(late)) < SPACE.reward(SPACE.observation(late))
    no_p5 = RanSpace(max_cells=5, n_neighbours=2, slices=SLICES, p5_weight=0.0)
    assert no_p5.reward(no_p5.observation(starved_edge)) == pytest.approx(
        no_p5.reward(no_p5.observation(base))
    )
    # a cell without eMBB samples does not drag the p5 term down: it is weighted by samples
    empty = [dist_kpm([], [1.0] * 10), base[1]]
    assert SPACE.embb_p5(SPACE.observation(empty).reshape(5, 14)) == pytest.approx(
        SPACE.embb_p5(SPACE.observation(base).reshape(5, 14))
    )


def test_offset_step_follows_the_space_step_and_limit() -> None:
    assert step_cell_offsets(0, 0, +1, SPACE) == (SPACE.offset_step_db, -SPACE.offset_step_db)
    assert step_cell_offsets(SPACE.offset_limit_db, -SPACE.offset_limit_db, +1, SPACE) == (
        SPACE.offset_limit_db,
        -SPACE.offset_limit_db,
    )
    with pytest.raises(ValueError):
        RanSpace(max_cells=1, n_neighbours=1, slices=SLICES, offset_step_db=4, offset_limit_db=2)
    with pytest.raises(ValueError):
        RanSpace(max_cells=1, n_neighbours=1, slices=SLICES, delay_budget_ms=0)
