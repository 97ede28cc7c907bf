"""The Q-network over the ``ran_space`` observation and action space, its masked policies and export.

Sizes come from the ``RanSpace`` (observation width, number of actions); the action mask from
``RanSpace.action_mask(layout)``. The network exports to the numpy ``PolicySnapshot`` (output "q")
the xApp evaluates without torch.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import torch
from torch import nn

from ricproto.policy_snapshot import PolicySnapshot
from ricproto.ran_space import RanSpace


class QNetwork(nn.Module):
    """MLP: obs [..., D] -> Q [..., A] with ReLU hidden layers (the snapshot's activation)."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        sizes = [obs_dim, *hidden, n_actions]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(itertools.pairwise(sizes)):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        self.obs_dim = obs_dim
        self.n_actions = n_actions

    @classmethod
    def for_space(cls, space: RanSpace, hidden: tuple[int, ...]) -> QNetwork:
        return cls(space.max_cells * space.n_features, space.n_actions, hidden)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)

    def to_snapshot(self, version: str) -> PolicySnapshot:
        linears = [m for m in self.net if isinstance(m, nn.Linear)]
        with torch.no_grad():
            weights = tuple(m.weight.detach().cpu().numpy().T.astype(np.float32).copy() for m in linears)
            biases = tuple(m.bias.detach().cpu().numpy().astype(np.float32).copy() for m in linears)
        return PolicySnapshot(version, weights, biases, activation="relu", output="q", created_at=time.time())

    @classmethod
    def from_snapshot(cls, snap: PolicySnapshot) -> QNetwork:
        """A torch copy of a snapshot's MLP (a ReLU one), for batched evaluation of a promoted policy."""
        if snap.activation != "relu":
            raise ValueError(f"only relu snapshots load into a QNetwork, not {snap.activation!r}")
        hidden = tuple(int(w.shape[1]) for w in snap.weights[:-1])
        net = cls(snap.obs_dim, snap.n_actions, hidden)
        linears = [m for m in net.net if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for m, w, b in zip(linears, snap.weights, snap.biases, strict=True):
                m.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
                m.bias.copy_(torch.from_numpy(np.asarray(b)))
        return net


def masked_greedy(q: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Argmax over allowed actions: q [..., A], mask bool [A] -> int64 [...]."""
    return q.masked_fill(~mask, float("-inf")).argmax(dim=-1)


def epsilon_greedy_probs(q: torch.Tensor, mask: torch.Tensor, epsilon: float) -> torch.Tensor:
    """pi(.|s) = epsilon spread over allowed actions + (1 - epsilon) on the masked argmax: [..., A]."""
    greedy = masked_greedy(q, mask)
    spread = mask.to(q.dtype).expand_as(q) * (epsilon / mask.sum())
    return spread + (1.0 - epsilon) * nn.functional.one_hot(greedy, q.shape[-1]).to(q.dtype)
