"""The planner's entry point: search B planes and answer with an action, the visit distribution, the
root value, a policy-improvement target and the search statistics (mctx's ``*_policy`` functions).

* Gumbel: the action is the best of the last survivors of sequential halving; the target is the
  improved policy softmax(logits + sigma(completed Q)) (Danihelka et al. 2022), which is what the
  learner distils when search targets are on.
* PUCT: the action is the most visited; the target is the visit distribution (MuZero).

Whatever stops the search (simulations or time), the answer is computed from the tree as it stands,
so a search cut short still returns its best action so far, and never a masked one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import Tensor

from twin_sidecar.planner.budget import Clock
from twin_sidecar.planner.model import SearchModel
from twin_sidecar.planner.qtransform import completed_qvalues
from twin_sidecar.planner.search import SearchConfig, SearchStats, search
from twin_sidecar.planner.selection import gumbel_final_action, improved_policy, most_visited_action
from twin_sidecar.planner.tree import ROOT, Tree, child_stats


@dataclass(frozen=True)
class PlanOutput:
    """The result of planning B planes.

    action: [B] int64, the chosen action of each plane (always a valid one).
    visit_counts: [B, A] float, root visits per action.
    visit_probs: [B, A] float, root visits normalised to sum 1 (the prior while no simulation ran).
    action_weights: [B, A] float, the policy target (Gumbel: improved policy; PUCT: visit_probs).
    root_value: [B] float, the root's backed-up value.
    root_qvalues: [B, A] float, completed Q of the root's actions (0 on invalid actions).
    stats: what the search did.
    tree: the full search tree (for inspection and offline targets).
    """

    action: Tensor
    visit_counts: Tensor
    visit_probs: Tensor
    action_weights: Tensor
    root_value: Tensor
    root_qvalues: Tensor
    stats: SearchStats
    tree: Tree


def plan(
    model: SearchModel,
    obs: Tensor,
    valid: Tensor,
    config: SearchConfig | None = None,
    *,
    generator: torch.Generator,
    members: Tensor | None = None,
    clock: Clock = time.perf_counter,
    workspace: Tree | None = None,
) -> PlanOutput:
    """Plan from observations [B, D] under masks [B, A] (True = the action may be taken).

    Raises ValueError on malformed input (shapes, non-finite observations, a plane without any valid
    action). Deterministic for a given generator state unless ``config.time_budget_ms`` cuts it short.
    ``workspace``: a tree from an earlier search of the same dimensions to reuse; the returned ``tree``
    is then that object, and the next search that reuses it overwrites it.
    """
    config = config or SearchConfig()
    tree, stats = search(
        model, obs, valid, config, generator=generator, members=members, clock=clock, workspace=workspace
    )
    root = child_stats(tree, torch.full((tree.batch_size,), ROOT, dtype=torch.int64))
    visits = root.visits.clone()  # invalid actions are never visited
    total = visits.sum(dim=-1, keepdim=True)
    visit_probs = torch.where(total > 0, visits / total.clamp_min(1.0), root.prior_probs)
    if config.algorithm == "gumbel":
        action = gumbel_final_action(root, tree.gumbel, config.c_visit, config.c_scale)
        weights = improved_policy(root, config.c_visit, config.c_scale)
    else:
        action = most_visited_action(root)
        weights = visit_probs
    return PlanOutput(
        action=action,
        visit_counts=visits,
        visit_probs=visit_probs,
        action_weights=weights,
        root_value=tree.node_values[:, ROOT].clone(),
        root_qvalues=completed_qvalues(root).masked_fill(~tree.valid, 0.0),
        stats=stats,
        tree=tree,
    )
