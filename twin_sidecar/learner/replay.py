"""Replay of logged steps, sampled as sequences of consecutive slots, uniformly or by priority.

Steps are stored in arrival order in a ring of ``capacity`` slots. A sequence is T slots that are
consecutive in the ring (never across the write head); ``follows[i]`` says whether slot i's step came
right after slot i-1's in the stream, and a window that crosses a break gets a ``cut`` there (the
targets bootstrap at a cut instead of running on into another trajectory). With priorities, every
window start has a leaf in a sum tree holding priority**alpha (0 while the window is incomplete);
new windows enter at the highest priority seen so far, as in Schaul et al. (2016).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from twin_sidecar.learner.sum_tree import SumTree


@dataclass(frozen=True)
class SequenceBatch:
    """B sequences of T steps (tensors) plus where they came from."""

    obs: torch.Tensor  # float32 [B, T, D]
    action: torch.Tensor  # int64 [B, T]
    reward: torch.Tensor  # float32 [B, T]
    next_obs: torch.Tensor  # float32 [B, T, D]
    mu: torch.Tensor  # float32 [B, T], behaviour probability of the logged action
    cut: torch.Tensor  # bool [B, T], step t+1 does not follow step t (last column always True)
    weight: torch.Tensor  # float32 [B], prioritised-replay importance weight (1 when uniform)
    version: np.ndarray  # int32 [B, T], behaviour-policy version id (-1 = not logged: a model rollout)
    start: np.ndarray  # int64 [B], ring slot of the first step (-1 = not from the replay)

    @property
    def n_sequences(self) -> int:
        return int(self.action.shape[0])

    @staticmethod
    def concat(a: SequenceBatch, b: SequenceBatch) -> SequenceBatch:
        return SequenceBatch(
            torch.cat([a.obs, b.obs]),
            torch.cat([a.action, b.action]),
            torch.cat([a.reward, b.reward]),
            torch.cat([a.next_obs, b.next_obs]),
            torch.cat([a.mu, b.mu]),
            torch.cat([a.cut, b.cut]),
            torch.cat([a.weight, b.weight]),
            np.concatenate([a.version, b.version]),
            np.concatenate([a.start, b.start]),
        )


class SequenceReplay:
    def __init__(
        self,
        capacity: int,
        obs_dim: int,
        sequence_length: int,
        prioritized: bool = False,
        alpha: float = 0.6,
    ) -> None:
        if sequence_length < 1 or capacity < sequence_length:
            raise ValueError("need 1 <= sequence_length <= capacity")
        self.capacity = capacity
        self.obs_dim = obs_dim
        self.sequence_length = sequence_length
        self.prioritized = prioritized
        self.alpha = alpha
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.action = np.zeros(capacity, dtype=np.int64)
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.mu = np.ones(capacity, dtype=np.float32)
        self.version = np.zeros(capacity, dtype=np.int32)
        self.follows = np.zeros(capacity, dtype=bool)
        self.head = 0  # next slot to write
        self.size = 0
        self.max_priority = 1.0
        self.tree = SumTree(capacity) if prioritized else None

    # --- writing -----------------------------------------------------------------------------
    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        next_obs: np.ndarray,
        mu: np.ndarray,
        version: np.ndarray,
        follows: np.ndarray,
    ) -> None:
        """Append k steps in stream order (obs/next_obs [k, D], the rest [k])."""
        k = len(action)
        if k == 0:
            return
        if k > self.capacity:  # only the newest capacity steps can be kept
            cut = k - self.capacity
            obs, action, reward, next_obs = obs[cut:], action[cut:], reward[cut:], next_obs[cut:]
            mu, version, follows = mu[cut:], version[cut:], np.array(follows[cut:], dtype=bool)
            follows[0] = False
            k = self.capacity
        slots = (self.head + np.arange(k)) % self.capacity
        self.obs[slots] = obs
        self.next_obs[slots] = next_obs
        self.action[slots] = action
        self.reward[slots] = reward
        self.mu[slots] = mu
        self.version[slots] = version
        self.follows[slots] = follows
        self.head = int((self.head + k) % self.capacity)
        self.size = min(self.size + k, self.capacity)
        if self.tree is not None:
            # Written slots start windows that are not complete yet; windows ending on them now are.
            self.tree.update(slots, np.zeros(k))
            first_logical_of_new = self.size - k
            ends = np.arange(first_logical_of_new, self.size)  # logical index of each written slot
            starts = ends - (self.sequence_length - 1)
            starts = starts[starts >= 0]
            if starts.size:
                self.tree.update(self._physical(starts), np.full(starts.size, self.max_priority**self.alpha))

    # --- reading -----------------------------------------------------------------------------
    @property
    def n_windows(self) -> int:
        return max(self.size - self.sequence_length + 1, 0)

    def _oldest(self) -> int:
        return (self.head - self.size) % self.capacity

    def _physical(self, logical: np.ndarray) -> np.ndarray:
        return (self._oldest() + np.asarray(logical, dtype=np.int64)) % self.capacity

    def sample(self, n: int, rng: np.random.Generator, beta: float = 0.4) -> SequenceBatch:
        """n windows of sequence_length slots; with priorities, stratified over the priority mass."""
        if self.n_windows == 0:
            raise ValueError(f"the replay holds {self.size} steps, fewer than one sequence")
        if self.tree is None:
            start = self._physical(rng.integers(0, self.n_windows, size=n))
            weight = np.ones(n, dtype=np.float32)
        else:
            total = self.tree.total
            prefix = (np.arange(n) + rng.random(n)) / n * total
            start = self.tree.find(prefix)
            p = self.tree.get(start) / total
            w = (self.n_windows * p) ** (-beta)
            weight = (w / w.max()).astype(np.float32)
        return self.gather(start, weight)

    def gather(self, start: np.ndarray, weight: np.ndarray) -> SequenceBatch:
        idx = (start[:, None] + np.arange(self.sequence_length)[None, :]) % self.capacity  # [B, T]
        cut = np.ones(idx.shape, dtype=bool)
        cut[:, :-1] = ~self.follows[idx[:, 1:]]
        return SequenceBatch(
            obs=torch.from_numpy(self.obs[idx]),
            action=torch.from_numpy(self.action[idx]),
            reward=torch.from_numpy(self.reward[idx]),
            next_obs=torch.from_numpy(self.next_obs[idx]),
            mu=torch.from_numpy(self.mu[idx]),
            cut=torch.from_numpy(cut),
            weight=torch.from_numpy(np.asarray(weight, dtype=np.float32)),
            version=self.version[idx],
            start=np.asarray(start, dtype=np.int64),
        )

    def sample_observations(self, n: int, rng: np.random.Generator, recent: int | None = None) -> np.ndarray:
        """n stored observations [n, D], drawn uniformly from the newest ``recent`` (all when None)."""
        span = self.size if recent is None else min(recent, self.size)
        logical = rng.integers(self.size - span, self.size, size=n)
        return self.obs[self._physical(logical)]

    def update_priorities(self, start: np.ndarray, td_abs: np.ndarray, eta: float, eps: float) -> None:
        """Sequence priority eta * max|td| + (1 - eta) * mean|td| for windows starting at ``start``."""
        if self.tree is None:
            return
        keep = start >= 0
        start, td_abs = start[keep], td_abs[keep]
        if start.size == 0:
            return
        priority = eta * td_abs.max(axis=1) + (1.0 - eta) * td_abs.mean(axis=1) + eps
        still_valid = self.tree.get(start) > 0.0  # a window overwritten since it was sampled stays out
        self.tree.update(start[still_valid], priority[still_valid] ** self.alpha)
        self.max_priority = max(self.max_priority, float(priority.max()))

    # --- checkpoint --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The stored steps in arrival order (and their priorities), independent of the ring position."""
        order = self._physical(np.arange(self.size))
        state: dict[str, Any] = {
            "capacity": self.capacity,
            "sequence_length": self.sequence_length,
            "max_priority": self.max_priority,
        }
        for name in ("obs", "next_obs", "action", "reward", "mu", "version", "follows"):
            state[name] = getattr(self, name)[order].copy()
        if self.tree is not None:
            state["priority"] = self.tree.get(order)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["obs"].shape[1:] != (self.obs_dim,):
            raise ValueError(
                f"stored observations are {state['obs'].shape[1:]}, the replay takes {self.obs_dim}"
            )
        self.head, self.size = 0, 0
        if self.tree is not None:
            self.tree = SumTree(self.capacity)
        self.add(
            state["obs"],
            state["action"],
            state["reward"],
            state["next_obs"],
            state["mu"],
            state["version"],
            state["follows"],
        )
        self.max_priority = float(state["max_priority"])
        if self.tree is not None and "priority" in state:
            kept = min(len(state["priority"]), self.capacity)
            prio = np.asarray(state["priority"][-kept:], dtype=np.float64)
            self.tree.update(self._physical(np.arange(self.size)), prio)
