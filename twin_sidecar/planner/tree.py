"""The search tree of B planes in preallocated tensors (the layout of DeepMind's mctx, in torch).

Node 0 of every plane is the root; nodes ``1 .. num_simulations`` are created one per simulation (at
most). Two extra rows sit at the end of the node axis:

* ``sentinel`` (``N - 2``): what an unexpanded edge points to (never written).
* ``trash`` (``N - 1``): where planes write when they have nothing to write this step (a plane that
  revisits a leaf at the depth limit, path positions past a plane's leaf), so every update stays one
  batched op with no branch. No edge points to it, and what is read from it is never used.

Edge statistics (visits, Q) are kept per node in [B, N, A] arrays, as mctx does, so reading a node's
children is one row per plane; node statistics (visits, value) drive the backup.

Shapes: B planes, N = num_simulations + 3 node rows, A actions, D embedding width.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

ROOT = 0
NO_PARENT = -1


@dataclass
class Tree:
    """State of a batched search. Every field is a tensor whose shape is given here.

    node_visits: [B, N] float, visits of each node (the root starts at 1: its own evaluation).
    node_values: [B, N] float, running mean of the returns backed up through each node.
    raw_values: [B, N] float, the model's value of each node when it was expanded.
    node_rewards: [B, N] float, reward of the edge from the parent into each node.
    node_discounts: [B, N] float, discount of that edge.
    children_visits: [B, N, A] float, visits of each edge (= the child's node visits).
    children_qvalues: [B, N, A] float, ``reward + discount * child value`` of each edge (0 if unvisited).
    parents: [B, N] int64, parent node (``NO_PARENT`` for the root and unused rows).
    action_from_parent: [B, N] int64, action of the edge into each node (-1 for the root).
    depth: [B, N] int64, depth of each node (root 0).
    children_index: [B, N, A] int32, child node of each edge, ``sentinel`` while unexpanded.
    prior_logits: [B, N, A] float, prior logits of each node's edges, -inf on invalid actions.
    prior_probs: [B, N, A] float, ``softmax(prior_logits)`` (0 on invalid actions).
    embeddings: [B, N, D] float, the model state of each node (the predicted observation).
    valid: [B, A] bool, actions allowed in each plane (the caller's mask, the same at every depth).
    invalid_penalty: [B, A] float, 0 on valid and -inf on invalid actions: added to scores before an
        argmax or a max (arithmetic is several times cheaper than boolean masking in torch on CPU).
    members: [B] int64 or None, the ensemble member each plane steps with (None: the ensemble mean).
    gumbel: [B, A] float, the Gumbel noise of the root (zeros for PUCT).
    num_nodes: [B] int64, rows in use per plane (root included); the next node is created there.
    plane_index: [B] int64, ``0 .. B-1`` (kept, not rebuilt at every step).
    plane_rows: [B] int64, ``plane_index * N``: where each plane's node 0 sits in a [B * N, ...] view.
    """

    node_visits: Tensor
    node_values: Tensor
    raw_values: Tensor
    node_rewards: Tensor
    node_discounts: Tensor
    children_visits: Tensor
    children_qvalues: Tensor
    parents: Tensor
    action_from_parent: Tensor
    depth: Tensor
    children_index: Tensor
    prior_logits: Tensor
    prior_probs: Tensor
    embeddings: Tensor
    valid: Tensor
    invalid_penalty: Tensor
    members: Tensor | None
    gumbel: Tensor
    num_nodes: Tensor
    plane_index: Tensor
    plane_rows: Tensor

    @property
    def batch_size(self) -> int:
        return self.node_visits.shape[0]

    @property
    def num_actions(self) -> int:
        return self.children_index.shape[-1]

    @property
    def capacity(self) -> int:
        """Rows usable for real nodes (root included): ``N - 2``."""
        return self.node_visits.shape[1] - 2

    @property
    def sentinel(self) -> int:
        return self.node_visits.shape[1] - 2

    @property
    def trash(self) -> int:
        return self.node_visits.shape[1] - 1

    @staticmethod
    def allocate(
        batch_size: int,
        num_simulations: int,
        num_actions: int,
        embedding_shape: tuple[int, ...],
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> Tree:
        """An empty tree for ``num_simulations`` simulations; the root still has to be written.

        Prior and embedding rows are written when their node is created; rows at or past
        ``num_nodes`` hold nothing meaningful. A tree can be reused across searches (:meth:`reset`).
        """
        b, n, a = batch_size, num_simulations + 3, num_actions
        f = {"dtype": dtype, "device": device}
        i = {"dtype": torch.int64, "device": device}
        tree = Tree(
            node_visits=torch.empty(b, n, **f),
            node_values=torch.empty(b, n, **f),
            raw_values=torch.empty(b, n, **f),
            node_rewards=torch.empty(b, n, **f),
            node_discounts=torch.empty(b, n, **f),
            children_visits=torch.empty(b, n, a, **f),
            children_qvalues=torch.empty(b, n, a, **f),
            parents=torch.empty(b, n, **i),
            action_from_parent=torch.empty(b, n, **i),
            depth=torch.empty(b, n, **i),
            children_index=torch.empty(b, n, a, dtype=torch.int32, device=device),
            prior_logits=torch.empty(b, n, a, **f),
            prior_probs=torch.empty(b, n, a, **f),
            embeddings=torch.empty(b, n, *embedding_shape, **f),
            valid=torch.zeros(b, a, dtype=torch.bool, device=device),
            invalid_penalty=torch.full((b, a), float("-inf"), **f),
            members=None,
            gumbel=torch.zeros(b, a, **f),
            num_nodes=torch.ones(b, **i),
            plane_index=torch.arange(b, device=device),
            plane_rows=torch.arange(b, device=device) * n,
        )
        tree.reset()
        return tree

    def fits(
        self,
        batch_size: int,
        num_simulations: int,
        num_actions: int,
        embedding_shape: tuple[int, ...],
        dtype: torch.dtype,
    ) -> bool:
        """Whether this tree can hold a search of these dimensions (for reuse)."""
        return (
            self.node_visits.shape == (batch_size, num_simulations + 3)
            and self.num_actions == num_actions
            and tuple(self.embeddings.shape[2:]) == embedding_shape
            and self.node_visits.dtype == dtype
        )

    def reset(self) -> None:
        """Forget every node: node and edge statistics to their initial values, only the root row in use.

        Prior and embedding rows are left as they are: they are written when their node is created.
        """
        for array in (
            self.node_visits,
            self.node_values,
            self.raw_values,
            self.node_rewards,
            self.node_discounts,
            self.children_visits,
            self.children_qvalues,
        ):
            array.zero_()
        self.children_index.fill_(self.sentinel)
        self.parents.fill_(NO_PARENT)
        self.action_from_parent.fill_(-1)
        self.depth.zero_()
        self.gumbel.zero_()
        self.num_nodes.fill_(1)
        self.members = None


@dataclass(frozen=True)
class ChildStats:
    """The edges of one node per plane, read from a :class:`Tree`.

    visits: [B, A] float, visits of each child (0 while unexpanded; always 0 on invalid actions).
    qvalues: [B, A] float, ``reward + discount * value`` of each child (0 while unvisited).
    prior_logits: [B, A] float, -inf on invalid actions.
    prior_probs: [B, A] float, 0 on invalid actions.
    invalid_penalty: [B, A] float, 0 on valid and -inf on invalid actions.
    node_visits: [B] float, visits of the node itself.
    node_value: [B] float, running value of the node.
    raw_value: [B] float, the model's value of the node.
    """

    visits: Tensor
    qvalues: Tensor
    prior_logits: Tensor
    prior_probs: Tensor
    invalid_penalty: Tensor
    node_visits: Tensor
    node_value: Tensor
    raw_value: Tensor


def flat_index(tree: Tree, node: Tensor, planes: Tensor | None = None) -> Tensor:
    """[K] int64: row of (plane, node) in the tree's arrays viewed as [B * N, ...], for ``node`` [K] of
    ``planes`` [K] (None: all B planes in order)."""
    if planes is None:
        return tree.plane_rows + node
    return planes * tree.node_visits.shape[1] + node


def node_rows(array: Tensor, index: Tensor) -> Tensor:
    """``array[b, node[b]]`` for a [B, N, ...] array, given ``flat_index`` (index_select is several
    times cheaper than advanced indexing on CPU)."""
    return array.view(-1, *array.shape[2:]).index_select(0, index)


def child_stats(tree: Tree, node: Tensor, planes: Tensor | None = None) -> ChildStats:
    """Statistics of the edges of ``node`` [K] in ``planes`` [K] (None: one node in each of the B planes).

    The returned arrays have K rows, one per (plane, node)."""
    index = flat_index(tree, node, planes)
    penalty = tree.invalid_penalty if planes is None else tree.invalid_penalty.index_select(0, planes)
    return ChildStats(
        visits=node_rows(tree.children_visits, index),
        qvalues=node_rows(tree.children_qvalues, index),
        prior_logits=node_rows(tree.prior_logits, index),
        prior_probs=node_rows(tree.prior_probs, index),
        invalid_penalty=penalty,
        node_visits=node_rows(tree.node_visits, index),
        node_value=node_rows(tree.node_values, index),
        raw_value=node_rows(tree.raw_values, index),
    )
