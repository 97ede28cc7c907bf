"""Built-in load balancer: the degraded-mode policy when no promoted snapshot exists.

It does what a classic mobility-load-balancing function does with PRB usage alone: when the most
loaded cell's DL PRB usage exceeds its least loaded neighbour's by more than ``margin``, it shifts
the handover boundary toward that neighbour (a cell individual offset step, which holds: UEs moved
by it are not handed back), and steering a few UEs there is its second choice. It scores actions
instead of returning just one, so the same exploration machinery (and the same mu(a|s) logging)
applies: the offset step scores 1, the steer 0.75, no-op 0.5, everything else 0. It knows nothing of
throughput percentiles or delay budgets, which is the room a learned controller has above it.
"""

from __future__ import annotations

import numpy as np

from ricproto.ran_space import CellLayout, OffsetStep, RanSpace, SteerUes

OFFSET_VALUE = 1.0
STEER_VALUE = 0.75
NOOP_VALUE = 0.5


class HeuristicBalancer:
    def __init__(self, space: RanSpace, layout: CellLayout, margin: float = 0.15) -> None:
        self.space = space
        self.layout = layout
        self.margin = margin

    def action_values(self, obs: np.ndarray) -> np.ndarray:
        space = self.space
        rows = np.asarray(obs, dtype=np.float64).reshape(space.max_cells, space.n_features)
        values = np.zeros(space.n_actions, dtype=np.float64)
        values[0] = NOOP_VALUE
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
            values[space.encode(OffsetStep(i, best[1], +1))] = OFFSET_VALUE
            values[space.encode(SteerUes(i, best[1]))] = STEER_VALUE
        return values
