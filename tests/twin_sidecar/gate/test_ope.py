"""OPE estimators against exact values: a known contextual bandit and a known finite-horizon MDP."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from known_mdp import OBS_DIM, KnownMdp

from twin_sidecar.gate.ope import (
    ESTIMATOR_FUNCTIONS,
    ESTIMATORS,
    FqeConfig,
    behaviour_inputs,
    compare,
    policy_inputs,
)
from twin_sidecar.gate.segments import LoggedSegments

FQE = FqeConfig(hidden=(64,), iterations=1500, batch_size=256, target_update_interval=50)


class TabularPolicy:
    def __init__(self, mdp: KnownMdp, pi: np.ndarray, name: str = "tabular") -> None:
        self.mdp, self.pi, self.name = mdp, torch.from_numpy(pi.astype(np.float32)), name

    def probs(self, obs: torch.Tensor) -> torch.Tensor:
        return self.pi[self.mdp.state_of(obs)]


def finite_horizon_value(mdp: KnownMdp, pi: np.ndarray, horizon: int) -> float:
    """mean_s V_H^pi(s) by backward recursion (start states are uniform in KnownMdp.log)."""
    v = np.zeros(mdp.n_states)
    for _ in range(horizon):
        v = (pi * (mdp.R + mdp.gamma * mdp.P @ v)).sum(1)
    return float(v.mean())


@pytest.fixture(scope="module")
def mdp() -> KnownMdp:
    return KnownMdp.random(seed=1)


def estimates(
    mdp: KnownMdp,
    behaviour: np.ndarray,
    target: np.ndarray,
    horizon: int,
    n: int,
    seed: int,
    fqe: FqeConfig = FQE,
) -> dict[str, float | None]:
    data = mdp.log(behaviour, n * horizon, horizon, seed=seed)
    segments = LoggedSegments.from_transitions(data, horizon, OBS_DIM)
    assert (segments.n, segments.horizon) == (n, horizon)
    inputs = policy_inputs(segments, TabularPolicy(mdp, target), mdp.gamma, fqe)
    every = np.arange(inputs.n)
    return {name: ESTIMATOR_FUNCTIONS[name](inputs, every) for name in ESTIMATORS}


def test_each_estimator_is_unbiased_on_a_known_bandit(mdp: KnownMdp) -> None:
    q_star = mdp.optimal_q()
    behaviour = mdp.epsilon_soft(mdp.greedy(-q_star), 0.6)
    target = mdp.epsilon_soft(mdp.greedy(q_star), 0.2)
    truth = finite_horizon_value(mdp, target, 1)  # one step: sum_a pi(a|s) R(s, a), s uniform
    quick = FqeConfig(hidden=(64,), iterations=600)  # one step: FQE is a regression of R(s, a)
    runs = [estimates(mdp, behaviour, target, horizon=1, n=3000, seed=s, fqe=quick) for s in range(4)]
    for name in ESTIMATORS:
        values = np.array([r[name] for r in runs])
        assert abs(values.mean() - truth) < 0.02 * truth, (name, values, truth)


def test_estimators_recover_a_finite_horizon_value_and_dr_fqe_are_tight(mdp: KnownMdp) -> None:
    q_star = mdp.optimal_q()
    behaviour = mdp.epsilon_soft(mdp.greedy(-q_star), 0.6)
    target = mdp.epsilon_soft(mdp.greedy(q_star), 0.2)
    truth = finite_horizon_value(mdp, target, 4)
    assert abs(truth - finite_horizon_value(mdp, behaviour, 4)) > 0.2 * truth  # the two really differ
    est = estimates(mdp, behaviour, target, horizon=4, n=3000, seed=10)
    for name in ("dr", "fqe"):
        assert est[name] == pytest.approx(truth, rel=0.03), (name, est, truth)
    # The weighted IS estimators are consistent, not unbiased: with whole-trajectory weights over 4
    # steps of a behaviour that mostly does the opposite of the target, few logs carry the weight and
    # WIS's finite-sample bias stays near 10 % here (it passed or failed a single-log 10 % check
    # depending on the MDP drawn); the per-decision weights keep PDWIS close. Averages over four
    # independent logs, so one unlucky log decides nothing.
    untrained = FqeConfig(hidden=(8,), iterations=1)  # the IS estimators do not use the model
    runs = [est, *(estimates(mdp, behaviour, target, 4, 3000, seed=s, fqe=untrained) for s in (11, 12, 13))]
    for name, tolerance in (("pdwis", 0.05), ("wis", 0.15)):
        values = np.array([r[name] for r in runs])
        assert values.mean() == pytest.approx(truth, rel=tolerance), (name, values, truth)


def test_importance_sampling_without_support_is_undefined_and_dr_falls_back_to_the_model(
    mdp: KnownMdp,
) -> None:
    q_star = mdp.optimal_q()
    behaviour = mdp.greedy(-q_star)  # deterministic, never what the target does
    target = mdp.greedy(q_star)
    if (behaviour * target).sum() > 0:
        pytest.fail("the fixture MDP should have no state where best and worst actions agree")
    est = estimates(mdp, behaviour, target, horizon=2, n=200, seed=11)
    assert est["wis"] is None and est["pdwis"] is None
    assert est["dr"] == pytest.approx(est["fqe"])


def test_the_paired_bootstrap_separates_a_better_policy_from_the_logged_behaviour(mdp: KnownMdp) -> None:
    q_star = mdp.optimal_q()
    behaviour = mdp.epsilon_soft(mdp.greedy(-q_star), 0.6)
    data = mdp.log(behaviour, 4 * 1500, 4, seed=12)
    segments = LoggedSegments.from_transitions(data, 4, OBS_DIM)
    better = policy_inputs(
        segments, TabularPolicy(mdp, mdp.epsilon_soft(mdp.greedy(q_star), 0.2)), mdp.gamma, FQE
    )
    same = policy_inputs(segments, TabularPolicy(mdp, behaviour), mdp.gamma, FQE)
    logged = behaviour_inputs(segments, mdp.gamma)
    rng = np.random.default_rng(0)
    for name in ESTIMATORS:
        up = compare(better, logged, name, confidence=0.95, samples=300, rng=rng)
        assert up.lcb is not None and up.lcb > 0.0, up
        tie = compare(same, logged, name, confidence=0.95, samples=300, rng=rng)
        assert tie.lcb is not None and tie.ucb is not None and tie.lcb <= 0.0 <= tie.ucb, (
            tie
        )  # never promoted
    # the behaviour's own estimate is its Monte Carlo return for every estimator
    every = np.arange(logged.n)
    values = {ESTIMATOR_FUNCTIONS[n](logged, every) for n in ESTIMATORS}
    assert max(values) - min(values) < 1e-9  # type: ignore[operator]


def test_segments_never_span_a_break_and_drop_short_tails(mdp: KnownMdp) -> None:
    uniform = mdp.epsilon_soft(np.zeros_like(mdp.R), 1.0)
    data = mdp.log(uniform, 23, 10, seed=13)  # episodes 10, 10, 3 steps
    del data[4]  # a gap inside the first episode: 4 + 5 steps around it
    segments = LoggedSegments.from_transitions(data, 3, OBS_DIM)
    # episode 0: steps 0-3 -> one segment (0-2), steps 5-9 -> one (5-7); episode 1 -> 3; episode 2 -> 1
    assert segments.n == 6
    bad = mdp.log(uniform, 6, 6, seed=14)
    bad[2].mu = 0.0  # malformed step breaks the run
    assert LoggedSegments.from_transitions(bad, 2, OBS_DIM).n == 2
