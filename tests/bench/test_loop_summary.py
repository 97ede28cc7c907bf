"""The headline summary: gains of the full twinric over the baselines, sample efficiency, the JSON keys."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loop.metrics import Metrics  # noqa: E402
from bench.loop.report import SUMMARY_KEYS, Curve, ScenarioResult, target_met  # noqa: E402
from bench.loop.run import HEURISTIC, NONE, SB3, TWIN, TWIN_MCTS, summary_of  # noqa: E402

BASE = Metrics(
    episodes=1,
    decisions=10,
    mean_tput_kbps=1000.0,
    p5_tput_kbps=100.0,
    urllc_violations=10,
    urllc_samples=100,
    max_cell_load=1.0,
    min_cell_load=0.2,
    handovers=0,
    ping_pongs=0,
    ping_pong_rate=0.0,
    shield_intervention_rate=0.0,
    unsafe_actions=0,
    controls=0,
    decision_ms=1.0,
    mean_return=10.0,
)


def result(sb3: list[float], target: list[float], unsafe: int = 0) -> ScenarioResult:
    metrics = {
        NONE: BASE,
        HEURISTIC: dataclasses.replace(BASE, p5_tput_kbps=110.0, urllc_violations=8),
        SB3: BASE,
        TWIN: dataclasses.replace(BASE, unsafe_actions=unsafe),
        TWIN_MCTS: dataclasses.replace(BASE, p5_tput_kbps=132.0, urllc_violations=2, unsafe_actions=1),
    }
    points = [100, 200, 300, 400]
    curves = [
        Curve("sb3", points, sb3),
        Curve("target", points[: len(target)], target),
        Curve("in force", points, [5.0] * 4),
    ]
    return ScenarioResult(
        "crowd_small",
        [1],
        metrics,
        {k: [v] for k, v in metrics.items()},
        {},
        {"1": curves},
        {"heuristic (greedy)": [5.0], "no control": [4.0]},
        [[]],
        400,
    )


def test_gains_are_the_full_twinric_against_no_control_and_the_heuristic() -> None:
    summary, _ = summary_of([result(sb3=[1, 2, 6, 7], target=[1, 6, 7, 8], unsafe=2)])
    assert summary["p5_tput_gain_vs_a3"] == pytest.approx(0.32)
    assert summary["p5_tput_gain_vs_heuristic"] == pytest.approx(0.2)
    assert summary["sla_violation_ratio_vs_heuristic"] == pytest.approx(0.25)
    assert summary["unsafe_actions"] == 3  # both twinric controllers count
    assert summary["sample_efficiency_vs_sb3"] == pytest.approx(300 / 200)
    assert set(SUMMARY_KEYS) <= set(summary)
    json.dumps(summary)  # the last line must be JSON


def test_a_learner_that_never_reaches_the_heuristic() -> None:
    summary, notes = summary_of([result(sb3=[1, 2, 3, 4], target=[1, 6])])
    assert summary["sample_efficiency_vs_sb3"] == pytest.approx(400 / 200)  # SB3 counted at its budget
    assert any("lower bound" in n for n in notes)
    summary, notes = summary_of([result(sb3=[1, 2, 6, 7], target=[1, 2])])
    assert summary["sample_efficiency_vs_sb3"] is None
    assert any("MISSED: sample_efficiency_vs_sb3" in n for n in notes)


def test_targets() -> None:
    assert target_met("unsafe_actions", 0) and not target_met("unsafe_actions", 1)
    assert target_met("p5_tput_gain_vs_a3", 0.15) and not target_met("p5_tput_gain_vs_a3", 0.1)
    assert not target_met("sample_efficiency_vs_sb3", None)
    assert Curve("c", [10, 20], [1.0, 3.0]).first_reaching(2.0) == 20
    assert Curve("c", [10, 20], [1.0, 3.0]).first_reaching(4.0) is None
