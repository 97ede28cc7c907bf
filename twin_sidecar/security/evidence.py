"""What the security analytics see of one report round: cell KPM as the nodes sent it, per-UE KPM, and
the control decisions of the round (who asked for what, and what the PDP answered).

The names are the KPM measurement names (TS 28.552) and trust subjects (``ricproto.trust``): the twin
never sees the simulator, only what crossed E2 or came from the xApps and the PDP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ricproto.ran_view import RanRound


@dataclass(frozen=True)
class CellEvidence:
    meid: str  # the E2 node that sent the report
    cell_index: int
    measurements: Mapping[str, float]
    slices: Mapping[int, Mapping[str, float]] = field(default_factory=dict)  # slice index -> measurements


@dataclass(frozen=True)
class UeEvidence:
    ue_id: int
    cell_index: int  # serving cell at the end of the round
    measurements: Mapping[str, float]  # per-UE KPM (DRB.UEThpDl, RRU.PrbUsedDl, RSRP, ...)
    slice_index: int = -1  # its slice (peers it is compared with), -1 when unknown


@dataclass(frozen=True)
class ControlEvidence:
    """One control request and the PDP's answer (the decision log's content)."""

    subject: str  # as claimed, e.g. "xapp:twinric-control"
    action: str  # rc.handover, rc.slice_quota, rc.cell_offset
    meid: str
    cell_index: int
    permitted: bool
    code: str = ""  # the PDP's reason code (bad_signature, permitted, ...)
    target_cell_index: int = -1  # rc.handover
    ue_id: int = -1
    slice_index: int = -1  # rc.slice_quota
    max_ratio: int = 100


@dataclass(frozen=True)
class SecurityRound:
    t_s: float  # when the round was collected (simulated or wall seconds; one clock per analytics)
    cells: tuple[CellEvidence, ...]
    ues: tuple[UeEvidence, ...] = ()
    controls: tuple[ControlEvidence, ...] = ()

    def node_cells(self) -> dict[str, list[CellEvidence]]:
        out: dict[str, list[CellEvidence]] = {}
        for c in self.cells:
            out.setdefault(c.meid, []).append(c)
        return out


# RAN-view columns (ricproto.ran_space.CellKpm fields) -> the KPM names the signals use
_CELL_COLUMNS = {
    "prb_tot_dl_pct": "RRU.PrbTotDl",
    "ue_thp_dl_kbps": "DRB.UEThpDl",
    "conn_mean": "RRC.ConnMean",
    "prb_avail_dl": "RRU.PrbAvailDl",
}
_ACTIONS = {"handover": "rc.handover", "slice_quota": "rc.slice_quota", "cell_offset": "rc.cell_offset"}


def from_ran_round(r: RanRound) -> SecurityRound:
    """The evidence a RAN-view record carries: cell KPM, UE serving cells and RSRP, and the controls the
    xApp sent (permitted ones: the PEP lets nothing else out). The record keeps no per-UE volumes, so
    the UE traffic signal and the PRB half of the load cross-check stay silent on it."""
    col = {name: j for j, name in enumerate(r.cell_measurements)}
    sl_col = {name: j for j, name in enumerate(r.slice_measurements)}
    used_j = sl_col.get("slice_prb_used_dl")
    cells = []
    for i in range(r.n_cells):
        values = r.cell_values[i]
        meas = {kpm: float(values[col[c]]) for c, kpm in _CELL_COLUMNS.items() if c in col}
        slices: dict[int, dict[str, float]] = {}
        if used_j is not None:
            slices = {s: {"RRU.PrbUsedDl": float(r.slice_values[i, s, used_j])} for s in range(len(r.slices))}
            meas["RRU.PrbUsedDl"] = sum(v["RRU.PrbUsedDl"] for v in slices.values())
        cells.append(CellEvidence(r.nodes[int(r.cell_node[i])], int(r.cell_index[i]), meas, slices))
    ues = tuple(
        UeEvidence(int(u), int(c), {"RSRP": float(p)})
        for u, c, p in zip(r.ue_id.tolist(), r.ue_cell_index.tolist(), r.ue_rsrp_dbm.tolist(), strict=True)
    )
    subject = f"xapp:{r.xapp_instance}"
    controls = tuple(
        ControlEvidence(
            subject,
            _ACTIONS.get(c.kind, c.kind),
            c.meid,
            c.cell_index,
            True,
            "sent",
            target_cell_index=c.target_cell_index if c.kind == "handover" else -1,
            ue_id=c.ue_ids[0] if c.ue_ids else -1,
            slice_index=c.slice_index if c.kind == "slice_quota" else -1,
            max_ratio=c.max_ratio if c.kind == "slice_quota" else 100,
        )
        for c in r.controls
    )
    return SecurityRound(r.decided_ns / 1e9, tuple(cells), ues, controls)
