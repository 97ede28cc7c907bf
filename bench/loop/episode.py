"""One measured episode of a controller on ``e2sim.gym``, and the ground-truth judge of unsafe controls.

The benchmark, and only the benchmark, reads the simulator's internals: the per-UE counters
(``bench/ue_outcomes.py``), each cell's true PRB load and every UE's serving cell. A control is
*unsafe* when it brings a cell over the A1 cell load limit: the env is cloned before the control
(``bench/oracle.clone_env``: the random generator too, so both branches see the same fading, arrivals
and mobility) and run ``horizon`` periods with the control then no-ops, and with no-ops only; the
control is unsafe if some cell exceeds the limit in the first branch and not in the second
(``metrics.caused_overload``). The horizon covers A3's time to trigger plus the handover's execution,
so an offset step's effect is seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from bench.loop.controllers import Controller
from bench.loop.metrics import EpisodeLog, PeriodOutcome, caused_overload
from bench.oracle import clone_env
from bench.ue_outcomes import ue_outcomes
from e2sim.gym import RanSlicingEnv
from e2sim.scenario import Scenario

REPORT_PERIOD_S = 0.1
JUDGE_HORIZON = 3  # periods: 160 ms time to trigger + 50 ms execution, then the load it brings


def true_load(env: RanSlicingEnv) -> np.ndarray:
    """Each cell's DL PRB load in [0, 1] over the env's last period (ground truth)."""
    assert env.model is not None and env._period is not None
    cell, _ = env.model.cell_table(env._period)
    return np.asarray(cell["RRU.PrbTotDl"], dtype=np.float64) / 100.0


def branch_loads(env: RanSlicingEnv, first: int, horizon: int) -> np.ndarray:
    """[horizon, C] true loads of a clone of ``env`` stepped with ``first`` then no-ops."""
    clone = clone_env(env)
    out = []
    for k in range(horizon):
        clone.step(first if k == 0 else 0)
        out.append(true_load(clone))
    return np.stack(out)


def judge_unsafe(env: RanSlicingEnv, action: int, limit: float, horizon: int = JUDGE_HORIZON) -> bool:
    """Whether executing ``action`` now brings a cell over ``limit`` (against the no-op counterfactual)."""
    if action == 0:
        return False
    with_control = branch_loads(env, action, horizon)
    if not (with_control > limit).any():
        return False  # nothing over the limit: no counterfactual needed
    return caused_overload(with_control, branch_loads(env, 0, horizon), limit)


def run_episode(
    controller: Controller,
    scenario: str | Scenario,
    seed: int,
    episode_s: float,
    load_limit: float,
    warmup_s: float = 2.0,
    judge: bool = True,
    advance: Callable[[], None] = lambda: None,
) -> EpisodeLog:
    """Run ``controller`` for one episode; every period's ground truth goes into the log."""
    env = RanSlicingEnv(scenario, report_period_s=REPORT_PERIOD_S, episode_s=episode_s)
    obs, _ = env.reset(seed=seed)
    controller.begin(env, seed)
    log = EpisodeLog(warmup_s=warmup_s)
    truncated = False
    while not truncated:
        started = time.perf_counter()
        choice = controller.choose(obs)
        decision_s = time.perf_counter() - started
        unsafe = judge and judge_unsafe(env, choice.action, load_limit)
        obs, reward, _, truncated, _ = env.step(choice.action)
        model, period = env.model, env._period
        assert model is not None and period is not None
        out = ue_outcomes(model, period)
        log.add(
            PeriodOutcome(
                time_s=model.now_s,
                action=choice.action,
                intervened=choice.intervened,
                unsafe=unsafe,
                decision_s=decision_s,
                reward=float(reward),
                embb_thp_kbps=out.embb_thp_kbps,
                urllc_late=out.urllc_late,
                cell_load=true_load(env),
                serving=model.serving.copy(),
                cell_active=np.asarray(model.cell_active, dtype=bool).copy(),
            )
        )
        advance()
    return log


def episode_return(controller: Controller, scenario: str | Scenario, seed: int, episode_s: float) -> float:
    """The gym return of one episode (no ground-truth reading: for learning curves)."""
    env = RanSlicingEnv(scenario, report_period_s=REPORT_PERIOD_S, episode_s=episode_s)
    obs, _ = env.reset(seed=seed)
    controller.begin(env, seed)
    total, truncated = 0.0, False
    while not truncated:
        obs, reward, _, truncated, _ = env.step(controller.choose(obs).action)
        total += float(reward)
    return total
