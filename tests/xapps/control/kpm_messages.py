"""KPM indications as an E2 node sends them for the control xApp's subscription layout (test helper)."""

from __future__ import annotations

import time

from ricproto import e2ap
from ricproto.e2sm import kpm
from ricproto.e2sm.identities import SNssai
from ricproto.e2sm.ueid import UeIdGnbDu


def indication(action_id: int, message: kpm.IndicationMessage, instance: int = 7) -> bytes:
    header = kpm.encode_indication_header(kpm.IndicationHeaderFormat1(kpm.ntp_timestamp(time.time())))
    return e2ap.encode(
        e2ap.RICindication(
            e2ap.RICrequestID(1, instance),
            kpm.RAN_FUNCTION_ID,
            action_id,
            e2ap.RICindicationType.report,
            header,
            kpm.encode_indication_message(message),
        )
    )


def cell_indication(
    action_id: int,
    load_pct: float,
    thp_kbps: float,
    conn: float,
    slices,
    avail: float = 100.0,
    slice_prb: float = 10.0,
    slice_thp: float = 1000.0,
    dists: dict | None = None,
) -> bytes:
    """``dists``: {(distribution name, slice): counts per bin} (labelled sliceID + distBinX 1..n)."""
    values: dict = {
        "RRU.PrbTotDl": load_pct,
        "DRB.UEThpDl": thp_kbps,
        "RRC.ConnMean": conn,
        "RRU.PrbAvailDl": avail,
    }
    for s in slices:
        label = kpm.MeasurementLabel(slice_id=SNssai(s.sst, s.sd))
        values[("RRU.PrbUsedDl", label)] = slice_prb
        values[("DRB.UEThpDl", label)] = slice_thp
    for (name, s), counts in (dists or {}).items():
        for b, count in enumerate(counts, start=1):
            values[(name, kpm.MeasurementLabel(slice_id=SNssai(s.sst, s.sd), dist_bin_x=b))] = count
    return indication(action_id, kpm.cell_report(values, 100))


def ue_indication(action_id: int, rsrp_by_ue: dict[int, float]) -> bytes:
    return indication(
        action_id, kpm.ue_reports({UeIdGnbDu(u): {"RSRP": r} for u, r in rsrp_by_ue.items()}, 100)
    )
