"""Multi-step off-policy Q targets from logged behaviour: Retrace(lambda) and V-trace.

Pure functions over a batch of B sequences of T consecutive steps (every tensor [B, T], no
gradients). ``cut[b, t]`` is True where step t+1 of the window does not follow step t (a gap in the
stream, another episode); the window's last step is always a cut. At a cut the target bootstraps
from the value of the logged next observation s'_t, so a sequence never mixes two trajectories. The
tasks are continuing (the RAN never terminates): every step bootstraps.

Retrace (Munos et al., 2016), with c_t = lambda * min(1, pi(a_t|s_t) / mu(a_t|s_t)):

    G_t = r_t + gamma * ( V(s'_t) + c_{t+1} * (G_{t+1} - Q'(s_{t+1}, a_{t+1})) ),   V(s) = E_pi Q'(s, .)

V-trace (Espeholt et al., 2018) gives state-value targets v_t from rho_t = min(rho_bar, pi/mu) and
c_t = min(c_bar, pi/mu); the Q target of (s_t, a_t) is r_t + gamma * v_{t+1}. The scan is TorchRL's
``vtrace_advantage_estimate``.
"""

from __future__ import annotations

import torch


def _with_last_cut(cut: torch.Tensor) -> torch.Tensor:
    cut = cut.clone()
    cut[:, -1] = True
    return cut


def retrace_q_targets(
    rewards: torch.Tensor,
    gamma: float,
    cut: torch.Tensor,
    q_taken_target: torch.Tensor,
    v_next: torch.Tensor,
    trace: torch.Tensor,
) -> torch.Tensor:
    """Retrace targets G [B, T].

    Args:
        rewards: r_t [B, T].
        gamma: discount.
        cut: bool [B, T], True where step t+1 does not follow step t.
        q_taken_target: Q'(s_t, a_t) [B, T] (target network).
        v_next: E_pi Q'(s'_t, .) [B, T].
        trace: c_t = lambda * min(1, pi(a_t|s_t) / mu_t) [B, T].
    """
    follows = ~_with_last_cut(cut)
    targets = torch.empty_like(rewards)
    correction = torch.zeros_like(rewards[:, 0])  # c_{t+1} * (G_{t+1} - Q'(s_{t+1}, a_{t+1}))
    for t in reversed(range(rewards.shape[1])):
        targets[:, t] = rewards[:, t] + gamma * (v_next[:, t] + follows[:, t] * correction)
        correction = trace[:, t] * (targets[:, t] - q_taken_target[:, t])
    return targets


def vtrace_values(
    rewards: torch.Tensor,
    gamma: float,
    cut: torch.Tensor,
    v: torch.Tensor,
    v_next: torch.Tensor,
    log_rho: torch.Tensor,
    rho_bar: float,
    c_bar: float,
) -> torch.Tensor:
    """V-trace state-value targets v_t [B, T].

    Args:
        rewards: r_t [B, T].
        gamma: discount.
        cut: bool [B, T], True where step t+1 does not follow step t.
        v: E_pi Q'(s_t, .) [B, T].
        v_next: E_pi Q'(s'_t, .) [B, T].
        log_rho: log pi(a_t|s_t) - log mu_t [B, T] (untruncated).
        rho_bar, c_bar: truncation levels.
    """
    # imported here: torchrl takes seconds to import, and a sidecar on Retrace (the default) never needs it
    from torchrl.objectives.value.functional import vtrace_advantage_estimate

    done = _with_last_cut(cut).unsqueeze(-1)
    _, vs = vtrace_advantage_estimate(
        gamma,
        log_rho.unsqueeze(-1),
        torch.zeros_like(log_rho).unsqueeze(-1),
        v.unsqueeze(-1),
        v_next.unsqueeze(-1),
        rewards.unsqueeze(-1),
        done,
        terminated=torch.zeros_like(done),  # continuing task: a cut bootstraps, it does not end
        rho_thresh=rho_bar,
        c_thresh=c_bar,
    )
    return vs.squeeze(-1)


def vtrace_q_targets(
    rewards: torch.Tensor,
    gamma: float,
    cut: torch.Tensor,
    v: torch.Tensor,
    v_next: torch.Tensor,
    log_rho: torch.Tensor,
    rho_bar: float,
    c_bar: float,
) -> torch.Tensor:
    """Q targets r_t + gamma * v_{t+1} [B, T]; v_{t+1} = V(s'_t) at a cut (arguments as ``vtrace_values``)."""
    vs = vtrace_values(rewards, gamma, cut, v, v_next, log_rho, rho_bar, c_bar)
    vs_next = torch.where(_with_last_cut(cut), v_next, torch.roll(vs, shifts=-1, dims=1))
    return rewards + gamma * vs_next
