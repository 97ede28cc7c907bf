"""Detectors (river SAD per kind and signal): silent in warm-up, evidence only above z_low, full at
z_high, judged against a floor when the population does not vary."""

from __future__ import annotations

import numpy as np

from twin_sidecar.security.detectors import DetectorBank, DetectorConfig


def test_evidence_grows_with_the_deviation_and_only_upwards() -> None:
    bank = DetectorBank(DetectorConfig(z_low=4, z_high=8, warmup={"ue": 30}))
    rng = np.random.default_rng(0)
    assert bank.score("ue:1", {"traffic": 100.0}) == {"traffic": 0.0}  # warm-up: no verdicts
    for v in rng.normal(5.0, 1.0, 500):
        bank.learn("ue:7", {"traffic": float(v)})
    ev = [bank.score("ue:1", {"traffic": x})["traffic"] for x in (5.0, 8.0, 10.0, 11.0, 12.5, 40.0, -30.0)]
    assert ev[0] == ev[1] == 0.0 and ev[-1] == 0.0  # below z_low, and downward
    assert 0 < ev[3] < ev[4] < 1.0 and ev[5] == 1.0


def test_a_constant_population_is_judged_against_the_floor() -> None:
    bank = DetectorBank()
    for _ in range(100):
        bank.learn("e2node:a", {"repeat": 0.0})
    assert bank.score("e2node:b", {"repeat": 1.0})["repeat"] == 1.0
    assert bank.score("e2node:b", {"repeat": 0.0})["repeat"] == 0.0
    th = bank.thresholds()["e2node.repeat"]
    assert th["sd"] == 0.05 and th["evidence_from"] == 0.2 and th["samples"] == 100


def test_unknown_signals_are_ignored() -> None:
    bank = DetectorBank()
    bank.learn("ue:1", {"teleports": 3.0})
    assert bank.score("ue:1", {"teleports": 3.0}) == {}
