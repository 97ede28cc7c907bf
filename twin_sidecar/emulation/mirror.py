"""The emulation model: a live mirror of every E2 node, cell, slice and UE the RAN-view records describe.

Fed by the RAN-view stream (``apply``), it keeps the latest state of each entity and a bounded
history per round (``RoundHistory``) for time travel:

* cells: the latest KPM columns (``CellKpm`` fields; a cell that did not report keeps its values and
  its ``last_report_ns``), its E2 node, the slice quotas acknowledged, handovers seen (in/out,
  cumulative), the cell individual offset toward each neighbour as commanded and as acknowledged;
* slices: per cell, the per-slice KPM columns (scalars, and the distributions' counts per bin, kept
  as the record's ``"<field>[<bin>]"`` columns and regrouped for ``state``) and quotas;
* E2 nodes: first/last report, status ``connected`` or ``lost`` (no report for ``node_lost_periods``
  report periods of the stream's own clock), so the same record stream always gives the same state;
* UEs: serving cell, RSRP, first/last seen; a UE reported by another cell than before is a handover;
* controls: every control sent, with its outcome as it became known.

``state_at(t)`` gives the mirrored state as it was at t (Unix ns, the xApp's decision clock), from the
history row of the latest round at or before t; UEs and controls as known at t. Changes that the sync
engine reacts to (a node lost or added, a cell reporting for the first time) are queued as
``RanChange`` events (``take_changes``).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ricproto.cell_offset import is_q_offset
from ricproto.kpm_distribution import BIN_EDGES
from ricproto.ran_config import RanConfig
from ricproto.ran_space import PRB_USAGE_COLUMN
from ricproto.ran_view import ControlRecord, RanRound, kpm_columns, slice_column_groups
from ricproto.transition import ControlOutcome
from twin_sidecar.emulation.history import RoundHistory

log = logging.getLogger("twin_sidecar.emulation")
RECENT = 64  # rounds of per-cell load kept for the forecaster's lock-free reads


@dataclass(frozen=True)
class RanChange:
    t_ns: int
    kind: str  # "node_lost" | "node_added" | "node_back" | "cell_added"
    subject: str


@dataclass
class ControlState:
    record: ControlRecord
    outcome: int
    outcome_ns: int
    history: list[tuple[int, int]] = field(default_factory=list)  # (t_ns, outcome)

    def outcome_at(self, t_ns: int) -> tuple[int, int] | None:
        """(outcome, when it became known) as known at t; (SENT, 0) while unsettled; None: not sent yet."""
        if self.record.sent_ns and self.record.sent_ns > t_ns:
            return None
        known = [(o, t) for t, o in self.history if t <= t_ns and o != ControlOutcome.SENT]
        return known[-1] if known else (int(ControlOutcome.SENT), 0)


class Mirror:
    def __init__(
        self,
        config: RanConfig,
        *,
        history_rounds: int = 3000,
        max_ues: int = 20_000,
        max_controls: int = 2000,
        node_lost_periods: int = 20,
    ) -> None:
        self.config = config
        self.space = config.space
        self.n_cells = len(config.cells)
        self.nodes = list(config.meids)
        self.history = RoundHistory(history_rounds)
        self.max_ues = max_ues
        self.max_controls = max_controls
        self.lost_after_ns = int(node_lost_periods * config.report_period_ms * 1e6)
        self.cell_measurements: tuple[str, ...] = ()
        self.slice_measurements: tuple[str, ...] = ()
        self._slice_groups: tuple[dict[str, int], dict[str, list[int]]] = ({}, {})
        self._reset_latest()
        self.rounds = 0  # records applied (exactly once: the consumer guarantees it)
        self.last_seq = -1
        self.ue_ids = np.zeros(0, dtype=np.uint64)  # sorted
        self.ue_cell = np.zeros(0, dtype=np.int32)
        self.ue_rsrp = np.zeros(0, dtype=np.float32)
        self.ue_first_ns = np.zeros(0, dtype=np.int64)
        self.ue_last_ns = np.zeros(0, dtype=np.int64)
        self.ue_rounds: deque[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = deque(maxlen=history_rounds)
        self.handovers: deque[tuple[int, int, int, int]] = deque(maxlen=1000)  # (t, ue, from, to)
        self.controls: OrderedDict[int, ControlState] = OrderedDict()
        self.changes: list[RanChange] = []
        self.change_log: deque[RanChange] = deque(maxlen=1000)
        self.lock = threading.RLock()  # ingest writes, the API and the sync engine read
        # the latest RECENT observations' loads, replaced (never mutated) per round: read lock-free
        self.recent = np.zeros((0, self.space.max_cells), dtype=np.float32)
        self._all_cells = np.arange(self.n_cells, dtype=np.uint32)
        self._all_cells_bytes = self._all_cells.astype("<u4").tobytes()
        self._all_nodes = np.arange(len(self.nodes), dtype=np.int64)
        self._all_true = np.ones(self.n_cells, dtype=bool)
        self._config_nodes = tuple(config.meids)
        self._unseen = set(range(self.n_cells))  # cells that never reported
        self._same_slices: tuple | None = None  # the last record's slices tuple, when the space's
        self._last_ue_key: tuple[bytes, bytes] | None = None  # UE ids/cells of the last round, and
        self._last_ue_pos = np.zeros(0, dtype=np.int64)  # their positions in ue_ids

    def _reset_latest(self) -> None:
        c, s, n = self.n_cells, len(self.space.slices), len(self.nodes)
        self.cell_values = np.zeros((c, len(self.cell_measurements)), dtype=np.float32)
        self.slice_values = np.zeros((c, s, len(self.slice_measurements)), dtype=np.float32)
        self.cell_last_ns = np.zeros(c, dtype=np.int64)  # arrival of the latest report
        self.cell_collection_ns = np.zeros(c, dtype=np.int64)
        self.cell_reported = np.zeros(c, dtype=bool)  # in the latest round
        self.node_first_ns = np.zeros(n, dtype=np.int64)
        self.node_last_ns = np.zeros(n, dtype=np.int64)
        self.node_lost = np.zeros(n, dtype=bool)
        q = np.array([[qq.min_ratio, qq.max_ratio, qq.dedicated_ratio] for qq in self.config.default_quotas])
        self.quotas = np.broadcast_to(q, (c, s, 3)).astype(np.int16).copy()
        self.ho_in = np.zeros(c, dtype=np.int64)
        self.ho_out = np.zeros(c, dtype=np.int64)
        # cell individual offset of relation (cell, neighbour), dB: as commanded and as acknowledged
        self.offset_commanded = np.zeros((c, c), dtype=np.int16)
        self.offset_acked = np.zeros((c, c), dtype=np.int16)
        self.observation = np.zeros(self.space.max_cells * self.space.n_features, dtype=np.float32)

    # --- ingest ------------------------------------------------------------------------------------
    def apply(self, rounds: list[RanRound]) -> None:
        with self.lock:
            for r in rounds:
                self._apply(r)

    def _columns(self, r: RanRound) -> tuple[np.ndarray, np.ndarray]:
        """The record's values in the mirror's column order (a record naming new columns adds them)."""
        if (
            r.cell_measurements is self.cell_measurements
            and r.slice_measurements is self.slice_measurements
            and r.slices is self._same_slices
        ):  # the usual record: the decoder hands out one cached layout (``ran_view._layout``)
            return r.cell_values, r.slice_values
        new_cell = [m for m in r.cell_measurements if m not in self.cell_measurements]
        new_slice = [m for m in r.slice_measurements if m not in self.slice_measurements]
        if new_cell or new_slice:
            self._add_columns(tuple(new_cell), tuple(new_slice))
        cells, slices = r.cell_values, r.slice_values
        if r.cell_measurements == self.cell_measurements and r.slice_measurements == self.slice_measurements:
            # adopt the record's tuples: later records of the same layout take the identity check above
            self.cell_measurements, self.slice_measurements = r.cell_measurements, r.slice_measurements
        if r.slices == self.space.slices:
            self._same_slices = r.slices
        if r.cell_measurements != self.cell_measurements:
            cells = _by_name(cells, r.cell_measurements, self.cell_measurements)
        if r.slice_measurements != self.slice_measurements:
            slices = _by_name(slices, r.slice_measurements, self.slice_measurements)
        if r.slices != self.space.slices and r.slices:
            order = [r.slices.index(s) if s in r.slices else -1 for s in self.space.slices]
            slices = np.stack(
                [slices[:, i] if i >= 0 else np.zeros_like(slices[:, 0]) for i in order], axis=1
            )
        return cells, slices

    def _add_columns(self, cell: tuple[str, ...], per_slice: tuple[str, ...]) -> None:
        """Widen the latest values and every history row by zero columns (the first record, or an xApp
        that now reports more, e.g. after an upgrade)."""
        self.cell_measurements += cell
        self.slice_measurements += per_slice
        self._slice_groups = slice_column_groups(self.slice_measurements)
        c, s = self.n_cells, len(self.space.slices)
        for name, added, shape in (
            ("cell_values", len(cell), (c, len(self.cell_measurements))),
            ("slice_values", len(per_slice), (c, s, len(self.slice_measurements))),
        ):
            if not added:
                continue

            def pad(a: np.ndarray | None, added: int = added, shape: tuple[int, ...] = shape) -> np.ndarray:
                if a is None:
                    return np.zeros(shape, dtype=np.float32)
                return np.concatenate([a, np.zeros((*a.shape[:-1], added), dtype=np.float32)], axis=-1)

            setattr(self, name, pad(getattr(self, name)))
            self.history.rewrite(name, pad)

    def _apply(self, r: RanRound) -> None:
        # Copy-on-write: an array handed to the history is never written again; a changed one is
        # replaced. A round where every cell reported (the usual one) takes the record's own columns.
        t = int(r.decided_ns) or (int(r.arrival_ns.max()) if r.n_cells else 0)
        cells, slices = self._columns(r)
        idx = r.cell_index
        if idx.shape[0] == self.n_cells and idx.tobytes() == self._all_cells_bytes:
            self.cell_values, self.slice_values = cells, slices
            self.cell_reported = self._all_true
            self.cell_last_ns = r.arrival_ns.astype(np.int64)
            self.cell_collection_ns = r.collection_ns.astype(np.int64)
            reported = self._all_cells
        else:
            idx = idx.astype(np.int64)
            ok = idx < self.n_cells  # a cell beyond this config (config changed under us): ignore it
            reported = idx = idx[ok]
            self.cell_reported = np.zeros(self.n_cells, dtype=bool)
            self.cell_reported[idx] = True
            if len(idx):
                for name, values in (
                    ("cell_values", cells[ok]),
                    ("slice_values", slices[ok]),
                    ("cell_last_ns", r.arrival_ns[ok].astype(np.int64)),
                    ("cell_collection_ns", r.collection_ns[ok].astype(np.int64)),
                ):
                    new = getattr(self, name).copy()
                    new[idx] = values
                    setattr(self, name, new)
        if self._unseen:
            for i in [int(i) for i in reported if int(i) in self._unseen]:
                self._unseen.discard(i)
                self._change(t, "cell_added", str(self.config.cells[i].nr_cell_id))
        if r.observation.shape[0] == self.observation.shape[0]:
            self.observation = r.observation
            rows = r.observation.reshape(self.space.max_cells, self.space.n_features)
            load = rows[None, :, PRB_USAGE_COLUMN]
            self.recent = np.concatenate([self.recent[-(RECENT - 1) :], load])
        self._nodes(r, t)
        self._ues(r, t)
        self._controls(r, t)
        self.rounds += 1
        self.last_seq = int(r.seq)
        self.history.append(
            t,
            int(r.seq),
            {
                "observation": self.observation,
                "cell_values": self.cell_values,
                "slice_values": self.slice_values,
                "cell_reported": self.cell_reported,
                "cell_last_ns": self.cell_last_ns,
                "cell_collection_ns": self.cell_collection_ns,
                "node_first_ns": self.node_first_ns,
                "node_last_ns": self.node_last_ns,
                "node_lost": self.node_lost,
                "quotas": self.quotas,
                "offset_commanded": self.offset_commanded,
                "offset_acked": self.offset_acked,
                "ho_in": self.ho_in,
                "ho_out": self.ho_out,
            },
        )

    def _nodes(self, r: RanRound, t: int) -> None:
        if (
            r.cell_index.shape[0] == self.n_cells
            and r.nodes == self._config_nodes
            and len(self.nodes) == len(self._config_nodes)
            and self._nodes_steady
        ):  # every node reported, all known and connected: only the last-report times move
            self.node_last_ns = np.full(len(self.nodes), t, dtype=np.int64)
            return
        if r.nodes == self._config_nodes:  # the xApp lists the configured nodes, in order
            present = r.cell_node
        else:
            for meid in r.nodes:
                if meid not in self.nodes:  # a node the config does not name: mirror it anyway
                    self.nodes.append(meid)
                    self.node_first_ns = np.append(self.node_first_ns, 0)
                    self.node_last_ns = np.append(self.node_last_ns, 0)
                    self.node_lost = np.append(self.node_lost, False)
            present = np.array([self.nodes.index(r.nodes[n]) for n in r.cell_node.tolist()], dtype=np.int64)
        present = np.unique(present)
        if (self.node_first_ns[present] == 0).any() or self.node_lost[present].any():
            self.node_first_ns, self.node_lost = self.node_first_ns.copy(), self.node_lost.copy()
            for j in present.tolist():
                if self.node_first_ns[j] == 0:
                    self.node_first_ns[j] = t
                    self._change(t, "node_added", self.nodes[j])
                elif self.node_lost[j]:
                    self.node_lost[j] = False
                    self._change(t, "node_back", self.nodes[j])
        self.node_last_ns = self.node_last_ns.copy()
        self.node_last_ns[present] = t
        stale = (self.node_first_ns > 0) & ~self.node_lost & (t - self.node_last_ns > self.lost_after_ns)
        if stale.any():
            self.node_lost = self.node_lost | stale
            for j in np.flatnonzero(stale).tolist():
                self._change(t, "node_lost", self.nodes[j])

    @property
    def _nodes_steady(self) -> bool:
        return bool(self.node_first_ns.all()) and not self.node_lost.any()

    def _ues(self, r: RanRound, t: int) -> None:
        if r.ue_id.size == 0:
            return
        ids, cells, rsrp = r.ue_id, r.ue_cell_index.astype(np.int32), r.ue_rsrp_dbm
        self.ue_rounds.append((t, ids, cells, rsrp))  # the record's own (read-only) columns
        key = (ids.tobytes(), cells.tobytes())
        if key == self._last_ue_key:  # the same UEs in the same cells as last round: no handover
            self.ue_rsrp[self._last_ue_pos] = rsrp
            self.ue_last_ns[self._last_ue_pos] = t
            return
        self._last_ue_key = None
        pos = np.searchsorted(self.ue_ids, ids)
        if self.ue_ids.size:
            known = (pos < self.ue_ids.size) & (self.ue_ids[np.minimum(pos, self.ue_ids.size - 1)] == ids)
        else:
            known = np.zeros(ids.shape, dtype=bool)
        if known.any():
            kp = pos[known]
            moved = self.ue_cell[kp] != cells[known]
            if moved.any():  # history rows keep the old counters
                self.ho_in, self.ho_out = self.ho_in.copy(), self.ho_out.copy()
            for p, dst in zip(kp[moved].tolist(), cells[known][moved].tolist(), strict=True):
                src = int(self.ue_cell[p])
                self.handovers.append((t, int(self.ue_ids[p]), src, dst))
                if 0 <= src < self.n_cells:
                    self.ho_out[src] += 1
                if 0 <= dst < self.n_cells:
                    self.ho_in[dst] += 1
            self.ue_cell[kp] = cells[known]
            self.ue_rsrp[kp] = rsrp[known]
            self.ue_last_ns[kp] = t
        new = ~known
        if new.any():
            nid, order = np.unique(ids[new], return_index=True)
            at = np.searchsorted(self.ue_ids, nid)
            self.ue_ids = np.insert(self.ue_ids, at, nid)
            self.ue_cell = np.insert(self.ue_cell, at, cells[new][order])
            self.ue_rsrp = np.insert(self.ue_rsrp, at, rsrp[new][order])
            self.ue_first_ns = np.insert(self.ue_first_ns, at, t)
            self.ue_last_ns = np.insert(self.ue_last_ns, at, t)
        if self.ue_ids.size > self.max_ues:  # forget the UEs seen longest ago
            keep = np.sort(np.argsort(-self.ue_last_ns, kind="stable")[: self.max_ues])
            for name in ("ue_ids", "ue_cell", "ue_rsrp", "ue_first_ns", "ue_last_ns"):
                setattr(self, name, getattr(self, name)[keep])
        elif not new.any():  # every UE known: the next identical round can reuse the positions
            self._last_ue_key, self._last_ue_pos = key, pos

    def _controls(self, r: RanRound, t: int) -> None:
        for c in r.controls:
            self.controls.pop(c.control_id, None)  # an id of a stream numbered afresh: the newest goes last
            history = [(c.sent_ns or t, int(ControlOutcome.SENT))]
            if c.outcome != ControlOutcome.SENT:  # settled before the record was written
                history.append((c.outcome_ns or c.sent_ns or t, c.outcome))
            self.controls[c.control_id] = ControlState(c, c.outcome, c.outcome_ns, history)
            if c.kind == "cell_offset" and self._relation(c):
                self.offset_commanded = self.offset_commanded.copy()  # history rows keep the old ones
                self.offset_commanded[c.cell_index, c.neighbour_cell_index] = c.offset_db
            if c.outcome == ControlOutcome.ACKNOWLEDGED:
                self._acknowledged(c)
        for u in r.outcomes:
            state = self.controls.get(u.control_id)
            if state is None:
                continue
            state.outcome, state.outcome_ns = u.outcome, u.outcome_ns
            state.history.append((u.outcome_ns or t, u.outcome))
            if u.outcome == ControlOutcome.ACKNOWLEDGED:
                self._acknowledged(state.record)
        while len(self.controls) > self.max_controls:
            self.controls.popitem(last=False)

    def _relation(self, rec: ControlRecord) -> bool:
        """An offset control the mirror can hold: cells of this RAN, a Q-OffsetRange value."""
        ok = rec.cell_index < self.n_cells and rec.neighbour_cell_index < self.n_cells
        if ok and is_q_offset(rec.offset_db):
            return True
        log.warning(
            "control %d: cell offset %s dB on %d -> %d ignored (not a relation of this RAN or not "
            "a Q-OffsetRange value)",
            rec.control_id,
            rec.offset_db,
            rec.cell_index,
            rec.neighbour_cell_index,
        )
        return False

    def _acknowledged(self, rec: ControlRecord) -> None:
        """What the node now holds: the quota or the offset the control set (copy-on-write)."""
        if rec.kind == "slice_quota" and rec.cell_index < self.n_cells:
            self.quotas = self.quotas.copy()
            self.quotas[rec.cell_index, rec.slice_index] = (
                rec.min_ratio,
                rec.max_ratio,
                rec.dedicated_ratio,
            )
        elif rec.kind == "cell_offset" and self._relation(rec):
            self.offset_acked = self.offset_acked.copy()
            self.offset_acked[rec.cell_index, rec.neighbour_cell_index] = rec.offset_db

    def _change(self, t: int, kind: str, subject: str) -> None:
        change = RanChange(t, kind, subject)
        self.changes.append(change)
        self.change_log.append(change)
        log.info("RAN change at %d: %s %s", t, kind, subject)

    def take_changes(self) -> list[RanChange]:
        with self.lock:
            out, self.changes = self.changes, []
        return out

    # --- reading -----------------------------------------------------------------------------------
    @property
    def latest_ns(self) -> int | None:
        return self.history.latest_ns

    def observation_at(self, t_ns: int | None = None) -> np.ndarray | None:
        with self.lock:
            if t_ns is None:
                return self.observation.copy() if self.rounds else None
            i = self.history.index_at(t_ns)
            return None if i is None else self.history.row(i)["observation"].copy()

    def recent_load(self, n: int) -> np.ndarray:
        """PRB load of every cell over the last n (<= RECENT) rounds, oldest first; no lock taken."""
        recent = self.recent
        return recent[-n:] if n else recent[:0]

    def load_history(self, n: int) -> np.ndarray:
        """PRB load of every cell over the last n rounds, oldest first ([n', max_cells])."""
        obs = self.history.last("observation", n)
        if obs.ndim != 2:
            return np.zeros((0, self.space.max_cells), dtype=np.float32)
        return obs.reshape(len(obs), self.space.max_cells, self.space.n_features)[:, :, PRB_USAGE_COLUMN]

    def state(self) -> dict[str, Any] | None:
        """The state now (None before the first record)."""
        with self.lock:
            if not self.rounds:
                return None
            return self.state_at(int(self.history.latest_ns))

    def state_at(self, t_ns: int) -> dict[str, Any] | None:
        """The mirrored state as it was at t; None when t is before the retained history."""
        with self.lock:
            i = self.history.index_at(t_ns)
            if i is None:
                return None
            row = self.history.row(i)
            ues = self._ues_at(t_ns)
            controls = []
            for state in self.controls.values():
                known = state.outcome_at(t_ns)
                if known is not None:
                    outcome, outcome_ns = known
                    controls.append(
                        {
                            **_control_dict(state.record),
                            "outcome": ControlOutcome.Name(outcome),
                            "outcome_ns": outcome_ns,
                        }
                    )
            nodes_known = list(self.nodes)
            cell_columns = self.cell_measurements
            scalars, dists = self._slice_groups
        space = self.space
        commanded, acked = row["offset_commanded"], row["offset_acked"]
        cells = []
        for c, cell in enumerate(self.config.cells):
            last = int(row["cell_last_ns"][c])
            values = row["slice_values"][c]  # [S, Ms]
            slices = [
                {
                    "sst": s.sst,
                    "sd": s.sd,
                    "kpm": {m: float(values[k, j]) for m, j in scalars.items()},
                    "distributions": {m: values[k, js].tolist() for m, js in dists.items()},
                    "quota": dict(
                        zip(("min", "max", "dedicated"), map(int, row["quotas"][c, k]), strict=True)
                    ),
                }
                for k, s in enumerate(space.slices)
            ]
            cells.append(
                {
                    "index": c,
                    "nr_cell_id": cell.nr_cell_id,
                    "meid": cell.meid,
                    "reported": bool(row["cell_reported"][c]),
                    "last_report_ns": last or None,
                    "collection_ns": int(row["cell_collection_ns"][c]) or None,
                    "kpm": {m: float(row["cell_values"][c, j]) for j, m in enumerate(cell_columns)}
                    if last
                    else {},
                    "slices": slices,
                    "offsets": self._offsets(c, commanded, acked),
                    "handovers_in": int(row["ho_in"][c]),
                    "handovers_out": int(row["ho_out"][c]),
                    "ues": 0,
                }
            )
        for cell_index in ues["cell"].tolist():
            if 0 <= cell_index < len(cells):
                cells[cell_index]["ues"] += 1
        nodes = [
            {
                "meid": meid,
                "status": "lost"
                if row["node_lost"][j]
                else ("connected" if row["node_first_ns"][j] else "unseen"),
                "first_report_ns": int(row["node_first_ns"][j]) or None,
                "last_report_ns": int(row["node_last_ns"][j]) or None,
                "cells": [c.index for c in self.config.cells if c.meid == meid],
            }
            for j, meid in enumerate(nodes_known[: len(row["node_lost"])])
        ]
        return {
            "t_ns": row["t_ns"],
            "seq": row["seq"],
            "nodes": nodes,
            "cells": cells,
            "ues": [
                {"ue_id": int(u), "cell": int(c), "rsrp_dbm": float(r), "last_seen_ns": int(s)}
                for u, c, r, s in zip(ues["id"], ues["cell"], ues["rsrp"], ues["seen"], strict=True)
            ],
            "controls": controls[-100:],
            "distribution_bins": {m: _bins(m) for m in dists},
            "observation": row["observation"].tolist(),
        }

    def _offsets(self, c: int, commanded: np.ndarray, acked: np.ndarray) -> list[dict[str, int]]:
        """Cell c's offset toward each neighbour of the layout (and any other cell it has one for)."""
        listed = list(self.config.layout.neighbours[c])
        listed += [int(j) for j in np.flatnonzero(commanded[c] | acked[c]) if int(j) not in listed]
        return [
            {
                "neighbour": j,
                "nr_cell_id": self.config.cells[j].nr_cell_id,
                "commanded_db": int(commanded[c, j]),
                "acknowledged_db": int(acked[c, j]),
            }
            for j in listed
            if 0 <= j < self.n_cells
        ]

    def _ues_at(self, t_ns: int) -> dict[str, np.ndarray]:
        """Every UE's latest report at or before t among the retained UE rounds."""
        latest: dict[int, tuple[int, float, int]] = {}
        for t, ids, cells, rsrp in self.ue_rounds:
            if t > t_ns:
                break
            for u, c, r in zip(ids.tolist(), cells.tolist(), rsrp.tolist(), strict=True):
                latest[u] = (c, r, t)
        items = sorted(latest.items())
        return {
            "id": np.array([u for u, _ in items], dtype=np.uint64),
            "cell": np.array([v[0] for _, v in items], dtype=np.int64),
            "rsrp": np.array([v[1] for _, v in items], dtype=np.float32),
            "seen": np.array([v[2] for _, v in items], dtype=np.int64),
        }

    # --- checkpoint --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        with self.lock:
            return self._state_dict()

    def _state_dict(self) -> dict[str, Any]:
        latest = {
            k: getattr(self, k).copy()
            for k in (
                "cell_values",
                "slice_values",
                "cell_last_ns",
                "cell_collection_ns",
                "cell_reported",
                "node_first_ns",
                "node_last_ns",
                "node_lost",
                "quotas",
                "offset_commanded",
                "offset_acked",
                "ho_in",
                "ho_out",
                "observation",
                "ue_ids",
                "ue_cell",
                "ue_rsrp",
                "ue_first_ns",
                "ue_last_ns",
            )
        }
        return {
            "latest": latest,
            "nodes": list(self.nodes),
            "cell_measurements": list(self.cell_measurements),
            "slice_measurements": list(self.slice_measurements),
            "rounds": self.rounds,
            "last_seq": self.last_seq,
            "history": self.history.state_dict(),
            "ue_rounds": list(self.ue_rounds),
            "handovers": list(self.handovers),
            "controls": [
                (cid, _control_dict(s.record), s.outcome, s.outcome_ns, list(s.history))
                for cid, s in self.controls.items()
            ],
            "change_log": [asdict(c) for c in self.change_log],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with self.lock:
            self._load_state_dict(state)

    def _load_state_dict(self, state: dict[str, Any]) -> None:
        self.nodes = list(state["nodes"])
        self.cell_measurements = tuple(state["cell_measurements"])
        self.slice_measurements = tuple(state["slice_measurements"])
        for k, v in state["latest"].items():
            setattr(self, k, np.array(v, copy=True))
        self._slice_groups = slice_column_groups(self.slice_measurements)
        self.rounds, self.last_seq = int(state["rounds"]), int(state["last_seq"])
        self.history.load_state_dict(state["history"])
        for name in ("offset_commanded", "offset_acked"):  # rows of a checkpoint from before offsets
            zeros = np.zeros((self.n_cells, self.n_cells), dtype=np.int16)
            self.history.rewrite(name, lambda a, zeros=zeros: zeros if a is None else a)
        self.ue_rounds.clear()
        self.ue_rounds.extend(state["ue_rounds"])
        self.handovers.clear()
        self.handovers.extend(state["handovers"])
        self.controls = OrderedDict(
            (cid, ControlState(_control_record(rec), outcome, outcome_ns, list(hist)))
            for cid, rec, outcome, outcome_ns, hist in state["controls"]
        )
        self.change_log.clear()
        self.change_log.extend(RanChange(**c) for c in state["change_log"])
        self.changes = []
        self._unseen = {i for i in range(self.n_cells) if self.cell_last_ns[i] == 0}
        self._last_ue_key = None
        obs = self.history.last("observation", RECENT)
        if obs.ndim == 2 and len(obs):
            rows = obs.reshape(len(obs), self.space.max_cells, self.space.n_features)
            self.recent = rows[:, :, PRB_USAGE_COLUMN].copy()


def _by_name(values: np.ndarray, have: tuple[str, ...], want: tuple[str, ...]) -> np.ndarray:
    out = np.zeros((*values.shape[:-1], len(want)), dtype=np.float32)
    for j, name in enumerate(want):
        if name in have:
            out[..., j] = values[..., have.index(name)]
    return out


def _bins(field_name: str) -> dict[str, Any]:
    """The 28.552 distribution a column group carries and its bins' lower edges (None for a field this
    version does not know)."""
    measurement = kpm_columns().distributions.get(field_name)
    edges = list(BIN_EDGES[measurement]) if measurement in BIN_EDGES else None
    return {"measurement": measurement, "lower_edges": edges}


def _control_dict(c: ControlRecord) -> dict[str, Any]:
    d = asdict(c)
    d["ue_ids"] = list(c.ue_ids)
    return d


def _control_record(d: dict[str, Any]) -> ControlRecord:
    return ControlRecord(**{**d, "ue_ids": tuple(d["ue_ids"])})
