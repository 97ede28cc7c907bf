"""How a node's child Q-values are turned into scores (Gumbel MuZero's completed Q, MuZero's min-max).

Pure functions of :class:`~twin_sidecar.planner.tree.ChildStats`; B planes, A actions. Invalid actions
never take part in a minimum, a maximum or a mean: they are never visited (so "visited" implies valid)
and ``invalid_penalty`` (-inf) keeps them out of extrema. Masks are arithmetic (visit counts are whole
numbers, so ``min(N, 1)`` is the visited indicator): boolean ``where``/``masked_fill`` cost several
times more per element in torch on CPU, and these functions run once per tree level per simulation.
"""

from __future__ import annotations

import torch
from torch import Tensor

from twin_sidecar.planner.tree import ChildStats

EPSILON = 1e-8
# Pushes unvisited children out of a min/max without inf * 0 = nan; far above any Q in use.
FAR = 1e30


def visited(stats: ChildStats) -> Tensor:
    """[B, A] float: 1 for visited children, 0 otherwise."""
    return stats.visits.clamp(max=1.0)


def mixed_value(stats: ChildStats) -> Tensor:
    """Gumbel MuZero's v_mix [B]: the node's raw value mixed with the prior-weighted Q of visited children.

    ``v_mix = (v_raw + sum_b N(b) * sum_{a visited} pi(a) q(a) / sum_{a visited} pi(a)) / (1 + sum_b N(b))``
    (Danihelka et al. 2022, appendix D); equals ``v_raw`` while no child is visited.
    """
    visited_prior = stats.prior_probs * visited(stats)
    total_visits = stats.visits.sum(dim=-1)
    prior_mass = visited_prior.sum(dim=-1)
    # Unvisited edges have q = 0, so the product needs no mask; the floor only matters when no child
    # is visited, where total_visits is 0 anyway.
    weighted_q = (visited_prior * stats.qvalues).sum(dim=-1)
    mean_visited_q = weighted_q / prior_mass.clamp_min(torch.finfo(prior_mass.dtype).tiny)
    return (stats.raw_value + total_visits * mean_visited_q) / (1.0 + total_visits)


def completed_qvalues(stats: ChildStats) -> Tensor:
    """Completed Q [B, A]: Q of visited children, v_mix for the others (invalid actions included)."""
    v_mix = mixed_value(stats).unsqueeze(-1)
    return v_mix + visited(stats) * (stats.qvalues - v_mix)


def sigma_completed_qvalues(stats: ChildStats, c_visit: float, c_scale: float) -> Tensor:
    """sigma(completed Q) [B, A]: min-max normalised to [0, 1] over valid actions, then scaled by
    ``(c_visit + max_b N(b)) * c_scale`` so that Q outweighs the prior as visits grow.

    Entries of invalid actions are finite but meaningless: every caller adds them to -inf logits."""
    completed = completed_qvalues(stats)
    low = (completed - stats.invalid_penalty).amin(dim=-1, keepdim=True)
    high = (completed + stats.invalid_penalty).amax(dim=-1, keepdim=True)
    scale = (c_visit + stats.visits.amax(dim=-1, keepdim=True)) * c_scale
    return (completed - low) * (scale / (high - low).clamp_min(EPSILON))


def normalized_by_parent_and_siblings(stats: ChildStats) -> Tensor:
    """MuZero's Q for PUCT [B, A]: min-max normalised over the node's value and its visited children;
    unvisited children score the minimum (0)."""
    seen = visited(stats)
    far = (1.0 - seen) * FAR
    node_value = stats.node_value.unsqueeze(-1)
    low = torch.minimum(node_value, (stats.qvalues + far).amin(dim=-1, keepdim=True))
    high = torch.maximum(node_value, (stats.qvalues - far).amax(dim=-1, keepdim=True))
    return seen * (stats.qvalues - low) / (high - low).clamp_min(EPSILON)
