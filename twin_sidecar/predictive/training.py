"""Training the dynamics ensemble: standardisation, the bootstrap NLL update, calibration, snapshots.

CleanRL-style: one typed config (``settings.TrainingSettings``), the update reads top to bottom like
the math, and the state is all in the trainer (model, optimizer, RNG, counters), checkpointed
together. The trainer's thread calls ``update`` under ``lock``; ``state_dict`` takes the same lock.

Update, per member m with its own bootstrap batch B_m of transitions (s, a, s'):
  x = CellGraph.rows(s, a)                  per-cell inputs
  y = (s'_cell - s_cell - mu_y) / sigma_y   standardised change of each cell's row
  (mu_m, log var_m) = f_m(x)
  loss = mean over m, cells of the layout, features of  0.5 * (log var_m + (y - mu_m)^2 / var_m)
Calibration: on held-out transitions, the std of each feature is scaled so its standardised error's
90th percentile |z| is 1.645 (the Gaussian's), i.e. central 90 % intervals cover 90 %.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import torch

from ricproto.ran_space import CellLayout, RanSpace
from twin_sidecar.predictive.ensemble import DynamicsEnsemble
from twin_sidecar.predictive.replay import TransitionReplay
from twin_sidecar.settings import TrainingSettings

Z90 = 1.6448536269514722  # two-sided 90 % of the standard normal


class EnsembleTrainer:
    def __init__(self, space: RanSpace, layout: CellLayout, config: TrainingSettings) -> None:
        self.space = space
        self.config = config
        self.model = DynamicsEnsemble(
            space,
            layout,
            n_members=config.n_members,
            hidden=config.hidden,
            layers=config.layers,
            seed=config.seed,
        )
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.rng = np.random.default_rng(config.seed)
        self.updates = 0
        self.normalised = False
        self.lock = threading.Lock()

    # --- standardisation ---------------------------------------------------------------------------
    def fit_normalisation(self, data: dict[str, np.ndarray]) -> None:
        """Input and target statistics from transitions (s, a, s')."""
        m = self.model
        c, f = self.space.max_cells, self.space.n_features
        s = torch.as_tensor(data["s"])
        rows = m.graph.rows(s, torch.as_tensor(data["action"])).reshape(-1, m.graph.in_dim)
        delta = (torch.as_tensor(data["s_next"]) - s).reshape(-1, c, f)[:, m.graph.in_cells].reshape(-1, f)
        with self.lock, torch.no_grad():
            m.in_mean.copy_(rows.mean(0))
            m.in_std.copy_(rows.std(0).clamp(min=1e-2))
            m.out_mean.copy_(delta.mean(0))
            m.out_std.copy_(delta.std(0).clamp(min=1e-3))
            self.normalised = True

    # --- one update --------------------------------------------------------------------------------
    def update(self, replay: TransitionReplay, half_life: float | None = None) -> float:
        cfg, m = self.config, self.model
        c, f = self.space.max_cells, self.space.n_features
        batches = [replay.sample(cfg.batch_size, self.rng, half_life) for _ in range(m.n_members)]
        s = torch.as_tensor(np.stack([b["s"] for b in batches]))  # [M, B, D]
        a = torch.as_tensor(np.stack([b["action"] for b in batches]))  # [M, B]
        s_next = torch.as_tensor(np.stack([b["s_next"] for b in batches]))
        n_members, b = a.shape
        with self.lock:
            x = m.graph.rows(s.reshape(n_members * b, -1), a.reshape(-1)).reshape(n_members, b * c, -1)
            y = ((s_next - s).reshape(n_members, b * c, f) - m.out_mean) / m.out_std
            mean, logvar = m.members_forward(x)
            nll = 0.5 * (logvar + (y - mean) ** 2 * torch.exp(-logvar))  # [M, B*C, F]
            in_layout = m.graph.in_cells.repeat(b).view(1, b * c, 1).to(nll.dtype)
            loss = (nll * in_layout).sum() / (in_layout.sum() * n_members * f)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 10.0)
            self.optimizer.step()
            self.updates += 1
        return float(loss.detach())

    # --- calibration and snapshots -----------------------------------------------------------------
    @torch.no_grad()
    def calibrate(self, data: dict[str, np.ndarray], multiplier: np.ndarray | None = None) -> torch.Tensor:
        """Per-feature std scale from held-out (s, a, s'), times ``multiplier`` [F] if given (the
        online conformal factor, ``calibration.ConformalScale``); returns it (also set on the model)."""
        m = self.model
        c, f = self.space.max_cells, self.space.n_features
        with self.lock:
            m.calibration.fill_(1.0)
            mean, std = m.uncertainty(torch.as_tensor(data["s"]), torch.as_tensor(data["action"]))
            err = (torch.as_tensor(data["s_next"]) - mean).abs().reshape(-1, c, f)[:, m.graph.in_cells]
            z = err / std.reshape(-1, c, f)[:, m.graph.in_cells].clamp(min=1e-6)
            scale = (torch.quantile(z.reshape(-1, f), 0.9, dim=0) / Z90).clamp(0.05, 20.0)
            if multiplier is not None:
                scale = scale * torch.as_tensor(multiplier, dtype=scale.dtype)
            m.calibration.copy_(scale)
        return scale

    def fit_reward(self, data: dict[str, np.ndarray]) -> float:
        with self.lock:
            return self.model.reward_model.fit(data["s_next"], data["reward"])

    def snapshot(self, version: int) -> DynamicsEnsemble:
        """A frozen copy for serving (planes, predictions), tagged with ``version``."""
        with self.lock:
            copy = self.model.copy()
        copy.version = version
        return copy

    def state_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "model": {k: v.clone() for k, v in self.model.state_dict().items()},
                "extra": self.model.extra_state(),
                "optimizer": self.optimizer.state_dict(),
                "rng": self.rng.bit_generator.state,
                "updates": self.updates,
                "normalised": self.normalised,
            }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.model.load_state_dict(state["model"])
            self.model.load_extra_state(state["extra"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.rng.bit_generator.state = state["rng"]
            self.updates = int(state["updates"])
            self.normalised = bool(state["normalised"])
