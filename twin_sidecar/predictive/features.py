"""Per-cell inputs of the dynamics model: a cell's row, its neighbours' rows, the RAN mean, the action.

The observation (``ricproto.ran_space``) is ``max_cells`` rows of ``n_features``; the model is shared
across cells (one MLP applied to every cell row, weights shared) so it learns from every cell at
once and scales with the RAN. A cell's input is, with C = max_cells, F = n_features, K =
n_neighbours:

* its own row (F), its K neighbours' rows in ``CellLayout`` order (K x F, zeros where none), the mean
  row over present cells (F), a one-hot of the cell's index (C: cells differ in capacity and load);
* what the action does to this cell (``ActionFeatures``): one column per (action kind, role, other
  parameters) found in the space, where role is ``src`` for the cell the action names
  (``cell_index``) and ``dst`` for the neighbour it names (``neighbour_rank``), so a steer from i to
  its k-th neighbour j sets i's ``SteerUes/src`` and j's ``SteerUes/dst`` columns, a quota step sets
  its cell's ``QuotaStep/src/slice_index=s,direction=d`` column. Built from ``RanSpace.decode`` over
  every action, so new action kinds need no change here.

Everything is derived from ``RanSpace`` and ``CellLayout``; nothing about widths is hard-coded.
"""

from __future__ import annotations

import dataclasses

import torch

from ricproto.ran_space import PRESENT_COLUMN, CellLayout, RanSpace


class ActionFeatures:
    """``table``: Tensor[A, C, Ka] float32, the per-cell effect columns of every action."""

    def __init__(self, space: RanSpace, layout: CellLayout) -> None:
        n_cells = min(len(layout.nr_cell_ids), space.max_cells)
        keys: dict[tuple, int] = {}
        entries: list[tuple[int, int, int]] = []  # (action, cell, column)
        for a in range(space.n_actions):
            decoded = space.decode(a)
            if not dataclasses.is_dataclass(decoded):
                continue
            fields = dataclasses.asdict(decoded)
            cell = fields.pop("cell_index", None)
            rank = fields.pop("neighbour_rank", None)
            if cell is None or not 0 <= cell < n_cells:
                continue
            rest = tuple(sorted(fields.items()))
            kind = type(decoded).__name__
            entries.append((a, cell, keys.setdefault((kind, "src", rest), len(keys))))
            if rank is not None and rank < len(layout.neighbours[cell]):
                target = layout.neighbours[cell][rank]
                if 0 <= target < n_cells:
                    entries.append((a, target, keys.setdefault((kind, "dst", rest), len(keys))))
        self.columns = [
            f"{k[0]}/{k[1]}" + ("/" + ",".join(f"{n}={v}" for n, v in k[2]) if k[2] else "")
            for k in sorted(keys, key=keys.get)
        ]
        self.table = torch.zeros(space.n_actions, space.max_cells, max(len(keys), 1))
        for a, c, j in entries:
            self.table[a, c, j] = 1.0

    @property
    def width(self) -> int:
        return int(self.table.shape[2])


class CellGraph:
    """Builds the per-cell input rows ``[B, C, in_dim]`` from observations and actions."""

    def __init__(self, space: RanSpace, layout: CellLayout) -> None:
        self.space = space
        self.n_cells = min(len(layout.nr_cell_ids), space.max_cells)
        c, k = space.max_cells, space.n_neighbours
        # neighbour index per cell, C (a zero row appended) where a cell has fewer than K neighbours
        nb = torch.full((c, k), c, dtype=torch.long)
        for i in range(self.n_cells):
            for r, j in enumerate(layout.neighbours[i][:k]):
                if 0 <= j < c:
                    nb[i, r] = j
        self.neighbours = nb  # Tensor[C, K] int64
        self.identity = torch.eye(c)  # Tensor[C, C]
        self.actions = ActionFeatures(space, layout)
        self.in_cells = torch.zeros(c, dtype=torch.bool)  # Tensor[C]: cells of the layout
        self.in_cells[: self.n_cells] = True
        self.features = space.n_features
        self.in_dim = self.features * (k + 2) + c + self.actions.width

    def rows(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """obs Tensor[B, D], action Tensor[B] int64 -> Tensor[B, C, in_dim]."""
        b = obs.shape[0]
        c, f = self.space.max_cells, self.features
        cells = obs.reshape(b, c, f)
        padded = torch.cat([cells, cells.new_zeros(b, 1, f)], dim=1)  # [B, C+1, F]
        nb = padded[:, self.neighbours].reshape(b, c, -1)  # [B, C, K*F]
        present = cells[:, :, PRESENT_COLUMN : PRESENT_COLUMN + 1]
        mean = (cells * present).sum(1, keepdim=True) / present.sum(1, keepdim=True).clamp(min=1.0)
        parts = [
            cells,
            nb,
            mean.expand(b, c, f),
            self.identity.expand(b, c, c),
            self.actions.table[action],  # [B, C, Ka]
        ]
        return torch.cat(parts, dim=2)
