"""Exploration around the greedy action: the behaviour distribution mu(.|s) and a draw from it.

``mu`` is returned with every draw because the twin's off-policy corrections (V-trace, Retrace,
importance sampling) need the probability the behaviour policy gave to the logged action.
Only actions in ``mask`` get probability; the greedy action is the masked argmax of ``values``.
"""

from __future__ import annotations

import numpy as np

from xapps.control.control_policy import Exploration


def behaviour_distribution(values: np.ndarray, mask: np.ndarray, exploration: Exploration) -> np.ndarray:
    """mu(.|s) over all actions (float64, sums to 1, zero outside ``mask``)."""
    values = np.asarray(values, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if values.shape != mask.shape:
        raise ValueError(f"values {values.shape} and mask {mask.shape} differ")
    if not mask.any():
        raise ValueError("no action is allowed by the mask")
    masked = np.where(mask, values, -np.inf)
    greedy = int(np.argmax(masked))
    mu = np.zeros_like(values)
    if exploration.kind == "boltzmann":
        z = (masked - masked[greedy]) / exploration.temperature
        p = np.where(mask, np.exp(z), 0.0)
        mu = p / p.sum()
    elif exploration.kind == "epsilon_greedy":
        eps = float(exploration.epsilon)
        mu[mask] = eps / int(mask.sum())
        mu[greedy] += 1.0 - eps
    else:
        mu[greedy] = 1.0
    return mu


def draw(mu: np.ndarray, rng: np.random.Generator) -> int:
    """An action index drawn from ``mu`` (inverse CDF: one uniform number, no allocation of a choice)."""
    cdf = np.cumsum(mu)
    index = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    index = min(index, len(mu) - 1)
    # Guard against landing on a zero-probability action through float round-off at the edges.
    while mu[index] <= 0.0 and index > 0:
        index -= 1
    return index
