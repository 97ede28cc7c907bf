"""RanModel: the whole RAN advanced in fixed steps of a simulated clock, vectorized over UEs and cells.

One step (``scenario.step_s``) does: scripted events; mobility and channel refresh (every
``channel_update_s``, since positions only matter through the channel); handover (A3, commands,
re-establishment); SINR/CQI with interference weighted by the neighbours' PRB load of the previous
step; traffic arrivals and buffer drops; slice-aware DL and UL scheduling; counter integration.
Everything random comes from one generator seeded by the scenario, so a scenario and seed fix the run.

Control entry points for the E2 agent (RC) return ``ControlAck`` or ``ControlFailure`` (with a cause),
never raise on bad input: ``command_handover``, ``set_slice_quota``, ``set_cell_offset``. Read-outs for KPM:
``start_period`` / ``cell_report`` / ``cell_reports`` / ``ue_report`` / ``ue_reports``.
"""

from __future__ import annotations

import enum
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from e2sim.ran.channel import (
    CQI_TABLE_64QAM,
    AntennaTable,
    ShadowingField,
    cqi_sinr_thresholds,
    noise_dbm_per_re,
    pathloss_db,
    prb_rate_bps,
    sinr_linear,
    spectral_efficiency,
)
from e2sim.ran.counters import (
    SLICE_SUMS,
    UE_RADIO_MEASUREMENTS,
    UE_SUMS,
    CounterSums,
    Period,
    cell_measurements,
    slice_measurements,
    ue_measurements,
)
from e2sim.ran.handover import HandoverState
from e2sim.ran.mobility import MOBILITY_CODES, MobilityState
from e2sim.ran.scheduler import SliceQuotas, allocate_slices, allocate_ues, quota_problem
from e2sim.ran.topology import CellSpec, E2NodeSpec, NrCgi, Topology, build_topology, numerology
from e2sim.ran.traffic import TrafficState
from e2sim.scenario import EventConfig, Scenario
from ricproto.cell_offset import Q_OFFSET_RANGE_DB, is_q_offset
from ricproto.kpm_distribution import BIN_EDGES, DELAY_DL_DIST, UE_THP_DL_DIST, WB_CQI_DIST, bin_index
from ricproto.ran_space import CellLayout, SliceQuota, Snssai

PF_AVERAGING = 0.05  # EWMA weight of the PF scheduler's average-throughput filter per step
NEIGHBOURS_REPORTED = 6  # neighbour cells listed per UE (as ns-O-RAN's CU-CP reports)
COVERAGE_WINDOW_DB = 10.0  # a neighbour within this of the strongest cell shares its coverage


class ControlFailureCause(enum.StrEnum):
    UNKNOWN_UE = "unknown-ue"
    UNKNOWN_CELL = "unknown-cell"
    UNKNOWN_SLICE = "unknown-slice"
    CELL_DOWN = "cell-down"
    ALREADY_SERVING = "already-serving"
    ILLEGAL_QUOTA = "illegal-quota"
    ILLEGAL_OFFSET = "illegal-offset"
    MALFORMED = "malformed-request"  # the control request could not be decoded
    UNSUPPORTED = "unsupported-control"  # a control style/action the node does not offer


@dataclass(frozen=True)
class ControlAck:
    detail: str


@dataclass(frozen=True)
class ControlFailure:
    cause: ControlFailureCause
    reason: str


ControlResult = ControlAck | ControlFailure
CellRef = NrCgi | int  # an NR-CGI, or a bare 36-bit NR cell identity


@dataclass(frozen=True)
class CellReport:
    """One cell's measurements over a period: 28.552 name -> value, plus per-slice values."""

    cell_index: int
    nr_cgi: NrCgi
    gnb_id: int
    period_s: float
    measurements: dict[str, float]
    slices: dict[Snssai, dict[str, float]]
    # (distribution name, slice) -> counts per bin (DRB.UEThpDlDist, DRB.DelayDlNgranUeDist,
    # CARR.WBCQIDist); slice None: the whole cell's counts (CARR.WBCQIDist)
    distributions: dict[tuple[str, Snssai | None], tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CellRows:
    """All cells' measurements of a period as nested lists: ``cell[c][k]`` is the value of
    ``cell_names``' name k, ``slices[c][s][k]`` of ``slice_names``' name k for slice s,
    ``distributions[name][c][s][b]`` a bin count, ``cell_distributions[name][c][b]`` the cell's."""

    cell_names: dict[str, int]
    cell: list[list[float]]
    slice_names: dict[str, int]
    slices: list[list[list[float]]]
    distributions: dict[str, list[list[list[int]]]]
    cell_distributions: dict[str, list[list[int]]]


@dataclass(frozen=True)
class NeighbourMeasurement:
    nr_cgi: NrCgi
    rsrp_dbm: float


@dataclass(frozen=True)
class UeReport:
    ue_id: int
    serving_cell_index: int
    serving_nr_cgi: NrCgi
    snssai: Snssai
    period_s: float
    measurements: dict[str, float]
    neighbours: tuple[NeighbourMeasurement, ...]  # strongest first, serving cell excluded


class RanModel:
    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.topology: Topology = build_topology(scenario.topology)
        self.dt = scenario.step_s
        self.step_count = 0
        cells = self.topology.cells
        n_c = len(cells)
        self.n_cells = n_c
        self.n_slices = len(scenario.slices)
        self.n_ues = scenario.n_ues
        self.slices = tuple(s.snssai for s in scenario.slices)

        # Per-cell arrays; sites are the distinct positions (sectors share them).
        pos = self.topology.positions()
        # Sites = distinct positions, numbered in order of first appearance (the topology's site order).
        _, first, inverse = np.unique(pos, axis=0, return_index=True, return_inverse=True)
        rank = np.empty(first.size, dtype=np.intp)
        rank[np.argsort(first)] = np.arange(first.size)
        self.site_xy = pos[np.sort(first)]
        self.cell_site = rank[inverse.reshape(-1)]
        self.azimuth = np.array([np.nan if c.azimuth_deg is None else c.azimuth_deg for c in cells])
        self.n_prb = np.array([c.n_prb for c in cells], dtype=np.float64)
        self.mu = np.array([numerology(c.scs_khz) for c in cells], dtype=np.int64)
        self.tx_dbm_per_re = np.array([c.tx_power_dbm - 10 * np.log10(12 * c.n_prb) for c in cells])
        self.bs_height = float(cells[0].height_m)
        self.carrier_ghz = float(cells[0].carrier_ghz)
        ch = scenario.channel
        # Path loss per site: its antenna height and model (small cells: street-level UMi). Sites that
        # share both are computed together; a macro-only layout is one group, as it always was.
        site_cell = np.sort(first)
        site_height = np.array([cells[c].height_m for c in site_cell])
        site_model = np.array([cells[c].path_loss or ch.model for c in site_cell])
        self._site_groups = [
            (model_name, float(h), np.flatnonzero((site_model == model_name) & (site_height == h)))
            for model_name, h in sorted(
                {(str(m), float(h)) for m, h in zip(site_model, site_height, strict=True)}
            )
        ]
        self.noise_mw = 10 ** (noise_dbm_per_re(cells[0].scs_khz, ch.noise_figure_db) / 10)
        self.ul_sinr_factor = 10 ** (ch.uplink_sinr_offset_db / 10)
        self.cell_active = np.ones(n_c, dtype=bool)
        self.load = np.zeros(n_c)
        self.antenna = AntennaTable.build(self.azimuth, ch.antenna_gain_dbi)
        self._gains32 = self.antenna.gains_db.astype(np.float32)
        n_sites = len(self.site_xy)
        per_site = n_c // n_sites
        regular = (
            per_site * n_sites == n_c
            and np.array_equal(self.cell_site, np.repeat(np.arange(n_sites), per_site))
            and np.array_equal(
                self.antenna.cell_pattern, np.tile(self.antenna.cell_pattern[:per_site], n_sites)
            )
        )
        self._sector_gains: np.ndarray | None = None
        if regular:
            self._sector_gains = np.ascontiguousarray(self._gains32[self.antenna.cell_pattern[:per_site]].T)
            self._tx_site_sector = self.tx_dbm_per_re.reshape(n_sites, per_site).astype(np.float32)[None]
        self.shadowing = ShadowingField.generate(
            self.rng,
            len(self.site_xy),
            self.topology.area,
            ch.shadowing_sigma_db,
            ch.shadowing_decorrelation_m,
        )

        # UEs: slice by share, uniform initial placement.
        shares = np.array([s.share for s in scenario.slices])
        self.ue_slice = self.rng.choice(self.n_slices, size=self.n_ues, p=shares / shares.sum())
        x0, y0, x1, y1 = self.topology.area
        xy = np.stack([self.rng.uniform(x0, x1, self.n_ues), self.rng.uniform(y0, y1, self.n_ues)], axis=1)
        self.mobility = MobilityState.create(
            xy, [s.mobility for s in scenario.slices], self.ue_slice, self.topology.area, self.rng
        )
        self.traffic = TrafficState.from_profiles(
            [s.traffic for s in scenario.slices], self.ue_slice, self.rng
        )
        self.traffic_scale = np.ones(self.n_ues)
        if scenario.clusters:
            self._place_clusters()
        self.slice_pf = np.array([s.scheduler == "pf" for s in scenario.slices])[self.ue_slice]
        self.buffer_cap_bits = float(scenario.ue_buffer_bytes) * 8.0
        self.buf_dl = np.where(self.traffic.full_buffer, self.buffer_cap_bits, 0.0)
        self.buf_ul = np.where(self.traffic.full_buffer, self.buffer_cap_bits, 0.0)
        self.avg_thp = np.full(self.n_ues, 1e5)
        self.quotas = SliceQuotas(
            np.tile(np.array([s.min_ratio for s in scenario.slices]), (n_c, 1)),
            np.tile(np.array([s.max_ratio for s in scenario.slices]), (n_c, 1)),
            np.tile(np.array([s.dedicated_ratio for s in scenario.slices]), (n_c, 1)),
        )

        # Constants of the step, made once.
        # SINR at which each CQI becomes reachable (inverse of cqi_from_sinr), DL and UL (UL SINR is
        # the DL SINR scaled by ul_sinr_factor, so its thresholds are divided by it).
        self._cqi_thresholds = cqi_sinr_thresholds(CQI_TABLE_64QAM)
        self._cqi_thresholds_ul = self._cqi_thresholds / self.ul_sinr_factor
        mus, self._mu_index = np.unique(self.mu, return_inverse=True)
        self._prb_rate = np.stack(
            [prb_rate_bps(spectral_efficiency(np.arange(16), CQI_TABLE_64QAM), int(mu)) for mu in mus]
        )
        self._ones = np.ones(self.n_ues)
        self._dt_ones = np.full(self.n_ues, self.dt)
        self._sum_offsets = (np.arange(len(SLICE_SUMS)) * n_c * self.n_slices)[:, None]
        self._n_prb2 = np.tile(self.n_prb, 2)
        self._quotas2_cache: SliceQuotas | None = None

        self._coverage_order: np.ndarray | None = None
        self._moved_at_s = 0.0
        self._refresh_channel()
        self.handover = HandoverState(self.best_cell.copy(), n_c, scenario.handover)
        macros = [c.index for c in cells if not c.small]
        for small_cfg, cell in zip(scenario.topology.small_cells, (c for c in cells if c.small), strict=True):
            if small_cfg.range_expansion_db:
                for m in macros:
                    self.handover.set_cio(m, cell.index, small_cfg.range_expansion_db)
                    self.handover.set_cio(cell.index, m, -small_cfg.range_expansion_db)
        self.cqi = np.zeros(self.n_ues, dtype=np.int8)
        self.sinr_db = np.zeros(self.n_ues)
        self.sums = CounterSums.zeros(n_c, self.n_slices, self.n_ues)
        self._periods: weakref.WeakSet[Period] = weakref.WeakSet()
        self._last_period: weakref.ref[Period] | None = None
        self._last_period_step = -1
        self._radio_step = -1
        self._radio: dict[str, np.ndarray] = {}

        # Scripted events as a time-ordered list of (time, starts?, index).
        self._timeline = sorted(
            [(e.at_s, 1, i) for i, e in enumerate(scenario.events)]
            + [
                (e.at_s + e.duration_s, 0, i)
                for i, e in enumerate(scenario.events)
                if e.duration_s is not None
            ]
        )
        self._timeline_pos = 0
        self._event_undo: dict[int, object] = {}
        # moving crowds: event index -> (its UEs, the site it walks to, speed m/s)
        self._moving_crowds: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}
        self.events_applied: list[tuple[float, str, int]] = []  # (time, "start"/"end", event index)

    # --- clock ---------------------------------------------------------------------------------
    @property
    def now_s(self) -> float:
        return self.step_count * self.dt

    def run(self, duration_s: float) -> None:
        """Advance by ``duration_s`` (rounded to whole steps)."""
        for _ in range(round(duration_s / self.dt)):
            self.step()

    def run_until(self, t_s: float) -> None:
        while self.now_s + 1e-9 < t_s:
            self.step()

    # --- inventory -----------------------------------------------------------------------------
    @property
    def cells(self) -> tuple[CellSpec, ...]:
        return self.topology.cells

    @property
    def nodes(self) -> tuple[E2NodeSpec, ...]:
        return self.topology.nodes

    def cell_layout(self, n_neighbours: int) -> CellLayout:
        if self.scenario.topology.neighbour_relations == "coverage":
            nb = self.coverage_neighbours()[:, : min(n_neighbours, self.n_cells - 1)]
        else:
            nb = self.topology.neighbours(n_neighbours)
        return CellLayout(
            tuple(c.nr_cgi.nr_cell_id for c in self.cells), tuple(tuple(int(j) for j in r) for r in nb)
        )

    def coverage_neighbours(self) -> np.ndarray:
        """(n_cells, n_cells - 1) every cell's other cells, those sharing the most coverage first.

        What automatic neighbour relations learn from UE reports, computed from the deterministic
        part of the channel (path loss, antenna, power; no shadowing or fading) on a grid over the
        area: where cell s is strongest, every cell within ``COVERAGE_WINDOW_DB`` of it counts one
        point of overlap for the relation s -> n. Ties (and cells sharing nothing) go by distance,
        then index."""
        if self._coverage_order is None:
            x0, y0, x1, y1 = self.topology.area
            spacing = self.scenario.topology.inter_site_distance_m / 25.0
            gx, gy = np.meshgrid(np.arange(x0, x1, spacing), np.arange(y0, y1, spacing))
            xy = np.stack([gx.ravel(), gy.ravel()], axis=1)
            rsrp = self._mean_rsrp_dbm(xy)
            strongest = np.argmax(rsrp, axis=1)
            near = rsrp >= rsrp[np.arange(xy.shape[0]), strongest][:, None] - COVERAGE_WINDOW_DB
            overlap = np.zeros((self.n_cells, self.n_cells))
            np.add.at(overlap, strongest, near.astype(np.float64))
            pos = self.topology.positions()
            dist = np.hypot(pos[:, None, 0] - pos[None, :, 0], pos[:, None, 1] - pos[None, :, 1])
            order = np.empty((self.n_cells, self.n_cells - 1), dtype=np.intp)
            for c in range(self.n_cells):
                others = [j for j in range(self.n_cells) if j != c]
                others.sort(key=lambda j: (-(overlap[c, j] + overlap[j, c]), dist[c, j], j))
                order[c] = others
            self._coverage_order = order
        return self._coverage_order

    def _mean_rsrp_dbm(self, xy: np.ndarray) -> np.ndarray:
        """(n_points, n_cells) RSRP per RE without shadowing and fading at points ``xy``."""
        dx = xy[:, 0:1] - self.site_xy[None, :, 0]
        dy = xy[:, 1:2] - self.site_xy[None, :, 1]
        d2d = np.sqrt(dx * dx + dy * dy)
        ue_h = self.scenario.channel.ue_height_m
        site_loss = np.empty_like(d2d)
        for model_name, height, sites in self._site_groups:
            site_loss[:, sites] = pathloss_db(d2d[:, sites], self.carrier_ghz, height, ue_h, model_name)  # type: ignore[arg-type]
        bearing = self.antenna.bearing_bin(dx, dy)
        gain = self.antenna.gains_db[self.antenna.cell_pattern[None, :], bearing[:, self.cell_site]]
        return self.tx_dbm_per_re[None, :] + gain - site_loss[:, self.cell_site]

    def resolve_cell(self, ref: CellRef) -> int | None:
        nr_cell_id = ref.nr_cell_id if isinstance(ref, NrCgi) else ref
        if isinstance(nr_cell_id, bool) or not isinstance(nr_cell_id, int | np.integer):
            return None
        cell = self.topology.cell_by_nr_cell_id(int(nr_cell_id))
        if cell is None or (isinstance(ref, NrCgi) and ref.plmn != cell.nr_cgi.plmn):
            return None
        return cell.index

    @property
    def serving(self) -> np.ndarray:
        return self.handover.serving

    # --- control -------------------------------------------------------------------------------
    def command_handover(self, ue_id: int, target: CellRef) -> ControlResult:
        """RC style 3 action 1: hand ``ue_id`` over to ``target`` after the execution delay."""
        if isinstance(ue_id, bool) or not isinstance(ue_id, int | np.integer) or not 0 <= ue_id < self.n_ues:
            return ControlFailure(ControlFailureCause.UNKNOWN_UE, f"no UE with id {ue_id!r}")
        cell = self.resolve_cell(target)
        if cell is None:
            return ControlFailure(ControlFailureCause.UNKNOWN_CELL, f"no cell {target} in this RAN")
        if not self.cell_active[cell]:
            return ControlFailure(ControlFailureCause.CELL_DOWN, f"cell {self.cells[cell].nr_cgi} is down")
        if self.handover.serving[ue_id] == cell:
            return ControlFailure(
                ControlFailureCause.ALREADY_SERVING,
                f"UE {ue_id} is already served by {self.cells[cell].nr_cgi}",
            )
        self.handover.command(int(ue_id), cell, self.now_s)
        return ControlAck(
            f"UE {ue_id} to {self.cells[cell].nr_cgi} at "
            f"t={self.now_s + self.scenario.handover.execution_delay_s:.3f}s"
        )

    def set_slice_quota(
        self, cell_ref: CellRef, snssai: Snssai, min_ratio: int, max_ratio: int, dedicated_ratio: int
    ) -> ControlResult:
        """RC style 2 action 6: set one slice's RRM policy ratios (percent) in one cell."""
        return self.set_slice_quotas(cell_ref, {snssai: SliceQuota(min_ratio, max_ratio, dedicated_ratio)})

    def check_slice_quotas(
        self, cell_ref: CellRef, quotas: Mapping[Snssai, SliceQuota]
    ) -> ControlFailure | int:
        """The cell index when ``quotas`` (some of the cell's slices) can be applied, else why not."""
        cell = self.resolve_cell(cell_ref)
        if cell is None:
            return ControlFailure(ControlFailureCause.UNKNOWN_CELL, f"no cell {cell_ref} in this RAN")
        unknown = [str(s) for s in quotas if s not in self.slices]
        if unknown:
            return ControlFailure(
                ControlFailureCause.UNKNOWN_SLICE,
                f"no slice {', '.join(unknown)} (known: {', '.join(map(str, self.slices))})",
            )
        new = self.slice_quotas(cell)
        for snssai, quota in quotas.items():
            new[self.slices.index(snssai)] = quota
        for s, q in enumerate(new):
            others = [o for i, o in enumerate(new) if i != s]
            problem = quota_problem(
                q.min_ratio,
                q.max_ratio,
                q.dedicated_ratio,
                sum(o.min_ratio for o in others),
                sum(o.dedicated_ratio for o in others),
            )
            if problem is not None:
                return ControlFailure(ControlFailureCause.ILLEGAL_QUOTA, f"slice {self.slices[s]}: {problem}")
        return cell

    def set_slice_quotas(self, cell_ref: CellRef, quotas: Mapping[Snssai, SliceQuota]) -> ControlResult:
        """Set several slices' ratios of one cell at once: all are applied or none (with the reason)."""
        checked = self.check_slice_quotas(cell_ref, quotas)
        if isinstance(checked, ControlFailure):
            return checked
        cell = checked
        for snssai, q in quotas.items():
            s = self.slices.index(snssai)
            self.quotas.min_ratio[cell, s] = q.min_ratio
            self.quotas.max_ratio[cell, s] = q.max_ratio
            self.quotas.dedicated_ratio[cell, s] = q.dedicated_ratio
        self._quotas2_cache = None
        detail = "; ".join(
            f"{snssai}: min={q.min_ratio} max={q.max_ratio} dedicated={q.dedicated_ratio}"
            for snssai, q in quotas.items()
        )
        return ControlAck(f"cell {self.cells[cell].nr_cgi}: {detail}")

    def slice_quotas(self, cell_index: int) -> list[SliceQuota]:
        return [
            SliceQuota(
                int(self.quotas.min_ratio[cell_index, s]),
                int(self.quotas.max_ratio[cell_index, s]),
                int(self.quotas.dedicated_ratio[cell_index, s]),
            )
            for s in range(self.n_slices)
        ]

    def set_cell_offset(
        self, serving_ref: CellRef, neighbour_ref: CellRef, offset_db: float
    ) -> ControlResult:
        """Cell individual offset (Ocn, dB) that ``serving_ref`` applies to ``neighbour_ref`` in event A3.

        A Q-OffsetRange value (TS 38.331); it holds until changed, so UEs moved by it stay moved."""
        serving = self.resolve_cell(serving_ref)
        neighbour = self.resolve_cell(neighbour_ref)
        if serving is None or neighbour is None:
            missing = serving_ref if serving is None else neighbour_ref
            return ControlFailure(ControlFailureCause.UNKNOWN_CELL, f"no cell {missing} in this RAN")
        if serving == neighbour:
            return ControlFailure(
                ControlFailureCause.ILLEGAL_OFFSET,
                f"cell {self.cells[serving].nr_cgi} has no offset to itself",
            )
        if not is_q_offset(offset_db):
            return ControlFailure(
                ControlFailureCause.ILLEGAL_OFFSET,
                f"offset {offset_db!r} dB is not a Q-OffsetRange value "
                f"({Q_OFFSET_RANGE_DB[0]}..{Q_OFFSET_RANGE_DB[-1]} dB, 1 dB steps within +-6, else 2 dB)",
            )
        self.handover.set_cio(serving, neighbour, float(offset_db))
        return ControlAck(
            f"cell {self.cells[serving].nr_cgi} -> {self.cells[neighbour].nr_cgi}: offset {int(offset_db)} dB"
        )

    def cell_offset(self, serving: int, neighbour: int) -> int:
        return int(self.handover.cio_db[serving, neighbour])

    def set_cell_active(self, cell_index: int, active: bool) -> None:
        self.cell_active[cell_index] = active
        if not active:
            self.load[cell_index] = 0.0
        self._update_best_cell()

    # --- read-outs -----------------------------------------------------------------------------
    def start_period(self) -> Period:
        """A granularity period starting now; read it with ``cell_report`` etc. Periods started at
        the same step are one object (they read the same), so their readings are computed once."""
        last = self._last_period() if self._last_period is not None else None
        if last is not None and last.start_s == self.now_s and self._last_period_step == self.step_count:
            return last
        period = Period(self.now_s, self.sums.copy(), self._connected())
        self._periods.add(period)
        self._last_period, self._last_period_step = weakref.ref(period), self.step_count
        return period

    def cell_table(self, period: Period) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """All cells' measurements (name -> (n_cells,)) and per-slice ones (name -> (n_cells, n_slices));
        read-only (shared by every reader of ``period`` at this step)."""
        return period.cached(self.step_count, "cell_table", lambda: self._cell_table(period))

    def _cell_table(self, period: Period) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        delta = self.sums.minus(period.start, ue=False)
        duration = self.now_s - period.start_s
        return (
            cell_measurements(delta.cell, duration, period.conn_max),
            slice_measurements(delta.slice, duration),
        )

    def cell_distributions(self, period: Period) -> dict[str, np.ndarray]:
        """Per-slice distribution measurements of every cell: name -> (n_cells, n_slices, n_bins) counts.

        One sample per UE and period, counted in the cell serving the UE at the period's end:
        ``DRB.UEThpDlDist`` the UE's throughput (as ``DRB.UEThpDl``: bits over the time it had data)
        for UEs that had data; ``DRB.DelayDlNgranUeDist`` its mean queueing delay (as
        ``DRB.RlcSduDelayDl``: queued bit-seconds over bits served; unbounded when nothing was served
        from a non-empty queue) for UEs that had data queued or served; ``CARR.WBCQIDist`` every
        UE's wideband CQI at the period's end. The fluid model has no packets, so a sample is a
        UE-period rather than a packet. Read-only (shared, as cell_table)."""
        return period.cached(self.step_count, "distributions", lambda: self._cell_distributions(period))

    def _cell_distributions(self, period: Period) -> dict[str, np.ndarray]:
        ue = self.sums.ue
        start = period.start.ue
        bits = ue["bits_dl"] - start["bits_dl"]
        active = ue["active_s_dl"] - start["active_s_dl"]
        queued = ue["queue_bit_s_dl"] - start["queue_bit_s_dl"]
        group = self.serving * self.n_slices + self.ue_slice
        n_groups = self.n_cells * self.n_slices
        out = {}
        has_data = active > 0
        thp_kbps = np.divide(bits, active, out=np.zeros_like(bits), where=has_data) / 1e3
        delay_ms = np.where(bits > 0, np.divide(queued, np.maximum(bits, 1e-12)) * 1e3, np.inf)
        for name, values, sampled in (
            (UE_THP_DL_DIST, thp_kbps, has_data),
            (DELAY_DL_DIST, delay_ms, (bits > 0) | (queued > 0)),
            (WB_CQI_DIST, self.cqi.astype(np.float64), slice(None)),
        ):
            n_bins = len(BIN_EDGES[name])
            keys = group[sampled] * n_bins + bin_index(values[sampled], BIN_EDGES[name])
            counts = np.bincount(keys, minlength=n_groups * n_bins)
            out[name] = counts.reshape(self.n_cells, self.n_slices, n_bins)
        return out

    def cell_rows(self, period: Period, distributions: bool = True) -> CellRows:
        """Every cell's measurements over ``period`` as Python lists (one ``tolist`` per table, once
        per step and period), for readers that pick many values of many cells."""
        key = "cell_rows+dist" if distributions else "cell_rows"
        return period.cached(self.step_count, key, lambda: self._cell_rows(period, distributions))

    def _cell_rows(self, period: Period, distributions: bool) -> CellRows:
        cell_m, slice_m = self.cell_table(period)
        dists = self.cell_distributions(period) if distributions else {}
        return CellRows(
            {name: i for i, name in enumerate(cell_m)},
            np.stack(list(cell_m.values()), axis=1).tolist(),
            {name: i for i, name in enumerate(slice_m)},
            np.stack(list(slice_m.values()), axis=2).tolist(),
            {name: counts.tolist() for name, counts in dists.items()},
            {name: counts.sum(axis=1).tolist() for name, counts in dists.items()},
        )

    def cell_reports(self, period: Period) -> list[CellReport]:
        cell_m, slice_m = self.cell_table(period)
        dists = self.cell_distributions(period)
        duration = self.now_s - period.start_s
        cell_names, slice_names = list(cell_m), list(slice_m)
        # One tolist() per table (fast conversion to Python floats), then plain zips per cell.
        cell_rows = np.stack([cell_m[k] for k in cell_names], axis=1).tolist()
        slice_rows = np.stack([slice_m[k] for k in slice_names], axis=2).tolist()  # (cell, slice, name)
        dist_rows = {name: counts.tolist() for name, counts in dists.items()}  # (cell, slice, bin)
        cell_dist_rows = {name: counts.sum(axis=1).tolist() for name, counts in dists.items()}  # (cell, bin)
        return [
            CellReport(
                c.index,
                c.nr_cgi,
                c.gnb_id,
                duration,
                dict(zip(cell_names, cell_rows[c.index], strict=True)),
                {
                    snssai: dict(zip(slice_names, slice_rows[c.index][s], strict=True))
                    for s, snssai in enumerate(self.slices)
                },
                {
                    **{
                        (name, snssai): tuple(rows[c.index][s])
                        for name, rows in dist_rows.items()
                        for s, snssai in enumerate(self.slices)
                    },
                    **{(name, None): tuple(rows[c.index]) for name, rows in cell_dist_rows.items()},
                },
            )
            for c in self.cells
        ]

    def cell_report(self, cell_index: int, period: Period, distributions: bool = True) -> CellReport:
        """One cell's report; the agent asks per subscribed cell, so only that row becomes Python values.
        ``distributions=False`` skips counting the distribution measurements (a subscription without them)."""
        cell_m, slice_m = self.cell_table(period)
        cell = self.cells[cell_index]
        dists: dict[tuple[str, Snssai | None], tuple[int, ...]] = {}
        if distributions:
            for name, counts in self.cell_distributions(period).items():
                for s, snssai in enumerate(self.slices):
                    dists[(name, snssai)] = tuple(counts[cell_index, s].tolist())
                dists[(name, None)] = tuple(counts[cell_index].sum(axis=0).tolist())
        return CellReport(
            cell.index,
            cell.nr_cgi,
            cell.gnb_id,
            self.now_s - period.start_s,
            {name: float(values[cell_index]) for name, values in cell_m.items()},
            {
                snssai: {name: float(values[cell_index, s]) for name, values in slice_m.items()}
                for s, snssai in enumerate(self.slices)
            },
            dists,
        )

    def ue_table(self, period: Period) -> dict[str, np.ndarray]:
        """Every UE's measurements over ``period`` (counters) and at its end (radio), name -> (n_ues,)."""
        delta = self.sums.minus(period.start)
        table = ue_measurements(delta.ue, self.now_s - period.start_s)
        table.update(self.ue_radio(np.arange(self.n_ues)))
        return table

    def ue_counters(self, period: Period, ues: np.ndarray) -> dict[str, np.ndarray]:
        """The counter measurements of UEs ``ues`` over ``period``, name -> (len(ues),)."""
        table = period.cached(self.step_count, "ue_counters", lambda: self._ue_counters(period))
        return {name: values[ues] for name, values in table.items()}

    def _ue_counters(self, period: Period) -> dict[str, np.ndarray]:
        delta = self.sums.ue_arr - period.start.ue_arr
        return ue_measurements(dict(zip(UE_SUMS, delta, strict=True)), self.now_s - period.start_s)

    def ue_radio(self, ues: np.ndarray, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """Radio quantities of UEs ``ues`` now, name -> (len(ues),) (``names`` selects, default all).

        RSRP is the serving cell's received power per RE; RSRQ is N x RSRP / RSSI (38.215) with the
        RSSI over the carrier: the serving cell's power (its reference signals are always on), the
        other cells' power times their PRB load, and the noise, so it is -10.8 dB for a lone fully
        loaded cell and falls as neighbours load up. The uplink mirrors the downlink through the
        scenario's UL offset (same path loss, UE power far below the cell's), as the scheduler does."""
        if self._radio_step != self.step_count:
            self._radio_step, self._radio = self.step_count, {}
        wanted = UE_RADIO_MEASUREMENTS if names is None else names
        missing = [n for n in wanted if n not in self._radio]
        if missing:  # every UE's value at this step, computed once and shared by all readers
            self._radio.update(self._ue_radio_all(missing))
        return {name: self._radio[name][ues] for name in wanted}

    def _ue_radio_all(self, names: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = set(names)
        ues = np.arange(self.n_ues)
        serving = self.serving
        out: dict[str, np.ndarray] = {}
        if wanted & {"CQI"}:
            out["CQI"] = self.cqi[ues].astype(np.float64)
        rsrp = self.rsrp_dbm[ues, serving].astype(np.float64)
        for name in ("RSRP", "L1M.SS-RSRP", "L1M.DL-SS-RSRP.SSB"):
            if name in wanted:
                out[name] = rsrp
        if "L1M.UL-SRS-RSRP" in wanted:
            out["L1M.UL-SRS-RSRP"] = rsrp + self.scenario.channel.uplink_sinr_offset_db
        sinr = self.sinr_db[ues]
        for name in ("L1M.SS-SINR", "L1M.DL-SS-SINR.SSB"):
            if name in wanted:
                out[name] = sinr.copy()
        if "L1M.UL-SINR" in wanted:
            out["L1M.UL-SINR"] = sinr + self.scenario.channel.uplink_sinr_offset_db
        if wanted & {"RSRQ", "L1M.SS-RSRQ"}:
            rx = self.rx_mw[ues].astype(np.float64)
            own = rx[np.arange(ues.size), serving]
            load = self.load * self.cell_active
            rssi_per_re = rx @ load + own * (1.0 - load[serving]) + self.noise_mw
            rsrq = 10.0 * np.log10(np.maximum(own, 1e-300) / (12.0 * rssi_per_re))
            for name in ("RSRQ", "L1M.SS-RSRQ"):
                if name in wanted:
                    out[name] = rsrq
        return out

    def ue_reports(self, period: Period, cell_index: int | None = None) -> list[UeReport]:
        """Per-UE reports, all UEs or those served by ``cell_index``."""
        table = self.ue_table(period)
        ues = np.arange(self.n_ues) if cell_index is None else np.flatnonzero(self.serving == cell_index)
        duration = self.now_s - period.start_s
        masked = np.where(self.cell_active[None, :], self.rsrp_dbm[ues], -np.inf)
        masked[np.arange(ues.size), self.serving[ues]] = -np.inf
        k = min(NEIGHBOURS_REPORTED, self.n_cells - 1)
        order = np.argsort(-masked, axis=1, kind="stable")[:, :k]
        out = []
        for row, u in enumerate(ues):
            nbs = tuple(
                NeighbourMeasurement(self.cells[j].nr_cgi, float(masked[row, j]))
                for j in order[row]
                if np.isfinite(masked[row, j])
            )
            serving = int(self.serving[u])
            out.append(
                UeReport(
                    int(u),
                    serving,
                    self.cells[serving].nr_cgi,
                    self.slices[self.ue_slice[u]],
                    duration,
                    {k2: float(v[u]) for k2, v in table.items()},
                    nbs,
                )
            )
        return out

    def ue_report(self, ue_id: int, period: Period) -> UeReport:
        table = self.ue_reports(period, cell_index=int(self.serving[ue_id]))
        return next(r for r in table if r.ue_id == ue_id)

    # --- stepping ------------------------------------------------------------------------------
    def _connected(self) -> np.ndarray:
        return np.bincount(self.handover.serving, minlength=self.n_cells).astype(np.float64)

    def _refresh_channel(self) -> None:
        """Recompute the UE x cell RSRP matrix: path loss and shadowing per site, gain per sector."""
        xy = self.mobility.xy
        dx = xy[:, 0:1] - self.site_xy[None, :, 0]
        dy = xy[:, 1:2] - self.site_xy[None, :, 1]
        ch = self.scenario.channel
        d2d = np.sqrt(dx * dx + dy * dy)
        if len(self._site_groups) == 1:
            model_name, height, _ = self._site_groups[0]
            site_loss = pathloss_db(d2d, self.carrier_ghz, height, ch.ue_height_m, model_name)  # type: ignore[arg-type]
        else:
            site_loss = np.empty_like(d2d)
            for model_name, height, sites in self._site_groups:
                site_loss[:, sites] = pathloss_db(
                    d2d[:, sites],
                    self.carrier_ghz,
                    height,
                    ch.ue_height_m,
                    model_name,  # type: ignore[arg-type]
                )
        site_loss += self.shadowing.sample(xy)
        bearing = self.antenna.bearing_bin(dx, dy)
        site_loss32 = site_loss.astype(np.float32)
        if self._sector_gains is not None:
            # Regular layout (every site has the same sectors, cells site-major): build (ue, site,
            # sector) with broadcasting instead of gathering a (ue, cell) index matrix.
            rsrp = np.take(self._sector_gains, bearing, axis=0)  # take() is much faster than [] here
            rsrp -= site_loss32[:, :, None]
            rsrp += self._tx_site_sector
            rsrp = rsrp.reshape(xy.shape[0], self.n_cells)
        else:
            rsrp = self._gains32[self.antenna.cell_pattern[None, :], bearing[:, self.cell_site]]
            rsrp -= site_loss32[:, self.cell_site]
            rsrp += self.tx_dbm_per_re.astype(np.float32)[None, :]
        # float32: the matrices are large and dB/interference sums need no more precision.
        self.rsrp_dbm = rsrp
        self.rx_mw = np.exp(rsrp * np.float32(np.log(10.0) / 10.0))
        self._update_best_cell()
        self._next_channel_s = self.now_s + self.scenario.channel_update_s - 1e-9

    def _update_best_cell(self) -> None:
        if self.cell_active.all():
            self.best_cell = np.argmax(self.rsrp_dbm, axis=1)
        else:
            self.best_cell = np.argmax(np.where(self.cell_active[None, :], self.rsrp_dbm, -np.inf), axis=1)

    def _apply_events(self) -> None:
        while (
            self._timeline_pos < len(self._timeline)
            and self._timeline[self._timeline_pos][0] <= self.now_s + 1e-9
        ):
            _, starts, index = self._timeline[self._timeline_pos]
            self._timeline_pos += 1
            event = self.scenario.events[index]
            (self._start_event if starts else self._end_event)(index, event)
            self.events_applied.append((self.now_s, "start" if starts else "end", index))

    def _ue_pool(self, slice_name: str | None) -> np.ndarray:
        """UE indices of a slice (by name), or all UEs."""
        if slice_name is None:
            return np.arange(self.n_ues)
        return np.flatnonzero(self.ue_slice == [c.name for c in self.scenario.slices].index(slice_name))

    def crowd_centre(
        self, cell: int, towards_cell: int | None = None, at: float = 0.5
    ) -> tuple[float, float]:
        """Where a crowd gathers: ``at`` of the way from ``cell``'s site to ``towards_cell``'s, or (without
        one) a third of the ISD into ``cell``'s sector, or on its site for an omni cell."""
        site = self.site_xy[self.cell_site[cell]]
        if towards_cell is not None:
            other = self.site_xy[self.cell_site[towards_cell]]
            return (float(site[0] + at * (other[0] - site[0])), float(site[1] + at * (other[1] - site[1])))
        az = self.azimuth[cell]
        offset = 0.0 if np.isnan(az) else self.scenario.topology.inter_site_distance_m / 3.0
        heading = np.radians(0.0 if np.isnan(az) else az)
        return (float(site[0] + offset * np.sin(heading)), float(site[1] + offset * np.cos(heading)))

    def _place_clusters(self) -> None:
        """Scenario crowds: members placed uniformly in their disc at start and homed there."""
        for cluster in self.scenario.clusters:
            pool = self._ue_pool(cluster.slice_name)
            free = pool[np.isinf(self.mobility.home_radius[pool])]  # a UE belongs to one crowd
            n = min(round(cluster.fraction * pool.size), free.size)
            members = free[self.rng.choice(free.size, size=n, replace=False)]
            centre = np.array(self.crowd_centre(cluster.cell, cluster.towards_cell, cluster.at))
            r = cluster.radius_m * np.sqrt(self.rng.random(n))
            a = self.rng.uniform(0, 2 * np.pi, n)
            x0, y0, x1, y1 = self.topology.area
            xy = centre + np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
            self.mobility.xy[members] = np.clip(xy, [x0, y0], [x1, y1])
            mask = np.zeros(self.n_ues, dtype=bool)
            mask[members] = True
            static = mask & (self.mobility.kind == MOBILITY_CODES["static"])
            self.mobility.attach_hotspot(
                mask, (float(centre[0]), float(centre[1])), cluster.radius_m, self.rng
            )
            # Static members (sensors) stay where they were placed; the others wander inside the disc.
            self.mobility.kind[static] = MOBILITY_CODES["static"]
            self.mobility.velocity[static] = 0.0

    def _move_crowds(self, dt_s: float) -> None:
        for mask, goal, speed in self._moving_crowds.values():
            centre = self.mobility.home_centre[mask][0]
            step = goal - centre
            dist = float(np.hypot(*step))
            if dist > 1e-9:
                self.mobility.home_centre[mask] = centre + step * min(1.0, speed * dt_s / dist)

    def _start_event(self, index: int, event: EventConfig) -> None:
        if event.kind == "traffic_surge":
            mask = np.ones(self.n_ues, dtype=bool)
            if event.slice_name is not None:
                s = [c.name for c in self.scenario.slices].index(event.slice_name)
                mask &= self.ue_slice == s
            if event.cells:
                mask &= np.isin(self.serving, event.cells)
            self.traffic_scale[mask] *= event.factor
            self._event_undo[index] = mask
        elif event.kind == "hotspot":
            pool = self._ue_pool(event.slice_name)
            n = round(event.fraction * pool.size)
            mask = np.zeros(self.n_ues, dtype=bool)
            if event.slice_name is None:
                mask[self.rng.choice(self.n_ues, size=n, replace=False)] = True
            else:
                mask[pool[self.rng.choice(pool.size, size=n, replace=False)]] = True
            undo = (self.mobility.kind.copy(), self.mobility.speed_max.copy(), mask)
            centre = self.crowd_centre(event.cells[0], event.towards_cell, event.at)
            self.mobility.attach_hotspot(mask, centre, event.radius_m, self.rng)
            self._event_undo[index] = undo
            if event.move_towards_cell is not None:
                goal = self.site_xy[self.cell_site[event.move_towards_cell]]
                self._moving_crowds[index] = (mask, np.asarray(goal, dtype=np.float64), event.speed_mps)
        elif event.kind == "cell_outage":
            for c in event.cells:
                self.set_cell_active(c, False)

    def _end_event(self, index: int, event: EventConfig) -> None:
        if event.kind == "traffic_surge":
            mask = self._event_undo.pop(index)
            self.traffic_scale[mask] /= event.factor  # type: ignore[index]
        elif event.kind == "hotspot":
            kind, speed_max, mask = self._event_undo.pop(index)  # type: ignore[misc]
            self._moving_crowds.pop(index, None)
            self.mobility.release_hotspot(mask, kind, speed_max, self.rng)
        elif event.kind == "cell_outage":
            for c in event.cells:
                self.set_cell_active(c, True)

    def step(self) -> None:
        dt = self.dt
        self.step_count += 1
        now = self.now_s
        self._apply_events()
        if now >= self._next_channel_s:
            # Positions matter only through the channel, so UEs move when it is refreshed.
            if self._moving_crowds:
                self._move_crowds(now - self._moved_at_s)
            self.mobility.step(now - self._moved_at_s, self.rng)
            self._moved_at_s = now
            self._refresh_channel()
        ho = self.handover.step(self.rsrp_dbm, self.best_cell, self.cell_active, now, dt)
        serving = self.handover.serving
        in_service = self.handover.in_service(now) & self.cell_active[serving]

        fading = self.rng.exponential(1.0, self.n_ues) if self.scenario.channel.fast_fading else None
        load = (self.load * self.cell_active).astype(np.float32)  # same dtype as rx_mw: no matrix cast
        sinr = sinr_linear(self.rx_mw, serving, load, self.noise_mw, fading).astype(np.float64)
        self.sinr_db = 10.0 * np.log10(np.maximum(sinr, 1e-30))
        # CQI by comparing SINR with per-CQI thresholds, rate per PRB by table lookup (no logs per UE).
        self.cqi = np.searchsorted(self._cqi_thresholds, sinr, side="right").astype(np.int8)
        cqi_ul = np.searchsorted(self._cqi_thresholds_ul, sinr, side="right")
        rate_dl = self._prb_rate[self._mu_index[serving], self.cqi] * in_service
        rate_ul = self._prb_rate[self._mu_index[serving], cqi_ul] * in_service

        # Traffic: arrivals, buffer overflow drops; full-buffer UEs are topped up.
        arrivals = self.traffic.arrivals_bits(dt, self.rng, self.traffic_scale)
        full = self.traffic.full_buffer
        offered_dl = np.where(full, self.buffer_cap_bits - self.buf_dl, arrivals)
        self.buf_dl += offered_dl
        dropped_dl = np.maximum(self.buf_dl - self.buffer_cap_bits, 0.0)
        self.buf_dl -= dropped_dl
        self.buf_ul += np.where(
            full, self.buffer_cap_bits - self.buf_ul, arrivals * self.traffic.uplink_ratio
        )
        np.minimum(self.buf_ul, self.buffer_cap_bits, out=self.buf_ul)

        # DL and UL scheduled in one pass: UL groups follow the DL ones, UL cells follow the DL cells.
        n_c, n_s = self.n_cells, self.n_slices
        n_groups = n_c * n_s
        group = serving * n_s + self.ue_slice
        pf_weight_dl = np.where(self.slice_pf, rate_dl / self.avg_thp, 1.0)
        prb, served = self._schedule(
            np.concatenate((group, group + n_groups)),
            np.concatenate((self.buf_dl, self.buf_ul)),
            np.concatenate((rate_dl, rate_ul)),
            np.concatenate((pf_weight_dl, self._ones)),
        )
        n = self.n_ues
        prb_dl, prb_ul, served_dl, served_ul = prb[:n], prb[n:], served[:n], served[n:]
        active_dl = (self.buf_dl > 0).astype(np.float64)
        active_ul = (self.buf_ul > 0).astype(np.float64)
        self.buf_dl -= served_dl
        self.buf_ul -= served_ul
        self.avg_thp = (1 - PF_AVERAGING) * self.avg_thp + PF_AVERAGING * np.maximum(served_dl / dt, 1.0)

        # Counters: one bincount over all per-(cell, slice) quantities (order of SLICE_SUMS).
        weights = np.stack(
            (
                prb_dl * dt,
                prb_ul * dt,
                served_dl,
                served_ul,
                active_dl * dt,
                active_ul * dt,
                self._dt_ones,
                self.buf_dl * dt,
                dropped_dl,
                offered_dl,
                self.buf_ul * dt,
            )
        )
        keys = group[None, :] + self._sum_offsets
        grouped = np.bincount(
            keys.ravel(), weights=weights.ravel(), minlength=weights.shape[0] * n_groups
        ).reshape(-1, n_c, n_s)
        sums = self.sums
        sums.slice_arr += grouped
        n_sl = grouped.shape[0]
        sums.cell_arr[:n_sl] += grouped.sum(axis=2)
        avail = self.n_prb * self.cell_active * dt
        cl = sums.cell
        cl["prb_avail_dl_s"] += avail
        cl["prb_avail_ul_s"] += avail
        if ho.any:
            cl["ho_attempted"] += ho.attempted
            cl["ho_succeeded"] += ho.succeeded
            cl["ho_ping_pong"] += ho.ping_pong
            cl["reestablished"] += ho.reestablished
        sums.ue_arr += np.stack(
            (
                prb_dl * dt,
                prb_ul * dt,
                served_dl,
                served_ul,
                active_dl * dt,
                active_ul * dt,
                self.buf_dl * dt,
                dropped_dl,
                offered_dl,
                self.sinr_db * dt,
                self.buf_ul * dt,
            )
        )

        self.load = grouped[0].sum(axis=1) / dt / self.n_prb
        if self._periods:
            conn = self._connected()
            for period in self._periods:
                period.observe_connected(conn)

    def _schedule(
        self, group: np.ndarray, buffer_bits: np.ndarray, rate_per_prb: np.ndarray, weight: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """PRBs per UE and bits served this step; DL and UL stacked (groups and cells doubled)."""
        n_c, n_s = self.n_cells, self.n_slices
        per_prb_step = rate_per_prb * self.dt
        cell_prb = self._n_prb2[group // n_s]
        demand = np.where(
            per_prb_step > 0, np.minimum(buffer_bits / np.maximum(per_prb_step, 1e-12), cell_prb), 0.0
        )
        slice_demand = np.bincount(group, weights=demand, minlength=2 * n_c * n_s).reshape(2 * n_c, n_s)
        budget = allocate_slices(slice_demand, self._n_prb2, self._quotas2(), np.tile(self.cell_active, 2))
        prb = allocate_ues(group, 2 * n_c * n_s, budget.reshape(-1), demand, weight)
        served = np.minimum(prb * per_prb_step, buffer_bits)
        return prb, served

    def _quotas2(self) -> SliceQuotas:
        """The quotas for stacked DL+UL cells (the RRM policy applies to both directions)."""
        if self._quotas2_cache is None:
            q = self.quotas
            self._quotas2_cache = SliceQuotas(
                np.tile(q.min_ratio, (2, 1)), np.tile(q.max_ratio, (2, 1)), np.tile(q.dedicated_ratio, (2, 1))
            )
        return self._quotas2_cache
