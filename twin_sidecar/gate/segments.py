"""Held-out logged data for off-policy evaluation: non-overlapping segments of H consecutive steps.

The stream is continuing, so what OPE estimates is the H-step discounted return from the states the
behaviour visited, ``V_H^pi = E_{s_0 ~ logged}[sum_{t<H} gamma^t r_t]``. A segment never spans a
break in the stream (another xApp instance, a gap in ``step``); the tail of a run shorter than H is
dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ricproto.transition import Transition


@dataclass(frozen=True)
class LoggedSegments:
    obs: torch.Tensor  # float32 [N, H, D]
    action: torch.Tensor  # int64 [N, H]
    reward: torch.Tensor  # float32 [N, H]
    next_obs: torch.Tensor  # float32 [N, H, D]
    mu: torch.Tensor  # float32 [N, H], behaviour probability of the logged action
    policy_version: tuple[str, ...]  # [N], behaviour version at each segment's first step

    @property
    def n(self) -> int:
        return int(self.action.shape[0])

    @property
    def horizon(self) -> int:
        return int(self.action.shape[1])

    @classmethod
    def from_transitions(
        cls, transitions: Sequence[Transition], horizon: int, obs_dim: int, mu_floor: float = 1e-6
    ) -> LoggedSegments:
        """Chop runs of consecutive steps into segments of ``horizon``; malformed steps break a run."""
        if horizon < 1:
            raise ValueError("horizon must be >= 1")
        segments: list[list[Transition]] = []
        run: list[Transition] = []
        prev: tuple[str, int] | None = None
        for msg in transitions:
            ok = len(msg.s) == obs_dim and len(msg.s_next) == obs_dim and msg.mu > 0.0
            if not ok or prev != (msg.xapp_instance, msg.step - 1):
                run = []
            prev = (msg.xapp_instance, msg.step) if ok else None
            if not ok:
                continue
            run.append(msg)
            if len(run) == horizon:
                segments.append(run)
                run = []
        n = len(segments)
        flat = [m for seg in segments for m in seg]
        obs = np.asarray([m.s for m in flat], dtype=np.float32).reshape(n, horizon, obs_dim)
        next_obs = np.asarray([m.s_next for m in flat], dtype=np.float32).reshape(n, horizon, obs_dim)
        return cls(
            obs=torch.from_numpy(obs),
            action=torch.tensor([m.action for m in flat], dtype=torch.int64).reshape(n, horizon),
            reward=torch.tensor([m.reward for m in flat], dtype=torch.float32).reshape(n, horizon),
            next_obs=torch.from_numpy(next_obs),
            mu=torch.tensor([max(m.mu, mu_floor) for m in flat], dtype=torch.float32).reshape(n, horizon),
            policy_version=tuple(seg[0].policy_version for seg in segments),
        )

    def start_observations(self) -> torch.Tensor:
        """s_0 of every segment [N, D]."""
        return self.obs[:, 0]
