"""The batched search loop: select, expand, backup, all B planes in lockstep, within three budgets.

One simulation advances every plane by one path: :func:`simulate` walks each plane's tree from the
root to an unexpanded edge (or to the depth limit), :func:`expand` calls the model once for all planes'
leaves, :func:`backup` adds the leaf's discounted return to every node on each path. The three write
only into the :class:`~twin_sidecar.planner.tree.Tree` they are given (in place, for speed) and keep
no other state; the schedule and the Gumbel noise they need come in as arguments.

Budgets: ``num_simulations`` (also the tree's capacity), ``max_depth`` (no node deeper than it; a path
that reaches it re-evaluates the leaf there instead of growing), and ``time_budget_ms``
(:class:`~twin_sidecar.planner.budget.TimeBudget`, on an injected clock).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from twin_sidecar.planner.budget import Clock, TimeBudget
from twin_sidecar.planner.halving import considered_visit_table
from twin_sidecar.planner.model import SearchModel
from twin_sidecar.planner.selection import (
    gumbel_interior_action,
    gumbel_root_action,
    num_considered,
    puct_action,
    sample_gumbel,
)
from twin_sidecar.planner.tree import NO_PARENT, ROOT, Tree, child_stats, flat_index, node_rows

Algorithm = Literal["gumbel", "puct"]
StopReason = Literal["simulations", "time"]


@dataclass(frozen=True)
class SearchConfig:
    """Every knob of a search. Gumbel constants follow Danihelka et al. 2022, PUCT ones MuZero.

    algorithm: ``"gumbel"`` (Gumbel-top-k + sequential halving at the root, deterministic interior
        selection) or ``"puct"``.
    num_simulations: simulations per plane (the tree holds one node per simulation).
    max_depth: deepest node allowed (root = 0); None = ``num_simulations``.
    time_budget_ms: wall-clock budget of the whole call; None = no time limit.
    max_considered_actions: root actions sequential halving starts from (Gumbel).
    gumbel_scale: scale of the root Gumbel noise (0 = deterministic top-k by prior).
    c_visit, c_scale: sigma(q) = (c_visit + max N) * c_scale * q, the weight of Q against logits.
    pb_c_init, pb_c_base: PUCT's exploration constants.
    """

    algorithm: Algorithm = "gumbel"
    num_simulations: int = 64
    max_depth: int | None = None
    time_budget_ms: float | None = None
    max_considered_actions: int = 16
    gumbel_scale: float = 1.0
    c_visit: float = 50.0
    c_scale: float = 0.1
    pb_c_init: float = 1.25
    pb_c_base: float = 19652.0

    def __post_init__(self) -> None:
        if self.algorithm not in ("gumbel", "puct"):
            raise ValueError(f"algorithm must be 'gumbel' or 'puct', not {self.algorithm!r}")
        if self.num_simulations < 0:
            raise ValueError("num_simulations must be >= 0")
        if self.max_depth is not None and self.max_depth < 1:
            raise ValueError("max_depth must be >= 1")
        if self.time_budget_ms is not None and not self.time_budget_ms >= 0.0:
            raise ValueError("time_budget_ms must be >= 0")
        if self.max_considered_actions < 1:
            raise ValueError("max_considered_actions must be >= 1")
        if self.gumbel_scale < 0.0 or self.c_visit < 0.0 or self.c_scale < 0.0:
            raise ValueError("gumbel_scale, c_visit and c_scale must be >= 0")

    @property
    def depth_limit(self) -> int:
        """Deepest node a search can create: ``max_depth``, and never more than the simulations."""
        limit = self.num_simulations if self.max_depth is None else min(self.max_depth, self.num_simulations)
        return max(1, limit)


@dataclass(frozen=True)
class SearchStats:
    """What a search did. ``max_depth`` is the deepest node of any plane; ``nodes`` counts expanded
    nodes over all planes (roots excluded); ``model_calls`` counts batched model calls (root included)."""

    simulations: int
    max_depth: int
    nodes: int
    model_calls: int
    elapsed_ms: float
    stop_reason: StopReason


@dataclass(frozen=True)
class SelectedPath:
    """Where one simulation ends in each plane.

    path: [B, L + 1] int64, nodes from the root (position 0) down to the parent; later positions hold
        the tree's trash row. L <= ``config.depth_limit`` is the longest walk of this simulation.
    parent_position: [B] int64, position of the parent in ``path`` (its depth).
    parent: [B] int64, the node whose edge is taken.
    action: [B] int64, the edge taken.
    child: [B] int64, the edge's child (the tree's sentinel when it is unexpanded).
    """

    path: Tensor
    parent_position: Tensor
    parent: Tensor
    action: Tensor
    child: Tensor

    def expands(self, tree: Tree) -> Tensor:
        """[B] bool: the edge is new (False: a revisit of a leaf at the depth limit)."""
        return self.child == tree.sentinel


def initialize_root(
    tree: Tree, prior_logits: Tensor, value: Tensor, embedding: Tensor, valid: Tensor
) -> None:
    """Write the root of every plane: prior logits [B, A], value [B], embedding [B, D], valid [B, A]."""
    tree.valid.copy_(valid)
    tree.invalid_penalty.copy_(torch.zeros_like(tree.invalid_penalty).masked_fill(~valid, float("-inf")))
    logits = prior_logits.to(tree.prior_logits.dtype) + tree.invalid_penalty
    tree.prior_logits[:, ROOT] = logits
    tree.prior_probs[:, ROOT] = torch.softmax(logits, dim=-1)
    tree.raw_values[:, ROOT] = value
    tree.node_values[:, ROOT] = value
    tree.node_visits[:, ROOT] = 1.0
    tree.embeddings[:, ROOT] = embedding
    tree.parents[:, ROOT] = NO_PARENT


def simulate(tree: Tree, config: SearchConfig, considered_visit: Tensor | None) -> SelectedPath:
    """Walk every plane from the root to the edge this simulation expands (reads the tree only).

    A plane descends while the chosen edge is expanded and its child is above the depth limit. The
    planes walk in lockstep, one level per step; each step works only on the planes still descending,
    so one deep plane does not make every plane pay for its depth.
    considered_visit: [B] int64, sequential halving's visit count for this simulation (Gumbel only).
    """
    batch = tree.batch_size
    planes = tree.plane_index  # [K] planes still descending
    node = torch.zeros(batch, dtype=torch.int64)  # [K] their current node
    width = config.depth_limit + 1
    path = torch.full((batch, width), tree.trash, dtype=torch.int64)
    path[:, 0] = ROOT
    parent = torch.zeros(batch, dtype=torch.int64)
    position = torch.zeros(batch, dtype=torch.int64)
    action = torch.zeros(batch, dtype=torch.int64)
    levels = 0
    for level in range(config.depth_limit):
        stats = child_stats(tree, node, None if level == 0 else planes)
        if config.algorithm == "puct":
            chosen = puct_action(stats, config.pb_c_init, config.pb_c_base)
        elif level == 0:
            assert considered_visit is not None
            chosen = gumbel_root_action(stats, tree.gumbel, considered_visit, config.c_visit, config.c_scale)
        else:
            chosen = gumbel_interior_action(stats, config.c_visit, config.c_scale)
        if level == 0:
            action = chosen
        else:
            parent.index_copy_(0, planes, node)
            position.index_fill_(0, planes, level)
            action.index_copy_(0, planes, chosen)
        levels = level
        if level + 1 >= config.depth_limit:
            break
        next_node = _edge_child(tree, node, chosen, planes)
        descending = (next_node != tree.sentinel).nonzero().squeeze(1)
        if descending.numel() == 0:
            break
        planes, node = planes.index_select(0, descending), next_node.index_select(0, descending)
        path.view(-1).index_copy_(0, planes * width + (level + 1), node)
    return SelectedPath(path[:, : levels + 1], position, parent, action, _edge_child(tree, parent, action))


def _edge_child(tree: Tree, node: Tensor, action: Tensor, planes: Tensor | None = None) -> Tensor:
    """``children_index[plane, node, action]`` [K] for K (plane, node, action) triples."""
    edge = flat_index(tree, node, planes) * tree.num_actions + action
    return tree.children_index.view(-1).index_select(0, edge).long()


def expand(tree: Tree, model: SearchModel, selected: SelectedPath) -> tuple[Tensor, Tensor, int]:
    """Create the new nodes of one simulation with one batched model call.

    Returns the leaf of each plane [B] int64 (the new node, or the revisited one at the depth limit),
    its value [B] and the number of model calls made (0 when no plane expands).
    """
    expands = selected.expands(tree)
    if not bool(expands.any()):
        return selected.child, node_rows(tree.raw_values, flat_index(tree, selected.child)), 0
    output, next_embedding = model.recurrent_fn(
        selected.action,
        node_rows(tree.embeddings, flat_index(tree, selected.parent)),
        tree.members,
        tree.valid,
    )
    # Planes that do not expand write into the trash row, so every write stays one batched op.
    new = torch.where(expands, tree.num_nodes, tree.trash)
    at = flat_index(tree, new)
    dtype = tree.raw_values.dtype
    logits = output.prior_logits.to(dtype) + tree.invalid_penalty
    value = output.value.to(dtype)
    _put(tree.embeddings, at, next_embedding.to(dtype))
    _put(tree.prior_logits, at, logits)
    _put(tree.prior_probs, at, torch.softmax(logits, dim=-1))
    _put(tree.raw_values, at, value)
    _put(tree.node_rewards, at, output.reward.to(dtype))
    _put(tree.node_discounts, at, output.discount.to(dtype))
    _put(tree.parents, at, selected.parent)
    _put(tree.action_from_parent, at, selected.action)
    _put(tree.depth, at, selected.parent_position + 1)
    edge = flat_index(tree, selected.parent) * tree.num_actions + selected.action
    tree.children_index.view(-1).index_copy_(0, edge, torch.where(expands, new, selected.child).int())
    tree.num_nodes += expands
    leaf = torch.where(expands, new, selected.child)
    leaf_value = torch.where(expands, value, node_rows(tree.raw_values, flat_index(tree, selected.child)))
    return leaf, leaf_value, 1


def _put(array: Tensor, index: Tensor, rows: Tensor) -> None:
    """``array[b, node[b]] = rows[b]`` for a [B, N, ...] array, given ``flat_index``."""
    array.view(-1, *array.shape[2:]).index_copy_(0, index, rows)


def backup(tree: Tree, selected: SelectedPath, leaf: Tensor, leaf_value: Tensor) -> None:
    """Add the discounted return of each plane's leaf to every node and edge on its path.

    The return at path position k is ``G_k = r_{k+1} + discount_{k+1} * G_{k+1}`` with ``G_leaf`` the
    leaf's value; each node's visits grow by one and its value moves to the new running mean; each
    edge on the path copies its child's visits and ``reward + discount * value``.
    """
    batch = tree.batch_size
    leaf_position = selected.parent_position + 1
    last = selected.path.shape[1]  # the longest path's leaf position
    # Past its parent a plane's path already holds the trash row; the leaf goes after the parent.
    nodes = torch.cat([selected.path, torch.full((batch, 1), tree.trash, dtype=torch.int64)], dim=1)
    nodes.scatter_(1, leaf_position.unsqueeze(1), leaf.unsqueeze(1))
    rewards = tree.node_rewards.gather(1, nodes)
    discounts = tree.node_discounts.gather(1, nodes)
    returns = torch.empty(batch, last + 1, dtype=tree.node_values.dtype)
    g = leaf_value.to(tree.node_values.dtype)
    returns[:, last] = g
    for k in range(last - 1, -1, -1):
        g = torch.where(leaf_position > k, rewards[:, k + 1] + discounts[:, k + 1] * g, g)
        returns[:, k] = g
    visits = tree.node_visits.gather(1, nodes) + 1.0
    values = tree.node_values.gather(1, nodes)
    values = values + (returns - values) / visits
    # Within a plane a path has distinct nodes; only the trash row repeats, and it is never read.
    tree.node_visits.scatter_(1, nodes, visits)
    tree.node_values.scatter_(1, nodes, values)
    # Edge k-1 -> k for k = 1..last: the parent's row and the child's action. Past the leaf the child
    # is the trash row, and so must the "parent" be (not the leaf, whose edges are real).
    children = nodes[:, 1:]
    parents = torch.where(children == tree.trash, tree.trash, nodes[:, :-1])
    actions = tree.action_from_parent.gather(1, children).clamp_min(0)
    edges = ((tree.plane_rows.unsqueeze(1) + parents) * tree.num_actions + actions).view(-1)
    tree.children_visits.view(-1).index_copy_(0, edges, visits[:, 1:].reshape(-1))
    edge_q = rewards[:, 1:] + discounts[:, 1:] * values[:, 1:]
    tree.children_qvalues.view(-1).index_copy_(0, edges, edge_q.reshape(-1))


def _check_inputs(obs: Tensor, valid: Tensor, members: Tensor | None) -> None:
    if obs.ndim != 2:
        raise ValueError(f"observations must be [B, D], got shape {tuple(obs.shape)}")
    if not obs.is_floating_point() or not bool(torch.isfinite(obs).all()):
        raise ValueError("observations must be finite floats")
    if valid.dtype != torch.bool or valid.ndim != 2 or valid.shape[0] != obs.shape[0]:
        raise ValueError(
            f"mask must be bool [B, A] with B={obs.shape[0]}, got {valid.dtype} {tuple(valid.shape)}"
        )
    empty = (~valid.any(dim=-1)).nonzero().flatten().tolist()
    if empty:
        raise ValueError(f"planes {empty} have no valid action")
    if members is not None and (members.shape != (obs.shape[0],) or members.dtype != torch.int64):
        raise ValueError(f"members must be int64 [B] with B={obs.shape[0]}")


def search(
    model: SearchModel,
    obs: Tensor,
    valid: Tensor,
    config: SearchConfig,
    *,
    generator: torch.Generator,
    members: Tensor | None = None,
    clock: Clock = time.perf_counter,
    workspace: Tree | None = None,
) -> tuple[Tree, SearchStats]:
    """Search B planes at once from observations [B, D] with masks [B, A] (True = allowed).

    ``members`` [B] picks one ensemble member per plane (Monte Carlo planes); None plans on the mean.
    All randomness (the root Gumbel noise) comes from ``generator``. ``workspace``: a tree of the same
    dimensions to search in (it is reset and returned), so a long-lived caller allocates once;
    otherwise a new tree is allocated.
    """
    budget = TimeBudget(config.time_budget_ms, clock)
    _check_inputs(obs, valid, members)
    root = model.root_fn(obs, valid)
    dims = (obs.shape[0], config.num_simulations, valid.shape[1], tuple(root.embedding.shape[1:]))
    if workspace is None:
        tree = Tree.allocate(*dims, dtype=obs.dtype)
    elif workspace.fits(*dims, dtype=obs.dtype):
        tree = workspace
        tree.reset()
    else:
        raise ValueError(f"the workspace does not fit a search of (B, simulations, A, D) = {dims}")
    tree.members = members
    initialize_root(tree, root.prior_logits, root.value, root.embedding, valid)
    considered: Tensor | None = None
    table: Tensor | None = None
    if config.algorithm == "gumbel":
        tree.gumbel = config.gumbel_scale * sample_gumbel(tuple(valid.shape), generator, tree.gumbel.dtype)
        table = considered_visit_table(config.max_considered_actions, config.num_simulations)
        considered = num_considered(valid, config.max_considered_actions)
    simulations = 0
    model_calls = 1
    stop_reason: StopReason = "simulations"
    for sim in range(config.num_simulations):
        if not budget.may_start():
            stop_reason = "time"
            break
        considered_visit = None if table is None or considered is None else table[considered, sim]
        selected = simulate(tree, config, considered_visit)
        leaf, leaf_value, calls = expand(tree, model, selected)
        backup(tree, selected, leaf, leaf_value)
        simulations += 1
        model_calls += calls
        budget.finished()
    used = torch.arange(tree.node_visits.shape[1]) < tree.num_nodes.unsqueeze(1)
    stats = SearchStats(
        simulations=simulations,
        max_depth=int(tree.depth.masked_fill(~used, 0).max()),
        nodes=int((tree.num_nodes - 1).sum()),
        model_calls=model_calls,
        elapsed_ms=budget.elapsed_ms(),
        stop_reason=stop_reason,
    )
    return tree, stats
