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
4+2S  eMBB UEs sampled            UEs counted in ``DRB.UEThpDlDist`` of the eMBB slices / ``conn_ref``
5+2S  eMBB 5th-pct throughput     log10(1 + p5 [kbit/s]) / 6, p5 read from ``DRB.UEThpDlDist``
6+2S  URLLC delay samples         samples counted in ``DRB.DelayDlNgranUeDist`` of the URLLC slices
                                  / ``conn_ref``
7+2S  URLLC over budget           share of those samples above ``delay_budget_ms``
====  ==========================  ============================================================

eMBB and URLLC slices are those with SST 1 and SST 2 (the standardised slice/service types of
TS 23.501 §5.15.2.2); the distributions and their bins are ``ricproto.kpm_distribution``'s.

Actions (``gymnasium.spaces.Discrete(1 + max_cells*K + max_cells*S*2 + max_cells*K*2)``)
-----------------------------------------------------------------------------------------
* ``0``: no-op.
* ``1 + i*K + k``: steer up to ``steer_count`` UEs from cell i to its k-th neighbour (RC style 3
  action 1, one handover per UE); the UEs are those with the best target-minus-serving RSRP margin
  (``select_ues_to_steer``).
* ``1 + max_cells*K + (i*S + s)*2 + d``: move slice s's PRB quota in cell i one step up (d = 0) or
  down (d = 1) (RC style 2 action 6; ``step_slice_quota``).
* ``1 + max_cells*K + max_cells*S*2 + (i*K + k)*2 + d``: shift the handover boundary between cell i
  and its k-th neighbour j by ``offset_step_db``, toward j (d = 0: cell i's offset for j up, j's for
  i down) or back (d = 1), within ``offset_limit_db``: the cell individual offsets event A3 uses
  (``ricproto.cell_offset``; carried as ``ricproto.e2sm.rc.CellOffsetControl``). Offsets hold until
  changed, so UEs moved by them stay moved.

An action naming an absent cell or neighbour is valid in the space but does nothing
(``action_mask`` marks the meaningful ones for maskable agents).

Reward
------
``reward(obs)`` = mean over present cells of the throughput feature (col 2)
+ ``p5_weight`` x the eMBB 5th-percentile feature (col 5+2S), averaged over cells weighted by their
eMBB samples (col 4+2S)
- ``imbalance_weight`` x standard deviation over present cells of PRB usage (col 1)
- ``sla_weight`` x the share of URLLC delay samples over budget across cells (col 7+2S weighted by
col 6+2S),
so the agent is paid for throughput and for its worst-served eMBB users, and penalised for loading
some cells while others idle and for URLLC packets late beyond their delay budget. Cells without
eMBB (URLLC) samples do not enter the p5 (violation) term.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import gymnasium
import numpy as np

from ricproto.cell_offset import step_pair_offsets
from ricproto.kpm_distribution import (
    BIN_EDGES,
    DELAY_DL_DIST,
    UE_THP_DL_DIST,
    fraction_above,
    percentile,
)

THROUGHPUT_LOG_SCALE = 6.0  # log10(1 + 1e6 kbit/s): 1 Gbit/s maps to 1
# Columns of a cell row (the table above); readers index rows with these, never with literals.
PRESENT_COLUMN = 0
PRB_USAGE_COLUMN = 1
THROUGHPUT_COLUMN = 2
CONNECTED_COLUMN = 3
BASE_FEATURES = 4
OBJECTIVE_FEATURES = 4  # eMBB samples, eMBB p5, URLLC samples, URLLC share over budget
SST_EMBB = 1  # TS 23.501 §5.15.2.2 standardised SST values
SST_URLLC = 2
LOW_PERCENTILE = 5.0


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


DISTRIBUTION = "distribution"  # CellKpm field metadata key: the 28.552 distribution a field carries


def cell_features(n_slices: int) -> int:
    return BASE_FEATURES + 2 * n_slices + OBJECTIVE_FEATURES


@dataclass(frozen=True)
class CellKpm:
    """The KPM content one cell's observation row is built from (names of TS 28.552)."""

    prb_tot_dl_pct: float  # RRU.PrbTotDl
    ue_thp_dl_kbps: float  # DRB.UEThpDl
    conn_mean: float  # RRC.ConnMean
    prb_avail_dl: float  # RRU.PrbAvailDl
    slice_prb_used_dl: Mapping[Snssai, float] = field(default_factory=dict)  # RRU.PrbUsedDl per sliceID
    slice_ue_thp_dl_kbps: Mapping[Snssai, float] = field(default_factory=dict)  # DRB.UEThpDl per sliceID
    # DRB.UEThpDlDist / DRB.DelayDlNgranUeDist per sliceID: counts per bin (distBinX 1..n in order);
    # the field's metadata names the distribution (its bins: ricproto.kpm_distribution.BIN_EDGES)
    slice_ue_thp_dl_dist: Mapping[Snssai, Sequence[float]] = field(
        default_factory=dict, metadata={DISTRIBUTION: UE_THP_DL_DIST}
    )
    slice_delay_dl_dist: Mapping[Snssai, Sequence[float]] = field(
        default_factory=dict, metadata={DISTRIBUTION: DELAY_DL_DIST}
    )

    @classmethod
    def from_measurements(
        cls,
        cell: Mapping[str, float],
        per_slice: Mapping[Snssai, Mapping[str, float]],
        distributions: Mapping[tuple[str, Snssai], Sequence[float]] | None = None,
    ) -> CellKpm:
        """Build from decoded KPM values keyed by measurement name (missing names count as 0);
        ``distributions`` maps (distribution name, slice) to its counts per bin."""
        dists = distributions or {}
        return cls(
            prb_tot_dl_pct=float(cell.get("RRU.PrbTotDl", 0.0)),
            ue_thp_dl_kbps=float(cell.get("DRB.UEThpDl", 0.0)),
            conn_mean=float(cell.get("RRC.ConnMean", 0.0)),
            prb_avail_dl=float(cell.get("RRU.PrbAvailDl", 0.0)),
            slice_prb_used_dl={s: float(m.get("RRU.PrbUsedDl", 0.0)) for s, m in per_slice.items()},
            slice_ue_thp_dl_kbps={s: float(m.get("DRB.UEThpDl", 0.0)) for s, m in per_slice.items()},
            slice_ue_thp_dl_dist={s: tuple(c) for (n, s), c in dists.items() if n == UE_THP_DL_DIST},
            slice_delay_dl_dist={s: tuple(c) for (n, s), c in dists.items() if n == DELAY_DL_DIST},
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


@dataclass(frozen=True)
class OffsetStep:
    """Shift the A3 boundary between cell ``cell_index`` and its ``neighbour_rank``-th neighbour."""

    cell_index: int
    neighbour_rank: int
    direction: int  # +1 toward the neighbour (load leaves the cell), -1 back


RanAction = NoOp | SteerUes | QuotaStep | OffsetStep


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
    offset_step_db: int = 2  # cell individual offset step (a Q-OffsetRange value)
    offset_limit_db: int = 8  # |offset| never exceeds this
    p5_weight: float = 1.0  # reward weight of the eMBB 5th-percentile throughput feature
    sla_weight: float = 1.0  # reward weight of the URLLC share over the delay budget
    delay_budget_ms: float = 10.0  # URLLC packet delay budget the violation column counts against

    def __post_init__(self) -> None:
        if self.max_cells < 1 or self.n_neighbours < 1 or not self.slices:
            raise ValueError("need max_cells >= 1, n_neighbours >= 1 and at least one slice")
        if self.offset_step_db < 1 or self.offset_limit_db < self.offset_step_db:
            raise ValueError("need offset_step_db >= 1 and offset_limit_db >= offset_step_db")
        if self.delay_budget_ms <= 0:
            raise ValueError("delay_budget_ms must be positive")

    @property
    def n_features(self) -> int:
        return cell_features(len(self.slices))

    @property
    def n_actions(self) -> int:
        return self._offset_base + self.max_cells * self.n_neighbours * 2

    @property
    def _offset_base(self) -> int:
        return 1 + self.max_cells * self.n_neighbours + self.max_cells * len(self.slices) * 2

    @property
    def objective_column(self) -> int:
        """Index in a cell row of the first objective column (eMBB samples; then p5, URLLC samples, share
        over budget)."""
        return BASE_FEATURES + 2 * len(self.slices)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of a cell row's columns, in order (the table of the module docstring)."""
        return (
            "present",
            "prb_usage_dl",
            "thp_dl",
            "connected_ues",
            *(f"slice_{s}_prb_share" for s in self.slices),
            *(f"slice_{s}_thp_dl" for s in self.slices),
            "embb_ues_sampled",
            "embb_p5_thp_dl",
            "urllc_delay_samples",
            "urllc_over_budget",
        )

    @property
    def embb_slices(self) -> tuple[Snssai, ...]:
        return tuple(s for s in self.slices if s.sst == SST_EMBB)

    @property
    def urllc_slices(self) -> tuple[Snssai, ...]:
        return tuple(s for s in self.slices if s.sst == SST_URLLC)

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
            row[PRESENT_COLUMN] = 1.0
            row[PRB_USAGE_COLUMN] = kpm.prb_tot_dl_pct / 100.0
            row[THROUGHPUT_COLUMN] = _log_thp(kpm.ue_thp_dl_kbps)
            row[CONNECTED_COLUMN] = kpm.conn_mean / self.conn_ref
            avail = max(kpm.prb_avail_dl, 1e-9)
            for s, snssai in enumerate(self.slices):
                row[BASE_FEATURES + s] = kpm.slice_prb_used_dl.get(snssai, 0.0) / avail
                row[BASE_FEATURES + n_s + s] = _log_thp(kpm.slice_ue_thp_dl_kbps.get(snssai, 0.0))
            obj = self.objective_column
            thp_counts = _merged(kpm.slice_ue_thp_dl_dist, self.embb_slices, UE_THP_DL_DIST)
            if thp_counts.sum() > 0:
                row[obj] = thp_counts.sum() / self.conn_ref
                row[obj + 1] = _log_thp(percentile(thp_counts, BIN_EDGES[UE_THP_DL_DIST], LOW_PERCENTILE))
            delay_counts = _merged(kpm.slice_delay_dl_dist, self.urllc_slices, DELAY_DL_DIST)
            if delay_counts.sum() > 0:
                row[obj + 2] = delay_counts.sum() / self.conn_ref
                row[obj + 3] = fraction_above(delay_counts, BIN_EDGES[DELAY_DL_DIST], self.delay_budget_ms)
        np.clip(rows, 0.0, 1.0, out=rows)
        return rows.reshape(-1)

    def reward(self, obs: np.ndarray) -> float:
        rows = np.asarray(obs, dtype=np.float64).reshape(self.max_cells, self.n_features)
        present = rows[:, PRESENT_COLUMN] > 0.5
        if not present.any():
            return 0.0
        thp = rows[present, THROUGHPUT_COLUMN].mean()
        imbalance = rows[present, PRB_USAGE_COLUMN].std()
        return float(
            thp
            + self.p5_weight * self.embb_p5(rows)
            - self.imbalance_weight * imbalance
            - self.sla_weight * self.urllc_over_budget(rows)
        )

    def embb_p5(self, rows: np.ndarray) -> float:
        """The eMBB 5th-percentile throughput feature, averaged over cells by eMBB samples (0 if none)."""
        obj = self.objective_column
        weight = rows[:, obj] * (rows[:, PRESENT_COLUMN] > 0.5)
        total = weight.sum()
        return float((weight * rows[:, obj + 1]).sum() / total) if total > 0 else 0.0

    def urllc_over_budget(self, rows: np.ndarray) -> float:
        """Share of URLLC delay samples over the budget across cells (0 without samples)."""
        obj = self.objective_column
        weight = rows[:, obj + 2] * (rows[:, PRESENT_COLUMN] > 0.5)
        total = weight.sum()
        return float((weight * rows[:, obj + 3]).sum() / total) if total > 0 else 0.0

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
        if j < self.max_cells * n_s * 2:
            cell, rest = divmod(j, n_s * 2)
            slice_index, d = divmod(rest, 2)
            return QuotaStep(cell, slice_index, +1 if d == 0 else -1)
        j -= self.max_cells * n_s * 2
        pair, d = divmod(j, 2)
        return OffsetStep(pair // self.n_neighbours, pair % self.n_neighbours, +1 if d == 0 else -1)

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
        if isinstance(action, OffsetStep):
            if not (
                0 <= action.cell_index < self.max_cells
                and 0 <= action.neighbour_rank < self.n_neighbours
                and action.direction in (1, -1)
            ):
                raise ValueError(f"{action} outside the space")
            pair = action.cell_index * self.n_neighbours + action.neighbour_rank
            return self._offset_base + pair * 2 + (0 if action.direction > 0 else 1)
        raise TypeError(f"not a RAN action: {action!r}")

    def action_mask(self, layout: CellLayout) -> np.ndarray:
        """Boolean mask of actions that name an existing cell (and neighbour) of ``layout``."""
        mask = np.zeros(self.n_actions, dtype=bool)
        mask[0] = True
        n_cells = min(len(layout.nr_cell_ids), self.max_cells)
        for i in range(n_cells):
            for k in range(min(len(layout.neighbours[i]), self.n_neighbours)):
                mask[self.encode(SteerUes(i, k))] = True
                mask[self.encode(OffsetStep(i, k, 1))] = True
                mask[self.encode(OffsetStep(i, k, -1))] = True
            for s in range(len(self.slices)):
                mask[self.encode(QuotaStep(i, s, 1))] = True
                mask[self.encode(QuotaStep(i, s, -1))] = True
        return mask


def _log_thp(kbps: float) -> float:
    return float(np.log10(1.0 + max(kbps, 0.0)) / THROUGHPUT_LOG_SCALE)


def _merged(dists: Mapping[Snssai, Sequence[float]], slices: Sequence[Snssai], name: str) -> np.ndarray:
    """Counts per bin summed over ``slices`` (zeros when none of them reported the distribution)."""
    total = np.zeros(len(BIN_EDGES[name]))
    for snssai in slices:
        counts = dists.get(snssai)
        if counts is not None and len(counts) == len(total):
            total += np.asarray(counts, dtype=np.float64)
    return total


def step_cell_offsets(
    forward_db: float, backward_db: float, direction: int, space: RanSpace
) -> tuple[int, int]:
    """New (cell -> neighbour, neighbour -> cell) offsets after an ``OffsetStep`` in ``direction``."""
    return step_pair_offsets(forward_db, backward_db, direction, space.offset_step_db, space.offset_limit_db)


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
