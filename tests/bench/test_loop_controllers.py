"""The headline benchmark's controllers plug in through one interface; unsafe controls from ground truth."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loop.controllers import (  # noqa: E402
    Choice,
    Controller,
    MctsPlanner,
    NoControl,
    Sb3Controller,
    XappController,
)
from bench.loop.episode import JUDGE_HORIZON, branch_loads, judge_unsafe, run_episode, true_load  # noqa: E402
from e2sim.gym import RanSlicingEnv  # noqa: E402
from ricproto.ran_space import OffsetStep  # noqa: E402
from twin_sidecar.learner import QNetwork  # noqa: E402
from twin_sidecar.planner import SearchConfig  # noqa: E402
from twin_sidecar.predictive import DynamicsEnsemble  # noqa: E402

SCENARIO = "crowd_small"


def every_controller(env: RanSlicingEnv) -> list[Controller]:
    from stable_baselines3 import DQN

    dqn = DQN("MlpPolicy", env, learning_starts=10, buffer_size=100, seed=0, device="cpu")
    q = QNetwork.for_space(env.space, (32,))
    dynamics = DynamicsEnsemble(env.space, env.layout, n_members=2, hidden=16, seed=0)
    planner = MctsPlanner(dynamics, q, 0.95, SearchConfig(num_simulations=4, max_depth=2, gumbel_scale=0.0))
    return [
        NoControl(),
        XappController("heuristic"),
        Sb3Controller("sb3", dqn),
        XappController("twinric", q.to_snapshot("untrained")),
        XappController("twinric + MCTS", q.to_snapshot("untrained"), planner),
    ]


def test_every_controller_runs_an_episode_through_the_same_interface() -> None:
    env = RanSlicingEnv(SCENARIO, episode_s=1.0)
    env.reset(seed=0)
    mask = env.action_masks()
    for controller in every_controller(env):
        log = run_episode(controller, SCENARIO, seed=3, episode_s=1.0, load_limit=0.9, warmup_s=0.0)
        assert len(log.periods) == 9, controller.name  # reset advances one period, then 9 decisions
        for p in log.periods:
            assert 0 <= p.action < env.space.n_actions
            assert p.action == 0 or mask[p.action] or controller.name == "sb3"
            assert p.cell_load.shape == (env.scenario.n_cells,)
            assert p.decision_s >= 0.0


def test_no_control_never_acts_and_the_shield_reports_what_it_replaced() -> None:
    env = RanSlicingEnv(SCENARIO, episode_s=3.0)
    obs, _ = env.reset(seed=5)
    heuristic = XappController("heuristic")
    heuristic.begin(env, 5)
    none = NoControl()
    none.begin(env, 5)
    for _ in range(20):
        c = heuristic.choose(obs)
        assert isinstance(c, Choice)
        assert c.intervened == (c.action != c.proposed)
        assert none.choose(obs) == Choice(0, 0, False)
        obs, *_ = env.step(c.action)


def test_judging_leaves_the_real_run_alone() -> None:
    a, b = RanSlicingEnv(SCENARIO, episode_s=3.0), RanSlicingEnv(SCENARIO, episode_s=3.0)
    a.reset(seed=2)
    b.reset(seed=2)
    action = a.space.encode(OffsetStep(0, 0, +1))
    for _ in range(5):
        judge_unsafe(a, action, 0.0)  # every cell is over a zero limit: both branches are run
        oa, *_ = a.step(action)
        ob, *_ = b.step(action)
        assert np.array_equal(oa, ob)
        assert np.array_equal(true_load(a), true_load(b))


def test_an_unsafe_control_is_judged_from_the_true_loads_it_causes() -> None:
    env = RanSlicingEnv(SCENARIO, episode_s=5.0)
    env.reset(seed=1)
    for _ in range(25):
        env.step(0)
    # find a control that raises some cell's true load over the no-op counterfactual
    for cell in range(env.scenario.n_cells):
        for rank in range(min(3, len(env.layout.neighbours[cell]))):
            action = env.space.encode(OffsetStep(cell, rank, +1))
            with_control = branch_loads(env, action, JUDGE_HORIZON).max(axis=0)
            without = branch_loads(env, 0, JUDGE_HORIZON).max(axis=0)
            raised = np.flatnonzero(with_control > without + 0.02)
            if raised.size:
                c = raised[0]
                # a limit between the two: this cell is over it only because of the control (cells
                # over it in both branches, e.g. crowded ones at 100 %, are nobody's doing)
                between = float((with_control[c] + without[c]) / 2)
                assert judge_unsafe(env, action, between)
                assert not judge_unsafe(env, action, float(with_control.max()) + 0.01)  # nothing over
                assert not judge_unsafe(env, 0, between)  # no-op is never unsafe
                return
    raise AssertionError("no offset step raised any cell's load: the scenario changed")


def test_the_planner_returns_a_valid_action_only() -> None:
    env = RanSlicingEnv(SCENARIO, episode_s=1.0)
    obs, _ = env.reset(seed=0)
    q = QNetwork.for_space(env.space, (32,))
    dynamics = DynamicsEnsemble(env.space, env.layout, n_members=2, hidden=16, seed=0)
    planner = MctsPlanner(dynamics, q, 0.95, SearchConfig(num_simulations=8, max_depth=2, gumbel_scale=0.0))
    valid = np.zeros(env.space.n_actions, dtype=bool)
    valid[[0, 7]] = True
    for _ in range(3):
        assert planner.action(obs, valid) in (0, 7)
    assert torch.get_num_threads() >= 1
