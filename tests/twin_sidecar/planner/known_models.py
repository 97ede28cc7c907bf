"""Small models whose answers are known, implementing the planner's Dynamics and QNetwork protocols.

* :class:`TabularMdp`: a deterministic MDP over one-hot observations; value iteration gives Q*.
* :class:`MlpDynamics` / :class:`MlpQ`: small random torch networks (no ties in practice), for checking
  the batched search against the plain one.
* :class:`MemberOffsetDynamics`: an "ensemble" whose member m adds m to the reward, so a test can see
  which member each plane stepped with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class TabularMdp:
    """next_state [S, A] int64, reward [S, A] float; observations are one-hot rows [B, S]."""

    next_state: Tensor
    reward: Tensor
    calls: int = 0
    on_step: Callable[[], None] | None = None

    @staticmethod
    def random(n_states: int, n_actions: int, generator: torch.Generator, dtype=torch.float64) -> TabularMdp:
        next_state = torch.randint(0, n_states, (n_states, n_actions), generator=generator)
        reward = torch.rand(n_states, n_actions, generator=generator, dtype=dtype)
        return TabularMdp(next_state, reward)

    @staticmethod
    def disjoint(mdps: list[TabularMdp]) -> TabularMdp:
        """One MDP made of several that never mix: state ``i * S + s`` is state s of the i-th, so one
        batched search can hold a plane of each."""
        n = mdps[0].n_states
        next_state = torch.cat([m.next_state + i * n for i, m in enumerate(mdps)])
        return TabularMdp(next_state, torch.cat([m.reward for m in mdps]))

    @property
    def n_states(self) -> int:
        return self.next_state.shape[0]

    def obs(self, states: Tensor) -> Tensor:
        return torch.nn.functional.one_hot(states, self.n_states).to(self.reward.dtype)

    def step(self, obs: Tensor, action: Tensor, member: Tensor | None = None) -> tuple[Tensor, Tensor]:
        self.calls += 1
        if self.on_step is not None:
            self.on_step()
        state = obs.argmax(dim=-1)
        return self.obs(self.next_state[state, action]), self.reward[state, action]

    def q_star(self, discount: float, valid: Tensor | None = None, iterations: int = 2000) -> Tensor:
        """Q* [S, A] by value iteration, maximising over ``valid`` [A] actions only."""
        valid = torch.ones(self.reward.shape[1], dtype=torch.bool) if valid is None else valid
        q = torch.zeros_like(self.reward)
        for _ in range(iterations):
            v = q.masked_fill(~valid, float("-inf")).amax(dim=-1)
            q = self.reward + discount * v[self.next_state]
        return q


class TableQ:
    """Q-network from a table: q(obs) = obs @ table [S, A]."""

    def __init__(self, table: Tensor) -> None:
        self.table = table

    def __call__(self, obs: Tensor) -> Tensor:
        return obs @ self.table


class MlpDynamics(torch.nn.Module):
    """A random two-layer dynamics: next_obs = sigmoid(f(obs, onehot(a))), reward = g(obs, a)."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: int, seed: int, dtype=torch.float64) -> None:
        super().__init__()
        torch.manual_seed(seed)  # test-only: module initialisation has no generator argument
        self.n_actions = n_actions
        self.net = torch.nn.Sequential(
            torch.nn.Linear(obs_dim + n_actions, hidden),
            torch.nn.Tanh(),
            torch.nn.Linear(hidden, obs_dim + 1),
        ).to(dtype)

    @torch.no_grad()
    def step(self, obs: Tensor, action: Tensor, member: Tensor | None = None) -> tuple[Tensor, Tensor]:
        x = torch.cat([obs, torch.nn.functional.one_hot(action, self.n_actions).to(obs.dtype)], dim=-1)
        out = self.net(x)
        return torch.sigmoid(out[:, :-1]), out[:, -1]


class MlpQ(torch.nn.Module):
    def __init__(self, obs_dim: int, n_actions: int, hidden: int, seed: int, dtype=torch.float64) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(obs_dim, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, n_actions)
        ).to(dtype)

    @torch.no_grad()
    def forward(self, obs: Tensor) -> Tensor:
        return 3.0 * self.net(obs)


class MemberOffsetDynamics:
    """Wraps a dynamics; member m adds m to the reward (None adds the mean offset of 0..n-1)."""

    def __init__(self, inner: TabularMdp, n_members: int) -> None:
        self.inner = inner
        self.n_members = n_members
        self.seen: list[Tensor | None] = []

    def step(self, obs: Tensor, action: Tensor, member: Tensor | None = None) -> tuple[Tensor, Tensor]:
        self.seen.append(None if member is None else member.clone())
        next_obs, reward = self.inner.step(obs, action)
        offset = (self.n_members - 1) / 2.0 if member is None else member.to(reward.dtype)
        return next_obs, reward + offset
