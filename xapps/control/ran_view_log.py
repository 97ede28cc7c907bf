"""The RAN-view stream: per report round, what the xApp saw of the RAN and what it commanded.

The loop calls in with references to values it already has (cheap, on its own thread):
``on_cell_report`` for each accepted cell-level report, ``end_round`` after the round's control has
left (off the latency path, like the transition), ``on_control_outcome`` when an acknowledgement,
failure or timeout settles a control. ``end_round`` hands a ``RoundCapture`` to a ``StreamWriter``
whose thread does the rest (``RanViewEncoder``): KPM indication headers decoded for the collection
time, ``CellKpm`` fields laid out as columns, handover UEs read from the RC payload, the
``ricproto.ran_view`` record encoded. The record layout is ``ricproto/ran_view.proto``.

Cell columns are the fields of ``ricproto.ran_space.CellKpm`` (``ricproto.ran_view.kpm_columns``:
scalars per cell, mappings per slice, a distribution's counts one column per bin), so new KPM content
reaches the twin without a change here. Controls are recorded as what they are: a handover (source,
target, the UE read from the RC payload), a slice quota (cell, slice, ratios), a cell offset (the
relation cell -> neighbour and its offset in dB; it also carries ``steer`` for the shield, but it is
no handover). UE reports are the ones the xApp decoded since the previous round (it keeps only the
latest per cell, and decodes it lazily).
An outcome known only after the round's record was written goes into a later record as an
``OutcomeUpdate`` referencing the control's id.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import redis

from ricproto import e2ap
from ricproto.e2error import E2CodecError
from ricproto.e2sm import kpm, rc
from ricproto.ran_space import CellKpm, Snssai, UeKpm
from ricproto.ran_view import (
    DEFAULT_MAXLEN,
    FIELD,
    ControlRecord,
    KpmColumns,
    OutcomeUpdate,
    RanRound,
    RanViewCodecError,
    decode_ran_round,
    encode_ran_round,
    kpm_columns,
)
from ricproto.transition import ControlOutcome
from xapps.common.metrics import XappMetrics
from xapps.common.stream_writer import StreamWriter
from xapps.control.ran_view import CellState, RanInventory, ue_number
from xapps.control.rc_control import ControlRequest

log = logging.getLogger("xapps.control.ran_view_log")
CONTROLS_PER_ROUND = 1024  # control ids are seq * CONTROLS_PER_ROUND + k: unique across restarts


@dataclass(frozen=True)
class CellReportRef:
    index: int
    header: bytes  # E2SM-KPM indication header (collection time), decoded by the writer
    arrived_ns: int
    kpm: CellKpm


@dataclass(frozen=True)
class SentControl:
    control_id: int
    request: ControlRequest
    sent_ns: int


@dataclass(frozen=True)
class RoundCapture:
    """One round as the loop hands it over: immutable values and references only."""

    seq: int
    step: int
    meid: str
    decided_ns: int
    action: int
    observation: np.ndarray
    reports: tuple[CellReportRef, ...]
    ues: tuple[tuple[int, tuple[UeKpm, ...]], ...]
    controls: tuple[SentControl, ...]
    outcomes: tuple[OutcomeUpdate, ...]


class RanViewLog:
    """Collects a round on the loop thread; ``writer`` turns captures into stream entries."""

    def __init__(self, xapp_instance: str, writer: StreamWriter[RoundCapture]) -> None:
        self.xapp_instance = xapp_instance
        self.writer = writer
        self.seq = 0  # of the next record
        self._reports: dict[int, CellReportRef] = {}
        self._ues_seen: dict[int, tuple[UeKpm, ...]] = {}
        self._in_flight: dict[int, int] = {}  # RIC instance id -> control id
        self._outcomes: list[OutcomeUpdate] = []

    def on_cell_report(self, index: int, header: bytes, arrived_ns: int, kpm_value: CellKpm | None) -> None:
        if kpm_value is not None:
            self._reports[index] = CellReportRef(index, header, arrived_ns, kpm_value)

    def on_control_outcome(self, ric_instance_id: int, outcome: int, at_ns: int) -> None:
        control_id = self._in_flight.pop(ric_instance_id, None)
        if control_id is not None:
            self._outcomes.append(OutcomeUpdate(control_id, int(outcome), at_ns))

    def end_round(
        self,
        step: int,
        meid: str,
        decided_ns: int,
        action: int,
        observation: np.ndarray,
        sent: Sequence[ControlRequest],
        sent_ns: int,
        cells: Sequence[CellState],
    ) -> None:
        seq = self.seq
        controls = []
        for k, req in enumerate(sent[:CONTROLS_PER_ROUND]):
            control_id = seq * CONTROLS_PER_ROUND + k
            self._in_flight[req.instance_id] = control_id
            controls.append(SentControl(control_id, req, sent_ns))
        ues = []
        for i, state in enumerate(cells):  # UE reports decoded since the last round (new tuples)
            if state.ues and self._ues_seen.get(i) is not state.ues:
                self._ues_seen[i] = state.ues
                ues.append((i, state.ues))
        capture = RoundCapture(
            seq,
            step,
            meid,
            decided_ns,
            action,
            observation,
            tuple(self._reports[i] for i in sorted(self._reports)),
            tuple(ues),
            tuple(controls),
            tuple(self._outcomes),
        )
        self._reports = {}
        self._outcomes = []
        if len(self._in_flight) > 4 * CONTROLS_PER_ROUND:  # answers that never came (expired elsewhere)
            for iid in list(self._in_flight)[: len(self._in_flight) - 2 * CONTROLS_PER_ROUND]:
                del self._in_flight[iid]
        if self.writer.put(capture):
            self.seq += 1  # a dropped capture takes no number: the stream keeps no gaps of its own

    def continue_numbering(self, client: redis.Redis, key: str, metrics: XappMetrics) -> int:
        """Start after the stream's last record (the twin relies on seq having no gaps)."""
        try:
            last = client.xrevrange(key, count=1)
        except redis.RedisError as exc:
            metrics.error("redis_unavailable")
            log.warning("cannot read the last RAN-view record, numbering from 0: %s", exc)
            return self.seq
        if last:
            try:
                self.seq = decode_ran_round(last[0][1][FIELD]).seq + 1
            except (KeyError, RanViewCodecError) as exc:
                metrics.error("ran_view_invalid")
                log.warning("last RAN-view record unreadable, numbering from 0: %s", exc)
        return self.seq


@functools.lru_cache(maxsize=4096)
def _handover_ue(header: bytes, message: bytes) -> int | None:
    control = rc.HandoverControl.from_control(
        rc.decode_control_header(header), rc.decode_control_message(message)
    )
    return ue_number(control.ue_id)


class RanViewEncoder:
    """``RoundCapture`` -> ``ricproto.ran_view`` bytes (runs in the writer thread)."""

    def __init__(self, xapp_instance: str, inventory: RanInventory, metrics: XappMetrics) -> None:
        self.xapp_instance = xapp_instance
        self.inventory = inventory
        self.metrics = metrics
        self.nodes = tuple(dict.fromkeys(c.meid for c in inventory.cells))
        self._node_of = {m: i for i, m in enumerate(self.nodes)}

    def __call__(self, capture: RoundCapture) -> bytes:
        return encode_ran_round(self.ran_round(capture))

    def ran_round(self, capture: RoundCapture) -> RanRound:
        inv = self.inventory
        reports = capture.reports
        slices = inv.space.slices
        cols = kpm_columns()
        c = len(reports)
        cell_values = np.zeros((c, len(cols.cell)), dtype=np.float32)
        slice_values = np.zeros((c, len(slices), len(cols.slice)), dtype=np.float32)
        for r, rep in enumerate(reports):
            cell_values[r] = [getattr(rep.kpm, name) for name in cols.cell]
            self._fill_slices(rep.kpm, slices, cols, slice_values[r])
        ue_pairs = [(i, u) for i, group in capture.ues for u in group]
        return RanRound(
            xapp_instance=self.xapp_instance,
            seq=capture.seq,
            step=capture.step,
            meid=capture.meid,
            decided_ns=capture.decided_ns,
            observation=np.asarray(capture.observation, dtype=np.float32),
            nodes=self.nodes,
            slices=slices,
            cell_measurements=cols.cell,
            slice_measurements=cols.slice,
            cell_index=np.array([r.index for r in reports], dtype=np.uint32),
            nr_cell_id=np.array([inv.cells[r.index].nr_cell_id for r in reports], dtype=np.uint64),
            cell_node=np.array([self._node_of[inv.cells[r.index].meid] for r in reports], dtype=np.uint32),
            collection_ns=np.array([self._collection_ns(r.header) for r in reports], dtype=np.uint64),
            arrival_ns=np.array([r.arrived_ns for r in reports], dtype=np.uint64),
            cell_values=cell_values,
            slice_values=slice_values,
            ue_id=np.array([u.ue_id for _, u in ue_pairs], dtype=np.uint64),
            ue_cell_index=np.array([i for i, _ in ue_pairs], dtype=np.uint32),
            ue_rsrp_dbm=np.array([u.rsrp_dbm for _, u in ue_pairs], dtype=np.float32),
            controls=tuple(self._control(capture, s) for s in capture.controls),
            outcomes=capture.outcomes,
        )

    def _fill_slices(
        self, value: CellKpm, slices: Sequence[Snssai], cols: KpmColumns, out: np.ndarray
    ) -> None:
        """One cell's per-slice columns into ``out`` [S, Ms]: a scalar per slice, or a distribution's
        counts per bin (a slice that did not report it keeps zeros)."""
        for name, start, bins in cols.slice_fields:
            per_slice = getattr(value, name)
            if not per_slice:
                continue
            for k, snssai in enumerate(slices):
                v = per_slice.get(snssai)
                if v is None:
                    continue
                if not bins:
                    out[k, start] = v
                    continue
                counts = np.asarray(v, dtype=np.float32)[:bins]
                if len(v) != bins:  # a node counting in other bins than 28.552's we assume: keep what fits
                    self.metrics.error("ran_view_distribution_bins")
                out[k, start : start + len(counts)] = counts

    def _collection_ns(self, header: bytes) -> int:
        try:
            return max(0, int(kpm.unix_seconds(kpm.decode_indication_header(header).collet_start_time) * 1e9))
        except E2CodecError:
            self.metrics.error("bad_indication_header")
            return 0

    def _control(self, capture: RoundCapture, sent: SentControl) -> ControlRecord:
        req = sent.request
        base = ControlRecord(
            sent.control_id,
            capture.step,
            capture.action,
            req.kind,
            req.meid,
            req.resource,
            req.instance_id,
            sent.sent_ns,
            ControlOutcome.SENT,
        )
        if req.offset is not None:  # before steer: an offset step sets steer too, for the shield
            cell, neighbour, offset_db = req.offset
            return dataclasses.replace(
                base, cell_index=cell, neighbour_cell_index=neighbour, offset_db=int(offset_db)
            )
        if req.steer is not None:
            ues: tuple[int, ...] = ()
            try:
                pdu = e2ap.decode(req.payload)
                ue = _handover_ue(bytes(pdu.ricControlHeader), bytes(pdu.ricControlMessage))
                ues = (ue,) if ue is not None else ()
            except (E2CodecError, ValueError, AttributeError):
                self.metrics.error("ran_view_control_unreadable")
            return dataclasses.replace(
                base, cell_index=req.steer[0], target_cell_index=req.steer[1], ue_ids=ues
            )
        if req.quota is not None:
            cell, slice_index, quotas = req.quota
            q = quotas[slice_index]
            return dataclasses.replace(
                base,
                cell_index=cell,
                slice_index=slice_index,
                min_ratio=q.min_ratio,
                max_ratio=q.max_ratio,
                dedicated_ratio=q.dedicated_ratio,
            )
        return base


class RanViewWriter(StreamWriter[RoundCapture]):
    def __init__(
        self,
        redis_client: redis.Redis,
        key: str,
        metrics: XappMetrics,
        encoder: RanViewEncoder,
        *,
        maxlen: int = DEFAULT_MAXLEN,
        queue_size: int = 10_000,
    ) -> None:
        super().__init__(
            redis_client,
            key,
            metrics,
            field=FIELD,
            encode=encoder,
            stem="twinric_control_ran_view",
            what="ran_view",
            maxlen=maxlen,
            queue_size=queue_size,
        )
