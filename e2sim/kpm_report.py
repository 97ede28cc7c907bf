"""Model cell reports as E2SM-KPM indication content (format 1), the E2 agent's KPM encoding step.

Cell-level measurements go out with ``noLabel``; per-slice ones with a ``sliceID`` label (the KPM way
to carry ``RRU.PrbUsedDl`` etc. per S-NSSAI); distribution measurements (``DRB.UEThpDlDist``,
``DRB.DelayDlNgranUeDist``) one value per bin, labelled ``sliceID`` + ``distBinX`` (bins numbered
from 1, ``ricproto.kpm_distribution``). Counts are KPM INTEGERs, everything else REAL, a fixed
choice per name (``INTEGER_MEASUREMENTS``) so a receiver can rely on it.

The indication header's collection start time maps the simulated clock onto a fixed epoch, so the
same scenario and seed give the same bytes.

What a report carries (names, labels, their order: the measInfoList) is fixed per subscription action
and per report shape, while the values change every granularity period, so `CellReportLayout` builds
the fixed part once and each report only reads its values. Reusing one measInfoList object also lets
the KPM encoder replay its cached encoding instead of coding 46 names and labels again.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from e2sim.ran.model import CellReport, CellRows
from ricproto.e2sm import kpm
from ricproto.e2sm.identities import SNssai
from ricproto.kpm_distribution import DELAY_DL_DIST, UE_THP_DL_DIST, WB_CQI_DIST
from ricproto.ran_space import Snssai

# A value of a cell report: (name, None) a cell value, (name, slice) a per-slice value, (name, slice,
# bin) one bin (1-based distBinX) of a per-slice distribution, (name, None, bin) one of a cell-wide one.
ReportKey = tuple[str, Snssai | None] | tuple[str, Snssai | None, int]

INTEGER_MEASUREMENTS = frozenset(
    {
        "RRC.ConnMax",
        "MM.HoExeIntraReq",
        "MM.HoExeIntraSucc",
        "Sim.HoPingPong",
        "Sim.RlfReestablish",
        "CQI",
        UE_THP_DL_DIST,
        DELAY_DL_DIST,
        WB_CQI_DIST,
    }
)
SIM_EPOCH_UNIX_S = 1_767_225_600.0  # 2026-01-01T00:00:00Z: simulated t = 0


def kpm_value(name: str, value: float) -> int | float:
    return round(value) if name in INTEGER_MEASUREMENTS else float(value)


def slice_label(snssai: Snssai) -> kpm.MeasurementLabel:
    return kpm.MeasurementLabel(slice_id=SNssai(snssai.sst, snssai.sd))


@dataclass(frozen=True, eq=False)
class CellReportLayout:
    """The fixed part of a cell's format-1 reports: which values, in which order, and the measInfoList.

    A value is a cell measurement (slice None, label noLabel), a per-slice one (label sliceID) or one
    bin of a per-slice distribution (label sliceID + distBinX). The messages are those of
    ``kpm.cell_report`` over the same keys: one measInfoList item per key, with one label, and a
    repeated key counted once at its first place; except that consecutive bins of a distribution
    share one item (one name, a label per bin), which keeps label-heavy reports small.
    """

    # The values in record order, as runs from one source: (source key, ((name or bin, is an INTEGER),
    # ...)); the source is None for the cell values, a slice for its values, (name, slice) for a
    # distribution (entries by 0-based bin). One source lookup per run: an Snssai hash is a Python call.
    runs: tuple[tuple[Snssai | tuple[str, Snssai | None] | None, tuple[tuple[str | int, bool], ...]], ...]
    meas_info: tuple[kpm.MeasurementInfoItem, ...]
    # `record` plans by the model's name order and slices: per run, where its values are in a CellRows
    _plans: dict[tuple, tuple] = field(default_factory=dict, compare=False, repr=False)

    @functools.cached_property
    def has_distributions(self) -> bool:
        return any(isinstance(source, tuple) for source, _ in self.runs)

    @classmethod
    def of(cls, keys: Iterable[ReportKey]) -> CellReportLayout:
        unique = tuple(dict.fromkeys(keys))
        if not unique:
            kpm.cell_report({})  # raises the codec's "needs at least one measurement" error
        runs: list[tuple[Snssai | tuple[str, Snssai | None] | None, list[tuple[str | int, bool]]]] = []
        infos: list[tuple[str, list[kpm.MeasurementLabel]]] = []
        for key in unique:
            name, snssai = key[0], key[1]
            if len(key) == 3:
                source: Snssai | tuple[str, Snssai | None] | None = (name, snssai)
                entry: tuple[str | int, bool] = (key[2] - 1, True)  # type: ignore[misc]
                label = kpm.MeasurementLabel(
                    slice_id=None if snssai is None else SNssai(snssai.sst, snssai.sd),
                    dist_bin_x=key[2],  # type: ignore[misc]
                )
                # a distribution's bins share one measInfoList item (its name once, a label per bin)
                if infos and infos[-1][0] == name and infos[-1][1][-1].dist_bin_x is not None:
                    infos[-1][1].append(label)
                else:
                    infos.append((name, [label]))
            else:
                source, entry = snssai, (name, name in INTEGER_MEASUREMENTS)
                infos.append((name, [kpm.NO_LABEL if snssai is None else slice_label(snssai)]))
            if not runs or runs[-1][0] != source:
                runs.append((source, []))
            runs[-1][1].append(entry)
        return cls(
            tuple((source, tuple(entries)) for source, entries in runs),
            tuple(kpm.MeasurementInfoItem(name, tuple(labels)) for name, labels in infos),
        )

    def data_item(self, report: CellReport) -> kpm.MeasurementDataItem:
        """This layout's values of ``report`` (INTEGER or REAL as `kpm_value` chooses); KeyError when the
        report lacks one."""
        record: list[int | float] = []
        for source_key, entries in self.runs:
            if isinstance(source_key, tuple):
                counts = report.distributions[source_key]
                record += [int(counts[b]) for b, _ in entries]  # type: ignore[index]
                continue
            source = report.measurements if source_key is None else report.slices[source_key]
            record += [round(source[name]) if is_int else float(source[name]) for name, is_int in entries]  # type: ignore[index]
        return kpm.MeasurementDataItem(tuple(record))

    def record(self, rows: CellRows, cell: int, slices: tuple[Snssai, ...]) -> kpm.MeasurementDataItem:
        """This layout's values of cell ``cell`` in ``rows`` (the same values as `data_item` of that
        cell's report), picked by position; KeyError when ``rows`` lacks one."""
        key = (tuple(rows.cell_names), tuple(rows.slice_names), slices)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(rows, slices)
        record: list[Any] = []
        for kind, where, pick, ints in plan:
            if kind == 0:
                row = rows.cell[cell]
            elif kind == 1:
                row = rows.slices[cell][where]
            elif where is None:
                row = rows.cell_distributions[kind][cell]
            else:
                row = rows.distributions[kind][cell][where]
            values = pick(row)
            if ints:
                values = [round(v) if i in ints else v for i, v in enumerate(values)]
            record += values
        return kpm.MeasurementDataItem(tuple(record))

    def _plan(self, rows: CellRows, slices: tuple[Snssai, ...]) -> tuple:
        plan = []
        for source, entries in self.runs:
            if isinstance(source, tuple):  # a distribution: entries are 0-based bins, counts already int
                name, snssai = source
                where = None if snssai is None else slices.index(snssai)
                plan.append((name, where, _picker([b for b, _ in entries]), frozenset()))
                continue
            names = rows.cell_names if source is None else rows.slice_names
            ints = frozenset(i for i, (_, is_int) in enumerate(entries) if is_int)
            where = None if source is None else slices.index(source)
            plan.append((0 if source is None else 1, where, _picker([names[n] for n, _ in entries]), ints))
        return tuple(plan)

    def message(
        self, report: CellReport, granul_period_ms: int | None = None
    ) -> kpm.IndicationMessageFormat1:
        return kpm.IndicationMessageFormat1((self.data_item(report),), self.meas_info, granul_period_ms)


def _picker(indices: list[Any]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """The items at ``indices`` of a sequence, always as a tuple."""
    if len(indices) == 1:
        only = indices[0]
        return lambda row: (row[only],)
    return operator.itemgetter(*indices)


# Layouts of `cell_indication_message` by report shape (its selection and which values the report has):
# the same for every report of a run, so the dataclasses are built once.
_LAYOUTS: dict[tuple, CellReportLayout] = {}
_LAYOUTS_MAX = 256


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
    shape = (
        None if names is None else tuple(names),
        tuple(report.measurements),
        tuple((snssai, tuple(m)) for snssai, m in report.slices.items()) if per_slice else None,
    )
    layout = _LAYOUTS.get(shape)
    if layout is None:
        selected = shape[1] if names is None else shape[0]
        keys = [(name, None) for name in selected if name in report.measurements]
        if per_slice:
            for snssai, measurements in report.slices.items():
                keys += [(name, snssai) for name in selected if name in measurements]
        layout = CellReportLayout.of(keys)
        if len(_LAYOUTS) >= _LAYOUTS_MAX:
            _LAYOUTS.clear()
        _LAYOUTS[shape] = layout
    return layout.message(report, granul_period_ms)


def indication_header(collection_start_sim_s: float) -> kpm.IndicationHeaderFormat1:
    return kpm.IndicationHeaderFormat1(kpm.ntp_timestamp(SIM_EPOCH_UNIX_S + collection_start_sim_s))
