"""The behaviour policy: which source acts, mu of the taken action, shield interventions, reward."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ricproto.policy_snapshot import random_snapshot
from ricproto.ran_space import OffsetStep
from ricproto.transition import ActionSource
from xapps.control.behavior import BehaviorPolicy
from xapps.control.control_policy import ControlSettings, Exploration
from xapps.control.heuristic import HeuristicBalancer
from xapps.control.shield import ActionShield


def policy(inventory, seed=0):
    space, layout = inventory.space, inventory.layout
    return BehaviorPolicy(
        space,
        ActionShield(space, layout),
        HeuristicBalancer(space, layout),
        space.action_mask(layout),
        seed=seed,
    )


def observation(inventory, loads):
    space = inventory.space
    rows = np.zeros((space.max_cells, space.n_features), dtype=np.float32)
    rows[:, 0] = 1
    rows[:, 1] = loads
    rows[:, 2] = 0.5
    rows[:, 3] = 0.2
    return rows.reshape(-1)


def test_snapshot_acts_and_mu_is_logged(inventory):
    bp = policy(inventory)
    space = inventory.space
    snap = random_snapshot("v1", [space.max_cells * space.n_features, 32, space.n_actions], seed=2)
    obs = observation(inventory, [0.3] * 7)
    settings = ControlSettings(exploration=Exploration("epsilon_greedy", 0.3), cell_load_limit=1.0)
    d = bp.decide(obs, settings, snap)
    assert d.source == ActionSource.PROMOTED_POLICY and d.policy_version == "v1"
    assert d.mu == pytest.approx(d.mu_all[d.action]) and d.mu_all.sum() == pytest.approx(1.0)
    assert not d.intervened


def test_without_snapshot_the_heuristic_acts(inventory):
    bp = policy(inventory)
    obs = observation(inventory, [0.2, 0.9, 0.2, 0.2, 0.2, 0.2, 0.2])
    d = bp.decide(obs, ControlSettings(exploration=Exploration("none"), cell_load_limit=1.0), None)
    assert d.source == ActionSource.HEURISTIC and d.policy_version == "heuristic"
    decoded = inventory.space.decode(d.action)
    # the balancer moves load off cell 1 with the lever that holds (an offset step), issue 20
    assert isinstance(decoded, OffsetStep) and decoded.cell_index == 1 and decoded.direction == 1
    assert d.mu == 1.0


def test_shield_replaces_overload_action_by_noop_and_mu_accounts_for_it(inventory):
    bp = policy(inventory)
    # cell 1 overloaded, neighbours nearly at the limit: the heuristic proposes a steer the shield mutes
    obs = observation(inventory, [0.75, 0.99, 0.75, 0.75, 0.75, 0.75, 0.75])
    settings = ControlSettings(exploration=Exploration("none"), cell_load_limit=0.8)
    d = bp.decide(obs, settings, None)
    assert d.intervened and d.action == 0 and d.proposed != 0
    assert d.intervention_reason.startswith("overload") and "0.80" in d.intervention_reason
    assert d.mu == pytest.approx(1.0)  # all behaviour mass of the muted action lands on no-op


def test_planned_action_wins(inventory):
    bp = policy(inventory)
    obs = observation(inventory, [0.3] * 7)
    d = bp.decide(
        obs, ControlSettings(exploration=Exploration("none"), cell_load_limit=1.0), None, planned_action=5
    )
    assert d.source == ActionSource.PLANNER and d.action == 5


def test_reward_intervention_penalises_imbalance_with_a1_weight(inventory):
    bp = policy(inventory)
    balanced = observation(inventory, [0.5] * 7)
    skewed = observation(inventory, [0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.5])
    s = ControlSettings()
    assert bp.reward(balanced, s) > bp.reward(skewed, s)
    heavier = dataclasses.replace(s, imbalance_weight=2.0)
    assert bp.reward(skewed, heavier) < bp.reward(skewed, s)
    assert bp.reward(balanced, heavier) == pytest.approx(bp.reward(balanced, s))


def test_reward_matches_the_gym_and_weighs_the_objective_with_a1_weights(inventory):
    bp = policy(inventory)
    space = inventory.space
    obj = space.objective_column
    rows = np.zeros((space.max_cells, space.n_features), dtype=np.float32)
    rows[:, 0], rows[:, 1], rows[:, 2] = 1, 0.6, 0.5
    rows[:, obj], rows[:, obj + 1] = 0.1, 0.4  # eMBB samples and their p5 feature
    rows[:, obj + 2], rows[:, obj + 3] = 0.05, 0.2  # URLLC samples, 20 % over budget
    obs = rows.reshape(-1)
    s = ControlSettings()
    assert bp.reward(obs, s) == pytest.approx(space.reward(obs))  # the default weights are the gym's
    more_p5 = dataclasses.replace(s, p5_weight=2.0)
    assert bp.reward(obs, more_p5) == pytest.approx(bp.reward(obs, s) + 0.4, rel=1e-5)
    stricter = dataclasses.replace(s, sla_weight=3.0)
    assert bp.reward(obs, stricter) == pytest.approx(bp.reward(obs, s) - 2 * 0.2, rel=1e-5)
