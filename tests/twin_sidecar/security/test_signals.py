"""Signals and the twin-only cross-checks: repeated reports, a node's load against its own UEs', harmful
controls judged in the trusted view, impersonated requests not charged to the claimed identity."""

from __future__ import annotations

import pytest

from twin_sidecar.security.evidence import CellEvidence, ControlEvidence, SecurityRound, UeEvidence
from twin_sidecar.security.signals import SignalExtractor


def cell(meid: str, c: int, prb: float, conn: float, tot: float = 50.0) -> CellEvidence:
    return CellEvidence(
        meid,
        c,
        {"RRU.PrbUsedDl": prb, "RRC.ConnMean": conn, "RRU.PrbTotDl": tot, "RRU.PrbAvailDl": 100.0},
        {0: {"RRU.PrbUsedDl": 40.0}},
    )


def ues(c: int, n: int, prb: float, first: int = 0) -> list[UeEvidence]:
    return [UeEvidence(first + k, c, {"RRU.PrbUsedDl": prb, "RSRP": -90.0}) for k in range(n)]


def test_load_mismatch_and_repeats() -> None:
    ex = SignalExtractor()
    honest = cell("a", 0, 40.0, 4.0)
    liar = cell("b", 1, 100.0, 10.0)
    rnd = SecurityRound(1.0, (honest, liar), (*ues(0, 4, 10.0), *ues(1, 4, 10.0, first=10)))
    sig = ex.extract(rnd)
    assert sig["e2node:a"]["load_mismatch"] < 0.01
    assert sig["e2node:b"]["load_mismatch"] == pytest.approx(60 / 110)  # reports 100 PRBs, its UEs used 40
    assert sig["e2node:a"]["repeat"] == 0.0
    again = ex.extract(SecurityRound(1.5, (honest, cell("b", 1, 41.0, 4.0)), rnd.ues))
    assert again["e2node:a"]["repeat"] == 1.0 and again["e2node:b"]["repeat"] == 0.0


def test_ue_signals() -> None:
    ex = SignalExtractor()
    ex.extract(
        SecurityRound(0.5, (), (UeEvidence(1, 0, {"RSRP": -90.0, "DRB.RlcSduTransmittedVolumeDL": 100.0}),))
    )
    sig = ex.extract(
        SecurityRound(1.0, (), (UeEvidence(1, 3, {"RSRP": -70.0, "DRB.RlcSduTransmittedVolumeDL": 100.0}),))
    )
    assert (
        sig["ue:1"]["drops"] == 0.0
        and sig["ue:1"]["jump"] == 20.0
        and sig["ue:1"]["churn"] > 0.0
        and sig["ue:1"]["traffic"] == 0.0  # its own peer median
    )


def test_harm_in_the_trusted_view_and_impersonation_not_charged() -> None:
    ex = SignalExtractor()
    ex.extract(SecurityRound(0.5, (cell("a", 0, 1, 1, tot=20.0), cell("b", 1, 1, 1, tot=90.0))))
    into_hot = ControlEvidence(
        "xapp:rogue", "rc.handover", "a", 0, True, "permitted", target_cell_index=1, ue_id=3
    )
    into_cool = ControlEvidence(
        "xapp:c", "rc.handover", "b", 1, True, "permitted", target_cell_index=0, ue_id=4
    )
    starve = ControlEvidence(
        "xapp:rogue", "rc.slice_quota", "a", 0, True, "permitted", slice_index=0, max_ratio=1
    )
    forged = ControlEvidence(
        "xapp:c", "rc.slice_quota", "a", 0, False, "bad_signature", slice_index=0, max_ratio=1
    )
    assert ex.harm(into_hot) == 0.7 and ex.harm(into_cool) == 0.0
    assert ex.harm(starve) == 0.39  # the slice uses 40 % of the PRBs, capped at 1 %
    sig = ex.extract(SecurityRound(1.0, (), controls=(into_hot, into_cool, starve, forged)))
    assert sig["xapp:rogue"] == {"harm": (0.7 + 0.39) / 2, "rate": 2.0}
    assert sig["xapp:c"] == {"harm": 0.0, "rate": 1.0}  # the forged request is not the owner's
    assert ex.impersonation_attempts == {"xapp:c": 1}


def test_a_distrusted_node_does_not_shape_the_view() -> None:
    ex = SignalExtractor()
    ex.extract(SecurityRound(0.5, (cell("a", 0, 1, 1, tot=20.0),)))
    ex.extract(SecurityRound(1.0, (cell("a", 0, 1, 1, tot=95.0),)), trusted_node={"a": False})
    assert ex.cell_load[0] == 20.0
