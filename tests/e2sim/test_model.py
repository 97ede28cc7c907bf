"""RanModel physics sanity, control entry points, scripted events and determinism."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from e2sim.ran.model import ControlAck, ControlFailure, ControlFailureCause, RanModel
from e2sim.ran.topology import NrCgi
from e2sim.scenario import load_scenario, parse_scenario
from ricproto.ran_space import Snssai

_spec = importlib.util.spec_from_file_location("scenario_docs", Path(__file__).with_name("scenario_docs.py"))
docs = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(docs)  # type: ignore[union-attr]

EMBB, URLLC = Snssai(1, 1), Snssai(2)


def model(**changes: object) -> RanModel:
    return RanModel(parse_scenario(docs.doc(**changes)))


def test_prbs_are_conserved_and_slices_sum_to_cells() -> None:
    m = RanModel(load_scenario("small"))
    m.run(1.0)
    period = m.start_period()
    m.run(4.0)
    cell, per_slice = m.cell_table(period)
    assert np.all(cell["RRU.PrbUsedDl"] <= cell["RRU.PrbAvailDl"] + 1e-9)
    assert np.all(cell["RRU.PrbUsedUl"] <= cell["RRU.PrbAvailUl"] + 1e-9)
    assert np.allclose(cell["RRU.PrbAvailDl"], 51.0)
    assert np.all(cell["RRU.PrbTotDl"] <= 100.0 + 1e-9) and cell["RRU.PrbTotDl"].max() > 5.0
    for name in ("RRU.PrbUsedDl", "DRB.RlcSduTransmittedVolumeDL", "RRC.ConnMean"):
        assert np.allclose(per_slice[name].sum(axis=1), cell[name])
    assert cell["RRC.ConnMean"].sum() == pytest.approx(70.0)
    assert np.all(cell["RRC.ConnMax"] >= cell["RRC.ConnMean"] - 1e-9)
    # The UE table adds up to the cell table.
    ue = m.ue_table(period)
    assert ue["DRB.RlcSduTransmittedVolumeDL"].sum() == pytest.approx(
        cell["DRB.RlcSduTransmittedVolumeDL"].sum()
    )
    assert ue["RRU.PrbUsedDl"].sum() == pytest.approx(cell["RRU.PrbUsedDl"].sum())


def test_slice_quota_is_respected() -> None:
    d = docs.doc(ues={"count": 60, "buffer_bytes": 500000})
    d["slices"][0]["traffic"] = {"kind": "full_buffer"}
    m = RanModel(parse_scenario(d))
    assert isinstance(m.set_slice_quota(m.cells[0].nr_cgi, EMBB, 10, 20, 0), ControlAck)
    assert m.slice_quotas(0)[0].max_ratio == 20
    m.run(0.5)
    period = m.start_period()
    m.run(2.0)
    cell, per_slice = m.cell_table(period)
    embb_share = per_slice["RRU.PrbUsedDl"][:, 0] / cell["RRU.PrbAvailDl"]
    assert embb_share[0] <= 0.20 + 1e-9
    assert embb_share[0] > 0.15  # full buffer fills what it may
    assert embb_share[1] > 0.5  # the other cell is unconstrained
    assert per_slice["RRU.PrbUsedUl"][0, 0] / cell["RRU.PrbAvailUl"][0] <= 0.20 + 1e-9


def test_commanded_handover_executes_after_the_delay_and_a3_brings_it_back() -> None:
    m = model()
    m.run(0.2)
    rows = np.arange(m.n_ues)
    serving_rsrp = m.rsrp_dbm[rows, m.serving]
    other = 1 - m.serving
    margin = serving_rsrp - m.rsrp_dbm[rows, other]
    ue = int(np.argmax(np.where(margin > 6.0, -margin, -np.inf)))  # the least-dominant UE still 6 dB inside
    assert margin[ue] > 6.0
    source, target = int(m.serving[ue]), int(other[ue])
    period = m.start_period()
    result = m.command_handover(ue, m.cells[target].nr_cgi)
    assert isinstance(result, ControlAck)
    m.step()
    m.step()  # 40 ms < 50 ms execution delay
    assert m.serving[ue] == source
    m.step()  # 60 ms
    assert m.serving[ue] == target
    cell, _ = m.cell_table(period)
    assert cell["MM.HoExeIntraSucc"][source] >= 1
    # The old cell is > offset + hysteresis stronger: A3 fires after time-to-trigger, a ping-pong.
    m.run(0.3)
    assert m.serving[ue] == source
    cell, _ = m.cell_table(period)
    assert cell["Sim.HoPingPong"][target] >= 1


def test_throughput_falls_when_a_neighbour_loads_up() -> None:
    d = docs.doc()
    d["slices"][0]["traffic"] = {"kind": "full_buffer"}
    d["slices"][0]["quota"] = {"min": 0, "max": 100, "dedicated": 0}
    m = RanModel(parse_scenario(d))
    # The neighbour (cell 1) starts nearly idle: its eMBB slice may use 1 % of the PRBs.
    assert isinstance(m.set_slice_quota(m.cells[1].nr_cgi, EMBB, 0, 1, 0), ControlAck)
    m.run(1.0)
    before = m.start_period()
    m.run(2.0)
    cell_a, _ = m.cell_table(before)
    ue_a = m.ue_table(before)
    assert isinstance(m.set_slice_quota(m.cells[1].nr_cgi, EMBB, 0, 100, 0), ControlAck)
    m.run(0.5)
    after = m.start_period()
    m.run(2.0)
    cell_b, _ = m.cell_table(after)
    ue_b = m.ue_table(after)
    assert cell_b["RRU.PrbTotDl"][1] > cell_a["RRU.PrbTotDl"][1] + 50  # the neighbour loaded up
    assert cell_a["RRU.PrbTotDl"][0] > 80 and cell_b["RRU.PrbTotDl"][0] > 80  # cell 0 busy throughout
    in_cell0 = m.serving == 0
    assert ue_b["SINR"][in_cell0].mean() < ue_a["SINR"][in_cell0].mean() - 1.0
    assert cell_b["DRB.UEThpDl"][0] < 0.9 * cell_a["DRB.UEThpDl"][0]


def test_same_seed_same_counters_different_seed_different() -> None:
    def run(seed: int) -> tuple[dict, dict, dict]:
        m = RanModel(load_scenario("small"), seed=seed)
        m.run(1.0)
        p = m.start_period()
        m.run(2.0)
        cell, per_slice = m.cell_table(p)
        return cell, per_slice, m.ue_table(p)

    a, b, c = run(11), run(11), run(12)
    for x, y in ((a, b),):
        for part_x, part_y in zip(x, y, strict=True):
            assert part_x.keys() == part_y.keys()
            assert all(np.array_equal(part_x[k], part_y[k]) for k in part_x)
    assert not np.array_equal(a[0]["DRB.RlcSduTransmittedVolumeDL"], c[0]["DRB.RlcSduTransmittedVolumeDL"])


def test_cell_outage_moves_ues_and_restores() -> None:
    m = model(events=[{"kind": "cell_outage", "at_s": 1.0, "duration_s": 1.0, "cell": 0}])
    m.run(0.9)
    assert (m.serving == 0).sum() > 0
    p = m.start_period()
    m.run(0.2)
    cell, _ = m.cell_table(p)
    assert cell["Sim.RlfReestablish"][0] > 0
    assert not (m.serving == 0).any()
    down = m.start_period()
    m.run(0.8)
    cell, _ = m.cell_table(down)
    assert cell["RRU.PrbAvailDl"][0] == 0.0 and cell["RRC.ConnMean"][0] == 0.0
    assert cell["RRC.ConnMean"][1] == pytest.approx(40.0)
    failure = m.command_handover(0, m.cells[0].nr_cgi)
    assert isinstance(failure, ControlFailure) and failure.cause == ControlFailureCause.CELL_DOWN
    m.run(0.5)  # back up at 2.0 s: A3 pulls UEs back
    assert m.cell_active[0] and (m.serving == 0).sum() > 0
    assert [(t, what) for t, what, _ in m.events_applied] == [
        (pytest.approx(1.0), "start"),
        (pytest.approx(2.0), "end"),
    ]


def test_traffic_surge_multiplies_offered_load() -> None:
    d = docs.doc(
        events=[{"kind": "traffic_surge", "at_s": 2.0, "duration_s": 2.0, "factor": 3, "slice": "embb"}]
    )
    d["slices"][0]["traffic"] = {"kind": "cbr", "rate_bps": 2.0e5}  # light enough that 3x still fits
    m = RanModel(parse_scenario(d))
    p1 = m.start_period()
    m.run(2.0)
    _, s1 = m.cell_table(p1)
    p2 = m.start_period()
    m.run(2.0)
    _, s2 = m.cell_table(p2)
    p3 = m.start_period()
    m.run(2.0)
    _, s3 = m.cell_table(p3)
    vol = [s["DRB.RlcSduTransmittedVolumeDL"][:, 0].sum() for s in (s1, s2, s3)]
    assert vol[1] == pytest.approx(3 * vol[0], rel=0.1)
    assert vol[2] == pytest.approx(vol[0], rel=0.1)


def test_hotspot_gathers_ues() -> None:
    d = docs.doc(
        topology={"sites": 7, "sectors": 3, "isd_m": 300, "bandwidth_mhz": 20, "scs_khz": 30},
        events=[{"kind": "hotspot", "at_s": 0.5, "cell": 6, "fraction": 0.5, "radius_m": 40}],
        ues={"count": 100, "buffer_bytes": 100000},
    )
    for s in d["slices"]:
        s["mobility"] = {"kind": "random_waypoint", "speed_min_mps": 20, "speed_max_mps": 30}
    m = RanModel(parse_scenario(d))
    m.run(0.4)
    before = int((m.serving == 6).sum())
    m.run(60.0)
    assert int((m.serving == 6).sum()) > before + 20


def test_bad_control_requests_fail_with_a_cause_and_the_model_keeps_running() -> None:
    m = model()
    nr = m.cells[1].nr_cgi
    cases = [
        (m.command_handover(999, nr), ControlFailureCause.UNKNOWN_UE),
        (m.command_handover(-1, nr), ControlFailureCause.UNKNOWN_UE),
        (m.command_handover(0, NrCgi("00101", 12345)), ControlFailureCause.UNKNOWN_CELL),
        (m.command_handover(0, NrCgi("99999", nr.nr_cell_id)), ControlFailureCause.UNKNOWN_CELL),
        (m.command_handover(0, "cell-1"), ControlFailureCause.UNKNOWN_CELL),  # type: ignore[arg-type]
        (m.command_handover(0, m.cells[int(m.serving[0])].nr_cgi), ControlFailureCause.ALREADY_SERVING),
        (m.set_slice_quota(nr, Snssai(9), 0, 10, 0), ControlFailureCause.UNKNOWN_SLICE),
        (m.set_slice_quota(424242, EMBB, 0, 10, 0), ControlFailureCause.UNKNOWN_CELL),
        (m.set_slice_quota(nr, EMBB, 50, 40, 0), ControlFailureCause.ILLEGAL_QUOTA),
        (m.set_slice_quota(nr, EMBB, 90, 100, 0), ControlFailureCause.ILLEGAL_QUOTA),
        (m.set_slice_quota(nr, EMBB, 10, 101, 0), ControlFailureCause.ILLEGAL_QUOTA),
        (m.set_slice_quota(nr, URLLC, 20, 60, 30), ControlFailureCause.ILLEGAL_QUOTA),
        (m.set_slice_quota(nr, EMBB, 10.5, 60, 0), ControlFailureCause.ILLEGAL_QUOTA),  # type: ignore[arg-type]
    ]
    for result, cause in cases:
        assert isinstance(result, ControlFailure), result
        assert result.cause == cause and result.reason
    assert m.slice_quotas(1)[0].min_ratio == 40  # nothing changed
    assert isinstance(m.set_slice_quota(nr.nr_cell_id, EMBB, 10, 60, 5), ControlAck)
    m.run(0.5)
    assert m.now_s == pytest.approx(0.5)


def test_reports_and_inventory() -> None:
    m = RanModel(load_scenario("small"))
    assert len(m.nodes) == 7 and [
        c.index for n in m.nodes for c in (m.cells[i] for i in n.cell_indices)
    ] == list(range(7))
    p = m.start_period()
    m.run(1.0)
    rep = m.cell_report(3, p)
    assert rep.nr_cgi == m.cells[3].nr_cgi and rep.period_s == pytest.approx(1.0)
    assert set(rep.slices) == {Snssai(1, 1), Snssai(2, 2), Snssai(3, 3)}
    assert {"DRB.UEThpDl", "RRU.PrbUsedDl", "RRC.ConnMean", "MM.HoExeIntraReq"} <= rep.measurements.keys()
    ues = m.ue_reports(p, cell_index=3)
    assert ues and all(u.serving_cell_index == 3 for u in ues)
    u = ues[0]
    assert {"CQI", "RSRP", "SINR", "DRB.UEThpDl"} <= u.measurements.keys()
    rsrps = [n.rsrp_dbm for n in u.neighbours]
    assert rsrps == sorted(rsrps, reverse=True) and len(rsrps) == 6
    assert m.cells[3].nr_cgi not in [n.nr_cgi for n in u.neighbours]
    assert m.ue_report(u.ue_id, p) == u
    layout = m.cell_layout(3)
    assert layout.nr_cell_ids[3] == m.cells[3].nr_cgi.nr_cell_id and len(layout.neighbours[3]) == 3


def test_one_cell_report_equals_that_cell_in_all_reports() -> None:
    model = RanModel(load_scenario("small"))
    model.run(0.5)
    period = model.start_period()
    model.run(0.3)
    everything = model.cell_reports(period)
    assert [model.cell_report(i, period) for i in range(model.n_cells)] == everything
    assert everything[0].measurements["RRU.PrbAvailDl"] > 0


def _ul_doc(uplink_ratio: float) -> dict:
    d = docs.doc(ues={"count": 40, "buffer_bytes": 500000})
    for s in d["slices"]:
        s["traffic"] = {**s["traffic"], "uplink_ratio": uplink_ratio}
    return d


def test_uplink_prb_counter_counts_uplink_only() -> None:
    # No uplink traffic: DL PRBs are used, the UL counter stays at zero (it is not the DL one).
    m = RanModel(parse_scenario(_ul_doc(0.0)))
    m.run(0.5)
    period = m.start_period()
    m.run(2.0)
    cell, _ = m.cell_table(period)
    assert np.all(cell["RRU.PrbUsedDl"] > 0.1)
    assert np.all(cell["RRU.PrbUsedUl"] == 0.0) and np.all(cell["RRU.PrbTotUl"] == 0.0)
    assert np.all(cell["DRB.RlcSduTransmittedVolumeUL"] == 0.0)
    assert np.allclose(cell["RRU.PrbAvailUl"], 51.0)


def test_uplink_prb_counter_adds_up_and_follows_uplink_load() -> None:
    light, heavy = (RanModel(parse_scenario(_ul_doc(r))) for r in (0.2, 1.0))
    tables = []
    for m in (light, heavy):
        m.run(0.5)
        period = m.start_period()
        m.run(2.0)
        tables.append(m.cell_table(period))
    (cell, per_slice), (heavy_cell, _) = tables
    assert np.all(cell["RRU.PrbUsedUl"] > 0.0)
    assert np.allclose(per_slice["RRU.PrbUsedUl"].sum(axis=1), cell["RRU.PrbUsedUl"])
    assert np.allclose(
        per_slice["DRB.RlcSduTransmittedVolumeUL"].sum(axis=1), cell["DRB.RlcSduTransmittedVolumeUL"]
    )
    assert np.allclose(cell["RRU.PrbTotUl"], 100.0 * cell["RRU.PrbUsedUl"] / cell["RRU.PrbAvailUl"])
    # five times the uplink load takes more uplink PRBs (same seed, same radio): the counter is UL's own
    assert np.all(heavy_cell["RRU.PrbUsedUl"] > 2.0 * cell["RRU.PrbUsedUl"])
    assert np.allclose(heavy_cell["RRU.PrbUsedDl"], cell["RRU.PrbUsedDl"], rtol=0.2)
