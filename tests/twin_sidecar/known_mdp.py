"""A small random MDP whose values are computable exactly, dressed in a ``RanSpace`` geometry.

States are one-hot in the first S observation columns of a 2-cell, 1-neighbour, 1-slice space
(12 observation values, 7 actions). Logged data comes out as real ``Transition`` messages with the
behaviour's mu, exactly what the xApp writes to the stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ricproto.ran_space import RanSpace, Snssai
from ricproto.transition import SCHEMA_VERSION, Transition, floats

SPACE = RanSpace(max_cells=2, n_neighbours=1, slices=(Snssai(1),))
OBS_DIM = SPACE.max_cells * SPACE.n_features
N_ACTIONS = SPACE.n_actions


@dataclass
class KnownMdp:
    P: np.ndarray  # [S, A, S] transition probabilities
    R: np.ndarray  # [S, A] expected reward
    mask: np.ndarray  # bool [A]
    gamma: float

    @classmethod
    def random(cls, seed: int = 0, n_states: int = 6, gamma: float = 0.9) -> KnownMdp:
        rng = np.random.default_rng(seed)
        a = N_ACTIONS
        P = np.full((n_states, a, n_states), 0.2 / n_states)
        dest = rng.integers(0, n_states, size=(n_states, a))
        P[np.arange(n_states)[:, None], np.arange(a)[None, :], dest] += 0.8
        R = rng.uniform(0.0, 1.0, size=(n_states, a))
        mask = np.ones(a, dtype=bool)
        mask[-1] = False
        R[:, -1] = 10.0  # tempting, but not allowed: a learner that ignores the mask picks it
        return cls(P, R, mask, gamma)

    @property
    def n_states(self) -> int:
        return self.R.shape[0]

    def obs(self, s: int | np.ndarray) -> np.ndarray:
        s = np.atleast_1d(s)
        out = np.zeros((len(s), OBS_DIM), dtype=np.float32)
        out[np.arange(len(s)), s] = 1.0
        return out

    def state_of(self, obs: torch.Tensor) -> torch.Tensor:
        return obs[..., : self.n_states].argmax(-1)

    def policy_values(self, pi: np.ndarray) -> np.ndarray:
        """V^pi [S] of a stochastic policy pi [S, A], exactly."""
        p_pi = np.einsum("sa,sat->st", pi, self.P)
        r_pi = (pi * self.R).sum(1)
        return np.linalg.solve(np.eye(self.n_states) - self.gamma * p_pi, r_pi)

    def q_values(self, pi: np.ndarray) -> np.ndarray:
        v = self.policy_values(pi)
        return self.R + self.gamma * self.P @ v

    def optimal_q(self) -> np.ndarray:
        q = np.zeros_like(self.R)
        for _ in range(2000):
            v = np.where(self.mask, q, -np.inf).max(1)
            q = self.R + self.gamma * self.P @ v
        return q

    def greedy(self, q: np.ndarray) -> np.ndarray:
        """Deterministic policy [S, A] greedy over the allowed actions of q [S, A]."""
        pi = np.zeros_like(q)
        pi[np.arange(len(q)), np.where(self.mask, q, -np.inf).argmax(1)] = 1.0
        return pi

    def epsilon_soft(self, pi: np.ndarray, epsilon: float) -> np.ndarray:
        spread = self.mask / self.mask.sum()
        return (1.0 - epsilon) * pi + epsilon * spread[None, :]

    def log(
        self,
        behaviour: np.ndarray,
        n_steps: int,
        episode_len: int,
        seed: int,
        version: str = "heuristic",
        instance: str = "xapp",
    ) -> list[Transition]:
        """Transitions logged by ``behaviour`` [S, A], episodes of episode_len from uniform states."""
        rng = np.random.default_rng(seed)
        out: list[Transition] = []
        s = 0
        for i in range(n_steps):
            episode, t = divmod(i, episode_len)
            if t == 0:
                s = int(rng.integers(self.n_states))
            a = int(rng.choice(len(behaviour[s]), p=behaviour[s]))
            r = self.R[s, a] + rng.normal(0.0, 0.1)
            s2 = int(rng.choice(self.n_states, p=self.P[s, a]))
            out.append(
                Transition(
                    schema_version=SCHEMA_VERSION,
                    xapp_instance=f"{instance}-{episode}",
                    step=t,
                    s=floats(self.obs(s)[0]),
                    action=a,
                    reward=float(r),
                    s_next=floats(self.obs(s2)[0]),
                    mu=float(behaviour[s, a]),
                    mu_all=floats(behaviour[s]),
                    policy_version=version,
                )
            )
            s = s2
        return out
