"""Cell reports encoded as E2SM-KPM format 1: decodable, faithful, and byte-identical per seed."""

from __future__ import annotations

import pytest

from e2sim.kpm_report import (
    INTEGER_MEASUREMENTS,
    CellReportLayout,
    cell_indication_message,
    indication_header,
    kpm_value,
    slice_label,
)
from e2sim.ran.model import CellReport, RanModel
from e2sim.scenario import load_scenario
from ricproto.e2error import E2CodecError
from ricproto.e2sm import kpm
from ricproto.ran_space import CellKpm, RanSpace


def kpm_bytes(seed: int) -> list[bytes]:
    m = RanModel(load_scenario("small"), seed=seed)
    out = []
    for _ in range(3):
        period = m.start_period()
        m.run(0.1)
        for report in m.cell_reports(period):
            out.append(kpm.encode_indication_header(indication_header(period.start_s)))
            out.append(kpm.encode_indication_message(cell_indication_message(report, granul_period_ms=100)))
    return out


def test_same_seed_same_kpm_bytes_different_seed_different() -> None:
    a, b, c = kpm_bytes(5), kpm_bytes(5), kpm_bytes(6)
    assert a == b
    assert a != c


def test_kpm_round_trip_preserves_report_values() -> None:
    m = RanModel(load_scenario("small"))
    period = m.start_period()
    m.run(1.0)
    report = m.cell_reports(period)[2]
    data = kpm.encode_indication_message(cell_indication_message(report, granul_period_ms=1000))
    decoded = kpm.decode_indication_message(data)
    assert isinstance(decoded, kpm.IndicationMessageFormat1) and decoded.granul_period == 1000
    values = decoded.values_by_label()
    for name, value in report.measurements.items():
        got = values[(name, kpm.NO_LABEL)][0]
        if name in INTEGER_MEASUREMENTS:
            assert isinstance(got, int) and got == round(value)
        else:
            assert got == pytest.approx(value)
    for snssai, measurements in report.slices.items():
        for name, value in measurements.items():
            assert values[(name, slice_label(snssai))][0] == pytest.approx(value)
    # The xApp's observation from decoded KPM equals the one from the report itself.
    cell = {name: float(v[0]) for (name, label), v in values.items() if label == kpm.NO_LABEL}
    per_slice = {s: {n: float(values[(n, slice_label(s))][0]) for n in ms} for s, ms in report.slices.items()}
    space = RanSpace(max_cells=7, n_neighbours=3, slices=tuple(report.slices))
    via_kpm = space.observation([CellKpm.from_measurements(cell, per_slice)])
    direct = space.observation([CellKpm.from_measurements(report.measurements, report.slices)])
    assert via_kpm == pytest.approx(direct)


def test_selected_names_only() -> None:
    m = RanModel(load_scenario("small"))
    period = m.start_period()
    m.run(0.2)
    report = m.cell_reports(period)[0]
    msg = cell_indication_message(
        report, names=["RRU.PrbTotDl", "DRB.UEThpDl", "NotAMeasurement"], per_slice=False
    )
    assert [i.meas_type for i in msg.meas_info_list] == ["RRU.PrbTotDl", "DRB.UEThpDl"]


def _message_from_values(
    report: CellReport, names: list[str] | None, per_slice: bool
) -> kpm.IndicationMessageFormat1:
    """The message built value by value through ``kpm.cell_report`` (the layout must give the same)."""
    selected = list(report.measurements) if names is None else list(names)
    values: dict = {
        name: kpm_value(name, report.measurements[name]) for name in selected if name in report.measurements
    }
    if per_slice:
        for snssai, measurements in report.slices.items():
            for name in selected:
                if name in measurements:
                    values[(name, slice_label(snssai))] = kpm_value(name, measurements[name])
    return kpm.cell_report(values, granul_period=100)


@pytest.mark.parametrize(
    ("names", "per_slice"),
    [
        (None, True),
        (None, False),
        (["RRU.PrbUsedDl", "CQI", "RRU.PrbUsedDl", "No.Such", "DRB.UEThpDl"], True),  # a repeat, an unknown
    ],
)
def test_layout_messages_equal_value_by_value_ones_and_share_the_meas_info(
    names: list[str] | None, per_slice: bool
) -> None:
    m = RanModel(load_scenario("small"))
    previous = None
    for _ in range(2):
        period = m.start_period()
        m.run(0.1)
        for report in m.cell_reports(period):
            msg = cell_indication_message(report, names=names, granul_period_ms=100, per_slice=per_slice)
            expected = _message_from_values(report, names, per_slice)
            assert msg == expected
            assert kpm.encode_indication_message(msg) == kpm.encode_indication_message_reference(expected)
            if previous is not None:  # built once per report shape: the encoder replays its measInfoList
                assert msg.meas_info_list is previous.meas_info_list
            previous = msg


def test_layout_needs_a_measurement() -> None:
    with pytest.raises(E2CodecError, match="at least one measurement"):
        CellReportLayout.of([])


def test_layout_record_from_rows_equals_the_report_values() -> None:
    """`CellReportLayout.record` (positions in the model's row tables, the agent's path) gives the
    values `data_item` reads from the cell's report: cell, per-slice, INTEGER, per-slice and
    cell-wide distribution values in any order."""
    from ricproto.kpm_distribution import UE_THP_DL_DIST, WB_CQI_DIST

    m = RanModel(load_scenario("small"), seed=3)
    m.run(0.5)
    period = m.start_period()
    m.run(0.3)
    urllc, embb = m.slices[-1], m.slices[0]
    keys = [
        ("RRC.ConnMax", None),
        ("DRB.UEThpDl", urllc),
        ("DRB.RlcDelayUl", None),
        (WB_CQI_DIST, None, 3),
        (WB_CQI_DIST, None, 4),
        ("RRU.PrbUsedUl", embb),
        (UE_THP_DL_DIST, embb, 2),
        ("MM.HoExeIntraReq", None),
    ]
    layout = CellReportLayout.of(keys)
    rows = m.cell_rows(period)
    for cell in range(m.n_cells):
        expected = layout.data_item(m.cell_report(cell, period))
        got = layout.record(rows, cell, m.slices)
        assert got == expected
        assert [type(v) for v in got.meas_record] == [type(v) for v in expected.meas_record]
    assert type(got.meas_record[0]) is int and type(got.meas_record[3]) is int
