"""The emulation model: the mirror follows the rounds, and time travel returns the state as it was
(cell KPM, UEs and handovers, control outcomes, quotas, node status) within the bounded history."""

from __future__ import annotations

import numpy as np
from twin_records import T0_NS, RanScript

from ricproto.ran_view import OutcomeUpdate
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
