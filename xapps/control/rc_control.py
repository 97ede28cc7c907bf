"""Turn a decoded ``ran_space`` action into E2AP RICcontrolRequests (E2SM-RC) addressed by meid.

* ``SteerUes(i, k)``: one RC style 3 action 1 (handover) per chosen UE of cell i to its k-th
  neighbour; UEs picked with ``ricproto.ran_space.select_ues_to_steer`` (by neighbour margin when the
  reports carry neighbour RSRP, else the weakest-served UEs first, the cell-edge ones).
* ``QuotaStep(i, s, d)``: one RC style 2 action 6 (slice PRB quota) with the quotas
  ``step_slice_quota`` computes from what the xApp last commanded for that cell.
* ``OffsetStep(i, k, d)``: two RC style 3 action 101 (cell individual offsets,
  ``rc.CellOffsetControl``), one to each cell's E2 node: cell i's offset toward its k-th neighbour j
  and j's offset toward i, stepped together (``step_cell_offsets``) from what the nodes last
  acknowledged, so the boundary moves and a UE moved across it is not handed back.

Each request gets its own RIC instance id so acknowledgements and failures can be matched to it.
"""

from __future__ import annotations

import functools
import itertools
import time
from dataclasses import dataclass

from ricproto import e2ap
from ricproto.e2sm import rc
from ricproto.e2sm.identities import SNssai
from ricproto.e2sm.ueid import UeIdGnbDu
from ricproto.ran_space import (
    NoOp,
    OffsetStep,
    QuotaStep,
    RanAction,
    SliceQuota,
    SteerUes,
    select_ues_to_steer,
    step_cell_offsets,
    step_slice_quota,
)
from xapps.control.ran_view import RanView

MAX_INSTANCE_ID = 65535


@functools.lru_cache(maxsize=4096)
def _encoded(control: rc.RcControl) -> tuple[bytes, bytes]:
    """E2SM-RC (header, message) octets; cached because the ASN.1 encoder costs ~0.3 ms and a loop
    keeps sending the same few controls (the same quota steps, the same UEs to the same targets)."""
    return control.encode()


@dataclass(frozen=True)
class ControlRequest:
    meid: str
    instance_id: int
    kind: str  # "handover" | "slice_quota" | "cell_offset"
    resource: str  # what the PEP is asked about
    payload: bytes  # E2AP RICcontrolRequest PDU
    quota: tuple[int, int, list[SliceQuota]] | None = None  # (cell, slice, new quotas) to remember on ACK
    steer: tuple[int, int] | None = None  # load moved (source cell, target cell): the shield's ping-pong rule
    offset: tuple[int, int, int] | None = None  # (cell, neighbour, dB) to remember on ACK

    def remember(self, view: RanView) -> None:
        """What the view keeps once the node acknowledged this control (the next steps start from it)."""
        if self.quota is not None:
            cell, _slice, quotas = self.quota
            view.quotas[cell] = list(quotas)
        if self.offset is not None:
            cell, neighbour, offset_db = self.offset
            view.offsets[(cell, neighbour)] = offset_db


class ControlBuilder:
    """``hold_s``: a UE just commanded to hand over is not picked again for that long. The UE reports
    that choose whom to steer lag the commands (a granule, plus the execution delay), so without the
    hold the next rounds would keep steering UEs that have already left the cell."""

    def __init__(
        self, view: RanView, requestor_id: int = 1, ack_requested: bool = True, hold_s: float = 1.0
    ) -> None:
        self.view = view
        self.requestor_id = requestor_id
        self.ack_requested = ack_requested
        self.hold_s = hold_s
        self._steered: dict[int, float] = {}  # UE number -> when it was last commanded (monotonic s)
        self._ids = itertools.cycle(range(1, MAX_INSTANCE_ID + 1))

    def _pdu(self, instance_id: int, header: bytes, message: bytes) -> bytes:
        req = e2ap.RICcontrolRequest(
            e2ap.RICrequestID(self.requestor_id, instance_id),
            rc.RAN_FUNCTION_ID,
            header,
            message,
            ricControlAckRequest=e2ap.RICcontrolAckRequest.ack if self.ack_requested else None,
        )
        return e2ap.encode(req)

    def build(self, action: RanAction) -> list[ControlRequest]:
        inv = self.view.inventory
        if isinstance(action, NoOp) or action.cell_index >= len(inv.cells):
            return []
        src = inv.cells[action.cell_index]
        if isinstance(action, SteerUes):
            neighbours = inv.layout.neighbours[action.cell_index]
            if action.neighbour_rank >= len(neighbours):
                return []
            dst = inv.cells[neighbours[action.neighbour_rank]]
            self.view.decode_ue_report(src.index)  # a no-op unless a UE report is waiting
            state = self.view.cells[src.index]
            now = time.monotonic()
            self._steered = {u: t for u, t in self._steered.items() if now - t < self.hold_s}
            ues = tuple(u for u in state.ues if u.ue_id not in self._steered)
            if ues and not any(u.neighbour_rsrp_dbm for u in ues):
                chosen = [u.ue_id for u in sorted(ues, key=lambda u: (u.rsrp_dbm, u.ue_id))][
                    : inv.space.steer_count
                ]
            else:
                chosen = select_ues_to_steer(ues, src.nr_cell_id, dst.nr_cell_id, inv.space.steer_count)
            target = inv.nr_cgi(dst.index)
            out = []
            for ue in chosen:
                self._steered[ue] = now
                header, message = _encoded(rc.HandoverControl(state.ue_ids[ue], target))
                iid = next(self._ids)
                out.append(
                    ControlRequest(
                        src.meid,
                        iid,
                        "handover",
                        f"e2node:{src.meid}/cell:{dst.nr_cell_id}",
                        self._pdu(iid, header, message),
                        steer=(src.index, dst.index),
                    )
                )
            return out
        if isinstance(action, OffsetStep):
            neighbours = inv.layout.neighbours[action.cell_index]
            if action.neighbour_rank >= len(neighbours):
                return []
            i, j = src.index, neighbours[action.neighbour_rank]
            view = self.view
            forward, backward = step_cell_offsets(
                view.offsets.get((i, j), 0), view.offsets.get((j, i), 0), action.direction, inv.space
            )
            out = []
            moved = (i, j) if action.direction > 0 else (j, i)
            for cell, neighbour, offset_db in ((i, j, forward), (j, i, backward)):
                entry = inv.cells[cell]
                control = rc.CellOffsetControl(
                    UeIdGnbDu(0),
                    inv.nr_cgi(cell),
                    (rc.NeighbourOffset(inv.nr_cgi(neighbour), offset_db),),
                )
                header, message = _encoded(control)
                iid = next(self._ids)
                out.append(
                    ControlRequest(
                        entry.meid,
                        iid,
                        "cell_offset",
                        f"e2node:{entry.meid}/cell:{entry.nr_cell_id}/neighbour:{inv.cells[neighbour].nr_cell_id}",
                        self._pdu(iid, header, message),
                        steer=moved if cell == i else None,
                        offset=(cell, neighbour, offset_db),
                    )
                )
            return out
        if isinstance(action, QuotaStep):
            quotas = step_slice_quota(
                self.view.quotas[src.index], action.slice_index, action.direction, inv.space.quota_step
            )
            q = quotas[action.slice_index]
            s = inv.space.slices[action.slice_index]
            control = rc.SliceQuotaControl.single(
                UeIdGnbDu(0),
                inv.nr_cgi(src.index).plmn_identity,
                SNssai(s.sst, s.sd),
                q.min_ratio,
                q.max_ratio,
                q.dedicated_ratio,
            )
            header, message = _encoded(control)
            iid = next(self._ids)
            return [
                ControlRequest(
                    src.meid,
                    iid,
                    "slice_quota",
                    f"e2node:{src.meid}/cell:{src.nr_cell_id}/slice:{s}",
                    self._pdu(iid, header, message),
                    quota=(src.index, action.slice_index, quotas),
                )
            ]
        raise TypeError(f"not a RAN action: {action!r}")
