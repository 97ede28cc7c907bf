"""The behaviour policy: greedy values (promoted snapshot, planner or heuristic) + exploration + shield.

``decide`` is the numpy-light hot path: one MLP evaluation (or a planner answer already in hand),
one distribution, one draw, one vectorised shield check. The logged ``mu`` is the probability of the
action actually taken under the shielded behaviour distribution, which is what off-policy
corrections need when the shield can replace an action by no-op.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ricproto.policy_snapshot import PolicySnapshot
from ricproto.ran_space import RanSpace
from ricproto.transition import ActionSource
from xapps.control.control_policy import ControlSettings
from xapps.control.exploration import behaviour_distribution, draw
from xapps.control.heuristic import HeuristicBalancer
from xapps.control.shield import ActionShield, shielded_distribution

HEURISTIC_VERSION = "heuristic"


@dataclass(frozen=True)
class Decision:
    action: int  # acted on (after the shield)
    proposed: int  # drawn from the behaviour distribution, before the shield
    mu: float  # shielded behaviour probability of `action`
    mu_all: np.ndarray  # shielded behaviour distribution
    source: int  # ricproto.transition.ActionSource value
    policy_version: str
    intervened: bool
    intervention_reason: str


class BehaviorPolicy:
    def __init__(
        self,
        space: RanSpace,
        shield: ActionShield,
        heuristic: HeuristicBalancer,
        mask: np.ndarray,
        seed: int | None = None,
    ) -> None:
        self.space = space
        self.shield = shield
        self.heuristic = heuristic
        self.mask = np.asarray(mask, dtype=bool)
        self.rng = np.random.default_rng(seed)

    def reward(self, obs: np.ndarray, settings: ControlSettings) -> float:
        """Reward intervention: ran_space's reward with the A1 objective weights (throughput, eMBB p5,
        load imbalance, URLLC delay-budget violations); with the default weights it is the gym's."""
        space = dataclasses.replace(
            self.space,
            imbalance_weight=settings.imbalance_weight,
            p5_weight=settings.p5_weight,
            sla_weight=settings.sla_weight,
        )
        base = space.reward(obs)
        if settings.throughput_weight == 1.0:
            return base
        rows = np.asarray(obs, dtype=np.float64).reshape(space.max_cells, space.n_features)
        present = rows[:, 0] > 0.5
        thp = float(rows[present, 2].mean()) if present.any() else 0.0
        return base + (settings.throughput_weight - 1.0) * thp

    def decide(
        self,
        obs: np.ndarray,
        settings: ControlSettings,
        snapshot: PolicySnapshot | None,
        *,
        policy_obs: np.ndarray | None = None,
        predicted_load: np.ndarray | None = None,
        planned_action: int | None = None,
    ) -> Decision:
        """Choose an action for ``obs``; ``policy_obs`` is what the policy sees (state intervention)."""
        seen = obs if policy_obs is None else policy_obs
        if planned_action is not None and 0 <= planned_action < self.space.n_actions:
            values = np.zeros(self.space.n_actions)
            values[planned_action] = 1.0
            source, version = ActionSource.PLANNER, snapshot.version if snapshot else HEURISTIC_VERSION
        elif snapshot is not None:
            values = snapshot.action_values(seen)
            source, version = ActionSource.PROMOTED_POLICY, snapshot.version
        else:
            values = self.heuristic.action_values(seen)
            source, version = ActionSource.HEURISTIC, HEURISTIC_VERSION
        mu = behaviour_distribution(values, self.mask, settings.exploration)
        proposed = draw(mu, self.rng)
        verdict = self.shield.verdict(obs, settings.cell_load_limit, predicted_load)
        effective = shielded_distribution(mu, verdict.allowed)
        action = proposed if verdict.allowed[proposed] else 0
        return Decision(
            action,
            proposed,
            float(effective[action]),
            effective,
            int(source),
            version,
            action != proposed,
            verdict.reasons.get(proposed, ""),
        )
