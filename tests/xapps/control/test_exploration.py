"""Behaviour distribution mu(.|s): epsilon-greedy, Boltzmann and greedy, masked; draws follow mu."""

from __future__ import annotations

import numpy as np
import pytest

from xapps.control.control_policy import Exploration
from xapps.control.exploration import behaviour_distribution, draw

VALUES = np.array([0.0, 2.0, 1.0, 5.0, -1.0])
MASK = np.array([True, True, True, False, True])  # the best value (index 3) is masked out


def test_epsilon_greedy():
    mu = behaviour_distribution(VALUES, MASK, Exploration("epsilon_greedy", epsilon=0.2))
    assert mu.sum() == pytest.approx(1.0)
    assert mu[3] == 0.0
    assert mu[1] == pytest.approx(0.8 + 0.2 / 4)
    assert mu[0] == pytest.approx(0.05) and mu[4] == pytest.approx(0.05)


def test_boltzmann_matches_softmax_over_allowed_actions():
    mu = behaviour_distribution(VALUES, MASK, Exploration("boltzmann", temperature=0.5))
    allowed = VALUES[MASK] / 0.5
    expected = np.exp(allowed - allowed.max()) / np.exp(allowed - allowed.max()).sum()
    assert np.allclose(mu[MASK], expected) and mu[3] == 0.0


def test_higher_temperature_spreads_probability():
    cold = behaviour_distribution(VALUES, MASK, Exploration("boltzmann", temperature=0.1))
    hot = behaviour_distribution(VALUES, MASK, Exploration("boltzmann", temperature=10.0))
    assert cold[1] > 0.99 and hot[1] < 0.5


def test_no_exploration_is_greedy():
    mu = behaviour_distribution(VALUES, MASK, Exploration("none"))
    assert mu.tolist() == [0, 1, 0, 0, 0]


def test_draws_follow_mu():
    mu = behaviour_distribution(VALUES, MASK, Exploration("epsilon_greedy", epsilon=0.4))
    rng = np.random.default_rng(1)
    counts = np.bincount([draw(mu, rng) for _ in range(20000)], minlength=5) / 20000
    assert np.allclose(counts, mu, atol=0.015)
    assert counts[3] == 0.0


def test_empty_mask_is_an_error():
    with pytest.raises(ValueError, match="no action"):
        behaviour_distribution(VALUES, np.zeros(5, dtype=bool), Exploration())
