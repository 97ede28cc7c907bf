"""Model cell reports as E2SM-KPM indication content (format 1), the E2 agent's KPM encoding step.

Cell-level measurements go out with ``noLabel``; per-slice ones with a ``sliceID`` label (the KPM way
to carry ``RRU.PrbUsedDl`` etc. per S-NSSAI). Counts are KPM INTEGERs, everything else REAL, a fixed
choice per name (``INTEGER_MEASUREMENTS``) so a receiver can rely on it.

The indication header's collection start time maps the simulated clock onto a fixed epoch, so the
same scenario and seed give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from e2sim.ran.model import CellReport
from ricproto.e2sm import kpm
from ricproto.e2sm.identities import SNssai
from ricproto.ran_space import Snssai

INTEGER_MEASUREMENTS = frozenset(
    {"RRC.ConnMax", "MM.HoExeIntraReq", "MM.HoExeIntraSucc", "Sim.HoPingPong", "Sim.RlfReestablish", "CQI"}
)
SIM_EPOCH_UNIX_S = 1_767_225_600.0  # 2026-01-01T00:00:00Z: simulated t = 0


def kpm_value(name: str, value: float) -> int | float:
    return round(value) if name in INTEGER_MEASUREMENTS else float(value)


def slice_label(snssai: Snssai) -> kpm.MeasurementLabel:
    return kpm.MeasurementLabel(slice_id=SNssai(snssai.sst, snssai.sd))


def cell_indication_message(
    report: CellReport,
    names: Sequence[str] | None = None,
    granul_period_ms: int | None = None,
    per_slice: bool = True,
) -> kpm.IndicationMessageFormat1:
    """Format-1 indication message of one cell report.

    ``names`` selects measurements (in that order; the subscription's measInfoList), default all.
    Per-slice values follow the cell values for every selected name that exists per slice.
    """
    selected = list(report.measurements) if names is None else list(names)
    values: dict[kpm.MeasurementType | tuple[kpm.MeasurementType, kpm.MeasurementLabel], kpm.RecordValue] = {}
    for name in selected:
        if name in report.measurements:
            values[name] = kpm_value(name, report.measurements[name])
    if per_slice:
        for snssai, measurements in report.slices.items():
            label = slice_label(snssai)
            for name in selected:
                if name in measurements:
                    values[(name, label)] = kpm_value(name, measurements[name])
    return kpm.cell_report(values, granul_period=granul_period_ms)


def indication_header(collection_start_sim_s: float) -> kpm.IndicationHeaderFormat1:
    return kpm.IndicationHeaderFormat1(kpm.ntp_timestamp(SIM_EPOCH_UNIX_S + collection_start_sim_s))
