"""Action intervention: a post-posed shield that mutes unsafe actions (replaces them by no-op).

Two rules, both checked for every action at once so the effective behaviour distribution after the
shield is exact (``shielded_distribution``). They apply to every action that moves load from a cell
i to a neighbour j: steering UEs (``SteerUes``) and shifting the handover boundary between them
(``OffsetStep``; direction +1 moves load from i to j, -1 from j to i):

* overload: steering ``steer_count`` UEs from cell i to neighbour j moves about ``steer_count /
  connected_i`` of cell i's PRB load to j (an offset step is taken to move as much); the action is
  muted when j's predicted load (the twin's prediction when it offers one, else the reported load)
  plus that share exceeds the A1 cell load limit;
* ping-pong: moving load from i to j within ``ping_pong_window_s`` of a move from j to i is muted.

Each muted action comes with a human-readable reason, which the loop logs and counts.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from ricproto.ran_space import CellLayout, OffsetStep, RanSpace, SteerUes

NOOP = 0


@dataclass(frozen=True)
class ShieldVerdict:
    allowed: np.ndarray  # bool per action
    reasons: dict[int, str]  # action -> why it is muted (only muted ones)


class ActionShield:
    def __init__(self, space: RanSpace, layout: CellLayout, ping_pong_window_s: float = 1.0) -> None:
        self.space = space
        self.layout = layout
        self.ping_pong_window_s = ping_pong_window_s
        self._recent: deque[tuple[float, int, int]] = deque(maxlen=256)  # (time, from cell, to cell)
        k = space.n_neighbours
        n = min(len(layout.nr_cell_ids), space.max_cells)
        # load-moving actions: action index, the cell load leaves and the cell it goes to
        actions, src, dst = [], [], []
        for i in range(n):
            for r, j in enumerate(layout.neighbours[i][:k]):
                if j < space.max_cells:
                    for action, a, b in (
                        (SteerUes(i, r), i, j),
                        (OffsetStep(i, r, +1), i, j),
                        (OffsetStep(i, r, -1), j, i),
                    ):
                        actions.append(space.encode(action))
                        src.append(a)
                        dst.append(b)
        self._action = np.array(actions, dtype=np.int64)
        self._src = np.array(src, dtype=np.int64)
        self._dst = np.array(dst, dtype=np.int64)

    def record_steer(self, source: int, target: int, at: float | None = None) -> None:
        self._recent.append((time.monotonic() if at is None else at, source, target))

    def verdict(
        self,
        obs: np.ndarray,
        limit: float,
        predicted_load: np.ndarray | None = None,
        now: float | None = None,
    ) -> ShieldVerdict:
        space = self.space
        rows = np.asarray(obs, dtype=np.float64).reshape(space.max_cells, space.n_features)
        load = rows[:, 1] if predicted_load is None else np.maximum(rows[:, 1], predicted_load)
        conn = np.maximum(rows[:, 3] * space.conn_ref, 1.0)
        allowed = np.ones(space.n_actions, dtype=bool)
        reasons: dict[int, str] = {}
        src, dst = self._src, self._dst
        moved = load[src] * np.minimum(space.steer_count / conn[src], 1.0)
        predicted = load[dst] + moved
        over = predicted > limit
        now = time.monotonic() if now is None else now
        recent = {(a, b) for t, a, b in self._recent if now - t <= self.ping_pong_window_s}
        for idx in np.flatnonzero(over):
            action = int(self._action[idx])
            allowed[action] = False
            reasons[action] = (
                f"overload: moving load from cell {src[idx]} would bring cell {dst[idx]} to "
                f"{predicted[idx]:.2f} > limit {limit:.2f}"
            )
        if recent:
            for idx in range(self._action.size):
                if (int(dst[idx]), int(src[idx])) in recent:
                    action = int(self._action[idx])
                    allowed[action] = False
                    reasons.setdefault(
                        action,
                        f"ping-pong: cell {dst[idx]} moved load to cell {src[idx]} within "
                        f"{self.ping_pong_window_s:g}s",
                    )
        return ShieldVerdict(allowed, reasons)


def shielded_distribution(mu: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """The distribution of the action actually taken: muted actions' mass moves to no-op."""
    out = np.where(allowed, mu, 0.0)
    out[NOOP] += float(mu[~allowed].sum())
    return out
