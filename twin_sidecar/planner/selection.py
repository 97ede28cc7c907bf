"""Which edge a simulation follows, and which root action the search answers with.

Pure functions of :class:`~twin_sidecar.planner.tree.ChildStats` (B planes, A actions) returning
actions [B] int64. Ties go to the lowest action index (``torch.argmax`` returns the first maximum), so
a search is reproducible and the plain baseline can follow the same rules. Invalid actions are never
returned: every rule adds ``invalid_penalty`` (-inf) before its argmax.
"""

from __future__ import annotations

import torch
from torch import Tensor

from twin_sidecar.planner.qtransform import FAR, normalized_by_parent_and_siblings, sigma_completed_qvalues
from twin_sidecar.planner.tree import ChildStats


def first_argmax(scores: Tensor) -> Tensor:
    """Index of the first maximum of each row [B] (int64).

    On CPU through numpy, on the same memory: torch's CPU argmax over rows of ~200 costs 10-20x
    numpy's here, and the search takes one per tree level. Both return the first maximum.
    """
    if scores.device.type == "cpu":
        return torch.from_numpy(scores.detach().contiguous().numpy().argmax(axis=-1))
    return scores.argmax(dim=-1)


def argmax_valid(scores: Tensor, stats: ChildStats) -> Tensor:
    """argmax over valid actions [B] (every plane has at least one)."""
    return first_argmax(scores + stats.invalid_penalty)


def _only(selected: Tensor) -> Tensor:
    """[B, A] float penalty from a 0/1 float indicator: 0 where selected, -FAR elsewhere; all 0 (no
    restriction) in a row where nothing is selected."""
    return (selected - 1.0) * (FAR * selected.amax(dim=-1, keepdim=True))


def _valid(stats: ChildStats) -> Tensor:
    """[B, A] float: 1 on valid actions, 0 on invalid ones (penalty 0 -> 1, -inf -> 0)."""
    return (stats.invalid_penalty + 1.0).clamp(min=0.0)


# --- PUCT (MuZero) ---------------------------------------------------------------------------------


def puct_scores(stats: ChildStats, pb_c_init: float, pb_c_base: float) -> Tensor:
    """MuZero's PUCT score [B, A]: normalised Q + P(a) sqrt(N) / (1 + N(a)) (c1 + log((N + c2 + 1) / c2))."""
    parent_visits = stats.node_visits.unsqueeze(-1)
    pb_c = pb_c_init + torch.log((parent_visits + pb_c_base + 1.0) / pb_c_base)
    exploration = stats.prior_probs * (pb_c * parent_visits.sqrt()) / (1.0 + stats.visits)
    return normalized_by_parent_and_siblings(stats) + exploration


def puct_action(stats: ChildStats, pb_c_init: float, pb_c_base: float) -> Tensor:
    return argmax_valid(puct_scores(stats, pb_c_init, pb_c_base), stats)


def _most_visited(stats: ChildStats) -> Tensor:
    """[B, A] float: 1 on the valid actions with the most visits."""
    visits = stats.visits + stats.invalid_penalty
    return (visits == visits.amax(dim=-1, keepdim=True)).to(stats.visits.dtype)


def most_visited_action(stats: ChildStats) -> Tensor:
    """PUCT's answer [B]: the most visited valid action; ties go to the higher prior."""
    return argmax_valid(stats.prior_logits + _only(_most_visited(stats)), stats)


# --- Gumbel MuZero ---------------------------------------------------------------------------------


def gumbel_root_scores(stats: ChildStats, gumbel: Tensor, c_visit: float, c_scale: float) -> Tensor:
    """g(a) + logits(a) + sigma(completed Q)(a) [B, A] (-inf on invalid actions)."""
    return gumbel + stats.prior_logits + sigma_completed_qvalues(stats, c_visit, c_scale)


def gumbel_root_action(
    stats: ChildStats, gumbel: Tensor, considered_visit: Tensor, c_visit: float, c_scale: float
) -> Tensor:
    """Sequential halving's pick [B]: the best-scoring valid action among those whose visit count
    equals this simulation's ``considered_visit`` [B] (see :mod:`~twin_sidecar.planner.halving`).
    Should no valid action have that count, every valid action is eligible."""
    off_schedule = (stats.visits - considered_visit.unsqueeze(-1)).abs().clamp(max=1.0)
    eligible = (1.0 - off_schedule) * _valid(stats)
    scores = gumbel_root_scores(stats, gumbel, c_visit, c_scale)
    return argmax_valid(scores + _only(eligible), stats)


def improved_policy(stats: ChildStats, c_visit: float, c_scale: float) -> Tensor:
    """Gumbel MuZero's improved policy [B, A]: softmax(logits + sigma(completed Q)), 0 on invalid."""
    return torch.softmax(stats.prior_logits + sigma_completed_qvalues(stats, c_visit, c_scale), dim=-1)


def gumbel_interior_action(stats: ChildStats, c_visit: float, c_scale: float) -> Tensor:
    """Deterministic interior selection [B]: argmax of pi'(a) - N(a) / (1 + sum_b N(b)), which keeps
    the visit distribution close to the improved policy pi'."""
    policy = improved_policy(stats, c_visit, c_scale)
    visit_share = stats.visits / (1.0 + stats.visits.sum(dim=-1, keepdim=True))
    return argmax_valid(policy - visit_share, stats)


def gumbel_final_action(stats: ChildStats, gumbel: Tensor, c_visit: float, c_scale: float) -> Tensor:
    """Gumbel MuZero's answer [B]: among the most visited valid actions (the last survivors of sequential
    halving), the one with the best g + logits + sigma(completed Q)."""
    scores = gumbel_root_scores(stats, gumbel, c_visit, c_scale)
    return argmax_valid(scores + _only(_most_visited(stats)), stats)


def num_considered(valid: Tensor, max_considered: int) -> Tensor:
    """Actions sequential halving considers per plane [B]: min(max_considered, valid actions)."""
    return valid.sum(dim=-1).clamp(max=max_considered)


def sample_gumbel(shape: tuple[int, ...], generator: torch.Generator, dtype: torch.dtype) -> Tensor:
    """Standard Gumbel noise drawn from ``generator`` (never the global RNG)."""
    # torch.rand draws from [0, 1): only 0 needs a floor.
    uniform = torch.rand(shape, generator=generator, dtype=dtype).clamp_min(torch.finfo(dtype).tiny)
    return -torch.log(-torch.log(uniform))
