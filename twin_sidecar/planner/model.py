"""What the planner needs from the twin: a dynamics, a Q-network, and the mctx-style functions built on them.

The search never touches a network directly. It calls two functions, as in DeepMind's mctx:

* ``root_fn(obs, valid) -> RootOutput``: prior logits, value and embedding of the planes' current state;
* ``recurrent_fn(action, embedding, member, valid) -> (RecurrentOutput, next_embedding)``: one step of
  the model from a batch of nodes, giving the edge's reward and discount and the new node's prior
  logits and value.

:class:`QModel` builds both from the two parts the twin owns: a :class:`Dynamics` (the predictive
ensemble: next observation and reward) and a :class:`QNetwork` (the target policy's Q-function). The
embedding of a node is simply the predicted observation, so planes stay in the ``ricproto.ran_space``
layout and the search can be checked against the real environment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import torch
from torch import Tensor


class Dynamics(Protocol):
    """The twin's predictive model, batched and without gradients.

    ``step(obs [B, D] float, action [B] int64, member [B] int64 | None) -> (next_obs [B, D], reward [B])``.
    ``member=None`` is the ensemble mean; a member index per row picks one sampled ensemble member per
    plane (Monte Carlo planes).
    """

    def step(self, obs: Tensor, action: Tensor, member: Tensor | None = None) -> tuple[Tensor, Tensor]: ...


class QNetwork(Protocol):
    """The target policy's action values: ``q(obs [B, D]) -> [B, A]``."""

    def __call__(self, obs: Tensor) -> Tensor: ...


@dataclass(frozen=True)
class RootOutput:
    """The model's view of the planes' current state.

    prior_logits: [B, A] float, unmasked (the search masks them).
    value: [B] float, the state value estimate.
    embedding: [B, D] float, what ``recurrent_fn`` steps from.
    """

    prior_logits: Tensor
    value: Tensor
    embedding: Tensor


@dataclass(frozen=True)
class RecurrentOutput:
    """One model step from a batch of nodes.

    reward: [B] float, reward of the edge taken.
    discount: [B] float, discount of the edge (0 ends the episode).
    prior_logits: [B, A] float, unmasked priors of the new node.
    value: [B] float, value estimate of the new node.
    """

    reward: Tensor
    discount: Tensor
    prior_logits: Tensor
    value: Tensor


RootFn = Callable[[Tensor, Tensor], RootOutput]
"""``root_fn(obs [B, D], valid [B, A] bool) -> RootOutput``."""

RecurrentFn = Callable[[Tensor, Tensor, Tensor | None, Tensor], tuple[RecurrentOutput, Tensor]]
"""``recurrent_fn(action [B] int64, embedding [B, D], member [B] int64 | None, valid [B, A] bool)
-> (RecurrentOutput, next_embedding [B, D])``."""


class SearchModel(Protocol):
    """Anything offering the two mctx-style functions (e.g. :class:`QModel`, or a test's tabular model)."""

    def root_fn(self, obs: Tensor, valid: Tensor) -> RootOutput: ...

    def recurrent_fn(
        self, action: Tensor, embedding: Tensor, member: Tensor | None, valid: Tensor
    ) -> tuple[RecurrentOutput, Tensor]: ...


LeafValue = Literal["max", "expectation"]


@dataclass(frozen=True)
class QModel:
    """The planner's model built from the twin's dynamics and the target policy's Q-network.

    Priors are ``softmax(Q / prior_temperature)`` over the valid actions; a node's value is
    ``max_a Q`` over the valid actions (``leaf_value="max"``, the greedy target policy) or the
    expectation of Q under that prior (``"expectation"``). ``discount`` must be the learner's, since Q
    is a discounted return.
    """

    dynamics: Dynamics
    q: QNetwork
    discount: float = 0.99
    prior_temperature: float = 1.0
    leaf_value: LeafValue = "max"

    def __post_init__(self) -> None:
        if not 0.0 <= self.discount <= 1.0:
            raise ValueError(f"discount {self.discount} outside [0, 1]")
        if self.prior_temperature <= 0.0:
            raise ValueError("prior_temperature must be > 0")
        if self.leaf_value not in ("max", "expectation"):
            raise ValueError(f"leaf_value must be 'max' or 'expectation', not {self.leaf_value!r}")

    def _evaluate(self, obs: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
        q = self.q(obs)
        logits = q / self.prior_temperature
        if self.leaf_value == "max":
            value = q.masked_fill(~valid, float("-inf")).amax(dim=-1)
        else:
            prior = torch.softmax(logits.masked_fill(~valid, float("-inf")), dim=-1)
            value = (prior * q.masked_fill(~valid, 0.0)).sum(dim=-1)
        return logits, value

    @torch.no_grad()
    def root_fn(self, obs: Tensor, valid: Tensor) -> RootOutput:
        logits, value = self._evaluate(obs, valid)
        return RootOutput(prior_logits=logits, value=value, embedding=obs)

    @torch.no_grad()
    def recurrent_fn(
        self, action: Tensor, embedding: Tensor, member: Tensor | None, valid: Tensor
    ) -> tuple[RecurrentOutput, Tensor]:
        next_obs, reward = self.dynamics.step(embedding, action, member)
        logits, value = self._evaluate(next_obs, valid)
        discount = torch.full_like(reward, self.discount)
        return RecurrentOutput(reward=reward, discount=discount, prior_logits=logits, value=value), next_obs
