"""``twinric bench loop``: the headline benchmark, every controller on the same scenarios and seeds.

Per scenario and seed: the SB3 DQN and twinric each learn from the same budget of real interactions
(``training.py``), their greedy policies measured on the curve seeds after every chunk/round (learning
curves); then the five controllers (``controllers.py``) each run one measured episode on the seed's
evaluation episode (``episode.py``: ground truth, unsafe controls judged against the no-op
counterfactual). Results (``report.py``) go to ``--out``: ``report.md``, ``summary.json`` and PNGs; the
last line printed is the summary JSON.

Headline figures are those of twinric with MCTS planning (the full system) against no control and the
heuristic, pooled over seeds, averaged over scenarios; unsafe actions count both twinric controllers.
Sample efficiency: real interactions the SB3 DQN's greedy policy needed to reach the heuristic's return
on the curve seeds, over those twinric's learned target policy needed (the policy in force reaches it
at once: the heuristic is in force until the gate promotes something better). A learner that never
reaches it within the budget counts as the budget (the ratio is then a bound, said in the report).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench.loop.controllers import (
    Controller,
    MctsPlanner,
    NoControl,
    Sb3Controller,
    XappController,
)
from bench.loop.episode import episode_return, run_episode
from bench.loop.metrics import summarise
from bench.loop.report import (
    SUMMARY_KEYS,
    Curve,
    ScenarioResult,
    figure,
    gain,
    markdown,
    ratio,
    target_met,
    write_plots,
    write_report,
)
from bench.loop.training import Sb3Dqn, TrainingPlan, TwinricLearning
from e2sim.scenario import ScenarioError, load_scenario
from twin_sidecar.planner import SearchConfig
from xapps.control.control_policy import ControlSettings

NONE, HEURISTIC, SB3, TWIN, TWIN_MCTS = (
    "no control (A3)",
    "heuristic",
    "SB3 DQN",
    "twinric",
    "twinric + MCTS",
)
HEADLINE = TWIN_MCTS
WARMUP_S = 2.0  # the start-up transient is nobody's doing (metrics.EpisodeLog's default)


@dataclass(frozen=True)
class RunPlan:
    scenarios: tuple[str, ...]
    seeds: tuple[int, ...]
    episode_s: float
    curve_episodes: int  # episodes per learning-curve measurement
    training: TrainingPlan
    search: SearchConfig


QUICK_TRAINING = TrainingPlan(
    budget=1_600,
    rounds=4,
    updates_per_interaction=2.0,
    dynamics_updates_per_interaction=0.5,
    gate_horizon=10,
    fqe_iterations=300,
    bootstrap_samples=200,
)
FULL_TRAINING = TrainingPlan(
    budget=12_000,
    rounds=6,
    updates_per_interaction=0.5,
    dynamics_updates_per_interaction=0.5,
    gate_horizon=20,
    fqe_iterations=1_500,
    bootstrap_samples=400,
)
SEARCH = SearchConfig(num_simulations=32, max_depth=4, gumbel_scale=0.0, time_budget_ms=50.0)


def make_plan(args: argparse.Namespace) -> RunPlan:
    quick = args.quick
    scenarios = tuple(args.scenarios or (("crowd_small",) if quick else ("crowd_small", "hetnet_medium")))
    n_seeds = args.seeds if args.seeds is not None else (1 if quick else 5)
    training = QUICK_TRAINING if quick else FULL_TRAINING
    if args.budget is not None:
        training = dataclasses.replace(training, budget=args.budget)
    if args.rounds is not None:
        training = dataclasses.replace(training, rounds=args.rounds)
    episode_s = args.seconds or (12.0 if quick else 20.0)
    if training.rounds < 1 or training.budget < training.rounds or n_seeds < 1 or episode_s <= WARMUP_S:
        raise SystemExit(
            f"twinric bench loop: need --rounds >= 1, --budget >= --rounds, --seeds >= 1 and --seconds > "
            f"{WARMUP_S:g} (the warm-up), not rounds {training.rounds}, budget {training.budget}, "
            f"seeds {n_seeds}, seconds {episode_s:g}"
        )
    return RunPlan(
        scenarios=scenarios,
        seeds=tuple(range(1, n_seeds + 1)),
        episode_s=episode_s,
        curve_episodes=1 if quick else 2,
        training=training,
        search=SEARCH,
    )


def curve_seeds(seed: int, n: int) -> list[int]:
    return [5_000 + 100 * seed + k for k in range(n)]  # apart from training (10_000+) and eval seeds


def mean_return(controller: Controller, scenario: str, seeds: list[int], episode_s: float) -> float:
    return float(np.mean([episode_return(controller, scenario, s, episode_s) for s in seeds]))


def run_scenario(scenario: str, plan: RunPlan, progress: Progress, console: Console) -> ScenarioResult:
    limit = ControlSettings().cell_load_limit
    training = plan.training
    chunk = training.budget // training.rounds
    logs: dict[str, list] = {c: [] for c in (NONE, HEURISTIC, SB3, TWIN, TWIN_MCTS)}
    curves: dict[str, list[Curve]] = {}
    levels: dict[str, list[float]] = {"heuristic (greedy)": [], "no control": []}
    gate_rounds: list[list[str]] = []
    steps = round(plan.episode_s / 0.1)
    for seed in plan.seeds:
        cseeds = curve_seeds(seed, plan.curve_episodes)
        levels["heuristic (greedy)"].append(
            mean_return(XappController(HEURISTIC), scenario, cseeds, plan.episode_s)
        )
        levels["no control"].append(mean_return(NoControl(), scenario, cseeds, plan.episode_s))
        heuristic_level = levels["heuristic (greedy)"][-1]

        task = progress.add_task(f"{scenario} seed {seed}: SB3 DQN", total=training.budget)
        sb3 = Sb3Dqn(scenario, plan.episode_s, training.budget, seed)
        sb3_curve = Curve("SB3 DQN (greedy)")
        for _ in range(training.rounds):
            sb3.learn(chunk)
            progress.advance(task, chunk)
            sb3_curve.add(
                sb3.interactions, mean_return(Sb3Controller(SB3, sb3.model), scenario, cseeds, plan.episode_s)
            )

        task = progress.add_task(f"{scenario} seed {seed}: twinric learning", total=training.budget)
        twin = TwinricLearning(scenario, plan.episode_s, training, seed)
        target_curve, force_curve = Curve("twinric target (greedy)"), Curve("twinric in force (greedy)")
        rounds = []
        for _ in range(training.rounds):
            rec = twin.round(chunk, lambda n, t=task: progress.advance(t, n))
            why = f" ({rec.reasons[0]})" if rec.reasons else ""
            rounds.append(f"{rec.interactions}: {rec.gate}{why}; in force: {rec.in_force or 'heuristic'}")
            if twin.candidate is not None:
                target_curve.add(
                    twin.interactions,
                    mean_return(XappController(TWIN, twin.candidate), scenario, cseeds, plan.episode_s),
                )
            in_force = (  # nothing promoted: the heuristic is in force, measured above on these seeds
                heuristic_level
                if twin.promoted is None
                else mean_return(XappController(TWIN, twin.promoted), scenario, cseeds, plan.episode_s)
            )
            force_curve.add(twin.interactions, in_force)
        gate_rounds.append(rounds)
        curves[str(seed)] = [sb3_curve, target_curve, force_curve]
        console.print(
            f"{scenario} seed {seed}: heuristic level {heuristic_level:.2f}; SB3 reached it after "
            f"{sb3_curve.first_reaching(heuristic_level)}, twinric's target after "
            f"{target_curve.first_reaching(heuristic_level)} interactions; gate: {' | '.join(rounds)}"
        )

        if twin.dynamics is None:
            raise SystemExit(
                f"twinric bench loop: budget {training.budget} left twinric too few logged transitions "
                "(64) to learn a predictive model to plan on"
            )
        q = twin.learner.q.eval()
        controllers: list[Controller] = [
            NoControl(),
            XappController(HEURISTIC),
            Sb3Controller(SB3, sb3.model),
            XappController(TWIN, twin.promoted),
            XappController(
                TWIN_MCTS,
                twin.promoted,
                MctsPlanner(twin.dynamics, q, twin.config.gamma, plan.search, seed=seed),
            ),
        ]
        task = progress.add_task(f"{scenario} seed {seed}: measured episodes", total=len(controllers) * steps)
        eval_seed = seed  # the same evaluation episode for every controller
        for c in controllers:
            logs[c.name].append(
                run_episode(
                    c, scenario, eval_seed, plan.episode_s, limit, advance=lambda t=task: progress.advance(t)
                )
            )
    metrics = {c: summarise(v) for c, v in logs.items()}
    per_seed = {c: [summarise([log]) for log in v] for c, v in logs.items()}
    return ScenarioResult(
        scenario, list(plan.seeds), metrics, per_seed, logs, curves, levels, gate_rounds, training.budget
    )


def summary_of(results: list[ScenarioResult]) -> tuple[dict[str, object], list[str]]:
    notes: list[str] = []
    p5_a3, p5_h, sla = [], [], []
    unsafe = 0
    sb3_needed: list[int] = []
    twin_needed: list[int | None] = []
    sb3_bounded = False
    for res in results:
        m = res.metrics
        p5_a3.append(gain(m[HEADLINE].p5_tput_kbps, m[NONE].p5_tput_kbps))
        p5_h.append(gain(m[HEADLINE].p5_tput_kbps, m[HEURISTIC].p5_tput_kbps))
        sla.append(ratio(m[HEADLINE].urllc_violations, m[HEURISTIC].urllc_violations))
        unsafe += m[TWIN].unsafe_actions + m[TWIN_MCTS].unsafe_actions
        for k, seed in enumerate(res.seeds):
            level = res.levels["heuristic (greedy)"][k]
            sb3_curve, target_curve, _ = res.curves[str(seed)]
            s, t = sb3_curve.first_reaching(level), target_curve.first_reaching(level)
            if s is None:
                sb3_bounded = True
                notes.append(
                    f"{res.scenario} seed {seed}: SB3 DQN never reached the heuristic in {res.budget}"
                )
            if t is None:
                notes.append(
                    f"{res.scenario} seed {seed}: twinric's learned target never reached the heuristic "
                    f"in {res.budget} (the policy in force stays the heuristic unless the gate promotes)"
                )
            sb3_needed.append(res.budget if s is None else s)
            twin_needed.append(None if t is None else t)
    efficiency = None
    if all(t is not None for t in twin_needed):
        efficiency = float(np.sum(sb3_needed)) / max(float(np.sum(twin_needed)), 1.0)  # type: ignore[arg-type]
        if sb3_bounded:
            notes.append(
                "sample_efficiency_vs_sb3 is a lower bound: SB3 counts as its budget where it never reached"
            )

    def mean(xs: list[float]) -> float:
        ys = [x for x in xs if not math.isnan(x)]
        return float(np.mean(ys)) if ys else math.nan

    summary: dict[str, object] = {
        "p5_tput_gain_vs_a3": figure(mean(p5_a3)),
        "p5_tput_gain_vs_heuristic": figure(mean(p5_h)),
        "sla_violation_ratio_vs_heuristic": figure(mean(sla)),
        "unsafe_actions": unsafe,
        "sample_efficiency_vs_sb3": figure(efficiency),
        "seeds": list(results[0].seeds) if results else [],
        "scenarios": [r.scenario for r in results],
        "headline_controller": HEADLINE,
        "path": "e2sim.gym",
    }
    for key in SUMMARY_KEYS[:-1]:
        if not target_met(key, summary[key]):  # type: ignore[arg-type]
            notes.append(f"MISSED: {key} = {summary[key]}")
    return summary, notes


def print_table(console: Console, res: ScenarioResult) -> None:
    table = Table(title=f"{res.scenario}, seeds {res.seeds} (load average {os.getloadavg()[0]:.1f})")
    for col in (
        "controller",
        "p5 kbit/s",
        "mean kbit/s",
        "URLLC late",
        "max/min load",
        "HO",
        "ping-pong",
        "shield",
        "unsafe",
        "ms/dec",
        "return",
    ):
        table.add_column(col)
    for c, m in res.metrics.items():
        table.add_row(
            c,
            f"{m.p5_tput_kbps:.0f}",
            f"{m.mean_tput_kbps:.0f}",
            f"{m.urllc_violations}/{m.urllc_samples}",
            f"{m.max_cell_load:.2f}/{m.min_cell_load:.2f}",
            str(m.handovers),
            f"{m.ping_pong_rate:.3f}",
            f"{m.shield_intervention_rate:.3f}",
            str(m.unsafe_actions),
            f"{m.decision_ms:.2f}",
            f"{m.mean_return:.2f}",
        )
    console.print(table)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="twinric bench loop", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="crowd_small, one seed, 12 s episodes (minutes)")
    p.add_argument("--seeds", type=int, help="seeds 1..N (default 1 with --quick, else 5)")
    p.add_argument("--out", type=Path, help="results folder (default bench/out/loop)")
    p.add_argument(
        "--scenarios", nargs="*", help="scenario names or files (default crowd_small, hetnet_medium)"
    )
    p.add_argument("--seconds", type=float, help="episode length in simulated s (default 12 quick, 20 full)")
    p.add_argument(
        "--budget", type=int, help="real interactions per learner (default 1600 quick, 12000 full)"
    )
    p.add_argument("--rounds", type=int, help="gate rounds / SB3 chunks, one learning-curve point each")
    return p


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parser().parse_args(argv)
    plan = make_plan(args)
    for s in plan.scenarios:
        try:
            load_scenario(s)  # a bad name fails here, before minutes of training
        except ScenarioError as exc:
            raise SystemExit(f"twinric bench loop: {exc}") from None
    out = args.out or Path(__file__).resolve().parents[1] / "out" / "loop"
    torch.set_num_threads(1)  # small nets: OpenMP barriers cost more than they save on a shared machine
    console = Console(stderr=True, width=150)
    started = time.perf_counter()
    results = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        for scenario in plan.scenarios:
            results.append(run_scenario(scenario, plan, progress, console))
    for res in results:
        print_table(console, res)
    summary, notes = summary_of(results)
    notes.append(f"wall clock {time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.1f}")
    command = "twinric bench loop " + " ".join(argv if argv is not None else sys.argv[1:])
    write_plots(results, out)
    write_report(
        out, markdown(results, summary, f"headline controller: {HEADLINE}", command.strip(), notes), summary
    )
    for n in notes:
        console.print(("[red]" if n.startswith("MISSED") else "") + n)
    console.print(f"report: {out / 'report.md'}")
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
