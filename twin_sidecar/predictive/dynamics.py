"""The ``Dynamics`` protocol (the seam of the planner, the gate's test plans and the planes) and the
serving slot that always answers with the latest published model version."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from twin_sidecar.predictive.ensemble import DynamicsEnsemble


@runtime_checkable
class Dynamics(Protocol):
    n_members: int
    obs_dim: int
    n_actions: int

    def step(
        self, obs: torch.Tensor, action: torch.Tensor, member: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """obs Tensor[B, D] float32, action Tensor[B] int64, member Tensor[B] int64 | None ->
        (next_obs Tensor[B, D], reward Tensor[B]); no grad; None = the ensemble mean."""
        ...

    def uncertainty(self, obs: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, std) of the next observation, Tensor[B, D] each."""
        ...


class ServingDynamics:
    """A stable ``Dynamics`` object over the model version in service (swapped atomically on publish).

    Hand this to long-lived users (planner, gate): each call uses the version current at the call; pin
    a version for a whole search with ``current``."""

    def __init__(self, model: DynamicsEnsemble) -> None:
        self._model = model

    @property
    def current(self) -> DynamicsEnsemble:
        return self._model

    def publish(self, model: DynamicsEnsemble) -> None:
        self._model = model

    @property
    def version(self) -> int:
        return self._model.version

    @property
    def n_members(self) -> int:
        return self._model.n_members

    @property
    def obs_dim(self) -> int:
        return self._model.obs_dim

    @property
    def n_actions(self) -> int:
        return self._model.n_actions

    def step(
        self,
        obs: torch.Tensor,
        action: torch.Tensor,
        member: torch.Tensor | None = None,
        *,
        noise: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self._model.step(obs, action, member, noise=noise)

    def uncertainty(self, obs: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._model.uncertainty(obs, action)
