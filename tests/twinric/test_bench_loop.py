"""``twinric bench loop`` end to end on a tiny budget: the report, PNGs and the summary JSON are written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "p5_tput_gain_vs_a3",
    "p5_tput_gain_vs_heuristic",
    "sla_violation_ratio_vs_heuristic",
    "unsafe_actions",
    "sample_efficiency_vs_sb3",
    "seeds",
}


@pytest.mark.timeout(600)
def test_bench_loop_writes_report_plots_and_json(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "twinric",
            "bench",
            "loop",
            "--quick",
            "--budget",
            "160",
            "--seconds",
            "2.5",
            "--rounds",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=550,  # seconds on a quiet machine; the shared one can be 10x slower
        cwd=tmp_path,  # the command finds the checkout's bench/ itself
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert KEYS <= set(summary)
    assert summary["seeds"] == [1]
    assert isinstance(summary["unsafe_actions"], int)
    report = (out / "report.md").read_text()
    for name in ("no control (A3)", "heuristic", "SB3 DQN", "twinric", "twinric + MCTS", "e2sim.gym"):
        assert name in report
    for png in ("learning_curves.png", "load_distribution.png", "tput_cdf.png"):
        data = (out / png).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5_000
    assert json.loads((out / "summary.json").read_text()) == summary


def test_bench_loop_refuses_an_unknown_scenario(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "twinric",
            "bench",
            "loop",
            "--scenarios",
            "no-such-scenario",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "no-such-scenario" in proc.stderr
    assert not (tmp_path / "report.md").exists()


def test_bench_loop_refuses_a_plan_it_cannot_run(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "twinric", "bench", "loop", "--rounds", "0", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "--rounds >= 1" in proc.stderr
    assert not (tmp_path / "report.md").exists()
