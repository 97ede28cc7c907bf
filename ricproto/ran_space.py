"""The one definition of the RL observation, discrete action space and reward over a RAN.

Both the simulator's Gymnasium env (``e2sim.gym``) and the control xApp import this module, so an
agent trained offline sees exactly what the xApp will compute online. Everything here is computable
from KPM reports (E2SM-KPM measurement names of TS 28.552) plus what the controller itself commands;
nothing reads simulator internals.

Observation
-----------
A float32 vector of ``max_cells * CELL_FEATURES(n_slices)`` values in [0, 1]: one row of features per
cell in the fixed order of ``CellLayout.nr_cell_ids``, rows for absent cells (beyond the layout, or a
cell without a report this period) are all zero. Per cell row, with S slices in ``RanSpace.slices``
order:

====  ==========================  ============================================================
col   component                   from KPM
====  ==========================  ============================================================
0     present                     1 when the cell reported this period, else 0
1     PRB usage DL                ``RRU.PrbTotDl`` / 100 (percent -> fraction)
2     mean UE throughput DL       log10(1 + ``DRB.UEThpDl`` [kbit/s]) / 6 (1 Gbit/s -> 1), clipped
3     connected UEs               ``RRC.ConnMean`` / ``conn_ref`` clipped to 1
4+s   slice s PRB share           ``RRU.PrbUsedDl`` of slice s (sliceID label) / ``RRU.PrbAvailDl``
4+S+s slice s throughput DL       log10(1 + ``DRB.UEThpDl`` of slice s [kbit/s]) / 6, clipped
====  ==========================  ============================================================

Actions (``gymnasium.spaces.Discrete(1 + max_cells*K + max_cells*S*2)``)
--------------------------------------------------------------------------
* ``0``: no-op.
* ``1 + i*K + k``: steer up to ``steer_count`` UEs from cell i to its k-th neighbour (RC style 3
  action 1, one handover per UE); the UEs are those with the best target-minus-serving RSRP margin
  (``select_ues_to_steer``).
* ``1 + max_cells*K + (i*S + s)*2 + d``: move slice s's PRB quota in cell i one step up (d = 0) or
  down (d = 1) (RC style 2 action 6; ``step_slice_quota``).

An action naming an absent cell or neighbour is valid in the space but does nothing
(``action_mask`` marks the meaningful ones for maskable agents).

Reward
------
``reward(obs)`` = mean over present cells of the throughput feature (col 2)
- ``imbalance_weight`` x standard deviation over present cells of PRB usage (col 1),
so the agent is paid for throughput and penalised for loading some cells while others idle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import gymnasium
import numpy as np

THROUGHPUT_LOG_SCALE = 6.0  # log10(1 + 1e6 kbit/s): 1 Gbit/s maps to 1
BASE_FEATURES = 4


@dataclass(frozen=True, order=True)
class Snssai:
    """S-NSSAI: slice/service type (0..255) and optional 24-bit slice differentiator."""

    sst: int
    sd: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.sst <= 255:
            raise ValueError(f"SST {self.sst} is outside 0..255")
        if self.sd is not None and not 0 <= self.sd < (1 << 24):
            raise ValueError(f"SD {self.sd} does not fit 24 bits")

    def __str__(self) -> str:
        return f"{self.sst}" if self.sd is None else f"{self.sst}-{self.sd:06x}"


def cell_features(n_slices: int) -> int:
    return BASE_FEATURES + 2 * n_slices


@dataclass(frozen=True)
class CellKpm:
    """The KPM content one cell's observation row is built from (names of TS 28.552)."""

    prb_tot_dl_pct: float  # RRU.PrbTotDl
    ue_thp_dl_kbps: float  # DRB.UEThpDl
    conn_mean: float  # RRC.ConnMean
    prb_avail_dl: float  # RRU.PrbAvailDl
    slice_prb_used_dl: Mapping[Snssai, float] = field(default_factory=dict)  # RRU.PrbUsedDl per sliceID
    slice_ue_thp_dl_kbps: Mapping[Snssai, float] = field(default_factory=dict)  # DRB.UEThpDl per sliceID

    @classmethod
    def from_measurements(
        cls, cell: Mapping[str, float], per_slice: Mapping[Snssai, Mapping[str, float]]
    ) -> CellKpm:
        """Build from decoded KPM values keyed by measurement name (missing names count as 0)."""
        return cls(
            prb_tot_dl_pct=float(cell.get("RRU.PrbTotDl", 0.0)),
            ue_thp_dl_kbps=float(cell.get("DRB.UEThpDl", 0.0)),
            conn_mean=float(cell.get("RRC.ConnMean", 0.0)),
            prb_avail_dl=float(cell.get("RRU.PrbAvailDl", 0.0)),
            slice_prb_used_dl={s: float(m.get("RRU.PrbUsedDl", 0.0)) for s, m in per_slice.items()},
            slice_ue_thp_dl_kbps={s: float(m.get("DRB.UEThpDl", 0.0)) for s, m in per_slice.items()},
        )


@dataclass(frozen=True)
class UeKpm:
    """Per-UE KPM content used to pick which UEs to steer."""

    ue_id: int
    serving_nr_cell_id: int
    rsrp_dbm: float
    neighbour_rsrp_dbm: Mapping[int, float]  # NR cell identity -> RSRP


@dataclass(frozen=True)
class SliceQuota:
    """RRM policy ratios of one slice in one cell, percent 0..100 (dedicated <= min <= max)."""

    min_ratio: int
    max_ratio: int
    dedicated_ratio: int = 0


@dataclass(frozen=True)
class CellLayout:
    """Fixed cell order and neighbour relations (indices into the order, nearest first)."""

    nr_cell_ids: tuple[int, ...]
    neighbours: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if len(self.nr_cell_ids) != len(self.neighbours):
            raise ValueError("one neighbour list per cell is required")
        if len(set(self.nr_cell_ids)) != len(self.nr_cell_ids):
            raise ValueError("NR cell identities must be unique")


@dataclass(frozen=True)
class NoOp:
    pass


@dataclass(frozen=True)
class SteerUes:
    cell_index: int
    neighbour_rank: int


@dataclass(frozen=True)
class QuotaStep:
    cell_index: int
    slice_index: int
    direction: int  # +1 up, -1 down


RanAction = NoOp | SteerUes | QuotaStep


@dataclass(frozen=True)
class RanSpace:
    """Observation/action geometry: padded cell count, neighbours per cell, slices and step sizes."""

    max_cells: int
    n_neighbours: int
    slices: tuple[Snssai, ...]
    conn_ref: float = 100.0
    steer_count: int = 3
    quota_step: int = 10
    imbalance_weight: float = 0.5

    def __post_init__(self) -> None:
        if self.max_cells < 1 or self.n_neighbours < 1 or not self.slices:
            raise ValueError("need max_cells >= 1, n_neighbours >= 1 and at least one slice")

    @property
    def n_features(self) -> int:
        return cell_features(len(self.slices))

    @property
    def n_actions(self) -> int:
        return 1 + self.max_cells * self.n_neighbours + self.max_cells * len(self.slices) * 2

    def observation_space(self) -> gymnasium.spaces.Box:
        return gymnasium.spaces.Box(0.0, 1.0, shape=(self.max_cells * self.n_features,), dtype=np.float32)

    def action_space(self) -> gymnasium.spaces.Discrete:
        return gymnasium.spaces.Discrete(self.n_actions)

    # --- observation -------------------------------------------------------------------------
    def observation(self, cells: Sequence[CellKpm | None]) -> np.ndarray:
        """Observation vector for reports in layout order (None = the cell did not report)."""
        if len(cells) > self.max_cells:
            raise ValueError(f"{len(cells)} cells exceed max_cells={self.max_cells}")
        n_s = len(self.slices)
        rows = np.zeros((self.max_cells, self.n_features), dtype=np.float32)
        for i, kpm in enumerate(cells):
            if kpm is None:
                continue
            row = rows[i]
            row[0] = 1.0
            row[1] = kpm.prb_tot_dl_pct / 100.0
            row[2] = _log_thp(kpm.ue_thp_dl_kbps)
            row[3] = kpm.conn_mean / self.conn_ref
            avail = max(kpm.prb_avail_dl, 1e-9)
            for s, snssai in enumerate(self.slices):
                row[BASE_FEATURES + s] = kpm.slice_prb_used_dl.get(snssai, 0.0) / avail
                row[BASE_FEATURES + n_s + s] = _log_thp(kpm.slice_ue_thp_dl_kbps.get(snssai, 0.0))
        np.clip(rows, 0.0, 1.0, out=rows)
        return rows.reshape(-1)

    def reward(self, obs: np.ndarray) -> float:
        rows = np.asarray(obs, dtype=np.float64).reshape(self.max_cells, self.n_features)
        present = rows[:, 0] > 0.5
        if not present.any():
            return 0.0
        thp = rows[present, 2].mean()
        imbalance = rows[present, 1].std()
        return float(thp - self.imbalance_weight * imbalance)

    # --- actions -----------------------------------------------------------------------------
    def decode(self, index: int) -> RanAction:
        if not 0 <= int(index) < self.n_actions:
            raise ValueError(f"action {index} outside 0..{self.n_actions - 1}")
        index = int(index)
        if index == 0:
            return NoOp()
        j = index - 1
        steer = self.max_cells * self.n_neighbours
        if j < steer:
            return SteerUes(j // self.n_neighbours, j % self.n_neighbours)
        j -= steer
        n_s = len(self.slices)
        cell, rest = divmod(j, n_s * 2)
        slice_index, d = divmod(rest, 2)
        return QuotaStep(cell, slice_index, +1 if d == 0 else -1)

    def encode(self, action: RanAction) -> int:
        n_s = len(self.slices)
        if isinstance(action, NoOp):
            return 0
        if isinstance(action, SteerUes):
            if not (
                0 <= action.cell_index < self.max_cells and 0 <= action.neighbour_rank < self.n_neighbours
            ):
                raise ValueError(f"{action} outside the space")
            return 1 + action.cell_index * self.n_neighbours + action.neighbour_rank
        if isinstance(action, QuotaStep):
            if not (
                0 <= action.cell_index < self.max_cells
                and 0 <= action.slice_index < n_s
                and action.direction in (1, -1)
            ):
                raise ValueError(f"{action} outside the space")
            base = 1 + self.max_cells * self.n_neighbours
            return (
                base + (action.cell_index * n_s + action.slice_index) * 2 + (0 if action.direction > 0 else 1)
            )
        raise TypeError(f"not a RAN action: {action!r}")

    def action_mask(self, layout: CellLayout) -> np.ndarray:
        """Boolean mask of actions that name an existing cell (and neighbour) of ``layout``."""
        mask = np.zeros(self.n_actions, dtype=bool)
        mask[0] = True
        n_cells = min(len(layout.nr_cell_ids), self.max_cells)
        for i in range(n_cells):
            for k in range(min(len(layout.neighbours[i]), self.n_neighbours)):
                mask[self.encode(SteerUes(i, k))] = True
            for s in range(len(self.slices)):
                mask[self.encode(QuotaStep(i, s, 1))] = True
                mask[self.encode(QuotaStep(i, s, -1))] = True
        return mask


def _log_thp(kbps: float) -> float:
    return float(np.log10(1.0 + max(kbps, 0.0)) / THROUGHPUT_LOG_SCALE)


def select_ues_to_steer(
    ues: Sequence[UeKpm], source_nr_cell_id: int, target_nr_cell_id: int, count: int
) -> list[int]:
    """UE ids served by the source that hear the target best relative to their serving cell."""
    margins = [
        (ue.neighbour_rsrp_dbm[target_nr_cell_id] - ue.rsrp_dbm, ue.ue_id)
        for ue in ues
        if ue.serving_nr_cell_id == source_nr_cell_id and target_nr_cell_id in ue.neighbour_rsrp_dbm
    ]
    margins.sort(key=lambda m: (-m[0], m[1]))
    return [ue_id for _, ue_id in margins[: max(count, 0)]]


def step_slice_quota(
    quotas: Sequence[SliceQuota], slice_index: int, direction: int, step: int
) -> list[SliceQuota]:
    """New quotas of a cell after moving one slice up (+1) or down (-1) by ``step`` percent.

    Up raises the slice's minimum (as far as the other slices' minimums leave room, keeping the sum
    <= 100) and its maximum; down lowers both (never below 0, min <= max). Dedicated ratios are
    kept <= min. The result always satisfies the RRM policy constraints.
    """
    if direction not in (1, -1):
        raise ValueError("direction must be +1 or -1")
    out = list(quotas)
    q = out[slice_index]
    if direction > 0:
        room = 100 - sum(o.min_ratio for i, o in enumerate(quotas) if i != slice_index)
        new_min = max(min(q.min_ratio + step, room), 0)
        new_max = min(max(q.max_ratio + step, new_min), 100)
    else:
        new_min = max(q.min_ratio - step, 0)
        new_max = max(q.max_ratio - step, new_min, 1)
        new_min = min(new_min, new_max)
    out[slice_index] = SliceQuota(new_min, new_max, min(q.dedicated_ratio, new_min))
    return out
