"""The two learners of the headline benchmark, each with the same budget of real interactions.

* ``Sb3Dqn``: Stable-Baselines3's DQN trained directly on ``e2sim.gym`` (fresh episodes from its own
  seeds), learning in chunks so its greedy policy can be measured along the way.
* ``TwinricLearning``: what the twin does with the xApp's logs, round by round. The xApp's behaviour
  policy (the promoted snapshot, or the heuristic while none is, epsilon-greedy with epsilon 0.3,
  through the shield) runs on the gym and every transition goes through the stream's encoding; the
  twin's target-policy learner (``twin_sidecar.learner``, off-policy Retrace with the CQL term) and
  its predictive model (``twin_sidecar.predictive``: the dynamics ensemble and reward model) learn
  from them; one episode in five is held out for the gate (``twin_sidecar.gate``: OPE on held-out
  logs + test plans on planes of the learned model), which promotes the candidate or not. The
  behaviour of the next round acts with what is in force. No Dyna rollouts: only real interactions.

A real interaction is one env step (one report period acted on), for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from bench.loop.controllers import record_steer, xapp_behaviour
from bench.loop.episode import REPORT_PERIOD_S
from bench.twin_learning import XappGreedyPolicy, logged_transition
from e2sim.gym import RanSlicingEnv
from e2sim.scenario import Scenario
from ricproto.policy_snapshot import PolicySnapshot
from ricproto.transition import (
    Transition,
    TransitionBatch,
    decode_transition,
    decode_transition_fields,
)
from twin_sidecar.gate import GateSettings, LoggedSegments, PromotionGate
from twin_sidecar.learner import Learner, LearnerConfig
from twin_sidecar.predictive import DynamicsEnsemble, EnsembleTrainer, TransitionReplay
from twin_sidecar.settings import TrainingSettings
from xapps.control.control_policy import ControlSettings, Exploration

BEHAVIOUR = ControlSettings(exploration=Exploration(kind="epsilon_greedy", epsilon=0.3))
HELD_OUT_EVERY = 5  # every fifth behaviour episode is held out for the gate's OPE


@dataclass(frozen=True)
class TrainingPlan:
    budget: int  # real interactions per learner
    rounds: int  # twinric: gate decisions; SB3: chunks between measurements
    updates_per_interaction: float  # twinric learner updates per new real interaction
    dynamics_updates_per_interaction: float
    gate_horizon: int
    fqe_iterations: int
    bootstrap_samples: int


@dataclass
class RoundRecord:
    interactions: int
    gate: str  # promotion / refusal / skipped (why)
    reasons: list[str] = field(default_factory=list)
    in_force: str | None = None


def _env(scenario: str | Scenario, episode_s: float) -> RanSlicingEnv:
    return RanSlicingEnv(scenario, report_period_s=REPORT_PERIOD_S, episode_s=episode_s)


class Sb3Dqn:
    """SB3 DQN on the gym; ``learn(n)`` adds n real interactions."""

    def __init__(self, scenario: str | Scenario, episode_s: float, budget: int, seed: int) -> None:
        try:
            from stable_baselines3 import DQN
        except ImportError as exc:  # a core dependency of this benchmark: fail, do not skip
            raise SystemExit(
                "stable-baselines3 is missing: ./dev installs it (pinned in constraints.txt)"
            ) from exc
        env = _env(scenario, episode_s)
        self.model = DQN(
            "MlpPolicy",
            env,
            learning_rate=5e-4,
            buffer_size=max(budget, 1_000),
            learning_starts=min(500, budget // 5),
            batch_size=64,
            train_freq=4,
            target_update_interval=500,
            exploration_fraction=0.3,
            exploration_final_eps=0.05,
            policy_kwargs={"net_arch": [128, 128]},
            seed=seed,
            device="cpu",
            verbose=0,
        )
        self.interactions = 0

    def learn(self, n: int) -> None:
        self.model.learn(total_timesteps=n, reset_num_timesteps=self.interactions == 0)
        self.interactions += n


class TwinricLearning:
    """The twin learning from the xApp's logs, with the gate deciding what the xApp acts with."""

    def __init__(self, scenario: str | Scenario, episode_s: float, plan: TrainingPlan, seed: int) -> None:
        self.scenario, self.episode_s, self.plan, self.seed = scenario, episode_s, plan, seed
        env = _env(scenario, episode_s)
        env.reset(seed=0)
        self.space, self.layout, self.mask = env.space, env.layout, env.action_masks()
        self.reference_env = env
        self.config = LearnerConfig(
            batch_size=256, sequence_length=8, conservative_weight=1.0, min_replay=256, seed=seed
        )
        self.learner = Learner(self.config, self.space, self.mask)
        obs_dim = self.learner.obs_dim
        self.trainer = EnsembleTrainer(self.space, self.layout, TrainingSettings(n_members=3, seed=seed))
        self.replay = TransitionReplay(max(plan.budget, 1_000), obs_dim)
        self.dynamics: DynamicsEnsemble | None = None
        self.held_out: list[Transition] = []
        self.promoted: PolicySnapshot | None = None
        self.candidate: PolicySnapshot | None = None
        self.interactions = 0
        self.episodes = 0
        self.rounds: list[RoundRecord] = []
        self.interventions = 0

    # --- the behaviour on the real RAN --------------------------------------------------------------
    def _log_episode(self, steps: int, advance: Callable[[int], None]) -> list[bytes]:
        """Up to ``steps`` behaviour steps of one fresh episode, as the stream's records."""
        seed = 10_000 * (self.seed + 1) + self.episodes
        self.episodes += 1
        env = _env(self.scenario, self.episode_s)
        obs, _ = env.reset(seed=seed)
        policy, shield = xapp_behaviour(env, seed)
        records: list[bytes] = []
        truncated, t = False, 0
        while not truncated and t < steps:
            d = policy.decide(obs, BEHAVIOUR, self.promoted)
            record_steer(env, shield, d.action)
            nxt, reward, _, truncated, _ = env.step(d.action)
            records.append(logged_transition(seed, t, obs, d, reward, nxt))
            self.interventions += d.intervened
            obs, t = nxt, t + 1
        advance(t)
        return records

    def round(self, interactions: int, advance: Callable[[int], None] = lambda n: None) -> RoundRecord:
        """Log ``interactions`` real steps with the behaviour in force, learn, and ask the gate."""
        left = interactions
        while left > 0:
            held = self.episodes % HELD_OUT_EVERY == HELD_OUT_EVERY - 1
            records = self._log_episode(left, advance)
            left -= len(records)
            self.interactions += len(records)
            decoded = [decode_transition(r) for r in records]
            if held:
                self.held_out += decoded
                continue
            self.learner.ingest(decoded)
            self.replay.add(TransitionBatch.from_fields([decode_transition_fields(r) for r in records]))
        for _ in range(round(self.plan.updates_per_interaction * interactions)):
            if self.learner.ready():
                self.learner.update()
        self._fit_dynamics(interactions)
        record = self._gate()
        self.rounds.append(record)
        return record

    def _fit_dynamics(self, new: int) -> None:
        data = self.replay.all()
        if len(data["step"]) < 64:
            return
        if not self.trainer.normalised:
            self.trainer.fit_normalisation(data)
        for _ in range(max(1, round(self.plan.dynamics_updates_per_interaction * new))):
            self.trainer.update(self.replay)
        held = self.held_out[-2_000:]
        if len(held) >= 16:
            self.trainer.calibrate(
                {
                    "s": np.asarray([m.s for m in held], dtype=np.float32),
                    "action": np.asarray([m.action for m in held], dtype=np.int64),
                    "s_next": np.asarray([m.s_next for m in held], dtype=np.float32),
                }
            )
        self.trainer.fit_reward(data)
        self.dynamics = self.trainer.snapshot(len(self.rounds) + 1)

    def _gate(self) -> RoundRecord:
        if not self.learner.ready() or self.learner.updates == 0:
            return RoundRecord(self.interactions, "skipped: the learner has too little data", in_force=None)
        self.candidate = self.learner.export(f"round-{len(self.rounds) + 1}")
        plan = self.plan
        settings = GateSettings(
            horizon=plan.gate_horizon,
            gamma=self.config.gamma,
            fqe_iterations=plan.fqe_iterations,
            bootstrap_samples=plan.bootstrap_samples,
            min_segments=8,
            seed=self.seed,
        )
        segments = LoggedSegments.from_transitions(self.held_out, plan.gate_horizon, self.learner.obs_dim)
        if segments.n < settings.min_segments:
            return RoundRecord(
                self.interactions, f"skipped: {segments.n} held-out segments", in_force=self._in_force()
            )
        env = self.reference_env
        gate = PromotionGate(
            settings,
            self.space,
            self.mask,
            self.dynamics,
            None,
            self.layout,
            policy_of=lambda snap: XappGreedyPolicy(snap.version, env, snap),
        )
        incumbent = XappGreedyPolicy(self._in_force() or "heuristic", env, self.promoted)
        recent = torch.as_tensor(np.asarray([m.s for m in self.held_out[-256:]], dtype=np.float32))
        record = gate.evaluate(self.candidate, segments, recent, incumbent=incumbent)
        if record.kind == "promotion":
            self.promoted = self.candidate
        return RoundRecord(self.interactions, record.kind, list(record.reasons), self._in_force())

    def _in_force(self) -> str | None:
        return self.promoted.version if self.promoted else None
