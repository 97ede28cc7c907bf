"""Every hyper-parameter of the target-policy learner, in one typed, frozen config."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

TargetKind = Literal["retrace", "vtrace"]


@dataclass(frozen=True)
class LearnerConfig:
    # --- the Q-network ------------------------------------------------------------------------
    hidden: tuple[int, ...] = (128, 128)  # hidden layer widths (ReLU); in/out come from the RanSpace
    learning_rate: float = 3e-4  # Adam
    adam_eps: float = 1e-5
    max_grad_norm: float = 10.0
    huber_delta: float = 1.0  # smooth-L1 on the TD error
    # CQL(H) term alpha * (logsumexp_a Q(s, a) - Q(s, a_logged)); 0 = off. Logs of a near-deterministic
    # behaviour (the xApp's default epsilon 0.1) need it, or Q extrapolates to actions never tried;
    # it also pulls the greedy policy towards the behaviour, so it costs when the behaviour is poor.
    conservative_weight: float = 0.0

    # --- the return ---------------------------------------------------------------------------
    gamma: float = 0.95
    target: TargetKind = "retrace"  # multi-step off-policy correction
    retrace_lambda: float = 0.95  # Retrace trace c_t = lambda * min(1, pi/mu)
    vtrace_rho_bar: float = 1.0  # V-trace truncation of the TD-error weight
    vtrace_c_bar: float = 1.0  # V-trace truncation of the trace
    target_epsilon: float = 0.0  # the target policy pi: epsilon-greedy over the masked Q (0 = greedy)
    double_q: bool = True  # pi at s' from the online net, its value from the target net
    target_update_interval: int = 250  # updates between target-network refreshes
    target_tau: float = 1.0  # 1.0 = hard copy, < 1 = Polyak averaging at each refresh
    mu_floor: float = 1e-6  # logged mu below this is clamped (a logged action had mu > 0 by construction)

    # --- replay -------------------------------------------------------------------------------
    replay_capacity: int = 100_000  # steps
    batch_size: int = 256  # steps per update = sequences x sequence_length
    sequence_length: int = 8  # consecutive steps per sampled sequence
    min_replay: int = 1_000  # steps stored before the first update
    prioritized: bool = False  # uniform when False
    priority_alpha: float = 0.6
    priority_beta: float = 0.4
    priority_eta: float = 0.9  # sequence priority = eta * max|td| + (1 - eta) * mean|td| (R2D2)
    priority_eps: float = 1e-3

    # --- Dyna-style rollouts on the twin's planes (off for the honest comparison) ---------------
    dyna_ratio: float = 0.0  # fraction of each batch's sequences rolled out through the dynamics
    dyna_epsilon: float = 0.3  # rollout policy: epsilon-greedy around the target policy
    dyna_members: int = 0  # ensemble members to draw from per rollout (0 = ensemble mean)

    # --- search-derived policy targets (Gumbel MuZero) on the twin's planes (off by default) --------
    # Each update plans from the first state of every logged sequence and adds the cross-entropy from
    # softmax(Q / search_temperature) to the search's improved policy (learner/search_targets.py).
    search_targets: bool = False
    search_weight: float = 1.0
    search_simulations: int = 16
    search_depth: int = 4
    search_temperature: float = 0.1  # Q read as a policy: softmax(Q / T); also the search's prior
    search_considered: int = 8  # root actions sequential halving starts from
    search_members: int = 0  # ensemble members to draw one from per plane (0 = ensemble mean)

    seed: int = 0

    def __post_init__(self) -> None:
        if self.batch_size % self.sequence_length:
            raise ValueError(
                f"batch_size {self.batch_size} must be a multiple of sequence_length {self.sequence_length}"
            )
        if not 0.0 <= self.gamma < 1.0:
            raise ValueError("gamma must be in [0, 1)")
        if not 0.0 <= self.retrace_lambda <= 1.0:
            raise ValueError("retrace_lambda must be in [0, 1]")
        if not 0.0 <= self.dyna_ratio < 1.0:
            raise ValueError("dyna_ratio must be in [0, 1): real data is always part of a batch")
        if not 0.0 <= self.target_epsilon <= 1.0 or not 0.0 <= self.dyna_epsilon <= 1.0:
            raise ValueError("epsilons must be in [0, 1]")
        if not 0.0 < self.target_tau <= 1.0:
            raise ValueError("target_tau must be in (0, 1]")
        if self.replay_capacity < self.min_replay or self.min_replay < self.sequence_length:
            raise ValueError("need sequence_length <= min_replay <= replay_capacity")
        if self.search_simulations < 1 or self.search_depth < 1 or self.search_considered < 1:
            raise ValueError("search_simulations, search_depth and search_considered must be >= 1")
        if self.search_temperature <= 0.0 or self.search_weight < 0.0:
            raise ValueError("search_temperature must be > 0 and search_weight >= 0")
        if self.target not in ("retrace", "vtrace"):
            raise ValueError(f"unknown target {self.target!r}")

    @property
    def n_sequences(self) -> int:
        return self.batch_size // self.sequence_length

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LearnerConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown learner settings: {sorted(unknown)}")
        v = dict(values)
        if "hidden" in v:
            v["hidden"] = tuple(int(h) for h in v["hidden"])
        return cls(**v)
