"""The dynamics ensemble: M probabilistic MLPs over per-cell rows, next observation and reward.

Each member maps a cell's input row (``features.CellGraph``) to a Gaussian over the change of that
cell's row (mean and log-variance per feature, in standardised units); the members have their own
weights (stacked: ``W[m]``) and are trained on their own bootstrap batches, so their spread is the
epistemic uncertainty and their variances the aleatoric one (a PETS-style probabilistic ensemble).
The reward is computed from the predicted next observation (``reward.RewardModel``), as
``RanSpace.reward`` scores a real one.

``step`` is the seam the planner and the gate use (``Dynamics`` protocol): batched, no grad,
``member=None`` -> the ensemble mean, a member index per row -> that member's prediction (a sample of
the ensemble, for Monte Carlo planes; add ``noise=generator`` for its aleatoric noise too).
Predictions are clipped to [0, 1]; rows of cells outside the layout stay zero.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import torch
from torch import nn

from ricproto.ran_space import CellLayout, RanSpace
from twin_sidecar.predictive.features import CellGraph
from twin_sidecar.predictive.reward import RewardModel

MIN_LOGVAR, MAX_LOGVAR = -10.0, 2.0


class DynamicsEnsemble(nn.Module):
    """Weights ``w{l}``: Tensor[M, in_l, out_l], biases ``b{l}``: Tensor[M, 1, out_l]; buffers hold
    the input/target standardisation ([in_dim], [F]) and the calibration scale of the std ([F])."""

    def __init__(
        self,
        space: RanSpace,
        layout: CellLayout,
        *,
        n_members: int = 5,
        hidden: int = 128,
        layers: int = 2,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.space = space
        self.layout = layout
        self.graph = CellGraph(space, layout)
        self.n_members = n_members
        self.obs_dim = space.max_cells * space.n_features
        self.n_actions = space.n_actions
        f = space.n_features
        sizes = [self.graph.in_dim, *([hidden] * layers), 2 * f]
        gen = torch.Generator().manual_seed(seed)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for a, b in itertools.pairwise(sizes):
            self.weights.append(nn.Parameter(torch.randn(n_members, a, b, generator=gen) / math.sqrt(a)))
            self.biases.append(nn.Parameter(torch.zeros(n_members, 1, b)))
        self.register_buffer("in_mean", torch.zeros(self.graph.in_dim))
        self.register_buffer("in_std", torch.ones(self.graph.in_dim))
        self.register_buffer("out_mean", torch.zeros(f))
        self.register_buffer("out_std", torch.ones(f))
        self.register_buffer("calibration", torch.ones(f))
        self.reward_model = RewardModel(space)
        self.version = 0

    # --- the network -------------------------------------------------------------------------------
    def members_forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x Tensor[M, N, in] (raw rows) -> (mean, logvar) Tensor[M, N, F], standardised delta units."""
        h = (x - self.in_mean) / self.in_std
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = torch.nn.functional.silu(h)
        f = self.space.n_features
        mean, logvar = h[..., :f], h[..., f:]
        logvar = MAX_LOGVAR - torch.nn.functional.softplus(MAX_LOGVAR - logvar)
        logvar = MIN_LOGVAR + torch.nn.functional.softplus(logvar - MIN_LOGVAR)
        return mean, logvar

    def _members(self, obs: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per member next-row mean and variance in observation units: Tensor[M, B, C, F] each."""
        b = obs.shape[0]
        c, f = self.space.max_cells, self.space.n_features
        rows = self.graph.rows(obs, action).reshape(1, b * c, -1).expand(self.n_members, -1, -1)
        mean, logvar = self.members_forward(rows)
        delta = mean * self.out_std + self.out_mean
        var = torch.exp(logvar) * self.out_std**2
        nxt = obs.reshape(1, b, c, f) + delta.reshape(self.n_members, b, c, f)
        return nxt, var.reshape(self.n_members, b, c, f)

    def _finish(self, nxt: torch.Tensor) -> torch.Tensor:
        nxt = nxt.clamp(0.0, 1.0) * self.graph.in_cells.view(1, -1, 1).to(nxt.dtype)
        return nxt.reshape(nxt.shape[0], -1)

    # --- the Dynamics protocol -----------------------------------------------------------------------
    @torch.no_grad()
    def step(
        self,
        obs: torch.Tensor,
        action: torch.Tensor,
        member: torch.Tensor | None = None,
        *,
        noise: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """obs Tensor[B, D] float32, action Tensor[B] int64, member Tensor[B] int64 | None ->
        (next_obs Tensor[B, D], reward Tensor[B])."""
        obs = obs.to(torch.float32)
        nxt, var = self._members(obs, action.to(torch.long))
        if member is None:
            out = nxt.mean(0)
        else:
            rows = torch.arange(obs.shape[0])
            out = nxt[member.to(torch.long), rows]
            if noise is not None:
                std = var[member.to(torch.long), rows].sqrt()
                out = out + std * torch.randn(out.shape, generator=noise)
        next_obs = self._finish(out)
        return next_obs, self.reward_model(next_obs)

    @torch.no_grad()
    def uncertainty(self, obs: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, std) of the next observation, Tensor[B, D] each: the ensemble mixture (members'
        spread plus their own variance), std scaled by the calibration fitted on held-out data."""
        nxt, var = self._members(obs.to(torch.float32), action.to(torch.long))
        mean = nxt.mean(0)
        total = var.mean(0) + nxt.var(0, unbiased=False)
        std = total.sqrt() * self.calibration
        b = obs.shape[0]
        return self._finish(mean), (std * self.graph.in_cells.view(1, -1, 1)).reshape(b, -1)

    # --- persistence of the small extras ------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"version": self.version, "reward": self.reward_model.weights.tolist()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.version = int(state["version"])
        self.reward_model.load_weights(list(state["reward"]))

    def copy(self) -> DynamicsEnsemble:
        twin = DynamicsEnsemble(
            self.space,
            self.layout,
            n_members=self.n_members,
            hidden=self.weights[0].shape[2],
            layers=len(self.weights) - 1,
        )
        twin.load_state_dict(self.state_dict())
        twin.load_extra_state(self.extra_state())
        twin.eval()
        return twin
