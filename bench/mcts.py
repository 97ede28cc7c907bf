"""MCTS planner throughput: simulations per second of the batched search at 1, 16 and 256 planes, and of
the plain one-tree-at-a-time baseline in the same run, on a default-sized stand-in model.

The stand-in has the twin's shapes (issue 12, first part: the learned ensemble and Q-network come with
the sidecar wiring): observations of scenario ``medium`` in the ``ricproto.ran_space`` layout (width
and action count derived from ``RanSpace``), an MLP dynamics (observation + action embedding ->
256 -> 256 -> next observation and reward) and an MLP Q-network (observation -> 128 -> 128 -> Q per
action). Both searches call the same model functions: the batched search once per simulation for all
planes, the baseline once per simulation with batch 1.

    .venv/bin/python bench/mcts.py [--quick] [--threads 1] [--simulations 64] [--algorithm gumbel]

Targets (issue 12): >= 100,000 simulations/s at 256 planes; >= 20x the plain baseline.
The keys that need the learned model and the sidecar (``return_greedy``, ``return_mcts_*``,
``plan_p99_ms_64``) print null until the planner is wired into the sidecar.
Last line: one JSON object with exactly the issue's keys.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402
from torch import Tensor  # noqa: E402

from e2sim.gym import RanSlicingEnv  # noqa: E402
from twin_sidecar.planner import PlainMcts, QModel, SearchConfig, plan  # noqa: E402

PLANES = (1, 16, 256)
KEYS = (
    "sims_per_s_256",
    "speedup_vs_plain_256",
    "return_greedy",
    "return_mcts_16",
    "return_mcts_64",
    "return_mcts_256",
    "plan_p99_ms_64",
)
OUT = ROOT / "bench" / "out"


class StandInDynamics(torch.nn.Module):
    """Next observation and reward from an MLP; the action enters as an embedding added to the first
    layer (the same function as a one-hot input, without the [B, A] matrix)."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.obs_in = torch.nn.Linear(obs_dim, hidden[0])
        self.action_in = torch.nn.Embedding(n_actions, hidden[0])
        layers: list[torch.nn.Module] = []
        for width_in, width_out in itertools.pairwise(hidden):
            layers += [torch.nn.ReLU(), torch.nn.Linear(width_in, width_out)]
        layers += [torch.nn.ReLU(), torch.nn.Linear(hidden[-1], obs_dim + 1)]
        self.body = torch.nn.Sequential(*layers)

    @torch.no_grad()
    def step(self, obs: Tensor, action: Tensor, member: Tensor | None = None) -> tuple[Tensor, Tensor]:
        out = self.body(self.obs_in(obs) + self.action_in(action))
        next_obs = (obs + 0.1 * out[:, :-1]).clamp(0.0, 1.0)  # the twin clips to [0, 1] too
        return next_obs, out[:, -1]


class StandInQ(torch.nn.Module):
    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[torch.nn.Module] = []
        width = obs_dim
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        layers.append(torch.nn.Linear(width, n_actions))
        self.net = torch.nn.Sequential(*layers)

    @torch.no_grad()
    def forward(self, obs: Tensor) -> Tensor:
        return self.net(obs)


def stand_in_model(obs_dim: int, n_actions: int, seed: int) -> QModel:
    torch.manual_seed(seed)  # module initialisation takes no generator
    dynamics = StandInDynamics(obs_dim, n_actions, (256, 256)).eval()
    q = StandInQ(obs_dim, n_actions, (128, 128)).eval()
    return QModel(dynamics, q, discount=0.99)


def planes(obs_dim: int, n_actions: int, batch: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Observations [B, D] in [0, 1] and masks [B, A] with ~10% of actions muted (no-op always allowed)."""
    obs = torch.rand(batch, obs_dim, generator=generator)
    valid = torch.rand(batch, n_actions, generator=generator) > 0.1
    valid[:, 0] = True
    return obs, valid


@dataclass(frozen=True)
class Rate:
    """Simulations per second by the wall clock and by this process's CPU time, ms per call."""

    wall: float
    cpu: float
    ms_per_call: float


def timed(work: Callable[[], None], repeats: int, sims_per_call: int) -> Rate:
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        work()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    total = sims_per_call * repeats
    return Rate(total / wall, total / max(cpu, 1e-9), wall / repeats * 1000.0)


def batched_rate(model: QModel, config: SearchConfig, obs: Tensor, valid: Tensor, repeats: int) -> Rate:
    generator = torch.Generator().manual_seed(1)
    # The sidecar keeps one preallocated tree per search shape; the warm-up call allocates it.
    workspace = plan(model, obs, valid, config, generator=generator).tree

    def search() -> None:
        plan(model, obs, valid, config, generator=generator, workspace=workspace)

    return timed(search, repeats, len(obs) * config.num_simulations)


def model_only_rate(model: QModel, config: SearchConfig, obs: Tensor, valid: Tensor, repeats: int) -> Rate:
    """The ceiling: the search's model calls alone (one per simulation, all planes batched)."""
    actions = torch.zeros(len(obs), dtype=torch.int64)

    def calls() -> None:
        model.root_fn(obs, valid)
        for _ in range(config.num_simulations):
            model.recurrent_fn(actions, obs, None, valid)

    calls()
    return timed(calls, repeats, len(obs) * config.num_simulations)


def plain_rate(model: QModel, config: SearchConfig, obs: Tensor, valid: Tensor) -> Rate:
    baseline = PlainMcts(model, config)
    generator = torch.Generator().manual_seed(1)
    baseline.run(obs[0], valid[0], generator=generator)  # warm-up
    trees = iter(range(len(obs)))

    def search() -> None:
        b = next(trees)
        baseline.run(obs[b], valid[b], generator=generator)

    return timed(search, len(obs), config.num_simulations)


def plot(rates: dict[int, Rate], ceilings: dict[int, Rate], plain: Rate, path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    xs = list(rates)
    ax.plot(xs, [rates[x].wall for x in xs], marker="o", label="batched search")
    ax.plot(xs, [ceilings[x].wall for x in xs], marker=".", linestyle="--", label="model calls alone")
    ax.axhline(plain.wall, color="grey", linestyle="--", label="plain baseline (one tree, batch 1)")
    ax.axhline(100_000, color="red", linestyle=":", label="target at 256 planes")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("planes searched together")
    ax.set_ylabel("simulations / s")
    ax.set_title(title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about a minute)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the sidecar plans on one)")
    parser.add_argument("--simulations", type=int, default=64)
    parser.add_argument("--algorithm", choices=("gumbel", "puct"), default="gumbel")
    parser.add_argument("--scenario", default="medium")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    console = Console()
    space = RanSlicingEnv(args.scenario).space
    obs_dim, n_actions = space.max_cells * space.n_features, space.n_actions
    model = stand_in_model(obs_dim, n_actions, args.seed)
    config = SearchConfig(algorithm=args.algorithm, num_simulations=args.simulations)
    generator = torch.Generator().manual_seed(args.seed)
    repeats = {1: 5, 16: 3, 256: 2} if args.quick else {1: 30, 16: 15, 256: 8}
    plain_trees = 4 if args.quick else 16
    console.print(
        f"scenario {args.scenario}: obs width {obs_dim}, {n_actions} actions; {args.algorithm}, "
        f"{args.simulations} simulations, {args.threads} torch thread(s)"
    )
    rates: dict[int, Rate] = {}
    ceilings: dict[int, Rate] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("batched", total=2 * len(PLANES) + 1)
        for batch in PLANES:
            obs, valid = planes(obs_dim, n_actions, batch, generator)
            progress.update(task, description=f"batched search, {batch} planes")
            rates[batch] = batched_rate(model, config, obs, valid, repeats[batch])
            progress.advance(task)
            progress.update(task, description=f"model calls alone, {batch} planes")
            ceilings[batch] = model_only_rate(model, config, obs, valid, repeats[batch])
            progress.advance(task)
        progress.update(task, description=f"plain baseline, {plain_trees} trees")
        obs, valid = planes(obs_dim, n_actions, plain_trees, generator)
        plain = plain_rate(model, config, obs, valid)
        progress.advance(task)
    table = Table(title=f"simulations per second ({args.algorithm}, {args.simulations} per search)")
    for column in (
        "search",
        "planes",
        "sims/s",
        "sims/s (CPU time)",
        "ms per call",
        "vs plain",
        "model alone",
    ):
        table.add_column(column, justify="right")
    for batch in PLANES:
        r = rates[batch]
        table.add_row(
            "batched",
            str(batch),
            f"{r.wall:,.0f}",
            f"{r.cpu:,.0f}",
            f"{r.ms_per_call:.1f}",
            f"{r.wall / plain.wall:.1f}x",
            f"{ceilings[batch].wall:,.0f}",
        )
    table.add_row(
        "plain", "1", f"{plain.wall:,.0f}", f"{plain.cpu:,.0f}", f"{plain.ms_per_call:.1f}", "1.0x", ""
    )
    console.print(table)
    console.print(
        "model alone: the same number of model calls without any tree work, the ceiling of the search; "
        "CPU time: this process's own, which a busy machine inflates less than the wall clock."
    )
    OUT.mkdir(parents=True, exist_ok=True)
    png = OUT / "mcts.png"
    plot(rates, ceilings, plain, png, f"{args.algorithm}, {args.simulations} sims, {args.scenario} stand-in")
    console.print(f"plot: {png}")
    console.print(
        "return_greedy, return_mcts_16/64/256 and plan_p99_ms_64 need the learned model and the sidecar's "
        "POST /v1/plan: null until the planner is wired in (issue 12, second part)."
    )
    result = dict.fromkeys(KEYS)
    result["sims_per_s_256"] = round(rates[256].wall, 1)
    result["speedup_vs_plain_256"] = round(rates[256].wall / plain.wall, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
