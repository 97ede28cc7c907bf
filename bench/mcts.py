"""MCTS planner: throughput, returns on the learned model, /v1/plan latency, the loop with planning.

1. Simulations per second of the batched search at 1, 16 and 256 planes, and of the plain
   one-tree-at-a-time baseline in the same run, on a default-sized stand-in model: observations of
   scenario ``medium`` in the ``ricproto.ran_space`` layout, an MLP dynamics (observation + action
   embedding -> 256 -> 256 -> next observation and reward) and an MLP Q-network (observation -> 128 ->
   128 -> Q per action). Both searches call the same model functions: the batched search once per
   simulation for all planes, the baseline once per simulation with batch 1.
2. On ``e2sim.gym`` small: the behaviour the xApp runs without a snapshot (heuristic, epsilon 0.3,
   shield) logs transitions; the twin's predictive ensemble (``EnsembleTrainer``, the sidecar's
   settings) and the target-policy learner (as ``bench/twin_learning.py``) learn from them; then, on
   fresh seeds with every episode run in lockstep (one plane per episode, one batched search per
   step), the true return of the greedy target policy and of MCTS at 16, 64 and 256 simulations
   planning on the learned model (priors and leaf values from the target policy's Q), acting in the
   env. In the same run a second learner with search-derived policy targets
   (``LearnerConfig.search_targets``) is trained on the same log: its greedy return against the first.
3. ``POST /v1/plan`` latency at 64 simulations: a sidecar on real HTTP (uvicorn, in this process)
   serving the learned ensemble and target Q, asked with logged observations.
4. ``bench/loop_latency.py --twin sidecar``: ``twinric up`` with its twin sidecar planning within the
   A1 budget, the loop's p99 (skipped with ``--no-loop``).

    .venv/bin/python bench/mcts.py [--quick] [--threads 1] [--simulations 64] [--algorithm gumbel] [--no-loop]

Targets (issue 12): >= 100,000 simulations/s at 256 planes; >= 20x the plain baseline;
``return_mcts_64`` above ``return_greedy``; ``plan_p99_ms_64`` <= 5 ms; the loop's p99 with planning
<= 10 ms. Misses are printed plainly. PNGs: bench/out/mcts.png (throughput), bench/out/mcts_returns.png.
Last line: one JSON object with the issue's keys, plus ``return_greedy_search_targets`` (the learner
with search targets), ``plan_p50_ms_64`` and ``loop_p99_ms_planning``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import httpx  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import uvicorn  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402
from torch import Tensor  # noqa: E402

from bench import twin_learning  # noqa: E402
from e2sim.gym import RanSlicingEnv  # noqa: E402
from ricproto.transition import Transition, TransitionBatch, decode_transition_fields, encode_transition  # noqa: E402
from twin_sidecar.app import build_parts, create_app  # noqa: E402
from twin_sidecar.learner import Learner, LearnerConfig  # noqa: E402
from twin_sidecar.planner import PlainMcts, QModel, SearchConfig, plan  # noqa: E402
from twin_sidecar.planner.online import OnlinePlannerConfig  # noqa: E402
from twin_sidecar.predictive.ensemble import DynamicsEnsemble  # noqa: E402
from twin_sidecar.predictive.replay import TransitionReplay  # noqa: E402
from twin_sidecar.predictive.training import EnsembleTrainer  # noqa: E402
from twin_sidecar.settings import TrainingSettings, TwinSettings  # noqa: E402
from twinric.local_stack import ran_controls  # noqa: E402
from twinric.ports import free_port, wait_for_port  # noqa: E402
from twinric.redis_server import PrivateRedis  # noqa: E402
from xapps.control.shield import ActionShield  # noqa: E402

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
MCTS_SIMULATIONS = (16, 64, 256)
LOAD_LIMIT = twin_learning.GREEDY.cell_load_limit  # the shield's limit as the greedy xApp runs


@dataclass(frozen=True)
class LearnPlan:
    """Items 2-4: how much to log, learn and measure."""

    episode_s: float  # simulated seconds per episode (logged and evaluated)
    budget: int  # logged transitions
    updates: int  # learner updates
    dynamics_steps: int  # ensemble updates
    eval_episodes: int  # fresh seeds, run in lockstep
    plan_requests: int  # POST /v1/plan calls timed
    loop_seconds: float  # per phase of bench/loop_latency.py
    loop_warmup: float


QUICK_LEARN = LearnPlan(5.0, 4_000, 1_000, 1_000, 4, 100, 10.0, 5.0)
FULL_LEARN = LearnPlan(20.0, 16_000, 3_000, 3_000, 12, 1_000, 20.0, 10.0)
SCENARIO = "small"  # the issue's: e2sim.gym small


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


# --- 2. returns on e2sim.gym small, planning on the learned model --------------------------------
def fit_ensemble(
    env: RanSlicingEnv, transitions: list[Transition], steps: int, progress: Progress
) -> DynamicsEnsemble:
    """The twin's predictive ensemble (the sidecar's default settings) fitted on the logged transitions,
    decoded exactly as the sidecar's stream consumer decodes them."""
    space = env.space
    batch = TransitionBatch.from_fields([decode_transition_fields(encode_transition(m)) for m in transitions])
    replay = TransitionReplay(len(batch), space.max_cells * space.n_features)
    replay.add(batch)
    trainer = EnsembleTrainer(space, env.layout, TrainingSettings())
    trainer.fit_normalisation(replay.all())
    task = progress.add_task("fitting the twin's ensemble", total=steps)
    for _ in range(steps):
        trainer.update(replay)
        progress.advance(task)
    trainer.fit_reward(replay.all())
    return trainer.snapshot(1)


def train_learner(
    config: LearnerConfig,
    env: RanSlicingEnv,
    transitions: list[Transition],
    updates: int,
    dynamics: DynamicsEnsemble | None,
    progress: Progress,
    label: str,
) -> Learner:
    learner = Learner(config, env.space, env.action_masks(), dynamics=dynamics)
    learner.ingest(transitions)
    task = progress.add_task(label, total=updates)
    for _ in range(updates):
        learner.update()
        progress.advance(task)
    learner.q.eval()
    return learner


ChooseFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # obs [E, D], allowed [E, A] -> actions [E]


def lockstep_returns(
    episodes: int, episode_s: float, choose: ChooseFn, progress: Progress, label: str
) -> tuple[np.ndarray, float]:
    """Episode returns (sum of rewards) of ``choose`` on fresh seeds, every episode stepped together
    (one batched decision per step), and the mean ms per decision step. ``allowed`` is the action mask
    and the shield's verdict, what the xApp sends the planner."""
    envs = [RanSlicingEnv(SCENARIO, episode_s=episode_s) for _ in range(episodes)]
    obs = np.stack([env.reset(seed=500_000 + i)[0] for i, env in enumerate(envs)]).astype(np.float32)
    shields = [ActionShield(env.space, env.layout) for env in envs]
    mask = envs[0].action_masks()
    steps = round(episode_s / envs[0].report_period_s) - 1
    totals = np.zeros(episodes)
    spent = 0.0
    task = progress.add_task(label, total=steps)
    done = False
    while not done:
        allowed = np.stack(
            [mask & sh.verdict(o, LOAD_LIMIT).allowed for sh, o in zip(shields, obs, strict=True)]
        )
        started = time.perf_counter()
        actions = choose(obs, allowed)
        spent += time.perf_counter() - started
        for i, env in enumerate(envs):
            nxt, reward, terminated, truncated, _ = env.step(int(actions[i]))
            obs[i], totals[i] = nxt, totals[i] + reward
            done = done or terminated or truncated
        progress.advance(task)
    return totals, spent / steps * 1000.0


def greedy_choice(q: torch.nn.Module, mask: np.ndarray) -> ChooseFn:
    """The greedy target policy as the xApp takes it: argmax of Q over the mask, and a shield-muted
    choice becomes the no-op."""

    def choose(obs: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            values = q(torch.from_numpy(obs)).numpy()
        best = np.where(mask, values, -np.inf).argmax(axis=1)
        return np.where(allowed[np.arange(len(best)), best], best, 0)

    return choose


def mcts_choice(model: QModel, simulations: int) -> ChooseFn:
    """MCTS as the sidecar plans (its default search settings), all episodes' planes in one search."""
    online = OnlinePlannerConfig()
    config = SearchConfig(
        algorithm=online.algorithm,
        num_simulations=simulations,
        max_depth=online.max_depth,
        max_considered_actions=online.max_considered_actions,
        gumbel_scale=online.gumbel_scale,
    )
    workspace: list = []

    def choose(obs: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        out = plan(
            model,
            torch.from_numpy(obs),
            torch.from_numpy(allowed),
            config,
            generator=torch.Generator().manual_seed(0),
            workspace=workspace[0] if workspace else None,
        )
        workspace[:1] = [out.tree]
        return out.action.numpy()

    return choose


@dataclass
class Learned:
    env: RanSlicingEnv
    transitions: list[Transition]
    dynamics: DynamicsEnsemble
    learner: Learner
    searched: Learner
    returns: dict[str, np.ndarray]
    step_ms: dict[str, float]


def learned_returns(lp: LearnPlan, progress: Progress) -> Learned:
    tl_plan = twin_learning.Plan(SCENARIO, lp.episode_s, lp.budget, lp.updates, lp.eval_episodes, 20, 0, 0)
    train_seeds, _ = twin_learning.episode_seeds(tl_plan)
    logged = twin_learning.log_episodes(
        tl_plan, train_seeds, progress, "logging behaviour (eps 0.3 heuristic)"
    )
    env = RanSlicingEnv(SCENARIO, episode_s=lp.episode_s)
    env.reset(seed=0)
    dynamics = fit_ensemble(env, logged.transitions, lp.dynamics_steps, progress)
    # as bench/twin_learning.py: the log of a near-deterministic behaviour needs the conservative term
    config = LearnerConfig(batch_size=256, sequence_length=8, conservative_weight=1.0, seed=0)
    learner = train_learner(config, env, logged.transitions, lp.updates, None, progress, "learner")
    searched = train_learner(
        replace(config, search_targets=True),
        env,
        logged.transitions,
        lp.updates,
        dynamics,
        progress,
        "learner with search targets",
    )
    mask = env.action_masks()
    model = QModel(dynamics, learner.q, discount=config.gamma)
    choices: dict[str, ChooseFn] = {
        "greedy": greedy_choice(learner.q, mask),
        "greedy, search targets": greedy_choice(searched.q, mask),
    }
    for sims in MCTS_SIMULATIONS:
        choices[f"mcts {sims}"] = mcts_choice(model, sims)
    returns, step_ms = {}, {}
    for name, choose in choices.items():
        returns[name], step_ms[name] = lockstep_returns(
            lp.eval_episodes, lp.episode_s, choose, progress, f"returns: {name}"
        )
    return Learned(env, logged.transitions, dynamics, learner, searched, returns, step_ms)


def plot_returns(returns: dict[str, np.ndarray], path: Path) -> None:
    names = list(returns)
    means = [float(returns[n].mean()) for n in names]
    errors = [twin_learning.std_error(returns[n]) for n in names]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.bar(
        names,
        means,
        yerr=errors,
        color=["tab:grey", "tab:olive", "tab:blue", "tab:blue", "tab:blue"][: len(names)],
    )
    lo = min(m - e for m, e in zip(means, errors, strict=True))
    hi = max(m + e for m, e in zip(means, errors, strict=True))
    ax.set_ylim(lo - 0.25 * (hi - lo + 1e-9), hi + 0.25 * (hi - lo + 1e-9))
    ax.set_ylabel("episode return, fresh seeds (mean +- s.e.)")
    ax.set_title(f"e2sim.gym {SCENARIO}: greedy target policy vs MCTS on the learned model")
    fig.autofmt_xdate(rotation=20)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- 3. POST /v1/plan latency on a sidecar serving the learned model -----------------------------
def plan_latency_ms(
    learned: Learned, requests: int, simulations: int, progress: Progress
) -> dict[str, float]:
    """Client-side latency of POST /v1/plan (keep-alive HTTP) at ``simulations`` per request, and the
    search's own time as the sidecar reports it; p50/p99 in ms."""
    server = PrivateRedis().start()
    state_dir = Path(tempfile.mkdtemp(prefix="mcts-bench-twin-"))
    http: uvicorn.Server | None = None
    serving: threading.Thread | None = None
    try:
        settings = TwinSettings.from_descriptor(
            {"controls": {"ran": ran_controls(SCENARIO)}},
            env={},
            redis_url=server.url,
            port=free_port(),
            state_dir=state_dir,
        )
        parts = build_parts(settings, train=False)
        if (
            parts.dynamics.obs_dim != learned.learner.obs_dim
            or parts.dynamics.n_actions != learned.learner.n_actions
        ):
            raise SystemExit("the sidecar's RAN space for scenario small differs from e2sim.gym small's")
        parts.dynamics.publish(learned.dynamics)
        assert parts.planner is not None
        parts.planner.q_source.publish(learned.learner.q, "bench")  # type: ignore[attr-defined]
        http = uvicorn.Server(
            uvicorn.Config(create_app(parts), host="127.0.0.1", port=settings.port, log_level="warning")
        )
        serving = threading.Thread(target=http.run, daemon=True)
        serving.start()
        if not wait_for_port(settings.port, timeout=20):
            raise SystemExit("the sidecar did not start")
        mask = [int(v) for v in learned.env.action_masks()]
        observations = [m.s for m in learned.transitions[-requests:]]
        client_ms, search_ms = [], []
        stops: dict[str, int] = {}
        task = progress.add_task(f"POST /v1/plan, {simulations} simulations", total=requests + 20)
        with httpx.Client(base_url=f"http://127.0.0.1:{settings.port}", timeout=5.0) as client:
            for i in range(requests + 20):
                body = {
                    "observation": list(observations[i % len(observations)]),
                    "mask": mask,
                    "budget_ms": 10_000,  # ample: the figure is the time of 64 simulations
                    "policy_version": "bench",
                    "simulations": simulations,
                }
                started = time.perf_counter()
                resp = client.post("/v1/plan", json=body)
                elapsed = (time.perf_counter() - started) * 1000.0
                resp.raise_for_status()
                if i >= 20:  # warm-up: connection, first allocations
                    out = resp.json()
                    client_ms.append(elapsed)
                    search_ms.append(out["stats"]["elapsed_ms"])
                    stops[out["stats"]["stop_reason"]] = stops.get(out["stats"]["stop_reason"], 0) + 1
                progress.advance(task)
    finally:
        if http is not None:
            http.should_exit = True
        if serving is not None:
            serving.join(timeout=30)  # the app stops the sidecar's parts before Redis goes
        server.stop()
    return {
        "p50": float(np.percentile(client_ms, 50)),
        "p99": float(np.percentile(client_ms, 99)),
        "search_p50": float(np.percentile(search_ms, 50)),
        "search_p99": float(np.percentile(search_ms, 99)),
        "stopped_by_time": stops.get("time", 0) / len(client_ms),
    }


# --- 4. the loop with the sidecar planning ---------------------------------------------------------
def loop_with_planning(lp: LearnPlan, console: Console) -> dict | None:
    """bench/loop_latency.py --twin sidecar, its last line; None when it fails (said so)."""
    argv = [
        sys.executable,
        str(ROOT / "bench" / "loop_latency.py"),
        "--twin",
        "sidecar",
        "--budget-ms",
        "5",
        "--seconds",
        str(lp.loop_seconds),
        "--warmup",
        str(lp.loop_warmup),
    ]
    console.print(f"loop with planning: {' '.join(argv[1:])}")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        console.print(f"[red]bench/loop_latency.py failed[/red] ({done.returncode}): {done.stderr[-2000:]}")
        return None
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about a minute)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the sidecar plans on one)")
    parser.add_argument("--simulations", type=int, default=64)
    parser.add_argument("--algorithm", choices=("gumbel", "puct"), default="gumbel")
    parser.add_argument("--scenario", default="medium")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-loop", action="store_true", help="skip item 4 (bench/loop_latency.py)")
    parser.add_argument("--throughput-only", action="store_true", help="item 1 only")
    parser.add_argument("--episodes", type=int, help="evaluation episodes (fresh seeds) of item 2")
    parser.add_argument("--episode-s", type=float, help="simulated seconds per episode of item 2")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    console = Console(stderr=True)
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
    result = dict.fromkeys(KEYS)
    result["sims_per_s_256"] = round(rates[256].wall, 1)
    result["speedup_vs_plain_256"] = round(rates[256].wall / plain.wall, 2)
    misses = []
    if rates[256].wall < 100_000:
        misses.append(f"{rates[256].wall:,.0f} simulations/s at 256 planes is below 100,000")
    if rates[256].wall / plain.wall < 20:
        misses.append(f"{rates[256].wall / plain.wall:.1f}x the plain baseline is below 20x")
    if not args.throughput_only:
        lp = QUICK_LEARN if args.quick else FULL_LEARN
        if args.episodes:
            lp = replace(lp, eval_episodes=args.episodes)
        if args.episode_s:
            lp = replace(lp, episode_s=args.episode_s)
        with Progress(*columns, console=console) as progress:
            learned = learned_returns(lp, progress)
            latency = plan_latency_ms(learned, lp.plan_requests, 64, progress)
        loop = None if args.no_loop else loop_with_planning(lp, console)
        returns = learned.returns
        table = Table(title=f"true returns on e2sim.gym {SCENARIO}, {lp.eval_episodes} fresh seeds")
        for column in ("policy", "return (mean +- s.e.)", "vs greedy (paired)", "ms per step (all planes)"):
            table.add_column(column, justify="right")
        for name, values in returns.items():
            diff = values - returns["greedy"]
            table.add_row(
                name,
                f"{values.mean():.3f} +- {twin_learning.std_error(values):.3f}",
                "-" if name == "greedy" else f"{diff.mean():+.3f} +- {twin_learning.std_error(diff):.3f}",
                f"{learned.step_ms[name]:.1f}",
            )
        console.print(table)
        png = OUT / "mcts_returns.png"
        plot_returns(returns, png)
        console.print(f"plot: {png}")
        console.print(
            f"POST /v1/plan at 64 simulations ({lp.plan_requests} requests, learned model and Q): "
            f"p50 {latency['p50']:.2f} ms, p99 {latency['p99']:.2f} ms; the search itself p50 "
            f"{latency['search_p50']:.2f} ms, p99 {latency['search_p99']:.2f} ms; "
            f"{latency['stopped_by_time']:.0%} stopped by the budget before 64 simulations"
        )
        result["return_greedy"] = round(float(returns["greedy"].mean()), 4)
        for sims in MCTS_SIMULATIONS:
            result[f"return_mcts_{sims}"] = round(float(returns[f"mcts {sims}"].mean()), 4)
        result["plan_p99_ms_64"] = round(latency["p99"], 3)
        result["plan_p50_ms_64"] = round(latency["p50"], 3)
        result["return_greedy_search_targets"] = round(float(returns["greedy, search targets"].mean()), 4)
        if loop is not None:
            result["loop_p99_ms_planning"] = loop["loop_p99_ms_planning"]
            console.print(
                f"loop with the sidecar planning ({loop['budget_ms']} ms budget): p99 "
                f"{loop['loop_p99_ms_planning']} ms (off: {loop['loop_p99_ms']} ms); "
                f"{loop['planned_share']:.0%} of decisions planned; "
                f"xApp plan outcomes {loop['plan_outcomes']}"
            )
            if loop["loop_p99_ms_planning"] > 10:
                misses.append(
                    f"the loop's p99 with planning, {loop['loop_p99_ms_planning']} ms, is above 10 ms"
                )
        if not result["return_mcts_64"] > result["return_greedy"]:
            misses.append("return_mcts_64 is not above return_greedy")
        if not result["return_greedy_search_targets"] > result["return_greedy"]:
            misses.append("the learner with search targets is not better than the one without")
        if latency["p99"] > 5.0:
            misses.append(f"plan_p99_ms_64 {latency['p99']:.2f} ms is above 5 ms")
    for miss in misses:
        console.print(f"[red]MISSED[/red]: {miss}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
