"""The emulation model: the mirror follows the rounds, and time travel returns the state as it was
(cell KPM with the per-slice distributions, UEs and handovers, control outcomes, quotas, cell offsets
commanded and acknowledged, node status) within the bounded history."""

from __future__ import annotations

import dataclasses

import numpy as np
from twin_records import SLICE_COLUMNS, T0_NS, RanScript

from ricproto.kpm_distribution import DELAY_DL_DIST, UE_THP_DL_BIN_EDGES_KBPS, UE_THP_DL_DIST
from ricproto.ran_view import (
    ControlRecord,
    OutcomeUpdate,
    decode_ran_round,
    encode_ran_round,
    slice_column_groups,
)
from ricproto.transition import ControlOutcome
from twin_sidecar.emulation.mirror import Mirror

PERIOD = 100_000_000


def t_of(k: int) -> int:
    return T0_NS + k * PERIOD


def load_of(state: dict, cell: int) -> float:
    return state["cells"][cell]["kpm"]["prb_tot_dl_pct"]


def test_time_travel_returns_the_state_as_it_was(cfg) -> None:
    script = RanScript(cfg, moves={50: 1001})  # UE 1001 of cell 1 hands over to cell 2 at round 50
    mirror = Mirror(cfg, history_rounds=500)
    mirror.apply([script.round(k) for k in range(100)])
    assert mirror.rounds == 100 and mirror.last_seq == 99
    for k in (0, 10, 49, 50, 99):
        at = mirror.state_at(t_of(k) + PERIOD // 2)  # between rounds: the round before
        assert at["seq"] == k and at["t_ns"] == t_of(k)
        for i in range(len(cfg.cells)):
            assert load_of(at, i) == np.float32(script.load(i, k) * 100)
        assert np.allclose(at["observation"], script.observation(k))
    before, after = mirror.state_at(t_of(49)), mirror.state_at(t_of(60))
    ue = {u["ue_id"]: u for u in before["ues"]}
    assert ue[1001]["cell"] == 1 and {u["ue_id"]: u for u in after["ues"]}[1001]["cell"] == 2
    assert before["cells"][2]["handovers_in"] == 0 and after["cells"][2]["handovers_in"] == 1
    assert after["cells"][1]["handovers_out"] == 1 and after["cells"][1]["ues"] == 2
    # the quota control of round 10 is SENT at round 10 and ACKNOWLEDGED from round 11 on
    c10 = {c["control_id"]: c for c in mirror.state_at(t_of(10))["controls"]}
    c11 = {c["control_id"]: c for c in mirror.state_at(t_of(11))["controls"]}
    assert c10[10 * 1024]["outcome"] == "SENT" and c11[10 * 1024]["outcome"] == "ACKNOWLEDGED"
    assert c10[10 * 1024]["outcome_ns"] == 0 and c11[10 * 1024]["outcome_ns"] == t_of(11)
    assert 11 * 1024 not in c10  # not sent yet at round 10
    # the acknowledged quota of cell 0, slice 0 is in the mirror from round 1 on, not at round 0
    assert (
        mirror.state_at(t_of(0))["cells"][0]["slices"][0]["quota"]["min"] == cfg.default_quotas[0].min_ratio
    )
    assert mirror.state_at(t_of(1))["cells"][0]["slices"][0]["quota"] == {
        "min": 50,
        "max": 90,
        "dedicated": 0,
    }
    assert mirror.state()["seq"] == 99
    assert mirror.state_at(t_of(0) - 1) is None  # before the history


def test_history_is_bounded_and_survives_a_checkpoint(cfg, script) -> None:
    mirror = Mirror(cfg, history_rounds=30)
    mirror.apply([script.round(k) for k in range(100)])
    assert mirror.state_at(t_of(69)) is None and mirror.state_at(t_of(70))["seq"] == 70
    copy = Mirror(cfg, history_rounds=30)
    copy.load_state_dict(mirror.state_dict())
    for k in (70, 85, 99):
        assert copy.state_at(t_of(k)) == mirror.state_at(t_of(k))
    copy.apply([script.round(100)])
    mirror.apply([script.round(100)])
    assert copy.state() == mirror.state() and copy.rounds == 101
    assert np.array_equal(copy.recent_load(8), mirror.recent_load(8))


def test_nodes_lost_and_cells_added_are_ran_changes(cfg, script) -> None:
    mirror = Mirror(cfg, node_lost_periods=5)
    six = list(range(6))  # cell 6 (node 7) never reports at first
    mirror.apply([script.round(k, six) for k in range(3)])
    kinds = [(c.kind, c.subject) for c in mirror.take_changes()]
    assert ("node_added", cfg.cells[0].meid) in kinds and (
        "cell_added",
        str(cfg.cells[0].nr_cell_id),
    ) in kinds
    assert all(cfg.cells[6].meid != s for _, s in kinds)
    mirror.apply([script.round(k) for k in range(3, 5)])  # cell 6 appears
    assert ("cell_added", str(cfg.cells[6].nr_cell_id)) in [
        (c.kind, c.subject) for c in mirror.take_changes()
    ]
    mirror.apply([script.round(k, six) for k in range(5, 12)])  # node 7 silent for 7 periods
    lost = [c for c in mirror.take_changes() if c.kind == "node_lost"]
    assert [c.subject for c in lost] == [cfg.cells[6].meid]
    state = mirror.state()
    assert state["nodes"][6]["status"] == "lost" and state["nodes"][0]["status"] == "connected"
    assert mirror.state_at(t_of(4))["nodes"][6]["status"] == "connected"  # as it was then
    assert not state["cells"][6]["reported"] and load_of(state, 6) == np.float32(script.load(6, 4) * 100)
    mirror.apply([script.round(12)])
    assert [c.kind for c in mirror.take_changes()] == ["node_back"]


def test_a_failed_control_leaves_the_quota(cfg, script) -> None:
    mirror = Mirror(cfg)
    r0 = script.round(0)
    r1 = script.round(1)
    r1.outcomes = (OutcomeUpdate(0, ControlOutcome.FAILED, t_of(1)),)
    mirror.apply([r0, r1])
    state = mirror.state()
    assert state["cells"][0]["slices"][0]["quota"]["min"] == cfg.default_quotas[0].min_ratio
    assert {c["control_id"]: c["outcome"] for c in state["controls"]}[0] == "FAILED"


def slice_state(state: dict, cell: int, snssai) -> dict:
    return next(s for s in state["cells"][cell]["slices"] if (s["sst"], s["sd"]) == (snssai.sst, snssai.sd))


def test_distributions_are_mirrored_per_bin_and_time_travel(cfg, script) -> None:
    mirror = Mirror(cfg, history_rounds=100)
    mirror.apply([script.round(k) for k in range(30)])
    embb, urllc = cfg.space.embb_slices[0], cfg.space.urllc_slices[0]
    for k in (3, 17, 29):
        at = mirror.state_at(t_of(k))
        for i in range(len(cfg.cells)):
            want = script.kpm(i, k)
            got = slice_state(at, i, embb)["distributions"]
            assert got["slice_ue_thp_dl_dist"] == list(want.slice_ue_thp_dl_dist[embb])
            assert not any(got["slice_delay_dl_dist"])  # eMBB reports no delay distribution
            delay = slice_state(at, i, urllc)["distributions"]["slice_delay_dl_dist"]
            assert delay == list(want.slice_delay_dl_dist[urllc])
            assert all("[" not in name for name in slice_state(at, i, embb)["kpm"])  # bins are not scalars
            assert slice_state(at, i, embb)["kpm"]["slice_prb_used_dl"] == np.float32(script.load(i, k) * 50)
    # the load moves the distribution: two rounds apart, cell 0 differs
    d3 = slice_state(mirror.state_at(t_of(3)), 0, embb)["distributions"]["slice_ue_thp_dl_dist"]
    d7 = slice_state(mirror.state_at(t_of(7)), 0, embb)["distributions"]["slice_ue_thp_dl_dist"]
    assert d3 != d7
    bins = mirror.state()["distribution_bins"]
    assert bins["slice_ue_thp_dl_dist"] == {
        "measurement": UE_THP_DL_DIST,
        "lower_edges": list(UE_THP_DL_BIN_EDGES_KBPS),
    }
    assert bins["slice_delay_dl_dist"]["measurement"] == DELAY_DL_DIST


def test_cell_offsets_commanded_then_acknowledged_time_travel(cfg) -> None:
    script = RanScript(cfg, offset_every=10)  # offset steps at rounds 5, 15, ...: 2 dB, then 4 dB
    mirror = Mirror(cfg, history_rounds=100)
    mirror.apply([script.round(k) for k in range(15)])
    r16 = script.round(16)  # the forward control of round 15 is acknowledged, the backward one failed
    r16.outcomes = (
        OutcomeUpdate(15 * 1024 + 1, ControlOutcome.ACKNOWLEDGED, t_of(16)),
        OutcomeUpdate(15 * 1024 + 2, ControlOutcome.FAILED, t_of(16)),
    )
    mirror.apply([script.round(15), r16])
    j = cfg.layout.neighbours[0][0]

    def offsets(k: int) -> tuple[tuple[int, int], tuple[int, int]]:
        cells = mirror.state_at(t_of(k))["cells"]
        fwd = next(o for o in cells[0]["offsets"] if o["neighbour"] == j)
        back = next(o for o in cells[j]["offsets"] if o["neighbour"] == 0)
        return (fwd["commanded_db"], fwd["acknowledged_db"]), (back["commanded_db"], back["acknowledged_db"])

    assert offsets(4) == ((0, 0), (0, 0))
    assert offsets(5) == ((2, 0), (-2, 0))  # sent, not yet acknowledged
    assert offsets(6) == ((2, 2), (-2, -2))
    assert offsets(15) == ((4, 2), (-4, -2))
    assert offsets(16) == ((4, 4), (-4, -2))  # the failed one leaves what the node held
    cells = mirror.state()["cells"]
    assert [o["neighbour"] for o in cells[0]["offsets"]] == list(cfg.layout.neighbours[0])
    assert cells[0]["offsets"][0]["nr_cell_id"] == cfg.cells[j].nr_cell_id
    controls = {c["control_id"]: c for c in mirror.state()["controls"]}
    fwd = controls[15 * 1024 + 1]
    assert (fwd["kind"], fwd["cell_index"], fwd["neighbour_cell_index"], fwd["offset_db"]) == (
        "cell_offset",
        0,
        j,
        4,
    )
    assert fwd["outcome"] == "ACKNOWLEDGED" and controls[15 * 1024 + 2]["outcome"] == "FAILED"
    copy = Mirror(cfg, history_rounds=100)
    copy.load_state_dict(mirror.state_dict())
    assert copy.state_at(t_of(15)) == mirror.state_at(t_of(15)) and copy.state() == mirror.state()


def test_an_offset_the_mirror_cannot_hold_is_ignored(cfg, script) -> None:
    mirror = Mirror(cfg)
    r = script.round(0)
    bad = (
        ControlRecord(1, 0, 2, "cell_offset", "x", cell_index=0, neighbour_cell_index=99, offset_db=2),
        ControlRecord(2, 0, 2, "cell_offset", "x", cell_index=0, neighbour_cell_index=1, offset_db=7),
        ControlRecord(3, 0, 2, "cell_offset", "x", cell_index=0, neighbour_cell_index=1, offset_db=30000),
    )
    r.controls = bad
    r1 = script.round(1)
    r1.outcomes = tuple(OutcomeUpdate(c.control_id, ControlOutcome.ACKNOWLEDGED, t_of(1)) for c in bad)
    mirror.apply([r, r1])
    state = mirror.state()
    assert all(o["commanded_db"] == 0 == o["acknowledged_db"] for c in state["cells"] for o in c["offsets"])
    assert {1, 2, 3} <= {c["control_id"] for c in state["controls"]}  # still listed as sent


def test_columns_a_later_record_adds_widen_the_history(cfg, script) -> None:
    """An xApp upgraded under a running twin: its records gain columns (here the distributions); the
    mirror adds them, earlier rounds read zero there, and the checkpoint still holds every round."""
    scalars, _ = slice_column_groups(SLICE_COLUMNS)
    keep = list(scalars.values())

    def old(k: int):
        r = script.round(k)
        return dataclasses.replace(
            r,
            slice_measurements=tuple(SLICE_COLUMNS[j] for j in keep),
            slice_values=np.ascontiguousarray(r.slice_values[:, :, keep]),
        )

    mirror = Mirror(cfg, history_rounds=100)
    mirror.apply([old(k) for k in range(10)])
    assert mirror.slice_measurements == tuple(SLICE_COLUMNS[j] for j in keep)
    assert mirror.state()["cells"][0]["slices"][0]["distributions"] == {}
    mirror.apply([script.round(k) for k in range(10, 20)])
    embb = cfg.space.embb_slices[0]
    before, after = mirror.state_at(t_of(5)), mirror.state_at(t_of(15))
    zeros = slice_state(before, 0, embb)["distributions"]["slice_ue_thp_dl_dist"]
    assert zeros == [0.0] * len(UE_THP_DL_BIN_EDGES_KBPS)
    assert slice_state(before, 0, embb)["kpm"]["slice_prb_used_dl"] == np.float32(script.load(0, 5) * 50)
    assert slice_state(after, 0, embb)["distributions"]["slice_ue_thp_dl_dist"] == list(
        script.kpm(0, 15).slice_ue_thp_dl_dist[embb]
    )
    copy = Mirror(cfg, history_rounds=100)
    copy.load_state_dict(mirror.state_dict())
    for k in (5, 15, 19):
        assert copy.state_at(t_of(k)) == mirror.state_at(t_of(k))
    copy.apply([script.round(20)])
    assert slice_state(copy.state(), 0, embb)["distributions"]["slice_ue_thp_dl_dist"] == list(
        script.kpm(0, 20).slice_ue_thp_dl_dist[embb]
    )


def test_control_ids_of_a_stream_numbered_afresh_are_the_newest(cfg, script) -> None:
    """After a new stream (seq from 0 again) the same control ids come back: the state lists the new
    controls as the latest, with their own outcome, not the old ones'."""
    mirror = Mirror(cfg)
    mirror.apply([script.round(k) for k in range(10)])
    again = [dataclasses.replace(script.round(k), decided_ns=t_of(20 + k)) for k in range(3)]
    again[0].controls = (dataclasses.replace(again[0].controls[0], sent_ns=t_of(20)),)
    mirror.apply(again)
    assert list(mirror.controls)[-1] == 2 * 1024  # round 2's quota control, not round 9's
    latest = {c["control_id"]: c for c in mirror.state()["controls"]}
    assert latest[0]["sent_ns"] == t_of(20) and latest[0]["outcome"] == "ACKNOWLEDGED"


def test_decoded_rounds_share_a_layout_and_a_reordered_one_maps_by_name(cfg, script) -> None:
    """Decoded records of one xApp share their layout tuples (the fast path keeps the record's own
    columns); a record whose columns come in another order still lands in the mirror's columns."""
    mirror = Mirror(cfg, history_rounds=100)
    decoded = [decode_ran_round(encode_ran_round(script.round(k))) for k in range(5)]
    assert decoded[3].slice_measurements is decoded[4].slice_measurements
    mirror.apply(decoded)
    assert mirror.slice_values is decoded[4].slice_values  # taken as is, no copy
    r = script.round(5)
    flipped = dataclasses.replace(
        r,
        cell_measurements=r.cell_measurements[::-1],
        cell_values=np.ascontiguousarray(r.cell_values[:, ::-1]),
        slice_measurements=r.slice_measurements[::-1],
        slice_values=np.ascontiguousarray(r.slice_values[:, :, ::-1]),
    )
    mirror.apply([decode_ran_round(encode_ran_round(flipped))])
    assert mirror.cell_measurements == r.cell_measurements
    np.testing.assert_array_equal(mirror.cell_values, r.cell_values)
    np.testing.assert_array_equal(mirror.slice_values, r.slice_values)
    reference = Mirror(cfg, history_rounds=100)
    reference.apply([script.round(k) for k in range(6)])
    assert mirror.state_at(t_of(5))["cells"] == reference.state_at(t_of(5))["cells"]
    mirror.apply([decode_ran_round(encode_ran_round(script.round(6)))])  # back to the usual order
    np.testing.assert_array_equal(mirror.slice_values, script.round(6).slice_values)
