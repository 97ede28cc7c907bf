"""The contract between the virtual planes (the predictive model) and what rolls policies through them.

The learner's Dyna-style rollouts and the gate's test plans both step batches of observations through
the twin's predictive ensemble. They only need this much of it, so they depend on this protocol and
not on the ensemble's module: any object with a matching ``step`` is a plane's dynamics.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class PlaneDynamics(Protocol):
    def step(
        self, obs: torch.Tensor, action: torch.Tensor, member: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One report period on B planes at once, without gradients.

        Args:
            obs: float32 [B, D] observations in the ``ricproto.ran_space`` layout.
            action: int64 [B] action indices.
            member: int64 [B] ensemble member per plane, or None for the ensemble mean.

        Returns:
            next_obs float32 [B, D] and reward float32 [B].
        """
        ...
