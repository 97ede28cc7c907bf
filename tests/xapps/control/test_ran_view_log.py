"""The RAN-view stream written by the xApp: a round's cell reports (KPM values, node, collection and
arrival time), the UE reports decoded since the last round, the controls sent and their later
outcomes, through the real writer into a real Redis; numbering that continues across restarts; and
in the xApp process, records that line up with the transitions of the same steps."""

from __future__ import annotations

import time

import numpy as np
import pytest
from kpm_messages import cell_indication, ue_indication
from platform_peer import PlatformPeer, fixed_snapshot, promote, send_round
from xapp_process import start_control_xapp

from ricproto import e2ap, mtypes
from ricproto.kpm_distribution import DELAY_DL_DIST, UE_THP_DL_DIST, n_bins
from ricproto.ran_space import CellKpm, OffsetStep, QuotaStep, SteerUes
from ricproto.ran_view import (
    decode_ran_round,
    encode_ran_round,
    kpm_columns,
    slice_column_groups,
    stream_key,
)
from ricproto.transition import ControlOutcome, decode_transition
from ricproto.transition import stream_key as transitions_key
from twinric.processes import wait_until
from xapps.common.metrics import XappMetrics
from xapps.control.control_policy import policy_type_id
from xapps.control.ran_view import RanView
from xapps.control.ran_view_log import (
    CellReportRef,
    RanViewEncoder,
    RanViewLog,
    RanViewWriter,
    RoundCapture,
)
from xapps.control.rc_control import ControlBuilder


def rounds(redis_client, instance: str) -> list:
    return [decode_ran_round(f[b"v"]) for _, f in redis_client.xrange(stream_key(instance))]


def ingest(view: RanView, log: RanViewLog, meid: str, payload: bytes) -> None:
    ind = e2ap.decode(payload)
    entry = view.ingest(meid, ind)
    arrived = time.time_ns()
    if view.cells[entry.index].ue_report is None:  # a cell-level report
        log.on_cell_report(entry.index, ind.ricIndicationHeader, arrived, view.cells[entry.index].kpm)


def test_rounds_controls_and_outcomes_reach_the_stream(redis_client, inventory):
    metrics = XappMetrics("t")
    key = stream_key("rv")
    writer = RanViewWriter(redis_client, key, metrics, RanViewEncoder("rv", inventory, metrics)).start()
    log = RanViewLog("rv", writer)
    view = RanView(inventory)
    builder = ControlBuilder(view)
    space = inventory.space
    try:
        # round 0: cells 0 and 3 report (cell 3 with a UE report too); a steer from cell 0 is sent
        c0, c3 = inventory.cells[0], inventory.cells[3]
        ingest(view, log, c0.meid, cell_indication(2 * c0.position + 1, 80.0, 9000.0, 20.0, space.slices))
        ingest(view, log, c3.meid, cell_indication(2 * c3.position + 1, 30.0, 4000.0, 5.0, space.slices))
        ingest(view, log, c0.meid, ue_indication(2 * c0.position + 2, {11: -95.0, 12: -110.0}))
        view.decode_ue_reports()
        steer = space.encode(SteerUes(0, 1))
        sent = builder.build(space.decode(steer))
        assert len(sent) == 2
        obs0 = view.observation(0.0)
        log.end_round(5, c3.meid, 1000, steer, obs0, sent, 2000, view.cells)
        # round 1: only cell 0; its earlier handover is acknowledged, the other one times out
        ingest(view, log, c0.meid, cell_indication(2 * c0.position + 1, 60.0, 9000.0, 20.0, space.slices))
        log.on_control_outcome(sent[0].instance_id, ControlOutcome.ACKNOWLEDGED, 3000)
        log.on_control_outcome(sent[1].instance_id, ControlOutcome.TIMED_OUT, 3500)
        log.on_control_outcome(999, ControlOutcome.ACKNOWLEDGED, 3600)  # not ours: ignored
        quota = space.encode(QuotaStep(0, 2, -1))
        sent1 = builder.build(space.decode(quota))
        log.end_round(6, c0.meid, 4000, quota, view.observation(0.0), sent1, 4100, view.cells)
        assert writer.flush(10)
    finally:
        writer.stop()
    r0, r1 = rounds(redis_client, "rv")
    assert (r0.seq, r0.step, r0.meid, r1.seq, r1.step) == (0, 5, c3.meid, 1, 6)
    assert np.array_equal(r0.observation, obs0)
    assert r0.cell_index.tolist() == [0, 3] and r0.nr_cell_id.tolist() == [c0.nr_cell_id, c3.nr_cell_id]
    assert [r0.nodes[n] for n in r0.cell_node] == [c0.meid, c3.meid]
    col = r0.cell_measurements.index("prb_tot_dl_pct")
    assert r0.cell_values[:, col].tolist() == [80.0, 30.0]
    assert r0.slices == space.slices
    assert r0.slice_values.shape == (2, len(space.slices), len(kpm_columns().slice))
    # collection time: the KPM header's colletStartTime (the helper stamps "now")
    assert (
        abs(r0.collection_ns[0] / 1e9 - time.time()) < 60 and r0.arrival_ns[0] >= r0.collection_ns[0] - 10**9
    )
    assert sorted(r0.ue_id.tolist()) == [11, 12] and set(r0.ue_cell_index.tolist()) == {0}
    assert r1.ue_id.size == 0  # the same UE report is not sent twice
    h0, h1 = r0.controls
    assert (h0.kind, h0.meid, h0.cell_index, h0.target_cell_index) == (
        "handover",
        c0.meid,
        0,
        inventory.layout.neighbours[0][1],
    )
    assert h0.outcome == ControlOutcome.SENT and h0.step == 5 and h0.sent_ns == 2000 and h0.action == steer
    assert {h0.ue_ids, h1.ue_ids} == {(11,), (12,)}
    assert {(o.control_id, o.outcome) for o in r1.outcomes} == {
        (h0.control_id, ControlOutcome.ACKNOWLEDGED),
        (h1.control_id, ControlOutcome.TIMED_OUT),
    }
    (q,) = r1.controls
    assert (q.kind, q.slice_index, q.cell_index) == ("slice_quota", 2, 0)
    assert q.max_ratio == inventory.default_quotas[2].max_ratio - space.quota_step

    # a restarted xApp continues the numbering after the stream's last record
    again = RanViewLog("rv", writer)
    assert again.continue_numbering(redis_client, key, metrics) == 2


def test_distributions_and_cell_offsets_are_recorded_as_what_they_are(redis_client, inventory):
    """Per-slice distributions travel one column per bin, named so a reader finds them; an offset step
    is two cell_offset controls (cell -> neighbour and back, in dB), not handovers, even though the
    first carries ``steer`` for the shield."""
    metrics = XappMetrics("t")
    key = stream_key("dist")
    writer = RanViewWriter(redis_client, key, metrics, RanViewEncoder("dist", inventory, metrics)).start()
    log = RanViewLog("dist", writer)
    view = RanView(inventory)
    builder = ControlBuilder(view)
    space = inventory.space
    embb, urllc = space.embb_slices[0], space.urllc_slices[0]
    thp = [float(b % 5) for b in range(n_bins(UE_THP_DL_DIST))]
    delay = [float(b + 1) for b in range(n_bins(DELAY_DL_DIST))]
    c0 = inventory.cells[0]
    j = inventory.layout.neighbours[0][0]
    try:
        report = cell_indication(
            2 * c0.position + 1,
            70.0,
            8000.0,
            12.0,
            space.slices,
            dists={(UE_THP_DL_DIST, embb): thp, (DELAY_DL_DIST, urllc): delay},
        )
        ingest(view, log, c0.meid, report)
        action = space.encode(OffsetStep(0, 0, +1))
        sent = builder.build(space.decode(action))
        assert [r.kind for r in sent] == ["cell_offset", "cell_offset"] and sent[0].steer == (0, j)
        log.end_round(1, c0.meid, 1000, action, view.observation(0.0), sent, 2000, view.cells)
        log.on_control_outcome(sent[0].instance_id, ControlOutcome.ACKNOWLEDGED, 3000)
        log.end_round(2, c0.meid, 4000, 0, view.observation(0.0), [], 4100, view.cells)
        assert writer.flush(10)
    finally:
        writer.stop()
    assert metrics.error_count("ran_view_encode_failed") == 0
    assert metrics.error_count("ran_view_control_unreadable") == 0
    r0, r1 = rounds(redis_client, "dist")
    scalars, dists = slice_column_groups(r0.slice_measurements)
    assert set(scalars) == {"slice_prb_used_dl", "slice_ue_thp_dl_kbps"}
    assert len(dists["slice_ue_thp_dl_dist"]) == n_bins(UE_THP_DL_DIST)
    values = r0.slice_values[0]  # [S, Ms] of cell 0
    k_embb, k_urllc = space.slices.index(embb), space.slices.index(urllc)
    assert values[k_embb, dists["slice_ue_thp_dl_dist"]].tolist() == thp
    assert values[k_urllc, dists["slice_delay_dl_dist"]].tolist() == delay
    assert not values[k_urllc, dists["slice_ue_thp_dl_dist"]].any()  # not reported for that slice
    assert values[k_embb, scalars["slice_prb_used_dl"]] == 10.0
    forward, backward = r0.controls
    assert (forward.kind, forward.meid, forward.cell_index, forward.neighbour_cell_index) == (
        "cell_offset",
        c0.meid,
        0,
        j,
    )
    assert (backward.meid, backward.cell_index, backward.neighbour_cell_index) == (
        inventory.cells[j].meid,
        j,
        0,
    )
    assert (forward.offset_db, backward.offset_db) == (space.offset_step_db, -space.offset_step_db)
    assert forward.ue_ids == () and forward.target_cell_index == 0 and forward.action == action
    assert [(o.control_id, o.outcome) for o in r1.outcomes] == [
        (forward.control_id, ControlOutcome.ACKNOWLEDGED)
    ]


def test_a_distribution_in_other_bins_is_counted_and_what_fits_is_kept(inventory):
    metrics = XappMetrics("t")
    encoder = RanViewEncoder("b", inventory, metrics)
    space = inventory.space
    embb = space.embb_slices[0]
    odd = CellKpm(50.0, 1.0, 1.0, 100.0, slice_ue_thp_dl_dist={embb: (1.0, 2.0, 3.0)})
    obs = np.zeros(space.max_cells * space.n_features, dtype=np.float32)
    capture = RoundCapture(0, 0, "", 0, 0, obs, (CellReportRef(0, b"", 1, odd),), (), (), ())
    r = encoder.ran_round(capture)
    _, dists = slice_column_groups(r.slice_measurements)
    counts = r.slice_values[0, space.slices.index(embb), dists["slice_ue_thp_dl_dist"]]
    assert counts[:3].tolist() == [1.0, 2.0, 3.0] and not counts[3:].any()
    assert metrics.error_count("ran_view_distribution_bins") == 1
    assert decode_ran_round(encode_ran_round(r)).slice_values.shape == r.slice_values.shape


def test_a_full_queue_drops_without_taking_a_number(redis_client, inventory):
    metrics = XappMetrics("t")
    writer = RanViewWriter(
        redis_client, stream_key("q"), metrics, RanViewEncoder("q", inventory, metrics), queue_size=1
    )  # not started: the queue fills
    log = RanViewLog("q", writer)
    obs = np.zeros(inventory.space.max_cells * inventory.space.n_features, dtype=np.float32)
    log.end_round(0, "", 0, 0, obs, [], 0, [])
    log.end_round(1, "", 0, 0, obs, [], 0, [])
    assert log.seq == 1 and metrics.error_count("ran_view_queue_full") == 1
    writer.start()
    assert writer.flush(10)
    writer.stop()
    assert [r.seq for r in rounds(redis_client, "q")] == [0]


@pytest.mark.slow
def test_xapp_process_writes_rounds_matching_its_transitions(tmp_path, redis_url, redis_client, inventory):
    peer = PlatformPeer(tmp_path)
    xapp = None
    instance = "control-rv"
    space = inventory.space
    try:
        routes = [(m, -1, peer.endpoint) for m in (mtypes.RIC_CONTROL_REQ, mtypes.A1_POLICY_RESP)]
        xapp = start_control_xapp(
            tmp_path,
            redis_url,
            routes,
            instance=instance,
            report_period_ms=1000,
            controls={"pep": {"enabled": False}},
        )
        peer.route_to(f"127.0.0.1:{xapp.rmr_port}", policy_type_id())
        quota = space.encode(QuotaStep(1, 0, +1))
        promote(
            redis_client,
            instance,
            fixed_snapshot("v-rv", space.max_cells * space.n_features, space.n_actions, quota),
        )
        assert (
            peer.a1(
                "CREATE", "rv", {"exploration": {"kind": "none"}, "cell_load_limit": 1.0}, policy_type_id()
            )["status"]
            == "OK"
        )
        assert wait_until(lambda: xapp.ready().get("policy_version") == "v-rv", 10)
        for k in range(4):
            send_round(peer, inventory, [0.2 + 0.1 * k] * 7, cell_indication)
            control = peer.expect(mtypes.RIC_CONTROL_REQ)
            peer.acknowledge(control)
        assert wait_until(lambda: len(rounds(redis_client, instance)) >= 4, 10)
        assert wait_until(lambda: redis_client.xlen(transitions_key(instance)) >= 3, 10)
    finally:
        if xapp is not None:
            xapp.process.stop()
        peer.close()
    recs = rounds(redis_client, instance)
    trans = {
        t.step: t
        for t in (decode_transition(f[b"t"]) for _, f in redis_client.xrange(transitions_key(instance)))
    }
    assert [r.seq for r in recs] == list(range(len(recs)))
    for r in recs:
        assert r.n_cells == 7 and r.controls and r.controls[0].kind == "slice_quota"
        assert r.controls[0].meid == inventory.cells[1].meid
        if r.step in trans:  # the round's observation is the s of its transition
            assert np.allclose(r.observation, np.asarray(trans[r.step].s, dtype=np.float32))
    assert sum(1 for r in recs if r.step in trans) >= 3
    acked = {o.control_id for r in recs for o in r.outcomes if o.outcome == ControlOutcome.ACKNOWLEDGED}
    assert {r.controls[0].control_id for r in recs[:3]} <= acked
    assert all(abs(r.collection_ns[0] / 1e9 - time.time()) < 120 for r in recs)  # the header time
