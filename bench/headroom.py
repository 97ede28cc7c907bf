"""Control headroom: how much any controller could gain on each scenario, and how much the heuristic does.

Per scenario (the old ones and the congested ones), the same seeds for every controller, each one
episode on ``e2sim.gym`` acting once per 100 ms report period through the shared action space:

* ``none``: no-op throughout (what the RAN does on its own: A3 handovers, configured quotas);
* ``random``: a uniformly random meaningful action every period;
* ``heuristic``: the control xApp's built-in balancer (``xapps.control.heuristic``), greedy (no
  exploration, no shield);
* ``oracle``: lookahead on cloned true state (``bench/oracle.py``).

Measured from the model's true per-UE counters every period after a warm-up (``bench/ue_outcomes.py``):
the 5th percentile and mean of eMBB UE throughput over all (UE, period) samples, URLLC delay-budget
violations (UE-periods whose mean delay exceeded the slice's budget: the scenarios' SLA), and the
highest and lowest cell's mean PRB load; then each controller's gain over no control and its share
of the oracle's p5 gain. A PNG of the gains goes to ``bench/out/headroom.png``.

    .venv/bin/python bench/headroom.py [--quick] [--scenarios NAME ...] [--seconds S]

``--quick``: seed 1, 12 s episodes, small, medium and the congested scenarios (a few minutes on two
quiet cores); without it seeds 1-3, 20 s episodes, and large too (tens of minutes).

Targets (issue 20): on at least one new small and one new medium scenario the oracle gains >= 25 %
in eMBB p5 throughput over no control and at least halves SLA violations, and the heuristic captures
clearly less (``heuristic_share_of_oracle_gain`` <= 0.6). Last line: one JSON object with
``oracle_p5_gain``, ``heuristic_p5_gain``, ``oracle_sla_violation_ratio`` and
``heuristic_share_of_oracle_gain`` of the hardest new scenario (the one where the oracle gains the most
eMBB p5 throughput over no control, i.e. where no control leaves the most on the table).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.oracle import Oracle, OracleConfig  # noqa: E402
from bench.ue_outcomes import ue_outcomes  # noqa: E402
from e2sim.gym import RanSlicingEnv  # noqa: E402
from e2sim.scenario import CONGESTED  # noqa: E402
from xapps.control.heuristic import HeuristicBalancer  # noqa: E402

CONTROLLERS = ("none", "random", "heuristic", "oracle")
REPORT_PERIOD_S = 0.1
WARMUP_S = 2.0
OLD_SCENARIOS = ("small", "medium")  # and large without --quick (its oracle takes minutes per seed)


@dataclass
class Run:
    """Samples of one controller on one scenario, pooled over seeds."""

    embb_thp: list[np.ndarray] = field(default_factory=list)
    urllc_late: list[np.ndarray] = field(default_factory=list)
    loads: list[np.ndarray] = field(default_factory=list)  # (n_cells,) PRB usage per period

    def p5(self) -> float:
        x = np.concatenate(self.embb_thp) if self.embb_thp else np.zeros(1)
        return float(np.percentile(x, 5))

    def mean_thp(self) -> float:
        return float(np.concatenate(self.embb_thp).mean()) if self.embb_thp else 0.0

    def violations(self) -> int:
        return int(sum(int(x.sum()) for x in self.urllc_late))

    def urllc_samples(self) -> int:
        return int(sum(x.size for x in self.urllc_late))

    def load_extremes(self) -> tuple[float, float]:
        mean_load = np.mean(np.stack(self.loads), axis=0)
        return float(mean_load.max()), float(mean_load.min())


Policy = Callable[[RanSlicingEnv, np.ndarray], int]


def make_policy(name: str, env: RanSlicingEnv, seed: int, oracle: Oracle) -> Policy:
    if name == "none":
        return lambda env, obs: 0
    if name == "random":
        rng = np.random.default_rng(seed + 7919)

        def random_action(env: RanSlicingEnv, obs: np.ndarray) -> int:
            return int(rng.choice(np.flatnonzero(env.action_masks())))

        return random_action
    if name == "heuristic":
        balancer = HeuristicBalancer(env.space, env.layout)

        def heuristic_action(env: RanSlicingEnv, obs: np.ndarray) -> int:
            values = np.where(env.action_masks(), balancer.action_values(obs), -np.inf)
            return int(np.argmax(values))

        return heuristic_action
    if name == "oracle":
        return lambda env, obs: oracle.act(env)
    raise ValueError(name)


def run_episode(
    scenario: str, controller: str, seed: int, episode_s: float, oracle: Oracle, advance: Callable[[], None]
) -> Run:
    env = RanSlicingEnv(scenario, report_period_s=REPORT_PERIOD_S, episode_s=episode_s)
    obs, _ = env.reset(seed=seed)
    policy = make_policy(controller, env, seed, oracle)
    run = Run()
    truncated = False
    while not truncated:
        action = policy(env, obs)
        obs, _, _, truncated, _ = env.step(action)
        model, period = env.model, env._period
        assert model is not None and period is not None
        if model.now_s > WARMUP_S + 1e-9:
            out = ue_outcomes(model, period)
            run.embb_thp.append(out.embb_thp_kbps)
            run.urllc_late.append(out.urllc_late)
            cell, _ = model.cell_table(period)
            run.loads.append(cell["RRU.PrbTotDl"] / 100.0)
        advance()
    return run


def _figure(x: float) -> float | None:
    """A JSON-able figure: rounded, null where undefined (no URLLC budget, a zero baseline)."""
    return None if np.isnan(x) else round(float(x), 4)


def gain(value: float, base: float) -> float:
    return value / base - 1.0 if base > 0 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one seed, 12 s episodes, no large (a few minutes); else 3 seeds, 20 s",
    )
    parser.add_argument("--scenarios", nargs="*", help="only these scenarios")
    parser.add_argument("--seconds", type=float, help="episode length (simulated s) instead of the default")
    args = parser.parse_args()
    seeds = [1] if args.quick else [1, 2, 3]
    episode_s = args.seconds or (12.0 if args.quick else 20.0)
    old = OLD_SCENARIOS if args.quick else (*OLD_SCENARIOS, "large")
    scenarios = args.scenarios or [*old, *CONGESTED]
    console = Console(stderr=True, width=160)
    oracle = Oracle(OracleConfig())
    runs: dict[tuple[str, str], Run] = {}
    periods = round(episode_s / REPORT_PERIOD_S)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} periods"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        for scenario in scenarios:
            for controller in CONTROLLERS:
                task = progress.add_task(f"{scenario:14s} {controller:9s}", total=(periods - 1) * len(seeds))
                pooled = Run()
                for seed in seeds:
                    r = run_episode(
                        scenario, controller, seed, episode_s, oracle, lambda t=task: progress.advance(t)
                    )
                    pooled.embb_thp += r.embb_thp
                    pooled.urllc_late += r.urllc_late
                    pooled.loads += r.loads
                runs[(scenario, controller)] = pooled

    load = os.getloadavg()[0]
    table = Table(
        title=f"control headroom, seeds {seeds}, {episode_s:g} s episodes (load average {load:.1f})"
    )
    for col in (
        "scenario",
        "controller",
        "eMBB p5 kbit/s",
        "eMBB mean kbit/s",
        "URLLC late",
        "max/min PRB load",
        "p5 gain",
        "SLA ratio",
        "share of oracle p5 gain",
    ):
        table.add_column(col)
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for scenario in scenarios:
        base = runs[(scenario, "none")]
        oracle_gain = gain(runs[(scenario, "oracle")].p5(), base.p5())
        summary[scenario] = {}
        for controller in CONTROLLERS:
            r = runs[(scenario, controller)]
            hi, lo = r.load_extremes()
            p5_gain = gain(r.p5(), base.p5())
            sla_ratio = r.violations() / base.violations() if base.violations() else float("nan")
            share = p5_gain / oracle_gain if oracle_gain > 0 else float("nan")
            summary[scenario][controller] = {
                "p5": r.p5(),
                "mean": r.mean_thp(),
                "violations": r.violations(),
                "p5_gain": p5_gain,
                "sla_ratio": sla_ratio,
                "share": share,
            }
            table.add_row(
                scenario,
                controller,
                f"{r.p5():.0f}",
                f"{r.mean_thp():.0f}",
                f"{r.violations()}/{r.urllc_samples()}" if r.urllc_samples() else "no budget",
                f"{hi:.2f}/{lo:.2f}",
                "-" if np.isnan(p5_gain) else f"{p5_gain:+.1%}",
                "-" if np.isnan(sla_ratio) else f"{sla_ratio:.2f}",
                "-" if np.isnan(share) else f"{share:.2f}",
            )
    console.print(table)

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.5))
    x = np.arange(len(scenarios))
    shown = [c for c in CONTROLLERS if c != "none"]
    for n, controller in enumerate(shown):
        offset = (n - (len(shown) - 1) / 2) * 0.25
        ax1.bar(
            x + offset, [100 * summary[s][controller]["p5_gain"] for s in scenarios], 0.25, label=controller
        )
        ax2.bar(x + offset, [summary[s][controller]["sla_ratio"] for s in scenarios], 0.25, label=controller)
    ax1.axhline(25, color="tab:red", ls="--", lw=0.8)
    ax1.set_ylabel("eMBB p5 throughput gain over no control (%)")
    ax2.axhline(0.5, color="tab:red", ls="--", lw=0.8)
    ax2.set_ylabel("URLLC delay-budget violations / no control's")
    for ax in (ax1, ax2):
        ax.set_xticks(x, scenarios, rotation=15)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out / "headroom.png", dpi=120)
    console.print(f"plot: {out / 'headroom.png'}")

    new = [s for s in scenarios if s in CONGESTED]
    pool = new or scenarios
    # the hardest: where no control leaves the most to gain (largest oracle p5 gain)
    hardest = max(pool, key=lambda s: np.nan_to_num(summary[s]["oracle"]["p5_gain"], nan=-np.inf))
    pick = summary[hardest]
    result = {
        "oracle_p5_gain": _figure(pick["oracle"]["p5_gain"]),
        "heuristic_p5_gain": _figure(pick["heuristic"]["p5_gain"]),
        "oracle_sla_violation_ratio": _figure(pick["oracle"]["sla_ratio"]),
        "heuristic_share_of_oracle_gain": _figure(pick["heuristic"]["share"]),
    }
    console.print(f"hardest new scenario: {hardest}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
