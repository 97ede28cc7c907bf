"""Off-policy evaluation on held-out logged segments: WIS, per-decision WIS, doubly robust, FQE.

Every estimator targets ``V_H^pi``, the H-step discounted return from the segments' first states
(``segments.py``). With rho_t = pi(a_t|s_t) / mu_t and w_{i,t} = prod_{k<=t} rho_{i,k}:

* WIS     sum_i W_i G_i / sum_i W_i, with W_i = w_{i,H-1} and G_i = sum_t gamma^t r_{i,t};
* PDWIS   sum_t gamma^t sum_i w_{i,t} r_{i,t} / sum_i w_{i,t};
* FQE     mean_i V^_H(s_{i,0}), V^ from fitted Q evaluation (below);
* DR      FQE + sum_t gamma^t sum_i w~_{i,t} delta_{i,t}, the weighted per-decision doubly robust
          estimator (Thomas & Brunskill, 2016): delta is the model's TD error
          r_t + gamma V^_{H-t-1}(s_{t+1}) - Q^_{H-t}(s_t, a_t) and w~ the weights normalised per step.

WIS and PDWIS are undefined (None) when no segment keeps a non-zero weight (pi never took what mu
took); DR then falls back to FQE at those steps. FQE is finite-horizon: one output head per number
of remaining steps k = 1..H, fitted with Q_k(s, a) = r + gamma E_pi Q_{k-1}(s', .) and Q_0 = 0, so
it estimates the same H-step quantity as the importance-sampling estimators.

Each estimator is a function of per-segment arrays, so a bootstrap over segments (paired between
candidate and incumbent) gives the confidence bounds the gate needs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from twin_sidecar.gate.evaluation_policy import EvaluationPolicy
from twin_sidecar.gate.segments import LoggedSegments

Estimator = Literal["wis", "pdwis", "dr", "fqe"]
ESTIMATORS: tuple[Estimator, ...] = ("wis", "pdwis", "dr", "fqe")


@dataclass(frozen=True)
class FqeConfig:
    hidden: tuple[int, ...] = (128, 128)
    learning_rate: float = 1e-3
    iterations: int = 2000
    batch_size: int = 256
    target_update_interval: int = 50
    seed: int = 0


class FittedQEvaluation(nn.Module):
    """Q^pi_k(s, a) for k = 1..H remaining steps: obs [..., D] -> [..., H, A] (head k-1 = k steps left)."""

    def __init__(self, obs_dim: int, n_actions: int, horizon: int, gamma: float, config: FqeConfig) -> None:
        super().__init__()
        self.horizon, self.n_actions, self.gamma, self.config = horizon, n_actions, gamma, config
        sizes = [obs_dim, *config.hidden]
        layers: list[nn.Module] = []
        for a, b in itertools.pairwise(sizes):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(sizes[-1], horizon * n_actions))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs).unflatten(-1, (self.horizon, self.n_actions))

    def fit(self, segments: LoggedSegments, policy: EvaluationPolicy) -> float:
        """Fit on every logged step of the segments; returns the last mean squared TD error."""
        cfg = self.config
        gen = torch.Generator().manual_seed(cfg.seed)
        torch.manual_seed(cfg.seed)
        for m in self.net:
            if isinstance(m, nn.Linear):
                m.reset_parameters()
        s = segments.obs.reshape(-1, segments.obs.shape[-1])
        a = segments.action.reshape(-1)
        r = segments.reward.reshape(-1)
        s_next = segments.next_obs.reshape(-1, segments.next_obs.shape[-1])
        with torch.no_grad():
            pi_next = policy.probs(s_next)  # [M, A]
        target_net = FittedQEvaluation(s.shape[-1], self.n_actions, self.horizon, self.gamma, cfg)
        target_net.load_state_dict(self.state_dict())
        optimizer = torch.optim.Adam(self.parameters(), lr=cfg.learning_rate)
        loss = torch.tensor(0.0)
        for it in range(cfg.iterations):
            idx = torch.randint(0, len(a), (cfg.batch_size,), generator=gen)
            q_taken = self(s[idx]).gather(-1, a[idx, None, None].expand(-1, self.horizon, 1)).squeeze(-1)
            with torch.no_grad():
                v_next = (target_net(s_next[idx]) * pi_next[idx, None, :]).sum(-1)  # [B, H]: V_k(s')
                target = r[idx, None].expand(-1, self.horizon).clone()  # k = 1: the reward alone
                target[:, 1:] += self.gamma * v_next[:, :-1]  # k > 1: r + gamma V_{k-1}(s')
            loss = ((q_taken - target) ** 2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if (it + 1) % cfg.target_update_interval == 0:
                target_net.load_state_dict(self.state_dict())
        return float(loss.detach())


@dataclass(frozen=True)
class OpeInputs:
    """Per-segment quantities every estimator is computed from (numpy, float64)."""

    rho: np.ndarray  # [N, H] pi(a_t|s_t) / mu_t
    reward: np.ndarray  # [N, H]
    v0: np.ndarray  # [N] model value V^_H(s_0)
    delta: np.ndarray  # [N, H] model TD error
    gamma: float

    @property
    def n(self) -> int:
        return int(self.rho.shape[0])


@torch.no_grad()
def policy_inputs(
    segments: LoggedSegments,
    policy: EvaluationPolicy,
    gamma: float,
    fqe: FqeConfig,
) -> OpeInputs:
    """Fit FQE for ``policy`` on the segments and collect ratios and model terms."""
    n, h = segments.n, segments.horizon
    if n == 0:
        raise ValueError("no held-out segments to evaluate on")
    n_actions = int(policy.probs(segments.obs[:1, 0]).shape[-1])
    model = FittedQEvaluation(segments.obs.shape[-1], n_actions, h, gamma, fqe)
    with torch.enable_grad():
        model.fit(segments, policy)
    pi = policy.probs(segments.obs)  # [N, H, A]
    rho = pi.gather(-1, segments.action.unsqueeze(-1)).squeeze(-1) / segments.mu
    q = model(segments.obs)  # [N, H(t), H(k), A]
    steps_left = torch.arange(h, 0, -1)  # k = H - t
    q_t = q[:, torch.arange(h), steps_left - 1]  # [N, H, A]: Q_{H-t}(s_t, .)
    q_taken = q_t.gather(-1, segments.action.unsqueeze(-1)).squeeze(-1)
    v_t = (pi * q_t).sum(-1)  # V_{H-t}(s_t)
    pi_next = policy.probs(segments.next_obs)
    q_next = model(segments.next_obs)  # [N, H, H, A]
    v_next = torch.zeros(n, h)
    if h > 1:  # V_{H-t-1}(s'_t); 0 steps left at the end
        v_next[:, :-1] = (pi_next[:, :-1] * q_next[:, torch.arange(h - 1), steps_left[1:] - 1]).sum(-1)
    delta = segments.reward + gamma * v_next - q_taken
    return OpeInputs(
        rho.double().numpy(),
        segments.reward.double().numpy(),
        v_t[:, 0].double().numpy(),
        delta.double().numpy(),
        gamma,
    )


def behaviour_inputs(segments: LoggedSegments, gamma: float) -> OpeInputs:
    """The logged behaviour evaluated on its own data: ratios 1, Monte Carlo returns as the 'model'."""
    reward = segments.reward.double().numpy()
    discount = gamma ** np.arange(segments.horizon)
    return OpeInputs(np.ones_like(reward), reward, reward @ discount, np.zeros_like(reward), gamma)


# --- the estimators, on a subset ``idx`` of the segments ------------------------------------------
def _discount(inp: OpeInputs) -> np.ndarray:
    return inp.gamma ** np.arange(inp.reward.shape[1])


def wis(inp: OpeInputs, idx: np.ndarray) -> float | None:
    w = np.prod(inp.rho[idx], axis=1)
    total = w.sum()
    if total <= 0.0:
        return None
    return float(w @ (inp.reward[idx] @ _discount(inp)) / total)


def pdwis(inp: OpeInputs, idx: np.ndarray) -> float | None:
    w = np.cumprod(inp.rho[idx], axis=1)  # [n, H]
    total = w.sum(axis=0)
    if (total <= 0.0).any():
        return None
    return float(((w * inp.reward[idx]).sum(axis=0) / total) @ _discount(inp))


def fqe(inp: OpeInputs, idx: np.ndarray) -> float | None:
    return float(inp.v0[idx].mean())


def dr(inp: OpeInputs, idx: np.ndarray) -> float | None:
    w = np.cumprod(inp.rho[idx], axis=1)
    total = w.sum(axis=0)
    normalised = np.divide(w, total, out=np.zeros_like(w), where=total > 0.0)
    corrections = (normalised * inp.delta[idx]).sum(axis=0)
    return float(inp.v0[idx].mean() + corrections @ _discount(inp))


ESTIMATOR_FUNCTIONS: dict[Estimator, Callable[[OpeInputs, np.ndarray], float | None]] = {
    "wis": wis,
    "pdwis": pdwis,
    "dr": dr,
    "fqe": fqe,
}


@dataclass(frozen=True)
class Comparison:
    estimator: Estimator
    candidate: float | None
    incumbent: float | None
    improvement: float | None
    lcb: float | None  # paired percentile bootstrap: P(improvement >= lcb) = confidence
    ucb: float | None  # P(improvement <= ucb) = confidence
    defined_share: float  # share of bootstrap samples where both estimates were defined


def compare(
    candidate: OpeInputs,
    incumbent: OpeInputs,
    estimator: Estimator,
    confidence: float,
    samples: int,
    rng: np.random.Generator,
) -> Comparison:
    """Point estimates and one-sided ``confidence`` bootstrap bounds of candidate - incumbent."""
    if candidate.n != incumbent.n:
        raise ValueError("candidate and incumbent must be evaluated on the same segments")
    fn = ESTIMATOR_FUNCTIONS[estimator]
    every = np.arange(candidate.n)
    c, i = fn(candidate, every), fn(incumbent, every)
    diffs = []
    for _ in range(samples):
        idx = rng.integers(0, candidate.n, candidate.n)
        cb, ib = fn(candidate, idx), fn(incumbent, idx)
        if cb is not None and ib is not None:
            diffs.append(cb - ib)
    if c is None or i is None or len(diffs) < 0.9 * samples:
        # An estimator without support on most resamples gives no evidence either way.
        return Comparison(
            estimator,
            c,
            i,
            None if c is None or i is None else c - i,
            None,
            None,
            len(diffs) / max(samples, 1),
        )
    lo, hi = np.quantile(np.asarray(diffs), [1.0 - confidence, confidence])
    return Comparison(estimator, c, i, c - i, float(lo), float(hi), len(diffs) / samples)
