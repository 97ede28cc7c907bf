"""What the xApp knows of the RAN: the cell inventory from its config and the latest KPM per cell.

Inventory (``controls.ran`` of the descriptor; ``twinric up`` writes it from the scenario)::

    {"max_cells": 21, "n_neighbours": 3, "steer_count": 3, "quota_step": 10, "plmn": "00101",
     "report_period_ms": 100, "offset_step_db": 2, "offset_limit_db": 8, "delay_budget_ms": 10,
     "slices": [{"sst": 1, "sd": 1, "quota": {"min": 40, "max": 100, "dedicated": 0}}, ...],
     "cells": [{"nr_cell_id": 1, "meid": "gnb_001_001_000001", "neighbours": [2, 4, 7]}, ...]}

The cell order of ``cells`` is the observation's row order (as ``RanModel.cell_layout`` in the gym).
KPM subscription layout, per E2 node: the node's k-th cell gets REPORT action ``2k+1`` (format 1,
cell-level measurements, per-slice ones labelled by sliceID, and the distributions the objective
needs: ``DRB.UEThpDlDist`` of the eMBB slices and ``DRB.DelayDlNgranUeDist`` of the URLLC slices, one
value per bin labelled sliceID + distBinX) and action ``2k+2`` (style 4 / format 4, per-UE RSRP), so
an indication's RIC action id says which cell (and which kind) it reports.

Besides the reports, the view keeps what the xApp itself commanded and the nodes acknowledged: the
slice quotas per cell and the cell individual offsets per relation (the actions step from them).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from ricproto.e2ap import RICindication
from ricproto.e2error import E2CodecError
from ricproto.e2sm import kpm
from ricproto.e2sm.identities import NrCgi, SNssai, plmn_from_digits
from ricproto.e2sm.ueid import UeId, UeIdGnb, UeIdGnbCuUp, UeIdGnbDu, UeIdNgEnbDu
from ricproto.kpm_distribution import DELAY_DL_DIST, UE_THP_DL_DIST, n_bins
from ricproto.ran_config import RanConfig, RanConfigError
from ricproto.ran_space import CellKpm, CellLayout, RanSpace, SliceQuota, Snssai, UeKpm

CELL_MEASUREMENTS = ("RRU.PrbTotDl", "DRB.UEThpDl", "RRC.ConnMean", "RRU.PrbAvailDl")
SLICE_MEASUREMENTS = ("RRU.PrbUsedDl", "DRB.UEThpDl")
UE_MEASUREMENTS = ("RSRP",)
F1_NAME = "E2SM-KPM-IndicationMessage-Format1"
MAX_CELLS_PER_NODE = 8  # two actions per cell, 16 actions per E2AP subscription at most
DIST_NAMES = frozenset({UE_THP_DL_DIST, DELAY_DL_DIST})


class InventoryError(RanConfigError):
    """The ``controls.ran`` section is inconsistent."""


@dataclass(frozen=True)
class CellEntry:
    index: int
    nr_cell_id: int
    meid: str
    position: int  # among its node's cells


@dataclass
class RanInventory:
    space: RanSpace
    layout: CellLayout
    cells: tuple[CellEntry, ...]
    plmn: str
    report_period_ms: int
    default_quotas: tuple[SliceQuota, ...]
    nodes: dict[str, tuple[CellEntry, ...]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, ran: Mapping[str, Any]) -> RanInventory:
        try:
            cfg = RanConfig.from_config(ran)  # the geometry the twin sidecar reads too
        except RanConfigError as exc:
            raise InventoryError(str(exc)) from None
        entries = []
        per_node: dict[str, list[CellEntry]] = {}
        for cell in cfg.cells:
            node = per_node.setdefault(cell.meid, [])
            entry = CellEntry(cell.index, cell.nr_cell_id, cell.meid, len(node))
            node.append(entry)
            entries.append(entry)
        for meid, node in per_node.items():
            if len(node) > MAX_CELLS_PER_NODE:
                raise InventoryError(f"node {meid} has {len(node)} cells, at most {MAX_CELLS_PER_NODE}")
        return cls(
            cfg.space,
            cfg.layout,
            tuple(entries),
            cfg.plmn,
            cfg.report_period_ms,
            cfg.default_quotas,
            {m: tuple(v) for m, v in per_node.items()},
        )

    def nr_cgi(self, cell_index: int) -> NrCgi:
        return NrCgi(plmn_from_digits(self.plmn), self.cells[cell_index].nr_cell_id)

    def cell_of_action(self, meid: str, action_id: int) -> tuple[CellEntry, bool] | None:
        """(cell, is_ue_action) for an indication's RIC action id, None when it is not ours."""
        node = self.nodes.get(meid)
        if node is None or action_id < 1:
            return None
        position, ue_kind = divmod(action_id - 1, 2)
        if position >= len(node):
            return None
        return node[position], ue_kind == 1

    def action_definitions(self, meid: str) -> list[tuple[int, bytes]]:
        """(RIC action id, E2SM-KPM action definition bytes) of the KPM subscription to ``meid``."""
        out = []
        for entry in self.nodes[meid]:
            cgi = self.nr_cgi(entry.index)
            infos = [kpm.MeasurementInfoItem(name, (kpm.NO_LABEL,)) for name in CELL_MEASUREMENTS]
            for name in SLICE_MEASUREMENTS:
                labels = tuple(kpm.MeasurementLabel(slice_id=SNssai(s.sst, s.sd)) for s in self.space.slices)
                infos.append(kpm.MeasurementInfoItem(name, labels))
            for name, slices in self.distributions():
                labels = tuple(
                    kpm.MeasurementLabel(slice_id=SNssai(s.sst, s.sd), dist_bin_x=b)
                    for s in slices
                    for b in range(1, n_bins(name) + 1)
                )
                infos.append(kpm.MeasurementInfoItem(name, labels))
            cell_def = kpm.ActionDefinition(
                1, kpm.ActionDefinitionFormat1(tuple(infos), self.report_period_ms, cgi)
            )
            ue_def = kpm.ActionDefinition(
                4,
                kpm.ActionDefinitionFormat4(
                    (kpm.MatchingUeCondPerSubItem(kpm.TestCondInfo("rSRP", "present")),),
                    kpm.ActionDefinitionFormat1(
                        tuple(kpm.MeasurementInfoItem(n, (kpm.NO_LABEL,)) for n in UE_MEASUREMENTS),
                        self.report_period_ms,
                        cgi,
                    ),
                ),
            )
            out.append((2 * entry.position + 1, kpm.encode_action_definition(cell_def)))
            out.append((2 * entry.position + 2, kpm.encode_action_definition(ue_def)))
        return out

    def distributions(self) -> list[tuple[str, tuple[Snssai, ...]]]:
        """The distribution measurements the observation needs, with the slices to report them for."""
        out = []
        for name, slices in (
            (UE_THP_DL_DIST, self.space.embb_slices),
            (DELAY_DL_DIST, self.space.urllc_slices),
        ):
            if slices:
                out.append((name, slices))
        return out

    def event_trigger(self) -> bytes:
        return kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(self.report_period_ms))


@lru_cache(maxsize=256)
def _snssai(s: SNssai) -> Snssai:
    """The RAN space's S-NSSAI of a KPM sliceID label (reports repeat a few, so they are kept)."""
    return Snssai(s.sst, s.sd)


def ue_number(ue: UeId) -> int:
    """A stable integer for a UE id (the RAN-side id the E2 node put into the report)."""
    if isinstance(ue, UeIdGnb):
        return ue.amf_ue_ngap_id
    if isinstance(ue, UeIdGnbDu | UeIdGnbCuUp):
        return ue.gnb_cu_ue_f1ap_id if isinstance(ue, UeIdGnbDu) else ue.gnb_cu_cp_ue_e1ap_id
    if isinstance(ue, UeIdNgEnbDu):
        return ue.ng_enb_cu_ue_w1ap_id
    return hash(ue) & 0x7FFFFFFF


def latest_values(
    message: kpm.IndicationMessageFormat1,
) -> list[tuple[tuple[kpm.MeasurementType, kpm.MeasurementLabel], kpm.RecordValue]]:
    """((measType, label), value of the last measData item) for each pair of the measInfoList.

    What ``values_by_label()[pair][-1]`` gives, with the same checks, without collecting the values
    of every granule: a report carries one measData item per granularity period, the view keeps the
    latest."""
    keys = [(i.meas_type, label) for i in message.meas_info_list for label in i.label_info_list]
    if len(set(keys)) != len(keys):
        raise E2CodecError(F1_NAME, "a (measType, label) pair appears twice", "measInfoList")
    return _latest(message, keys)


def latest_value_of_type(message: kpm.IndicationMessageFormat1, meas_type: str) -> kpm.RecordValue:
    """``values_by_type()[meas_type][-1]`` (None when absent or when no granule was reported), with the
    same checks; for reports with one label per measurement type (as the per-UE ones)."""
    infos = message.meas_info_list
    if any(len(i.label_info_list) != 1 for i in infos):
        raise E2CodecError(F1_NAME, "items with several labels: use values_by_label()", "measInfoList")
    types = [i.meas_type for i in infos]
    if len(set(types)) != len(types):  # one label each: a repeated pair is a repeated type
        raise E2CodecError(F1_NAME, "a measType appears twice: use values_by_label()", "measInfoList")
    for (name, _), value in _latest(message, [(i.meas_type, i.label_info_list[0]) for i in infos]):
        if name == meas_type:
            return value
    return None


def _latest(message: kpm.IndicationMessageFormat1, keys: list) -> list:
    for n, d in enumerate(message.meas_data):
        if len(d.meas_record) != len(keys):
            raise E2CodecError(
                F1_NAME, "measRecord length differs from the measInfoList labels", f"measData[{n}]"
            )
    if not message.meas_data:
        return []
    return list(zip(keys, message.meas_data[-1].meas_record, strict=True))


@dataclass
class CellState:
    kpm: CellKpm | None = None
    reported_at: float = 0.0  # monotonic seconds of the latest cell-level report
    ues: tuple[UeKpm, ...] = ()  # as of the latest decoded UE-level report
    ue_ids: dict[int, UeId] = field(default_factory=dict)
    ue_report: bytes | None = None  # the latest UE-level report (E2SM-KPM message), not decoded yet


class RanView:
    """Latest KPM per cell, fed by RIC indications; thread-confined to the loop worker."""

    def __init__(self, inventory: RanInventory) -> None:
        self.inventory = inventory
        self.cells = [CellState() for _ in inventory.cells]
        self.quotas: list[list[SliceQuota]] = [list(inventory.default_quotas) for _ in inventory.cells]
        # (cell, neighbour) -> the cell individual offset (dB) a node acknowledged; absent = 0
        self.offsets: dict[tuple[int, int], int] = {}
        self.pending_ue_reports: set[int] = set()  # cells with a UE-level report not decoded yet

    def ingest(self, meid: str, ind: RICindication, now: float | None = None) -> CellEntry:
        """Decode one indication into the view; returns the cell it reported. Raises E2CodecError.

        A UE-level report is only kept (its bytes): it matters only when steering from its cell, so
        it is decoded then, or by the loop between rounds (``decode_ue_report``), never ahead of the
        cell-level reports a decision waits for."""
        found = self.inventory.cell_of_action(meid, ind.ricActionID)
        if found is None:
            raise E2CodecError(
                "RICindication",
                f"action {ind.ricActionID} of {meid!r} is not a subscribed one",
                "ricActionID",
            )
        entry, ue_kind = found
        state = self.cells[entry.index]
        if ue_kind:
            state.ue_report = ind.ricIndicationMessage
            self.pending_ue_reports.add(entry.index)
            return entry
        message = kpm.decode_indication_message(ind.ricIndicationMessage)
        if not isinstance(message, kpm.IndicationMessageFormat1):
            raise E2CodecError("E2SM-KPM-IndicationMessage", "cell action must report format 1")
        cell: dict[str, float] = {}
        per_slice: dict[Snssai, dict[str, float]] = {}
        dists: dict[tuple[str, Snssai], list[float]] = {}
        for (name, label), value in latest_values(message):
            if value is None or not isinstance(name, str):
                continue
            if label.slice_id is not None:
                snssai = _snssai(label.slice_id)
                if label.dist_bin_x is not None:
                    if name not in DIST_NAMES:
                        continue  # a distribution the observation does not use
                    counts = dists.setdefault((name, snssai), [0.0] * n_bins(name))
                    if 1 <= label.dist_bin_x <= len(counts):
                        counts[label.dist_bin_x - 1] = float(value)
                else:
                    per_slice.setdefault(snssai, {})[name] = float(value)
            else:
                cell[name] = float(value)
        state.kpm = CellKpm.from_measurements(cell, per_slice, dists)
        state.reported_at = time.monotonic() if now is None else now
        return entry

    def decode_ue_report(self, index: int) -> bool:
        """Decode cell ``index``'s latest UE-level report if one is waiting (True if one was).

        Raises E2CodecError for a bad report, which is then dropped: the cell keeps its previous UEs."""
        state = self.cells[index]
        self.pending_ue_reports.discard(index)
        data, state.ue_report = state.ue_report, None
        if data is None:
            return False
        message = kpm.decode_indication_message(data)
        if not isinstance(message, kpm.IndicationMessageFormat3):
            raise E2CodecError("E2SM-KPM-IndicationMessage", "UE action must report format 3")
        nr_cell_id = self.inventory.cells[index].nr_cell_id
        ues, ids = [], {}
        for item in message.ue_meas_report_list:
            rsrp = latest_value_of_type(item.meas_report, "RSRP")
            number = ue_number(item.ue_id)
            ids[number] = item.ue_id
            ues.append(UeKpm(number, nr_cell_id, float(rsrp) if rsrp is not None else -140.0, {}))
        state.ues, state.ue_ids = tuple(ues), ids
        return True

    def decode_ue_reports(self) -> None:
        """Decode every waiting UE-level report (tests, and callers that need all of them now)."""
        for index in sorted(self.pending_ue_reports):
            self.decode_ue_report(index)

    def observation(self, since: float) -> np.ndarray:
        """The observation with the cells that reported after ``since`` (the others are absent)."""
        return self.inventory.space.observation(
            [c.kpm if c.kpm is not None and c.reported_at > since else None for c in self.cells]
        )
