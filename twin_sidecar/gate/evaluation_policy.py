"""Policies the gate evaluates: anything that gives pi(.|s) for a batch of observations.

A promoted snapshot runs in the xApp as epsilon-greedy over its masked values (the xApp's
exploration setting), so ``SnapshotPolicy`` evaluates exactly that; epsilon 0 is the greedy policy.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import torch

from ricproto.policy_snapshot import PolicySnapshot


@runtime_checkable
class EvaluationPolicy(Protocol):
    name: str

    def probs(self, obs: torch.Tensor) -> torch.Tensor:
        """pi(.|s): obs float32 [..., D] -> probabilities float32 [..., A] (rows sum to 1)."""
        ...


def epsilon_greedy(values: torch.Tensor, mask: torch.Tensor, epsilon: float) -> torch.Tensor:
    """epsilon spread over allowed actions + (1 - epsilon) on the masked argmax of values [..., A]."""
    greedy = values.masked_fill(~mask, float("-inf")).argmax(-1)
    spread = mask.to(torch.float32).expand(values.shape) * (epsilon / mask.sum())
    return spread + (1.0 - epsilon) * torch.nn.functional.one_hot(greedy, values.shape[-1]).to(torch.float32)


class SnapshotPolicy:
    """The snapshot's MLP evaluated in torch for a whole batch (the xApp's numpy path does one row)."""

    def __init__(self, snapshot: PolicySnapshot, mask: np.ndarray, epsilon: float = 0.0) -> None:
        self.snapshot = snapshot
        self.name = snapshot.version
        self.mask = torch.from_numpy(np.asarray(mask, dtype=bool).copy())
        if self.mask.shape != (snapshot.n_actions,):
            raise ValueError(f"mask has {self.mask.shape[0]} actions, the snapshot {snapshot.n_actions}")
        self.epsilon = epsilon
        self._weights = [torch.from_numpy(np.asarray(w, dtype=np.float32)) for w in snapshot.weights]
        self._biases = [torch.from_numpy(np.asarray(b, dtype=np.float32)) for b in snapshot.biases]

    @torch.no_grad()
    def values(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs
        last = len(self._weights) - 1
        for i, (w, b) in enumerate(zip(self._weights, self._biases, strict=True)):
            x = x @ w + b
            if i < last:
                x = torch.relu(x) if self.snapshot.activation == "relu" else torch.tanh(x)
        return x

    def probs(self, obs: torch.Tensor) -> torch.Tensor:
        return epsilon_greedy(self.values(obs), self.mask, self.epsilon)
