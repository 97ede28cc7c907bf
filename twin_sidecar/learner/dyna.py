"""Dyna-style sequences: rollouts of the rollout policy through the twin's planes from real states."""

from __future__ import annotations

import numpy as np
import torch

from twin_sidecar.learner.qnetwork import QNetwork, epsilon_greedy_probs
from twin_sidecar.learner.replay import SequenceBatch
from twin_sidecar.plane_dynamics import PlaneDynamics


@torch.no_grad()
def model_rollouts(
    dynamics: PlaneDynamics,
    q: QNetwork,
    start_obs: torch.Tensor,
    mask: torch.Tensor,
    length: int,
    epsilon: float,
    members: int,
    generator: torch.Generator,
) -> SequenceBatch:
    """B sequences of ``length`` steps from start_obs [B, D].

    The rollout policy is epsilon-greedy around the current Q, and its probability of each drawn
    action is recorded as mu, so the model sequences go through the same off-policy correction as
    logged ones. Each plane follows one ensemble member drawn at random (``members`` > 0) or the
    ensemble mean (``members`` == 0).
    """
    n = start_obs.shape[0]
    member = torch.randint(0, members, (n,), generator=generator) if members > 0 else None
    obs, acts, rews, nxt, mus = [], [], [], [], []
    s = start_obs
    for _ in range(length):
        probs = epsilon_greedy_probs(q(s), mask, epsilon)  # [B, A]
        a = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        s_next, r = dynamics.step(s, a, member)
        obs.append(s)
        acts.append(a)
        rews.append(r.to(torch.float32))
        nxt.append(s_next.to(torch.float32))
        mus.append(probs.gather(-1, a.unsqueeze(-1)).squeeze(-1))
        s = s_next.to(torch.float32)
    cut = torch.zeros((n, length), dtype=torch.bool)
    cut[:, -1] = True
    return SequenceBatch(
        obs=torch.stack(obs, 1),
        action=torch.stack(acts, 1),
        reward=torch.stack(rews, 1),
        next_obs=torch.stack(nxt, 1),
        mu=torch.stack(mus, 1).to(torch.float32),
        cut=cut,
        weight=torch.ones(n),
        version=np.full((n, length), -1, dtype=np.int32),
        start=np.full(n, -1, dtype=np.int64),
    )
