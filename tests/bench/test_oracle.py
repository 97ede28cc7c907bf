"""The oracle: lookahead on clones leaves the real run alone, and finds the one right answer."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.oracle import Oracle, OracleConfig, clone_env  # noqa: E402
from bench.ue_outcomes import ue_outcomes  # noqa: E402
from e2sim.gym import RanSlicingEnv  # noqa: E402
from e2sim.scenario import parse_scenario  # noqa: E402
from ricproto.ran_space import QuotaStep  # noqa: E402

ACTIONS = [0, 5, 40, 70, 0, 12, 90, 3]  # steer, quota and offset steps of crowd_small's space


def trajectory(with_queries: bool) -> tuple[list[np.ndarray], RanSlicingEnv]:
    env = RanSlicingEnv("crowd_small", episode_s=5.0)
    obs, _ = env.reset(seed=4)
    oracle = Oracle(OracleConfig(horizon_periods=2, focus_cells=1))
    out = [obs]
    for action in ACTIONS:
        if with_queries:
            oracle.act(env)  # clones stepped for seconds of simulated time, then thrown away
            clone_env(env).step(action)
        out.append(env.step(action)[0])
    return out, env


def test_lookahead_queries_do_not_disturb_the_real_trajectory() -> None:
    quiet, a = trajectory(False)
    queried, b = trajectory(True)
    assert all(np.array_equal(x, y) for x, y in zip(quiet, queried, strict=True))
    assert a.model is not None and b.model is not None
    assert np.array_equal(a.model.serving, b.model.serving)
    assert np.array_equal(a.model.sums.ue_arr, b.model.sums.ue_arr)
    assert a.model.rng.bit_generator.state == b.model.rng.bit_generator.state


def test_a_clone_is_a_true_copy_that_diverges_only_by_its_own_actions() -> None:
    env = RanSlicingEnv("crowd_small", episode_s=5.0)
    env.reset(seed=1)
    twin, same = clone_env(env), clone_env(env)
    assert twin.model is not env.model and twin.model.rng is not env.model.rng  # type: ignore[union-attr]
    for _ in range(3):
        twin.step(0)
        same.step(0)
    assert np.array_equal(twin.model.sums.cell_arr, same.model.sums.cell_arr)  # type: ignore[union-attr]
    assert env.model.now_s < twin.model.now_s  # type: ignore[union-attr]


def urllc_squeezed_by_its_cap() -> dict:
    """One cell: full-buffer eMBB takes every PRB it may, and the URLLC slice, capped at 20 % of the
    PRBs, is offered a little more than that, so its packets queue past their 10 ms budget. The one right
    move: raise the URLLC quota (its minimum and cap); eMBB steps, lowering it or doing nothing leave
    URLLC late, and there is no neighbour to move anyone to."""
    return {
        "name": "one-right-answer",
        "seed": 1,
        "step_ms": 20,
        "topology": {"sites": 1, "sectors": 1, "isd_m": 400, "tx_power_dbm": 43, "bandwidth_mhz": 20},
        "channel": {"shadowing_sigma_db": 0, "fast_fading": False},
        "slices": [
            {
                "name": "embb",
                "sst": 1,
                "sd": 1,
                "share": 0.5,
                "quota": {"min": 50, "max": 100, "dedicated": 0},
                "traffic": {"kind": "full_buffer"},
                "mobility": {"kind": "static"},
            },
            {
                "name": "urllc",
                "sst": 2,
                "sd": 2,
                "share": 0.5,
                "scheduler": "rr",
                "quota": {"min": 10, "max": 20, "dedicated": 0},
                "traffic": {"kind": "cbr", "rate_bps": 2.0e6},
                "mobility": {"kind": "static"},
                "delay_budget_ms": 10,
            },
        ],
        "ues": {"count": 12, "buffer_bytes": 20000},
    }


def test_on_a_scenario_with_one_right_answer_the_oracle_finds_it() -> None:
    scenario = parse_scenario(urllc_squeezed_by_its_cap())
    env = RanSlicingEnv(scenario, episode_s=5.0)
    env.reset(seed=0)
    env.step(0)  # decide before the queues grow beyond what three periods could drain
    model = env.model
    assert model is not None and env._period is not None
    assert ue_outcomes(model, env._period).urllc_late.mean() > 0.5  # most URLLC UEs are late
    oracle = Oracle(OracleConfig(horizon_periods=3, focus_cells=1))
    candidates = oracle.candidates(env)
    right = env.space.encode(QuotaStep(0, 1, +1))
    assert right in candidates and len(candidates) > 3
    values = {a: oracle.evaluate(env, a) for a in candidates}
    assert oracle.act(env) == right
    assert values[right] > max(v for a, v in values.items() if a != right)
    env.step(right)
    for _ in range(3):
        env.step(0)
    assert model.slice_quotas(0)[1].max_ratio == 30
    assert ue_outcomes(model, env._period).urllc_late.mean() < 0.5  # type: ignore[arg-type]
