"""A hand-written RAN-like dynamics in the ``ran_space`` layout, for the gate's tests (pure logic).

Three cells, each the others' neighbours, one slice. The state is the cells' PRB loads; throughput
falls with the square of the load, so balanced loads pay. Steering moves 0.1 of load from a cell to a
neighbour; quota steps do nothing; every period the loads drift back towards an unbalanced profile.
Candidates are one-layer snapshots whose Q is linear in the loads: ``balancing`` steers from the
most to the least loaded cell, ``unbalancing`` the other way round.
"""

from __future__ import annotations

import numpy as np
import torch

from ricproto.policy_snapshot import PolicySnapshot
from ricproto.ran_space import BASE_FEATURES, CellLayout, RanSpace, Snssai, SteerUes
from ricproto.transition import SCHEMA_VERSION, Transition, floats

SPACE = RanSpace(max_cells=3, n_neighbours=2, slices=(Snssai(1),))
LAYOUT = CellLayout((11, 12, 13), ((1, 2), (0, 2), (0, 1)))
MASK = SPACE.action_mask(LAYOUT)
F = SPACE.n_features
OBS_DIM = SPACE.max_cells * F
BASE = torch.tensor([0.75, 0.3, 0.35])
STEER = [(i, LAYOUT.neighbours[i][k], SPACE.encode(SteerUes(i, k))) for i in range(3) for k in range(2)]


def observe(load: torch.Tensor) -> torch.Tensor:
    """obs [B, 3 * F] from loads [B, 3]."""
    load = load.clamp(0.0, 1.0).to(torch.float32)
    thp = 0.7 - 0.4 * load**2
    rows = torch.zeros(load.shape[0], SPACE.max_cells, F)  # columns by ran_space's layout, any width
    rows[..., 0], rows[..., 1], rows[..., 2], rows[..., 3] = 1.0, load, thp, 0.8 * load
    rows[..., BASE_FEATURES] = load  # the one slice's PRB share
    rows[..., BASE_FEATURES + 1] = thp  # and its throughput
    return rows.reshape(load.shape[0], -1)


def loads(obs: torch.Tensor) -> torch.Tensor:
    return obs.reshape(obs.shape[0], SPACE.max_cells, F)[..., 1]


def reward(obs: torch.Tensor) -> torch.Tensor:
    rows = obs.reshape(obs.shape[0], SPACE.max_cells, F)
    return rows[..., 2].mean(-1) - SPACE.imbalance_weight * rows[..., 1].std(-1, unbiased=False)


class ToyRanPlanes:
    """PlaneDynamics of the toy RAN; ``noise`` > 0 only when generating logged data."""

    def __init__(self, noise: float = 0.0, seed: int = 0) -> None:
        self.noise = noise
        self.gen = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def step(self, obs: torch.Tensor, action: torch.Tensor, member: torch.Tensor | None):
        load = loads(obs).clone()
        for i, j, a in STEER:
            chosen = action == a
            moved = torch.where(chosen, load[:, i].clamp(max=0.1), torch.zeros(()))
            load[:, i] -= moved
            load[:, j] += moved
        load = load + 0.2 * (BASE - load)
        if self.noise > 0:
            load = load + self.noise * torch.randn(load.shape, generator=self.gen)
        nxt = observe(load)
        return nxt, reward(nxt)


def linear_snapshot(version: str, sign: float) -> PolicySnapshot:
    """Q(steer i->j) = sign * (L_i - L_j) - 0.05, Q(no-op) = 0, Q(quota) = -1."""
    w = np.zeros((OBS_DIM, SPACE.n_actions), dtype=np.float32)
    b = np.full(SPACE.n_actions, -1.0, dtype=np.float32)
    b[0] = 0.0
    for i, j, a in STEER:
        w[i * F + 1, a] += sign
        w[j * F + 1, a] -= sign
        b[a] = -0.05
    return PolicySnapshot(version, (w,), (b,), output="q")


class NoopPolicy:
    name = "no-op"

    def probs(self, obs: torch.Tensor) -> torch.Tensor:
        p = torch.zeros(*obs.shape[:-1], SPACE.n_actions)
        p[..., 0] = 1.0
        return p


def log_behaviour(n_episodes: int, length: int, epsilon: float, seed: int) -> list[Transition]:
    """Episodes of epsilon-greedy around no-op (mu recorded), from random loads, with noisy dynamics."""
    rng = np.random.default_rng(seed)
    planes = ToyRanPlanes(noise=0.02, seed=seed)
    allowed = np.flatnonzero(MASK)
    mu_all = np.zeros(SPACE.n_actions)
    mu_all[allowed] = epsilon / len(allowed)
    mu_all[0] += 1.0 - epsilon
    out = []
    for ep in range(n_episodes):
        obs = observe(torch.from_numpy(rng.uniform(0.1, 0.9, (1, 3))))
        for t in range(length):
            a = int(rng.choice(SPACE.n_actions, p=mu_all))
            nxt, r = planes.step(obs, torch.tensor([a]), None)
            out.append(
                Transition(
                    schema_version=SCHEMA_VERSION,
                    xapp_instance=f"toy-{ep}",
                    step=t,
                    s=floats(obs[0].numpy()),
                    action=a,
                    reward=float(r[0]),
                    s_next=floats(nxt[0].numpy()),
                    mu=float(mu_all[a]),
                    mu_all=floats(mu_all),
                    policy_version="no-op",
                )
            )
            obs = nxt
    return out
