"""Batched MCTS over the twin's planes: Gumbel MuZero or PUCT, tree in preallocated torch tensors.

``plan(model, obs [B, D], valid [B, A], config, generator=...)`` searches B planes at once and returns
the action, visit distribution, root value, policy target and search statistics of each. ``QModel``
builds the model from the twin's dynamics and the target policy's Q-network; ``PlainMcts`` is the
one-tree-at-a-time baseline. See README.md beside this file.
"""

from twin_sidecar.planner.model import (
    Dynamics,
    QModel,
    QNetwork,
    RecurrentOutput,
    RootOutput,
    SearchModel,
)
from twin_sidecar.planner.plain import PlainMcts, PlainResult
from twin_sidecar.planner.policy import PlanOutput, plan
from twin_sidecar.planner.search import SearchConfig, SearchStats
from twin_sidecar.planner.tree import Tree

__all__ = [
    "Dynamics",
    "PlainMcts",
    "PlainResult",
    "PlanOutput",
    "QModel",
    "QNetwork",
    "RecurrentOutput",
    "RootOutput",
    "SearchConfig",
    "SearchModel",
    "SearchStats",
    "Tree",
    "plan",
]
