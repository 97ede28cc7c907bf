"""The plain baseline: one tree at a time, Python node objects, numpy per node, model calls of batch 1.

This is the MCTS a user would write first, and the reference the batched search is checked against:
it follows the same rules (PUCT or Gumbel root with sequential halving, the same completed-Q and
min-max transforms, the same budgets and tie-breaking) through an independent implementation, so on
the same model both must build the same tree. ``bench/mcts.py`` measures the batched search against it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from twin_sidecar.planner.budget import Clock, TimeBudget
from twin_sidecar.planner.halving import considered_visit_sequence
from twin_sidecar.planner.model import SearchModel
from twin_sidecar.planner.search import SearchConfig
from twin_sidecar.planner.selection import sample_gumbel

EPSILON = 1e-8
NEG_INF = float("-inf")


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()


class PlainNode:
    """A node with its edges' statistics in arrays of length A (the classic N/W-per-edge layout)."""

    def __init__(
        self,
        embedding: Tensor,
        prior_logits: np.ndarray,
        raw_value: float,
        reward: float,
        discount: float,
        action: int,
        depth: int,
    ) -> None:
        self.embedding = embedding  # [1, D]
        self.prior_logits = prior_logits  # [A], -inf on invalid actions
        self.prior = _softmax(prior_logits)
        self.raw_value = raw_value
        self.reward = reward
        self.discount = discount
        self.action = action
        self.depth = depth
        self.visits = 0
        self.value = 0.0
        self.children: dict[int, PlainNode] = {}
        n = prior_logits.shape[0]
        self.child_visits = np.zeros(n)
        self.child_value = np.zeros(n)
        self.child_reward = np.zeros(n)
        self.child_discount = np.zeros(n)

    def child_q(self) -> np.ndarray:
        return self.child_reward + self.child_discount * self.child_value


@dataclass(frozen=True)
class PlainResult:
    action: int
    visit_counts: np.ndarray  # [A]
    root_value: float
    simulations: int
    max_depth: int
    stop_reason: str


class PlainMcts:
    """Search one plane at a time. ``model`` is the same object the batched search uses."""

    def __init__(self, model: SearchModel, config: SearchConfig) -> None:
        self.model = model
        self.config = config

    # --- scores ----------------------------------------------------------------------------------
    def _completed_sigma(self, node: PlainNode, valid: np.ndarray) -> np.ndarray:
        cfg = self.config
        visited = node.child_visits > 0
        q = node.child_q()
        total = node.child_visits.sum()
        mass = node.prior[visited].sum()
        mean_q = float((node.prior[visited] * q[visited]).sum() / mass) if mass > 0 else 0.0
        v_mix = (node.raw_value + total * mean_q) / (1.0 + total)
        completed = np.where(visited, q, v_mix)
        low, high = completed[valid].min(), completed[valid].max()
        normalized = (completed - low) / max(high - low, EPSILON)
        sigma = (cfg.c_visit + node.child_visits.max()) * cfg.c_scale * normalized
        return np.where(valid, sigma, 0.0)

    def _puct_scores(self, node: PlainNode, valid: np.ndarray) -> np.ndarray:
        cfg = self.config
        present = (node.child_visits > 0) & valid
        q = node.child_q()
        low = min(node.value, q[present].min()) if present.any() else node.value
        high = max(node.value, q[present].max()) if present.any() else node.value
        value_score = np.where(present, (q - low) / max(high - low, EPSILON), 0.0)
        pb_c = cfg.pb_c_init + np.log((node.visits + cfg.pb_c_base + 1.0) / cfg.pb_c_base)
        exploration = pb_c * node.prior * np.sqrt(node.visits) / (1.0 + node.child_visits)
        return value_score + exploration

    def _select(self, node: PlainNode, valid: np.ndarray, gumbel: np.ndarray, considered_visit: int) -> int:
        if self.config.algorithm == "puct":
            scores = self._puct_scores(node, valid)
            return int(np.argmax(np.where(valid, scores, NEG_INF)))
        sigma = self._completed_sigma(node, valid)
        if node.depth == 0:
            eligible = valid & (node.child_visits == considered_visit)
            if not eligible.any():
                eligible = valid
            scores = gumbel + node.prior_logits + sigma
            return int(np.argmax(np.where(eligible, scores, NEG_INF)))
        policy = _softmax(node.prior_logits + sigma)
        scores = policy - node.child_visits / (1.0 + node.child_visits.sum())
        return int(np.argmax(np.where(valid, scores, NEG_INF)))

    # --- search ----------------------------------------------------------------------------------
    @staticmethod
    def _node(
        embedding: Tensor,
        logits: Tensor,
        value: Tensor,
        valid: np.ndarray,
        *,
        reward: float,
        discount: float,
        action: int,
        depth: int,
    ) -> PlainNode:
        prior_logits = np.where(valid, logits[0].double().numpy(), NEG_INF)
        return PlainNode(embedding, prior_logits, float(value[0]), reward, discount, action, depth)

    def run(
        self,
        obs: Tensor,
        valid: Tensor,
        *,
        generator: torch.Generator | None = None,
        gumbel: Tensor | None = None,
        member: int | None = None,
        clock: Clock = time.perf_counter,
    ) -> PlainResult:
        """Search from one observation [D] under one mask [A]. The root's Gumbel noise is ``gumbel`` [A]
        if given (already scaled, as ``Tree.gumbel`` holds it), else drawn from ``generator``."""
        cfg = self.config
        budget = TimeBudget(cfg.time_budget_ms, clock)
        valid_np = valid.numpy().astype(bool)
        valid_row = valid.unsqueeze(0)
        member_row = None if member is None else torch.tensor([member], dtype=torch.int64)
        root_out = self.model.root_fn(obs.unsqueeze(0), valid_row)
        root = self._node(
            root_out.embedding,
            root_out.prior_logits,
            root_out.value,
            valid_np,
            reward=0.0,
            discount=0.0,
            action=-1,
            depth=0,
        )
        root.visits, root.value = 1, root.raw_value
        noise = np.zeros(valid_np.shape[0])
        if cfg.algorithm == "gumbel":
            if gumbel is None:
                if generator is None:
                    raise ValueError("a Gumbel search needs a generator or the noise")
                gumbel = cfg.gumbel_scale * sample_gumbel((valid_np.shape[0],), generator, obs.dtype)
            noise = gumbel.double().numpy()
        considered = min(cfg.max_considered_actions, int(valid_np.sum()))
        schedule = considered_visit_sequence(considered, cfg.num_simulations)
        limit = cfg.depth_limit
        simulations, deepest, stop_reason = 0, 0, "simulations"
        for sim in range(cfg.num_simulations):
            if not budget.may_start():
                stop_reason = "time"
                break
            node, path = root, [root]
            while True:
                action = self._select(node, valid_np, noise, schedule[sim])
                child = node.children.get(action)
                if child is None or node.depth + 1 >= limit:
                    break
                node = child
                path.append(child)
            if child is None:
                out, embedding = self.model.recurrent_fn(
                    torch.tensor([action], dtype=torch.int64), node.embedding, member_row, valid_row
                )
                child = self._node(
                    embedding,
                    out.prior_logits,
                    out.value,
                    valid_np,
                    reward=float(out.reward[0]),
                    discount=float(out.discount[0]),
                    action=action,
                    depth=node.depth + 1,
                )
                node.children[action] = child
                node.child_reward[action] = child.reward
                node.child_discount[action] = child.discount
                deepest = max(deepest, child.depth)
            path.append(child)
            g = child.raw_value
            for i in range(len(path) - 1, -1, -1):
                current = path[i]
                current.visits += 1
                current.value += (g - current.value) / current.visits
                if i > 0:
                    path[i - 1].child_visits[current.action] = current.visits
                    path[i - 1].child_value[current.action] = current.value
                g = current.reward + current.discount * g
            simulations += 1
            budget.finished()
        return PlainResult(
            action=self._answer(root, valid_np, noise),
            visit_counts=np.where(valid_np, root.child_visits, 0.0),
            root_value=root.value,
            simulations=simulations,
            max_depth=deepest,
            stop_reason=stop_reason,
        )

    def _answer(self, root: PlainNode, valid: np.ndarray, noise: np.ndarray) -> int:
        visits = np.where(valid, root.child_visits, -1.0)
        survivors = valid & (visits == visits.max())
        if self.config.algorithm == "puct":
            return int(np.argmax(np.where(survivors, root.prior_logits, NEG_INF)))
        scores = noise + root.prior_logits + self._completed_sigma(root, valid)
        return int(np.argmax(np.where(survivors, scores, NEG_INF)))
