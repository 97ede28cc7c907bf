"""Built-in load balancer: the degraded-mode policy when no promoted snapshot exists.

It scores actions instead of returning just one, so the same exploration machinery (and the same
mu(a|s) logging) applies: the steer from the most loaded cell to its least loaded neighbour scores 1
when the gap exceeds ``margin``; no-op scores 0.5; everything else 0.
"""

from __future__ import annotations

import numpy as np

from ricproto.ran_space import CellLayout, RanSpace, SteerUes


class HeuristicBalancer:
    def __init__(self, space: RanSpace, layout: CellLayout, margin: float = 0.15) -> None:
        self.space = space
        self.layout = layout
        self.margin = margin

    def action_values(self, obs: np.ndarray) -> np.ndarray:
        space = self.space
        rows = np.asarray(obs, dtype=np.float64).reshape(space.max_cells, space.n_features)
        values = np.zeros(space.n_actions, dtype=np.float64)
        values[0] = 0.5
        present = rows[:, 0] > 0.5
        if not present.any():
            return values
        load = np.where(present, rows[:, 1], -1.0)
        i = int(np.argmax(load))
        if i >= len(self.layout.neighbours):
            return values
        best: tuple[float, int] | None = None
        for rank, j in enumerate(self.layout.neighbours[i][: space.n_neighbours]):
            if j < space.max_cells and present[j]:
                gap = load[i] - rows[j, 1]
                if gap > self.margin and (best is None or gap > best[0]):
                    best = (gap, rank)
        if best is not None:
            values[space.encode(SteerUes(i, best[1]))] = 1.0
        return values
