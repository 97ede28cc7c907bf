"""A sum tree over non-negative leaf values, updated and searched for a whole batch at once (numpy).

Leaves live at ``tree[P:2P]`` (P = capacity rounded up to a power of two), each inner node holds the
sum of its two children, ``tree[1]`` the total. Sampling proportional to the leaves is a descent
from the root with one prefix sum per sample; every level is one vectorised step, so a batch of
B samples costs O(B log P) numpy work and no Python loop over samples.
"""

from __future__ import annotations

import numpy as np


class SumTree:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.capacity = capacity
        self.leaves = 1 << max(int(np.ceil(np.log2(capacity))), 0)
        self.depth = int(np.log2(self.leaves))
        self.tree = np.zeros(2 * self.leaves, dtype=np.float64)  # [2P]

    @property
    def total(self) -> float:
        return float(self.tree[1])

    def get(self, index: np.ndarray) -> np.ndarray:
        """Leaf values [k] for leaf indices [k]."""
        return self.tree[self.leaves + np.asarray(index, dtype=np.int64)]

    def values(self) -> np.ndarray:
        """All leaf values [capacity] (a copy)."""
        return self.tree[self.leaves : self.leaves + self.capacity].copy()

    def update(self, index: np.ndarray, value: np.ndarray) -> None:
        """Set leaves [k] to values [k] (>= 0, finite) and refresh their ancestors."""
        index = np.asarray(index, dtype=np.int64).reshape(-1)
        value = np.broadcast_to(np.asarray(value, dtype=np.float64), index.shape)
        if index.size == 0:
            return
        if index.min() < 0 or index.max() >= self.capacity:
            raise IndexError(f"leaf index outside 0..{self.capacity - 1}")
        if not np.isfinite(value).all() or (value < 0).any():
            raise ValueError("leaf values must be finite and >= 0")
        node = self.leaves + index
        self.tree[node] = value  # with repeated indices the last value wins, as in a loop
        node = np.unique(node // 2)
        while node[0] >= 1:
            self.tree[node] = self.tree[2 * node] + self.tree[2 * node + 1]
            if node[0] == 1:
                break
            node = np.unique(node // 2)

    def find(self, prefix: np.ndarray) -> np.ndarray:
        """Leaf indices [k] whose cumulative-sum interval contains each prefix [k] (0 <= prefix < total)."""
        prefix = np.minimum(np.asarray(prefix, dtype=np.float64), np.nextafter(self.total, 0.0))
        node = np.ones(prefix.shape, dtype=np.int64)
        for _ in range(self.depth):
            left = 2 * node
            left_sum = self.tree[left]
            go_right = (prefix >= left_sum) & (self.tree[left + 1] > 0.0)
            prefix = np.where(go_right, prefix - left_sum, prefix)
            node = np.where(go_right, left + 1, left)
        return node - self.leaves
