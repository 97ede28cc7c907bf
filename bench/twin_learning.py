"""Off-policy learning of the target policy from the xApp's logged behaviour, its OPE and its gate.

On ``e2sim.gym`` (small with --quick, medium otherwise) the behaviour policy the control xApp runs
when no snapshot is promoted (the heuristic balancer, epsilon-greedy with epsilon 0.3, through the
shield, ``mu`` as ``BehaviorPolicy.decide`` computes it) logs a fixed budget of transitions as real
``Transition`` records. 80 % of the episodes train the learner (logged data only, no Dyna); 20 % are
held out for OPE (logged by the same behaviour after training, so the truth can be measured on the
spot; the learner never sees them).

1. True returns on fresh seeds (the same seeds for every policy): the learned target policy (greedy
   snapshot), the behaviour policy and the greedy heuristic, all run as the xApp runs them (shield on).
2. OPE of the target policy on the held-out segments (H steps, discount gamma): WIS, PDWIS, DR, FQE,
   each against the truth of the same estimand, measured by forking the simulator at every held-out
   segment start and running the target policy from there.
3. The gate (OPE bound + test plans on planes of a small learned dynamics ensemble, a stand-in for the
   twin's predictive model) against the heuristic in force: a deliberately worse candidate (the target
   network with negated values) must be refused, the learned target promoted.
4. Learner updates per second at batch 256 (32 sequences x 8 steps), one torch thread.

    .venv/bin/python bench/twin_learning.py [--quick]

Targets (issue 11): target_return above heuristic_return and behavior_return; the better of DR and
FQE within 10 % of the truth; the gate right both times; >= 200 updates/s. Misses are printed plainly.
Last line: one JSON object with the issue's keys.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import sys
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import redis  # noqa: E402
import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402
from torch import nn  # noqa: E402

from e2sim.gym import RanSlicingEnv  # noqa: E402
from e2sim.ran.counters import CounterSums  # noqa: E402
from ricproto.policy_snapshot import PolicySnapshot  # noqa: E402
from ricproto.transition import SCHEMA_VERSION, Transition, decode_transition, encode_transition, floats  # noqa: E402
from twin_sidecar.gate import (  # noqa: E402
    FqeConfig,
    GateSettings,
    LoggedSegments,
    PolicyStore,
    PromotionGate,
    policy_inputs,
)
from twin_sidecar.gate.ope import ESTIMATOR_FUNCTIONS, ESTIMATORS  # noqa: E402
from twin_sidecar.learner import Learner, LearnerConfig  # noqa: E402
from twinric.redis_server import PrivateRedis  # noqa: E402
from xapps.control.behavior import BehaviorPolicy  # noqa: E402
from xapps.control.control_policy import ControlSettings, Exploration  # noqa: E402
from xapps.control.exploration import behaviour_distribution  # noqa: E402
from xapps.control.heuristic import HeuristicBalancer  # noqa: E402
from xapps.control.shield import ActionShield, shielded_distribution  # noqa: E402

BEHAVIOUR_EPSILON = 0.3
UPDATES_PER_S_TARGET = 200.0
OPE_TOLERANCE = 0.10
GREEDY = ControlSettings(exploration=Exploration(kind="none"))
BEHAVIOUR = ControlSettings(exploration=Exploration(kind="epsilon_greedy", epsilon=BEHAVIOUR_EPSILON))


@dataclass(frozen=True)
class Plan:
    scenario: str
    episode_s: float
    budget: int  # logged transitions (train + held out)
    updates: int
    eval_episodes: int
    horizon: int
    fqe_iterations: int
    dynamics_steps: int


QUICK = Plan("small", 20.0, 16_000, 2_500, 6, 20, 1_500, 1_500)
FULL = Plan("medium", 30.0, 60_000, 10_000, 12, 20, 3_000, 4_000)


# --- the simulator, forked exactly ---------------------------------------------------------------
def fork(env: RanSlicingEnv) -> RanSlicingEnv:
    """A deep copy that continues exactly like the original (the counter views are rebuilt)."""
    twin = copy.deepcopy(env)
    sums = twin.model.sums
    twin.model.sums = CounterSums(sums.cell_arr, sums.slice_arr, sums.ue_arr)
    twin.model._periods = weakref.WeakSet()
    return twin


def check_fork(scenario: str) -> None:
    env = RanSlicingEnv(scenario, episode_s=30.0)
    env.reset(seed=12345)
    for a in (0, 3, 0, 5):
        env.step(a)
    twin = fork(env)
    for a in (3, 0, 7, 1, 0, 2):
        if not np.array_equal(env.step(a)[0], twin.step(a)[0]):
            raise SystemExit("forking the simulator does not reproduce it: the OPE truth would be wrong")


def logged_transition(seed: int, t: int, obs: np.ndarray, d: Any, reward: float, nxt: np.ndarray) -> bytes:
    """One step as the control xApp logs it to the transition stream (encoded), from its decision ``d``
    (``action``, ``mu``, ``mu_all``, ``policy_version``, ``intervened``, ``proposed``)."""
    return encode_transition(
        Transition(
            schema_version=SCHEMA_VERSION,
            xapp_instance=f"bench-{seed}",
            step=t,
            s=floats(obs),
            action=d.action,
            reward=reward,
            s_next=floats(nxt),
            mu=d.mu,
            mu_all=floats(d.mu_all),
            policy_version=d.policy_version,
            intervened=d.intervened,
            proposed_action=d.proposed,
        )
    )


# --- policies as the xApp runs them ----------------------------------------------------------------

class XappActor:
    """BehaviorPolicy around one snapshot (or the heuristic) with fixed settings, for one env."""

    def __init__(
        self, env: RanSlicingEnv, snapshot: PolicySnapshot | None, settings: ControlSettings, seed: int
    ):
        mask = env.action_masks()
        self.settings, self.snapshot = settings, snapshot
        self.policy = BehaviorPolicy(
            env.space,
            ActionShield(env.space, env.layout),
            HeuristicBalancer(env.space, env.layout),
            mask,
            seed,
        )

    def decide(self, obs: np.ndarray):
        return self.policy.decide(obs, self.settings, self.snapshot)


class XappGreedyPolicy:
    """EvaluationPolicy: the xApp's greedy action for a snapshot or the heuristic, after the shield."""

    def __init__(self, name: str, env: RanSlicingEnv, snapshot: PolicySnapshot | None) -> None:
        self.name, self.snapshot = name, snapshot
        self.mask = env.action_masks()
        self.shield = ActionShield(env.space, env.layout)
        self.heuristic = HeuristicBalancer(env.space, env.layout)

    def probs(self, obs: torch.Tensor) -> torch.Tensor:
        flat = obs.reshape(-1, obs.shape[-1]).numpy()
        out = np.empty((len(flat), len(self.mask)), dtype=np.float32)
        for i, row in enumerate(flat):
            values = self.snapshot.action_values(row) if self.snapshot else self.heuristic.action_values(row)
            mu = behaviour_distribution(values, self.mask, GREEDY.exploration)
            out[i] = shielded_distribution(mu, self.shield.verdict(row, GREEDY.cell_load_limit).allowed)
        return torch.from_numpy(out).reshape(*obs.shape[:-1], len(self.mask))


# --- logging -----------------------------------------------------------------------------------------
@dataclass
class Logged:
    transitions: list[Transition] = field(default_factory=list)
    truths: list[float] = field(default_factory=list)  # target's H-step return from each segment start
    interventions: int = 0


def episode_seeds(plan: Plan) -> tuple[range, range]:
    """Seeds of the training episodes and of the held-out ones (20 %) within the transition budget."""
    steps = round(plan.episode_s / 0.1) - 1
    n = max(plan.budget // steps, 5)
    n_held = max(n // 5, 2)
    return range(1_000, 1_000 + n - n_held), range(1_000 + n - n_held, 1_000 + n)


def log_episodes(
    plan: Plan,
    seeds: range,
    progress: Progress,
    label: str,
    truth_of: PolicySnapshot | None = None,
    gamma: float = 0.95,
) -> Logged:
    """Behaviour episodes as stream records; with ``truth_of``, the OPE truth at each segment start.

    The truth is the greedy snapshot's H-step discounted return from a fork of the simulator taken
    where a held-out segment starts (the segments are the H-step windows LoggedSegments cuts).
    """
    env = RanSlicingEnv(plan.scenario, episode_s=plan.episode_s)
    steps_per_episode = round(plan.episode_s / env.report_period_s) - 1
    out = Logged()
    task = progress.add_task(label, total=len(seeds) * steps_per_episode)
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        actor = XappActor(env, None, BEHAVIOUR, seed=seed)
        t, truncated = 0, False
        while not truncated:
            if truth_of is not None and t % plan.horizon == 0 and t + plan.horizon <= steps_per_episode:
                out.truths.append(greedy_return(fork(env), obs, truth_of, plan.horizon, gamma))
            d = actor.decide(obs)
            nxt, reward, _, truncated, _ = env.step(d.action)
            msg = decode_transition(logged_transition(seed, t, obs, d, reward, nxt))  # as on the stream
            out.transitions.append(msg)
            out.interventions += d.intervened
            obs, t = nxt, t + 1
            progress.advance(task)
    return out


def greedy_return(
    env: RanSlicingEnv, obs: np.ndarray, snap: PolicySnapshot, horizon: int, gamma: float
) -> float:
    actor = XappActor(env, snap, GREEDY, seed=0)
    g = 0.0
    for t in range(horizon):
        obs, r, _, _, _ = env.step(actor.decide(obs).action)
        g += gamma**t * r
    return g


# --- a stand-in for the twin's predictive model: a small ensemble fitted on the training log -------
class FittedDynamics(nn.Module):
    """PlaneDynamics: next observation (as a delta) and reward from (obs, action), several members."""

    def __init__(self, obs_dim: int, n_actions: int, members: int = 3, hidden: int = 128) -> None:
        super().__init__()
        self.n_actions = n_actions
        self.members = nn.ModuleList(
            nn.Sequential(
                nn.Linear(obs_dim + n_actions, hidden),
                nn.ReLU(),
                nn.Linear(hidden, hidden),
                nn.ReLU(),
                nn.Linear(hidden, obs_dim + 1),
            )
            for _ in range(members)
        )

    def _predict(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        x = torch.cat([obs, nn.functional.one_hot(action, self.n_actions).to(obs.dtype)], -1)
        return torch.stack([m(x) for m in self.members])  # [M, B, D + 1]

    def fit(self, data: list[Transition], steps: int, progress: Progress) -> None:
        s = torch.tensor(np.asarray([m.s for m in data], dtype=np.float32))
        a = torch.tensor([m.action for m in data])
        target = torch.cat(
            [
                torch.tensor(np.asarray([m.s_next for m in data], dtype=np.float32)) - s,
                torch.tensor([[m.reward] for m in data], dtype=torch.float32),
            ],
            -1,
        )
        opt = torch.optim.Adam(self.parameters(), lr=1e-3)
        gen = torch.Generator().manual_seed(0)
        task = progress.add_task("fitting plane dynamics (3-member ensemble)", total=steps)
        for _ in range(steps):
            idx = torch.randint(0, len(a), (len(self.members), 256), generator=gen)  # a bootstrap per member
            pred = torch.stack(
                [
                    m(torch.cat([s[i], nn.functional.one_hot(a[i], self.n_actions).float()], -1))
                    for m, i in zip(self.members, idx, strict=True)
                ]
            )
            loss = ((pred - target[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            progress.advance(task)

    @torch.no_grad()
    def step(self, obs: torch.Tensor, action: torch.Tensor, member: torch.Tensor | None):
        pred = self._predict(obs, action)
        out = pred.mean(0) if member is None else pred[member, torch.arange(obs.shape[0])]
        return (obs + out[:, :-1]).clamp(0.0, 1.0), out[:, -1]


# --- measuring ---------------------------------------------------------------------------------------
def true_returns(
    plan: Plan, policies: dict[str, tuple[PolicySnapshot | None, ControlSettings]], progress: Progress
) -> dict[str, np.ndarray]:
    """Episode returns (sum of rewards) per policy on the same fresh seeds."""
    out: dict[str, list[float]] = {name: [] for name in policies}
    task = progress.add_task("true returns on fresh seeds", total=len(policies) * plan.eval_episodes)
    for name, (snap, settings) in policies.items():
        for ep in range(plan.eval_episodes):
            env = RanSlicingEnv(plan.scenario, episode_s=plan.episode_s)
            obs, _ = env.reset(seed=500_000 + ep)
            actor = XappActor(env, snap, settings, seed=77 + ep)
            total, truncated = 0.0, False
            while not truncated:
                obs, r, _, truncated, _ = env.step(actor.decide(obs).action)
                total += r
            out[name].append(total)
            progress.advance(task)
    return {k: np.asarray(v) for k, v in out.items()}


def std_error(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else 0.0


def negated(snap: PolicySnapshot, version: str) -> PolicySnapshot:
    """The same network with its values negated: greedy picks the action it rates worst."""
    ws, bs = list(snap.weights), list(snap.biases)
    ws[-1], bs[-1] = -ws[-1], -bs[-1]
    return PolicySnapshot(version, tuple(ws), tuple(bs), snap.activation, snap.output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scenario, smaller budget (a few minutes)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--scenario", help="override the scenario (small with --quick, else medium)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    plan = QUICK if args.quick else FULL
    if args.scenario:
        plan = dataclasses.replace(plan, scenario=args.scenario)
    console = Console(stderr=True, width=150)
    check_fork(plan.scenario)
    # The log comes from a near-deterministic behaviour (eps 0.3 over 64+ actions): without the
    # conservative term, Q-learning extrapolates to actions the heuristic almost never took.
    config = LearnerConfig(batch_size=256, sequence_length=8, conservative_weight=1.0, seed=0)

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        train_seeds, held_seeds = episode_seeds(plan)
        logged = log_episodes(plan, train_seeds, progress, "logging behaviour (eps 0.3 heuristic): training")
        env = RanSlicingEnv(plan.scenario, episode_s=plan.episode_s)
        env.reset(seed=0)
        mask = env.action_masks()

        # Learn from the training log only.
        learner = Learner(config, env.space, mask)
        learner.ingest(logged.transitions)
        task = progress.add_task(f"learner updates (batch {config.batch_size})", total=plan.updates)
        warmup, t0, c0 = 50, 0.0, 0.0
        diag = None
        for i in range(plan.updates):
            if i == warmup:
                t0, c0 = time.perf_counter(), time.process_time()
            diag = learner.update()
            progress.advance(task)
        updates_per_s = (plan.updates - warmup) / (time.perf_counter() - t0)
        updates_per_cpu_s = (plan.updates - warmup) / (time.process_time() - c0)
        target = learner.export("target")
        worse = negated(target, "target-negated")

        dynamics = FittedDynamics(learner.obs_dim, learner.n_actions)
        dynamics.fit(logged.transitions, plan.dynamics_steps, progress)

        returns = true_returns(
            plan,
            {
                "target": (target, GREEDY),
                "behaviour": (None, BEHAVIOUR),
                "heuristic": (None, GREEDY),
                "worse candidate": (worse, GREEDY),
            },
            progress,
        )

        # OPE of the target policy on the held-out segments, against the truth of the same estimand.
        gamma = config.gamma
        # Held-out episodes are logged now, with the truth of the estimand measured at every segment start.
        held = log_episodes(
            plan, held_seeds, progress, "held-out behaviour episodes + OPE truth", target, gamma
        )
        segments = LoggedSegments.from_transitions(held.transitions, plan.horizon, learner.obs_dim)
        if segments.n != len(held.truths):
            raise SystemExit(
                f"{segments.n} segments but {len(held.truths)} truths: the windows do not line up"
            )
        truth = float(np.mean(held.truths))
        target_policy = XappGreedyPolicy("target", env, target)
        task = progress.add_task("OPE (fitting FQE)", total=1)
        inputs = policy_inputs(segments, target_policy, gamma, FqeConfig(iterations=plan.fqe_iterations))
        progress.advance(task)
        every = np.arange(inputs.n)
        estimates = {name: ESTIMATOR_FUNCTIONS[name](inputs, every) for name in ESTIMATORS}

        # The gate against the heuristic in force.
        server = PrivateRedis().start()
        try:
            store = PolicyStore(redis.Redis.from_url(server.url), "bench")
            recent = torch.tensor(np.asarray([m.s for m in logged.transitions[-256:]], dtype=np.float32))
            settings = GateSettings(horizon=plan.horizon, gamma=gamma, fqe_iterations=plan.fqe_iterations)
            gate = PromotionGate(
                settings,
                env.space,
                mask,
                dynamics,
                store,
                env.layout,
                policy_of=lambda snap: XappGreedyPolicy(snap.version, env, snap),  # as the xApp runs it
            )
            heuristic_policy = XappGreedyPolicy("heuristic", env, None)
            task = progress.add_task("gate: worse, then learned candidate", total=2)
            worse_record = gate.consider(worse, segments, recent, incumbent=heuristic_policy)
            progress.advance(task)
            better_record = gate.consider(target, segments, recent, incumbent=heuristic_policy)
            progress.advance(task)
        finally:
            server.stop()

    # --- report ----------------------------------------------------------------------------------
    mean = {k: float(v.mean()) for k, v in returns.items()}
    n_logged = len(logged.transitions) + len(held.transitions)
    intervention_rate = (logged.interventions + held.interventions) / n_logged
    paired = {k: returns["target"] - v for k, v in returns.items() if k != "target"}
    rel = {k: (abs(v - truth) / abs(truth) if v is not None else None) for k, v in estimates.items()}
    target_better = mean["target"] > mean["heuristic"]
    gate_refused_worse = worse_record.kind == "refusal"
    gate_promoted_better = better_record.kind == "promotion"

    table = Table(
        title=f"twin learning on {plan.scenario} ({len(logged.transitions)} train / {len(held.transitions)} "
        f"held-out transitions, load average {os.getloadavg()[0]:.1f})"
    )
    for col in ("policy", "true return (mean)", "target - policy (paired mean +- s.e.)"):
        table.add_column(col)
    for k, v in mean.items():
        d = paired.get(k)
        table.add_row(k, f"{v:.3f}", "-" if d is None else f"{d.mean():+.3f} +- {std_error(d):.3f}")
    console.print(table)
    ope_table = Table(
        title=f"OPE of the target, {segments.n} held-out segments of {plan.horizon} steps, gamma {gamma}"
    )
    for col in ("estimator", "estimate", "truth", "relative error"):
        ope_table.add_column(col)
    for k, v in estimates.items():
        ope_table.add_row(
            k,
            "undefined" if v is None else f"{v:.4f}",
            f"{truth:.4f}",
            "-" if rel[k] is None else f"{rel[k]:.1%}",
        )
    console.print(ope_table)
    for rec in (worse_record, better_record):
        console.print(f"gate on {rec.version}: [bold]{rec.kind}[/bold]; " + "; ".join(rec.reasons))
    console.print(
        f"learner: {updates_per_s:.0f} updates/s wall clock, {updates_per_cpu_s:.0f} per CPU second "
        f"(target >= {UPDATES_PER_S_TARGET:.0f}); last update: "
        f"ESS {diag.ess_fraction:.2%} of the batch, truncation {diag.truncation_rate:.1%}, "  # type: ignore[union-attr]
        f"TD error {diag.td_error:.4f}, policy lag {diag.policy_lag:.0f}; shield interventions while logging "  # type: ignore[union-attr]
        f"{intervention_rate:.2%}"
    )
    best_model = min((rel[k] for k in ("dr", "fqe") if rel[k] is not None), default=None)
    misses = []
    if not (mean["target"] > mean["heuristic"] and mean["target"] > mean["behaviour"]):
        misses.append("target_return is not above both heuristic_return and behavior_return")
    if best_model is None or best_model > OPE_TOLERANCE:
        misses.append(f"neither DR nor FQE is within {OPE_TOLERANCE:.0%} of the truth")
    if not gate_refused_worse:
        misses.append("the gate promoted the deliberately worse candidate")
    if not gate_promoted_better:
        misses.append(
            "the gate did not promote the learned target"
            + ("" if target_better else " (which is not truly better than the heuristic in force either)")
        )
    if updates_per_s < UPDATES_PER_S_TARGET:
        misses.append(
            f"{updates_per_s:.0f} updates/s is below {UPDATES_PER_S_TARGET:.0f} (machine load matters)"
        )
    for m in misses:
        console.print(f"[red]MISSED[/red]: {m}")
    if not misses:
        console.print("[green]all targets met[/green]")

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    names = list(mean)
    se = {n: std_error(returns[n]) for n in names}
    ax1.bar(names, [mean[n] for n in names], yerr=[se[n] for n in names], color="tab:blue")
    lo, hi = min(mean[n] - se[n] for n in names), max(mean[n] + se[n] for n in names)
    ax1.set_ylim(lo - 0.2 * (hi - lo), hi + 0.2 * (hi - lo))
    ax1.set_ylabel("episode return (fresh seeds)")
    ax1.set_title(f"true returns on {plan.scenario}")
    labels = [k for k in estimates if estimates[k] is not None]
    ax2.bar(labels, [estimates[k] for k in labels], color="tab:orange")
    ax2.axhline(truth, color="k", ls="--", label="truth (forked simulator)")
    ax2.set_title(f"OPE of the target, {plan.horizon}-step discounted return")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(out / "twin_learning.png", dpi=120)
    console.print(f"plot: {out / 'twin_learning.png'}")

    def rounded(x: float | None) -> float | None:
        return None if x is None else round(float(x), 4)

    print(
        json.dumps(
            {
                "target_return": rounded(mean["target"]),
                "behavior_return": rounded(mean["behaviour"]),
                "heuristic_return": rounded(mean["heuristic"]),
                "ope_rel_error_wis": rounded(rel["wis"]),
                "ope_rel_error_dr": rounded(rel["dr"]),
                "ope_rel_error_fqe": rounded(rel["fqe"]),
                "gate_refused_worse": gate_refused_worse,
                "gate_promoted_better": gate_promoted_better,
                "updates_per_s": round(updates_per_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
