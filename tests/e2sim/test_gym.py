"""The Gymnasium env: env_checker, registration, determinism and actions reaching the model."""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium.utils.env_checker import check_env

from e2sim.gym import ENV_ID, RanSlicingEnv
from ricproto.ran_space import NoOp, OffsetStep, QuotaStep, RanSpace, Snssai, SteerUes


def test_env_checker_passes() -> None:
    env = RanSlicingEnv("small", episode_s=2.0)
    check_env(env, skip_render_check=True)
    assert isinstance(env.observation_space, gymnasium.spaces.Box)
    assert isinstance(env.action_space, gymnasium.spaces.Discrete)


def test_registered_and_runs_an_episode_to_truncation() -> None:
    env = gymnasium.make(ENV_ID, scenario="small", episode_s=1.0)
    obs, info = env.reset(seed=1)
    assert env.observation_space.contains(obs) and info["sim_time_s"] > 0
    steps, truncated = 0, False
    while not truncated:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert not terminated and np.isfinite(reward)
        assert env.observation_space.contains(obs)
        steps += 1
    assert steps == 9  # reset took the first 0.1 s period
    env.close()


def test_same_seed_same_trajectory() -> None:
    def trajectory(seed: int) -> list[np.ndarray]:
        env = RanSlicingEnv("small", episode_s=1.0)
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for a in [0, 5, 40, 0, 12]:
            out.append(env.step(a)[0])
        return out

    a, b, c = trajectory(4), trajectory(4), trajectory(5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_actions_reach_the_model_through_control_entry_points() -> None:
    env = RanSlicingEnv("small", episode_s=5.0)
    env.reset(seed=2)
    assert env.model is not None
    before = env.model.slice_quotas(2)[1]
    _, _, _, _, info = env.step(env.space.encode(QuotaStep(2, 1, +1)))
    assert info["control"][0].startswith("ok")
    after = env.model.slice_quotas(2)[1]
    assert after.min_ratio == before.min_ratio + 10 and after.max_ratio == before.max_ratio + 10
    # Steering: handovers are commanded and executed (serving cell becomes the neighbour).
    source = int(np.bincount(env.model.serving).argmax())
    target = env.layout.neighbours[source][0]
    on_source = set(np.flatnonzero(env.model.serving == source).tolist())
    _, _, _, _, info = env.step(env.space.encode(SteerUes(source, 0)))
    assert len(info["control"]) == env.space.steer_count and all(c.startswith("ok") for c in info["control"])
    moved = {u for u in on_source if env.model.serving[u] == target}
    assert moved  # at least one steered UE is on the target after the 50 ms execution delay
    env.step(0)
    assert isinstance(env.space.decode(0), NoOp)


def test_actions_on_padding_cells_do_nothing_and_spaces_can_be_shared() -> None:
    space = RanSpace(max_cells=57, n_neighbours=3, slices=(Snssai(1, 1), Snssai(2, 2), Snssai(3, 3)))
    env = RanSlicingEnv("small", space=space, episode_s=1.0)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (57 * space.n_features,) and not obs.reshape(57, -1)[7:].any()
    quotas = [env.model.slice_quotas(c) for c in range(7)]  # type: ignore[union-attr]
    _, _, _, _, info = env.step(space.encode(QuotaStep(30, 0, -1)))
    assert "nothing done" in info["control"][0]
    assert [env.model.slice_quotas(c) for c in range(7)] == quotas  # type: ignore[union-attr]
    mask = env.action_masks()
    assert mask.sum() == 1 + 7 * 3 + 7 * 6 + 7 * 3 * 2 and not mask[space.encode(QuotaStep(30, 0, -1))]


def test_offset_steps_reach_the_model_and_hold() -> None:
    env = RanSlicingEnv("crowd_small", episode_s=5.0)
    env.reset(seed=3)
    model = env.model
    assert model is not None and env.space.delay_budget_ms == 10.0  # the scenario's URLLC budget
    i = 0
    j = env.layout.neighbours[i][0]
    _, _, _, _, info = env.step(env.space.encode(OffsetStep(i, 0, +1)))
    assert len(info["control"]) == 2 and all(c.startswith("ok") for c in info["control"])
    assert (model.cell_offset(i, j), model.cell_offset(j, i)) == (2, -2)
    for _ in range(6):
        env.step(env.space.encode(OffsetStep(i, 0, +1)))
    assert (model.cell_offset(i, j), model.cell_offset(j, i)) == (8, -8)  # the space's limit
    env.step(env.space.encode(OffsetStep(i, 0, -1)))
    assert (model.cell_offset(i, j), model.cell_offset(j, i)) == (6, -6)
    env.step(0)
    assert (model.cell_offset(i, j), model.cell_offset(j, i)) == (6, -6)  # no-op keeps it


def test_observation_carries_the_objective_from_kpm() -> None:
    env = RanSlicingEnv("crowd_small", episode_s=5.0)
    obs, _ = env.reset(seed=1)
    for _ in range(10):
        obs, reward, *_ = env.step(0)
    space = env.space
    rows = obs.reshape(space.max_cells, space.n_features)
    obj = space.objective_column
    assert rows[:, obj].sum() > 0 and rows[:, obj + 2].sum() > 0  # eMBB and URLLC samples
    assert (rows[rows[:, obj] > 0, obj + 1] > 0).all()  # a p5 wherever eMBB UEs were sampled
    assert reward == space.reward(obs)
    assert np.isfinite(space.embb_p5(rows)) and 0 <= space.urllc_over_budget(rows) <= 1


def test_a_stable_baselines3_agent_trains_on_it(tmp_path) -> None:
    """The offline-training promise: an off-the-shelf SB3 PPO runs rollouts and gradient updates here."""
    from stable_baselines3 import PPO

    env = RanSlicingEnv("small", episode_s=2.0)
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=3, device="cpu", verbose=0)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=128)
    assert model.num_timesteps >= 128
    assert any(not (a == b.detach()).all() for a, b in zip(before, model.policy.parameters(), strict=True))
    model.save(tmp_path / "ppo")
    restored = PPO.load(tmp_path / "ppo", device="cpu")
    obs, _ = env.reset(seed=1)
    action, _ = restored.predict(obs, deterministic=True)
    assert env.action_space.contains(int(action))
