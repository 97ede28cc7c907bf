"""Sequential halving at the root (Gumbel MuZero), as a schedule of visit counts.

Sequential halving splits the simulation budget into ceil(log2 m) phases over m considered actions;
each phase visits every remaining action equally, then keeps the better half. Written as a schedule,
simulation s may only pick a root action whose visit count equals ``schedule[s]``; the root rule then
picks, among those, the one with the best Gumbel + logit + sigma(Q) score. Dropped actions fall behind
in visits and are never eligible again, so no per-plane phase state is needed.
"""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor


def considered_visit_sequence(num_considered: int, num_simulations: int) -> list[int]:
    """The visit count an eligible root action has at each of ``num_simulations`` simulations."""
    if num_simulations < 0:
        raise ValueError("num_simulations must be >= 0")
    if num_considered <= 1:
        # One action takes every simulation.
        return list(range(num_simulations))
    phases = math.ceil(math.log2(num_considered))
    sequence: list[int] = []
    remaining = num_considered
    visits_so_far = 0
    while len(sequence) < num_simulations:
        visits_each = max(1, num_simulations // (phases * remaining))
        for visit in range(visits_so_far, visits_so_far + visits_each):
            sequence.extend([visit] * remaining)
        visits_so_far += visits_each
        remaining = max(2, remaining // 2)
    return sequence[:num_simulations]


@functools.cache
def considered_visit_table(max_considered: int, num_simulations: int) -> Tensor:
    """[max_considered + 1, num_simulations] int64: row k is the schedule for k considered actions.

    Cached per (max_considered, num_simulations): every search of a configuration reads the same table,
    so callers must not write into it."""
    rows = [considered_visit_sequence(k, num_simulations) for k in range(max_considered + 1)]
    return torch.tensor(rows, dtype=torch.int64).reshape(max_considered + 1, num_simulations)
