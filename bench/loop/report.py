"""The results folder of ``twinric bench loop``: a markdown report, PNG plots, the summary JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from bench.loop.metrics import EpisodeLog, Metrics

SUMMARY_KEYS = (
    "p5_tput_gain_vs_a3",
    "p5_tput_gain_vs_heuristic",
    "sla_violation_ratio_vs_heuristic",
    "unsafe_actions",
    "sample_efficiency_vs_sb3",
    "seeds",
)
TARGETS = {
    "p5_tput_gain_vs_a3": (">=", 0.15),
    "p5_tput_gain_vs_heuristic": (">=", 0.05),
    "sla_violation_ratio_vs_heuristic": ("<=", 0.5),
    "unsafe_actions": ("==", 0),
    "sample_efficiency_vs_sb3": (">", 1.0),
}


@dataclass
class Curve:
    """Greedy return on the curve seeds after so many real interactions."""

    label: str
    interactions: list[int] = field(default_factory=list)
    returns: list[float] = field(default_factory=list)

    def add(self, interactions: int, value: float) -> None:
        self.interactions.append(interactions)
        self.returns.append(value)

    def first_reaching(self, level: float) -> int | None:
        """Real interactions at the first measurement at or above ``level`` (None: never)."""
        for n, r in zip(self.interactions, self.returns, strict=True):
            if r >= level:
                return n
        return None


@dataclass
class ScenarioResult:
    scenario: str
    seeds: list[int]
    metrics: dict[str, Metrics]  # controller -> pooled over seeds
    per_seed: dict[str, list[Metrics]]
    logs: dict[str, list[EpisodeLog]]
    curves: dict[str, list[Curve]]  # per seed: sb3, twinric target, twinric in force
    levels: dict[str, list[float]]  # heuristic / no control return on the curve seeds, per seed
    gate_rounds: list[list[str]]  # per seed: one line per round
    budget: int


def gain(value: float, base: float) -> float:
    return value / base - 1.0 if base > 0 else math.nan


def ratio(value: float, base: float) -> float:
    return value / base if base > 0 else math.nan


def ci95(values: list[float]) -> float:
    """Half-width of a normal 95 % interval of the mean (0 for one value)."""
    x = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    return float(1.96 * x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else 0.0


def figure(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), 4) + 0.0  # no "-0.0"


def target_met(key: str, value: float | None) -> bool:
    if value is None:
        return False
    op, bound = TARGETS[key]
    return {">=": value >= bound, "<=": value <= bound, "==": value == bound, ">": value > bound}[op]


def write_plots(results: list[ScenarioResult], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    n = len(results)
    fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 4.5), squeeze=False)
    for ax, res in zip(axes[0], results, strict=True):
        for k, curve in enumerate(res.curves.get(str(res.seeds[0]), [])):
            ax.plot(curve.interactions, curve.returns, marker="o", label=curve.label, color=f"C{k}")
        for k, (label, values) in enumerate(res.levels.items()):
            ax.axhline(float(np.mean(values)), ls="--", lw=0.9, color=f"C{k + 5}", label=label)
        ax.set_xlabel("real interactions")
        ax.set_ylabel("greedy episode return (curve seeds)")
        ax.set_title(f"learning curves, {res.scenario}, seed {res.seeds[0]}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / "learning_curves.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 4.5), squeeze=False)
    for ax, res in zip(axes[0], results, strict=True):
        names = list(res.logs)
        loads = [
            np.concatenate([np.concatenate([p.cell_load for p in log.measured()]) for log in res.logs[c]])
            for c in names
        ]
        ax.boxplot(loads, whis=(5, 95), showfliers=False)
        ax.set_xticks(range(1, len(names) + 1), names, rotation=20, fontsize=8)
        ax.set_ylabel("cell DL PRB load per period (5-95 % whiskers)")
        ax.set_title(f"load distribution, {res.scenario}")
    fig.tight_layout()
    paths.append(out / "load_distribution.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 4.5), squeeze=False)
    for ax, res in zip(axes[0], results, strict=True):
        for c, logs in res.logs.items():
            x = np.sort(np.concatenate([p.embb_thp_kbps for log in logs for p in log.measured()] or [[0.0]]))
            ax.plot(np.maximum(x, 1.0), np.arange(1, x.size + 1) / x.size, label=c)
        ax.set_xscale("log")
        ax.axhline(0.05, color="k", lw=0.6, ls=":")
        ax.set_xlabel("eMBB UE throughput per period (kbit/s)")
        ax.set_ylabel("CDF")
        ax.set_title(f"UE throughput CDF, {res.scenario}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / "tput_cdf.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def markdown(
    results: list[ScenarioResult],
    summary: dict[str, object],
    headline: str,
    command: str,
    notes: list[str],
) -> str:
    lines = [
        "# twinric bench loop: does the twin make a better controller?",
        "",
        f"Command: `{command}`",
        "",
        "Path: every figure below comes from the **e2sim.gym fast path** (each controller acting once per "
        "100 ms report period on the simulator in process). The real loop (`twinric up` at a `--speed` "
        "factor) was not run by this benchmark, so no agreement between the two paths is measured.",
        "",
        "Controllers: no control; the heuristic, twinric and twinric + MCTS as the control xApp decides "
        "(greedy, through its shield); the SB3 DQN greedy as it comes, without a shield (its shield rate is "
        "0 by construction). twinric acts with the snapshot the gate promoted, the heuristic until then; "
        "MCTS plans on the learned dynamics ensemble with the learned target Q at the leaves. "
        "Unsafe: a control after which a cell exceeds the load limit within 3 periods while it does not "
        "in the no-op counterfactual (clones of the true state).",
        "",
    ]
    for res in results:
        lines += [
            f"## {res.scenario} (seeds {res.seeds}, {res.budget} real interactions per learner)",
            "",
            "| controller | eMBB p5 kbit/s | eMBB mean kbit/s | URLLC late | max/min PRB load | handovers |"
            " ping-pong rate | shield rate | unsafe | controls | ms/decision | return |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c, m in res.metrics.items():
            p5s = [x.p5_tput_kbps for x in res.per_seed[c]]
            ci = f" ± {ci95(p5s):.0f}" if len(p5s) > 1 else ""
            lines.append(
                f"| {c} | {m.p5_tput_kbps:.0f}{ci} | {m.mean_tput_kbps:.0f} | {m.urllc_violations}/"
                f"{m.urllc_samples} | {m.max_cell_load:.2f}/{m.min_cell_load:.2f} | {m.handovers} | "
                f"{m.ping_pong_rate:.3f} | {m.shield_intervention_rate:.3f} | {m.unsafe_actions} | "
                f"{m.controls} | {m.decision_ms:.2f} | {m.mean_return:.2f} |"
            )
        lines += ["", "Learning curves (greedy return on the curve seeds after n real interactions):", ""]
        for seed_key, curves in res.curves.items():
            for curve in curves:
                pts = ", ".join(
                    f"{n}: {r:.2f}" for n, r in zip(curve.interactions, curve.returns, strict=True)
                )
                lines.append(f"- seed {seed_key}, {curve.label}: {pts}")
        for label, values in res.levels.items():
            lines.append(f"- {label}: {np.mean(values):.2f}")
        lines += ["", "Gate decisions (twinric, per round):", ""]
        for k, rounds in enumerate(res.gate_rounds):
            lines += [f"- seed {res.seeds[k]}, after {r}" for r in rounds]
        lines.append("")
    lines += [f"## Summary ({headline})", "", "| key | value | target | met |", "|---|---|---|---|"]
    for key in SUMMARY_KEYS:
        value = summary[key]
        if key in TARGETS:
            op, bound = TARGETS[key]
            met = "yes" if target_met(key, value) else "**no**"  # type: ignore[arg-type]
            lines.append(f"| {key} | {value} | {op} {bound} | {met} |")
        else:
            lines.append(f"| {key} | {value} | | |")
    lines += [
        "",
        *[f"- {n}" for n in notes],
        "",
        "Plots: learning_curves.png, load_distribution.png, tput_cdf.png",
        "",
    ]
    return "\n".join(lines)


def write_report(out: Path, text: str, summary: dict[str, object]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(text)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
