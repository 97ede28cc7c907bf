"""Retrace and V-trace targets against closed forms: n-step returns, one-step targets, cuts, truncation."""

from __future__ import annotations

import pytest
import torch

from twin_sidecar.learner.targets import retrace_q_targets, vtrace_q_targets, vtrace_values

B, T, GAMMA = 4, 6, 0.9


def consistent_values(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rewards, V(s_t) and V(s'_t) of consecutive steps (V(s'_t) = V(s_{t+1}) inside the window)."""
    g = torch.Generator().manual_seed(seed)
    r = torch.rand(B, T, generator=g)
    v = torch.rand(B, T, generator=g) * 5
    v_next = torch.rand(B, T, generator=g) * 5
    v_next[:, :-1] = v[:, 1:]
    return r, v, v_next


def n_step_returns(r: torch.Tensor, bootstrap: torch.Tensor) -> torch.Tensor:
    """sum_{k=t}^{T-1} gamma^{k-t} r_k + gamma^{T-t} * bootstrap, for every t: [B, T]."""
    out = torch.empty_like(r)
    acc = bootstrap.clone()
    for t in reversed(range(r.shape[1])):
        acc = r[:, t] + GAMMA * acc
        out[:, t] = acc
    return out


def test_vtrace_equals_the_n_step_return_when_pi_equals_mu() -> None:
    r, v, v_next = consistent_values(0)
    on_policy = torch.zeros(B, T)  # log(pi/mu) = 0
    cut = torch.zeros(B, T, dtype=torch.bool)
    vs = vtrace_values(r, GAMMA, cut, v, v_next, on_policy, rho_bar=1.0, c_bar=1.0)
    q = vtrace_q_targets(r, GAMMA, cut, v, v_next, on_policy, rho_bar=1.0, c_bar=1.0)
    expected = n_step_returns(r, v_next[:, -1])
    torch.testing.assert_close(vs, expected)
    torch.testing.assert_close(q, expected)  # Q target of (s_t, a_t) = r_t + gamma v_{t+1}: the same sum


def test_vtrace_with_zero_ratios_is_the_one_step_target_and_values_stay_put() -> None:
    r, v, v_next = consistent_values(1)
    never = torch.full((B, T), -torch.inf)  # pi(a_t|s_t) = 0: no correction at all
    cut = torch.zeros(B, T, dtype=torch.bool)
    vs = vtrace_values(r, GAMMA, cut, v, v_next, never, rho_bar=1.0, c_bar=1.0)
    torch.testing.assert_close(vs, v)
    q = vtrace_q_targets(r, GAMMA, cut, v, v_next, never, rho_bar=1.0, c_bar=1.0)
    torch.testing.assert_close(q, r + GAMMA * v_next)


def test_vtrace_truncates_large_ratios_at_rho_bar() -> None:
    r, v, v_next = consistent_values(2)
    cut = torch.zeros(B, T, dtype=torch.bool)
    huge = torch.full((B, T), 5.0)  # ratio e^5, truncated to 1: same as on-policy
    torch.testing.assert_close(
        vtrace_values(r, GAMMA, cut, v, v_next, huge, 1.0, 1.0),
        vtrace_values(r, GAMMA, cut, v, v_next, torch.zeros(B, T), 1.0, 1.0),
    )


def test_retrace_with_lambda_zero_equals_the_one_step_target() -> None:
    r, _, v_next = consistent_values(3)
    q_taken = torch.rand(B, T) * 5
    cut = torch.zeros(B, T, dtype=torch.bool)
    trace = 0.0 * torch.rand(B, T)  # c_t = lambda * min(1, pi/mu) with lambda = 0
    g = retrace_q_targets(r, GAMMA, cut, q_taken, v_next, trace)
    torch.testing.assert_close(g, r + GAMMA * v_next)


def test_retrace_with_full_traces_on_a_greedy_chain_is_the_n_step_return() -> None:
    # pi greedy and always the logged action, lambda = 1, mu <= 1: c = 1 and Q'(s_{t+1}, a_{t+1})
    # = V(s_{t+1}), so the corrections telescope into the n-step return bootstrapped at the window's end.
    r, v, v_next = consistent_values(4)
    cut = torch.zeros(B, T, dtype=torch.bool)
    g = retrace_q_targets(r, GAMMA, cut, v, v_next, torch.ones(B, T))
    torch.testing.assert_close(g, n_step_returns(r, v_next[:, -1]))


@pytest.mark.parametrize("kind", ["retrace", "vtrace"])
def test_a_cut_stops_the_trace_and_bootstraps_from_the_logged_next_state(kind: str) -> None:
    r, v, v_next = consistent_values(5)
    cut = torch.zeros(B, T, dtype=torch.bool)
    cut[:, 2] = True  # step 3 belongs to another trajectory
    v_next[:, 2] = -7.0  # the logged s'_2, not s_3
    if kind == "retrace":
        g = retrace_q_targets(r, GAMMA, cut, v, v_next, torch.ones(B, T))
    else:
        g = vtrace_q_targets(r, GAMMA, cut, v, v_next, torch.zeros(B, T), 1.0, 1.0)
    # Steps 0..2 see only rewards 0..2 and V(s'_2); steps 3.. only their own part.
    torch.testing.assert_close(g[:, :3], n_step_returns(r[:, :3], v_next[:, 2]))
    torch.testing.assert_close(g[:, 3:], n_step_returns(r[:, 3:], v_next[:, -1]))
