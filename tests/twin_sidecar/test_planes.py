"""Virtual planes: stepped with a known model they give the known result (a hand-written dynamics,
and the torch ensemble with weights set by hand); rollouts have the documented shapes."""

from __future__ import annotations

import pytest
import torch

from twin_sidecar.planes import MEAN, PlaneStore, PlaneStoreFull, create_planes, rollout, step_planes
from twin_sidecar.predictive.ensemble import DynamicsEnsemble


class AddAction:
    """Known dynamics: every value grows by 0.01 x action (member m adds m x 0.001 more); reward =
    the mean of the next observation."""

    n_members, obs_dim, n_actions = 3, 4, 10

    def step(self, obs, action, member=None):
        extra = torch.zeros(obs.shape[0]) if member is None else member.to(torch.float32) * 0.001
        nxt = obs + (0.01 * action.to(torch.float32) + extra)[:, None]
        return nxt, nxt.mean(1)

    def uncertainty(self, obs, action):
        return self.step(obs, action)[0], torch.zeros_like(obs)


def test_planes_step_with_a_known_model() -> None:
    dyn = AddAction()
    planes = create_planes(torch.zeros(4), 3, members=torch.tensor([MEAN, 0, 2]), n_members=3)
    new, reward = step_planes(dyn, planes, torch.tensor([1, 2, 3]))
    assert torch.allclose(new.obs[:, 0], torch.tensor([0.01, 0.02, 0.032]))
    assert torch.allclose(reward, torch.tensor([0.01, 0.02, 0.032]))
    assert new.steps.tolist() == [1, 1, 1] and torch.allclose(new.total_reward, reward)
    assert torch.equal(planes.obs, torch.zeros(3, 4))  # pure: the input planes are untouched
    traj = rollout(dyn, planes, lambda obs: torch.full((obs.shape[0],), 5), horizon=4)
    assert traj.obs.shape == (5, 3, 4) and traj.action.shape == (4, 3) and traj.reward.shape == (4, 3)
    assert torch.allclose(traj.obs[-1, 0], torch.full((4,), 0.2))  # 4 steps x 0.05
    assert torch.allclose(traj.obs[-1, 2], torch.full((4,), 0.2 + 4 * 0.002))
    with pytest.raises(ValueError, match="one action per plane"):
        step_planes(dyn, planes, torch.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"0\.\.9"):
        step_planes(dyn, planes, torch.tensor([1, 2, 10]))


def test_ensemble_with_known_weights(cfg) -> None:
    """Weights zero, last-layer bias per member: member m predicts a change of (m + 1) * 0.01 on
    every feature; the mean predicts their average; cells beyond the layout stay zero."""
    space, layout = cfg.space, cfg.layout
    model = DynamicsEnsemble(space, layout, n_members=3, hidden=8, layers=1)
    with torch.no_grad():
        for w in model.weights:
            w.zero_()
        for b in model.biases:
            b.zero_()
        f = space.n_features
        for m in range(3):
            model.biases[-1][m, 0, :f] = (m + 1) * 0.01
    obs = torch.full((2, model.obs_dim), 0.5)
    action = torch.tensor([0, 3])
    mean, reward = model.step(obs, action)
    assert torch.allclose(mean, torch.full_like(mean, 0.52))
    m2, _ = model.step(obs, action, torch.tensor([2, 0]))
    assert torch.allclose(m2[0], torch.full_like(m2[0], 0.53)) and torch.allclose(
        m2[1], torch.full_like(m2[1], 0.51)
    )
    # reward of the next observation as RanSpace scores it (no load spread: the mean throughput)
    assert torch.allclose(reward, torch.tensor([space.reward(mean[0].numpy())] * 2, dtype=torch.float32))
    near_one = torch.full((1, model.obs_dim), 0.995)
    assert float(model.step(near_one, torch.tensor([0]))[0].max()) == 1.0  # clipped
    planes = create_planes(obs[0], 4, members="cycle", n_members=3)
    new, _ = step_planes(model, planes, torch.zeros(4, dtype=torch.long))
    assert [round(float(x), 4) for x in new.obs[:, 0]] == [0.51, 0.52, 0.53, 0.51]
    mean_u, std = model.uncertainty(obs, action)
    assert torch.allclose(mean_u, mean) and bool((std > 0).all())


def test_plane_store_bounds_and_expiry() -> None:
    store = PlaneStore(max_planes=5, ttl_s=60)
    a = store.add(create_planes(torch.zeros(2), 3), "now", 1)
    with pytest.raises(PlaneStoreFull):
        store.add(create_planes(torch.zeros(2), 3), "now", 1)
    assert store.get(a.id) is a and store.drop(a.id) and store.get(a.id) is None
    store.ttl_s = 0.0
    b = store.add(create_planes(torch.zeros(2), 2), "now", 1)
    store.add(create_planes(torch.zeros(2), 1), "now", 1)  # expires the idle one
    assert store.get(b.id) is None
