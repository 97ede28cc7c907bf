"""Per-subject signals of one round, including the cross-checks only a twin can make.

* UE: ``traffic`` (log of its averaged DL volume above the median of its slice's UEs), ``drops``
  (its averaged DL drop rate while served over 2.5 times its peers' median: it offers more than
  any fair share serves), ``churn``
  (serving-cell changes, smoothed over rounds), ``jump`` (how far its strongest RSRP moved in one
  round, dB: a UE does not cross the map in half a second);
* E2 node: ``load_mismatch`` (its reported load and connected UEs against what its own UEs' reports
  imply: the gap relative to the larger, the worse of PRBs and UE count), ``mismatch_trend`` (its
  moving average: a slow drift shows there before it shows in one round), ``repeat`` (share of its
  cell reports that are exact copies of one it sent before: a live RAN with fading never repeats
  itself);
* xApp: ``harm`` (per control, how much it works against the objective in the twin's view of the RAN:
  a handover into a cell more loaded than the source, a slice cap below what the slice uses now) and
  ``rate`` (controls per round).

Signals are numbers per subject; the detectors (``detectors``) turn them into evidence. Requests the PDP
denied for a bad signature are *not* charged to the identity they claim (its owner did not send them);
they are counted in ``impersonation_attempts``.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Mapping

import numpy as np

from twin_sidecar.security.evidence import CellEvidence, ControlEvidence, SecurityRound, UeEvidence

UE_SIGNALS = ("traffic", "drops", "churn", "jump")
NODE_SIGNALS = ("load_mismatch", "mismatch_trend", "repeat")
XAPP_SIGNALS = ("harm", "rate")
SIGNALS: Mapping[str, tuple[str, ...]] = {"ue": UE_SIGNALS, "e2node": NODE_SIGNALS, "xapp": XAPP_SIGNALS}
IDENTITY_CODES = frozenset({"bad_signature", "unsigned", "unknown_subject", "replayed", "stale_request"})
BEST_RSRP = "RSRP.best"  # max RSRP over serving and reported neighbours (dBm), when the UE report has them
USAGE_SMOOTHING = 0.2  # a slice's PRB share as the twin remembers it (one starved round does not erase it)
CONN_SLACK = 3.0  # UEs
PRB_SLACK = 10.0  # PRBs per cell
REPEAT_MEMORY = 64  # cell reports remembered per node
FLOOD_ABOVE_PEERS = math.log(2.5)  # drops count against a UE served over 2.5x its peers' median (surge: ~2x)
VOLUME_SMOOTHING = 0.3  # weight of the newest round in the UE's DL volume average
CHURN_SMOOTHING = 0.5  # weight of the newest round in the UE's churn average
TREND_SMOOTHING = 0.2  # and of a node's load mismatch in its trend (a slow drift stands out there)


def _relative_gap(reported: float, implied: float, slack: float) -> float:
    """|reported - implied| relative to the larger, with ``slack`` added below: a UE handed over during
    the period moves a few units between cells, which must not look like a lie in a cell with two UEs."""
    return abs(reported - implied) / (max(reported, implied) + slack)


def _load(c: CellEvidence) -> float:
    return float(c.measurements.get("RRU.PrbTotDl", 0.0))


class SignalExtractor:
    """Keeps what the signals need from earlier rounds (last serving cell, RSRP, reports seen)."""

    def __init__(self) -> None:
        self._ue_cell: dict[int, int] = {}
        self._ue_rsrp: dict[int, float] = {}
        self._ue_churn: dict[int, float] = {}
        self._ue_volume: dict[int, float] = {}
        self._ue_drops: dict[int, float] = {}
        self._seen: dict[str, deque[int]] = {}
        self._seen_set: dict[str, Counter[int]] = {}
        self._trend: dict[str, float] = {}
        self.cell_load: dict[int, float] = {}  # latest reported PrbTotDl per cell (trusted reports only)
        self.slice_usage: dict[tuple[int, int], float] = {}  # (cell, slice) -> % of PRBs used (smoothed)
        self.impersonation_attempts: Counter[str] = Counter()

    def extract(
        self, rnd: SecurityRound, trusted_node: Mapping[str, bool] | None = None
    ) -> dict[str, dict[str, float]]:
        """Signals per subject (``ue:<id>``, ``e2node:<meid>``, ``xapp:<name>``) for this round."""
        out: dict[str, dict[str, float]] = {}
        by_cell: dict[int, list[UeEvidence]] = {}
        volume: dict[int, list[float]] = {}
        for ue in rnd.ues:
            by_cell.setdefault(ue.cell_index, []).append(ue)
            out[f"ue:{ue.ue_id}"] = sig = self._ue(ue)
            volume.setdefault(ue.slice_index, []).append(sig["traffic"])
        peers = {s: float(np.median(v)) for s, v in volume.items()}
        for ue in rnd.ues:  # traffic against the median of the UE's slice peers this round
            sig = out[f"ue:{ue.ue_id}"]
            sig["traffic"] -= peers[ue.slice_index]
            if sig["traffic"] < FLOOD_ABOVE_PEERS:
                sig["drops"] = 0.0  # it drops while getting no more than its peers: a victim, not a flood
        # controls are judged in the view the RAN gave when they were decided (before this round's)
        per_xapp: dict[str, list[float]] = {}
        for ctl in rnd.controls:
            if ctl.code in IDENTITY_CODES:
                self.impersonation_attempts[ctl.subject] += 1
                continue
            per_xapp.setdefault(ctl.subject, []).append(self.harm(ctl))
        for meid, cells in rnd.node_cells().items():
            out[f"e2node:{meid}"] = self._node(meid, cells, by_cell)
            if trusted_node is None or trusted_node.get(meid, True):
                for c in cells:  # the twin's view of the RAN that controls are judged against
                    self.cell_load[c.cell_index] = _load(c)
                    avail = max(float(c.measurements.get("RRU.PrbAvailDl", 0.0)), 1e-9)
                    for s, vals in c.slices.items():
                        used = float(vals.get("RRU.PrbUsedDl", 0.0))
                        key = (c.cell_index, s)
                        pct = 100.0 * used / avail
                        self.slice_usage[key] = (
                            pct
                            if key not in self.slice_usage
                            else ((1 - USAGE_SMOOTHING) * self.slice_usage[key] + USAGE_SMOOTHING * pct)
                        )
        for subject, harms in per_xapp.items():
            out[subject] = {"harm": sum(harms) / len(harms), "rate": float(len(harms))}
        return out

    def _ue(self, ue: UeEvidence) -> dict[str, float]:
        m = ue.measurements
        now = max(float(m.get("DRB.RlcSduTransmittedVolumeDL", 0.0)), 0.0)
        prev_vol = self._ue_volume.get(ue.ue_id, now)
        vol = (1 - VOLUME_SMOOTHING) * prev_vol + VOLUME_SMOOTHING * now  # bursty traffic averaged out
        self._ue_volume[ue.ue_id] = vol
        moved = float(self._ue_cell.get(ue.ue_id, ue.cell_index) != ue.cell_index)
        churn = (1 - CHURN_SMOOTHING) * self._ue_churn.get(ue.ue_id, 0.0) + CHURN_SMOOTHING * moved
        # the strongest cell's RSRP moves smoothly as a UE walks, also across a handover
        rsrp = float(m.get(BEST_RSRP, m.get("RSRP", math.nan)))
        prev = self._ue_rsrp.get(ue.ue_id, rsrp)
        jump = abs(rsrp - prev) if math.isfinite(rsrp) and math.isfinite(prev) else 0.0
        self._ue_cell[ue.ue_id], self._ue_rsrp[ue.ue_id], self._ue_churn[ue.ue_id] = (
            ue.cell_index,
            rsrp,
            churn,
        )
        now_drop = float(m.get("DRB.RlcPacketDropRateDl", 0.0))  # share of its offered data dropped
        drops = (1 - VOLUME_SMOOTHING) * self._ue_drops.get(ue.ue_id, now_drop) + VOLUME_SMOOTHING * now_drop
        self._ue_drops[ue.ue_id] = drops
        return {"traffic": math.log1p(max(vol, 0.0)), "drops": drops, "churn": churn, "jump": jump}

    def _node(
        self, meid: str, cells: list[CellEvidence], by_cell: dict[int, list[UeEvidence]]
    ) -> dict[str, float]:
        rep_prb = rep_conn = ue_prb = ue_n = 0.0
        repeats = 0
        has_ue_prb = False
        seen = self._seen.setdefault(meid, deque())
        counts = self._seen_set.setdefault(meid, Counter())
        for c in cells:
            m = c.measurements
            rep_prb += float(m.get("RRU.PrbUsedDl", 0.0))
            rep_conn += float(m.get("RRC.ConnMean", 0.0))
            ues = by_cell.get(c.cell_index, [])
            for u in ues:
                if "RRU.PrbUsedDl" in u.measurements:
                    has_ue_prb = True
                    ue_prb += float(u.measurements["RRU.PrbUsedDl"])
            ue_n += len(ues)
            digest = hash((c.cell_index, tuple(sorted(m.items()))))
            repeats += counts[digest] > 0
            seen.append(digest)
            counts[digest] += 1
            while len(seen) > REPEAT_MEMORY:
                old = seen.popleft()
                counts[old] -= 1
                if counts[old] <= 0:
                    del counts[old]
        mismatch = _relative_gap(rep_conn, ue_n, CONN_SLACK)
        if has_ue_prb:  # per-UE PRB usage is reported (KPM style 4/5): check the node's PRBs too
            mismatch = max(mismatch, _relative_gap(rep_prb, ue_prb, PRB_SLACK * len(cells)))
        trend = (1 - TREND_SMOOTHING) * self._trend.get(meid, mismatch) + TREND_SMOOTHING * mismatch
        self._trend[meid] = trend
        return {"load_mismatch": mismatch, "mismatch_trend": trend, "repeat": repeats / max(len(cells), 1)}

    def harm(self, ctl: ControlEvidence) -> float:
        """How much one control works against the objective, in the twin's (trusted) view, in [0, 1]."""
        if ctl.action == "rc.handover" and ctl.target_cell_index >= 0:
            src = self.cell_load.get(ctl.cell_index, 0.0)
            dst = self.cell_load.get(ctl.target_cell_index, 0.0)
            return max(0.0, dst - src) / 100.0
        if ctl.action == "rc.slice_quota" and ctl.slice_index >= 0:
            used = self.slice_usage.get((ctl.cell_index, ctl.slice_index), 0.0)
            return max(0.0, used - ctl.max_ratio) / 100.0
        return 0.0
