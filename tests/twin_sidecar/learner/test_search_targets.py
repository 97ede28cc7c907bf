"""Search-derived policy targets on small known models: the improved policy points where the model's
lookahead says (not where a wrong prior does), masked actions get no weight, the same generator
gives the same targets; distillation moves Q's greedy action to the target's; switched on in the
learner's config, the targets change what the learner learns, and for the better on a known MDP."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from known_mdp import SPACE, KnownMdp

from twin_sidecar.learner import Learner, LearnerConfig
from twin_sidecar.learner.search_targets import distillation_loss, search_policy_targets

S, A, GAMMA = 6, 5, 0.9
SMALL = {
    "hidden": (64,),
    "learning_rate": 1e-3,
    "batch_size": 64,
    "sequence_length": 4,
    "min_replay": 200,
    "target_update_interval": 100,
}


class ExpectedPlanes:
    """The known MDP as plane dynamics: its most likely next state and its expected reward."""

    def __init__(self, mdp: KnownMdp) -> None:
        self.mdp = mdp

    def step(self, obs: torch.Tensor, action: torch.Tensor, member: torch.Tensor | None = None):
        s = self.mdp.state_of(obs).numpy()
        a = action.numpy()
        s2 = self.mdp.P[s, a].argmax(-1)
        return torch.from_numpy(self.mdp.obs(s2)), torch.from_numpy(self.mdp.R[s, a].astype(np.float32))


def greedy_value(learner: Learner, mdp: KnownMdp) -> float:
    """Exact value of the learner's greedy policy over the allowed actions, averaged over states."""
    with torch.no_grad():
        q = learner.q(torch.from_numpy(mdp.obs(np.arange(mdp.n_states)))).numpy()
    return float(mdp.policy_values(mdp.greedy(q)).mean())


class DeterministicMdp:
    """next_state [S, A], reward [S, A]; one-hot observations; Q* by value iteration."""

    def __init__(self, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.next_state = torch.randint(1, S, (S, A), generator=gen)  # state 0 is never re-entered
        self.reward = torch.rand(S, A, generator=gen)

    def obs(self, states: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.one_hot(states, S).float()

    def step(self, obs, action, member=None):
        s = obs.argmax(-1)
        return self.obs(self.next_state[s, action]), self.reward[s, action]

    def q_star(self, mask: torch.Tensor) -> torch.Tensor:
        q = torch.zeros(S, A)
        for _ in range(500):
            q = self.reward + GAMMA * q.masked_fill(~mask, float("-inf")).amax(-1)[self.next_state]
        return q


class TableQ:
    def __init__(self, table: torch.Tensor) -> None:
        self.table = table

    def __call__(self, obs: torch.Tensor) -> torch.Tensor:
        return obs @ self.table


def targets_for(model, table, mask, seed, **overrides):
    kwargs = {
        "simulations": 16,
        "max_depth": 4,
        "discount": GAMMA,
        "temperature": 1.0,
        "max_considered_actions": 8,
    }
    kwargs.update(overrides)
    out, _ = search_policy_targets(
        model,
        TableQ(table),
        model.obs(torch.tensor([0])),
        mask,
        generator=torch.Generator().manual_seed(seed),
        **kwargs,
    )
    return out[0]


def test_the_improved_policy_follows_the_models_lookahead_not_a_wrong_prior() -> None:
    model = DeterministicMdp(seed=3)  # a clear best action at state 0 (gaps of 0.4 and more)
    mask = torch.tensor([True, True, True, True, False])
    q_star = model.q_star(mask)
    table = q_star.clone()
    table[0] = -q_star[0]  # the Q-network is wrong at the root only: its prior points at the worst action
    best = int(q_star[0].masked_fill(~mask, float("-inf")).argmax())
    prior_best = int(table[0].masked_fill(~mask, float("-inf")).argmax())
    assert best != prior_best
    target = targets_for(model, table, mask, seed=0)
    assert int(target.argmax()) == best
    assert target[4] == 0.0 and float(target.sum()) == pytest.approx(1.0, abs=1e-5)
    # the prior keeps some say: the improved policy still gives the prior's favourite some weight
    assert 0.0 < float(target[prior_best]) < float(target[best])
    assert torch.equal(target, targets_for(model, table, mask, seed=0))


def test_distillation_moves_the_greedy_action_to_the_targets_and_leaves_masked_actions() -> None:
    mask = torch.tensor([True, True, True, True, False])
    q = torch.zeros(2, A, requires_grad=True)
    targets = torch.tensor([[0.0, 0.0, 0.9, 0.1, 0.0], [0.7, 0.1, 0.1, 0.1, 0.0]])
    opt = torch.optim.SGD([q], lr=0.5)
    before = float(distillation_loss(q, targets, mask, 1.0).detach())
    for _ in range(200):
        opt.zero_grad()
        loss = distillation_loss(q, targets, mask, 1.0)
        loss.backward()
        opt.step()
    assert float(loss.detach()) < before
    assert q.detach().masked_fill(~mask, float("-inf")).argmax(-1).tolist() == [2, 0]
    assert (q.detach()[:, 4] == 0.0).all()  # no gradient reaches a masked action


def test_the_learner_needs_dynamics_and_reports_the_search_loss() -> None:
    mdp = KnownMdp.random(seed=0)
    with pytest.raises(ValueError, match="plane dynamics"):
        Learner(LearnerConfig(**SMALL, search_targets=True), SPACE, mdp.mask)
    learner = Learner(
        LearnerConfig(**SMALL, search_targets=True), SPACE, mdp.mask, dynamics=ExpectedPlanes(mdp)
    )
    learner.ingest(mdp.log(mdp.epsilon_soft(np.zeros_like(mdp.R), 1.0), 300, 100, seed=6))
    diag = learner.update()
    assert diag.search_loss > 0.0
    plain = Learner(LearnerConfig(**SMALL), SPACE, mdp.mask)
    plain.ingest(mdp.log(mdp.epsilon_soft(np.zeros_like(mdp.R), 1.0), 300, 100, seed=6))
    assert plain.update().search_loss == 0.0


def test_search_targets_improve_the_greedy_policy_where_the_log_is_narrow() -> None:
    # The behaviour only takes actions 0 and 1: TD says nothing about the others, whose Q is whatever
    # the network extrapolates. The search sees every allowed action through the model and the
    # distillation reorders them; the greedy policy of the learner with targets is worth more.
    mdp = KnownMdp.random(seed=0)
    behaviour = np.zeros_like(mdp.R)
    behaviour[:, :2] = 0.5
    data = mdp.log(behaviour, 3000, 100, seed=7)

    def value_after_training(search: bool) -> float:
        cfg = LearnerConfig(**SMALL, gamma=mdp.gamma, search_targets=search, search_simulations=8)
        learner = Learner(cfg, SPACE, mdp.mask, dynamics=ExpectedPlanes(mdp))
        learner.ingest(data)
        for _ in range(300):
            learner.update()
        return greedy_value(learner, mdp)

    plain, searched = value_after_training(False), value_after_training(True)
    print(f"greedy value: plain {plain:.4f}, with search targets {searched:.4f}")
    v_star = float(mdp.policy_values(mdp.greedy(mdp.optimal_q())).mean())
    assert searched > plain, (searched, plain, v_star)
