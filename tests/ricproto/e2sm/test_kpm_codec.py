"""E2SM-KPM v3: round trips (hypothesis), hand-written hot path vs asn1tools, standard-module bytes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ricproto.e2error import E2CodecError
from ricproto.e2sm import kpm
from ricproto.e2sm import kpm_report_aper as fast
from ricproto.e2sm.identities import EutraCgi, NrCgi, SNssai
from ricproto.e2sm.ueid import GlobalGnbId, Guami, UeIdGnb, UeIdGnbCuUp, UeIdGnbDu, UeIdNgEnbDu

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
U32 = 2**32 - 1

names = st.text(alphabet=PRINTABLE, min_size=1, max_size=40)
u32 = st.integers(0, U32)
octets3 = st.binary(min_size=3, max_size=3)
snssai = st.builds(SNssai, st.integers(0, 255), st.none() | st.integers(0, 0xFFFFFF))
guami = st.builds(Guami, octets3, st.integers(0, 255), st.integers(0, 1023), st.integers(0, 63))
ueids = st.one_of(
    st.builds(UeIdGnbDu, u32, st.none() | st.binary(min_size=8, max_size=8)),
    st.builds(UeIdGnbCuUp, u32, st.none() | st.binary(min_size=8, max_size=8)),
    st.builds(UeIdNgEnbDu, u32),
    st.builds(
        UeIdGnb,
        st.integers(0, 2**40 - 1),
        guami,
        st.lists(u32, max_size=4).map(tuple),
        st.lists(u32, max_size=3).map(tuple),
        st.none() | st.binary(min_size=8, max_size=8),
        st.none() | u32,
        st.none() | st.builds(GlobalGnbId, octets3, st.integers(0, 2**22 - 1), st.just(22)),
    ),
)
cgis = st.one_of(
    st.builds(NrCgi, octets3, st.integers(0, 2**36 - 1)),
    st.builds(EutraCgi, octets3, st.integers(0, 2**28 - 1)),
)
flags = st.booleans()
labels = st.one_of(
    st.just(kpm.MeasurementLabel(no_label=True)),
    st.builds(
        kpm.MeasurementLabel,
        no_label=flags,
        plmn_id=st.none() | octets3,
        slice_id=st.none() | snssai,
        five_qi=st.none() | st.integers(0, 255),
        qfi=st.none() | st.integers(0, 63),
        qci=st.none() | st.integers(0, 255),
        arp_max=st.none() | st.integers(1, 15),
        bitrate_range=st.none() | st.integers(1, 65535),
        sum=flags,
        dist_bin_x=st.none() | st.integers(1, 65535),
        start_end_ind=st.none() | st.sampled_from(["start", "end"]),
        avg=flags,
        ssb_index=st.none() | st.integers(1, 65535),
    ),
)
meas_types = st.one_of(names, st.integers(1, 65536))
info_items = st.builds(
    kpm.MeasurementInfoItem, meas_types, st.lists(labels, min_size=1, max_size=3).map(tuple)
)
records = st.one_of(u32, st.floats(allow_nan=False, width=64), st.none())
data_items = st.builds(kpm.MeasurementDataItem, st.lists(records, min_size=1, max_size=6).map(tuple), flags)
format1 = st.builds(
    kpm.IndicationMessageFormat1,
    st.lists(data_items, min_size=1, max_size=3).map(tuple),
    st.lists(info_items, max_size=5).map(tuple),
    st.none() | st.integers(1, U32),
)
test_conds = st.builds(
    kpm.TestCondInfo,
    st.sampled_from(["gBR", "aMBR", "isStat", "rSRP", "rSRQ", "cQI", "sNSSAI", "fiveQI"]),
    st.none() | st.sampled_from(["equal", "greaterthan", "lessthan", "contains", "present"]),
    st.none()
    | st.tuples(st.just("valueInt"), st.integers(-(2**40), 2**40))
    | st.tuples(st.just("valueBool"), st.booleans())
    | st.tuples(st.just("valueOctS"), st.binary(max_size=6))
    | st.tuples(st.just("valuePrtS"), st.text(alphabet=PRINTABLE, max_size=8))
    | st.tuples(st.just("valueReal"), st.floats(allow_nan=False, allow_infinity=False)),
)
match_items = st.builds(kpm.MatchingCondItem, st.one_of(labels, test_conds), flags)
format2 = st.builds(
    kpm.IndicationMessageFormat2,
    st.lists(data_items, min_size=1, max_size=2).map(tuple),
    st.lists(
        st.builds(
            kpm.MeasurementCondUeIdItem,
            meas_types,
            st.lists(match_items, min_size=1, max_size=2).map(tuple),
            st.lists(ueids, max_size=2).map(tuple),
        ),
        min_size=1,
        max_size=2,
    ).map(tuple),
    st.none() | st.integers(1, U32),
)
format3 = st.builds(
    kpm.IndicationMessageFormat3,
    st.lists(st.builds(kpm.UeMeasurementReportItem, ueids, format1), min_size=1, max_size=4).map(tuple),
)
action_f1 = st.builds(
    kpm.ActionDefinitionFormat1,
    st.lists(info_items, min_size=1, max_size=4).map(tuple),
    st.integers(1, U32),
    st.none() | cgis,
)
action_formats = st.one_of(
    action_f1,
    st.builds(kpm.ActionDefinitionFormat2, ueids, action_f1),
    st.builds(
        kpm.ActionDefinitionFormat3,
        st.lists(
            st.builds(
                kpm.MeasurementCondItem, meas_types, st.lists(match_items, min_size=1, max_size=3).map(tuple)
            ),
            min_size=1,
            max_size=3,
        ).map(tuple),
        st.integers(1, U32),
        st.none() | cgis,
    ),
    st.builds(
        kpm.ActionDefinitionFormat4,
        st.lists(st.builds(kpm.MatchingUeCondPerSubItem, test_conds, flags), min_size=1, max_size=3).map(
            tuple
        ),
        action_f1,
    ),
    st.builds(kpm.ActionDefinitionFormat5, st.lists(ueids, min_size=2, max_size=4).map(tuple), action_f1),
)
actions = st.builds(kpm.ActionDefinition, st.integers(0, 255), action_formats)
headers = st.builds(
    kpm.IndicationHeaderFormat1,
    st.binary(min_size=8, max_size=8),
    st.none() | st.text(alphabet=PRINTABLE, max_size=15),
    st.none() | st.text(alphabet=PRINTABLE, max_size=60),
    st.none() | st.text(alphabet=PRINTABLE, max_size=8),
    st.none() | st.text(alphabet=PRINTABLE, max_size=32),
)
ran_functions = st.builds(
    kpm.RanFunctionDescription,
    st.builds(kpm.RanFunctionName, names, names, names, st.none() | st.integers(0, 1000)),
    st.lists(st.builds(kpm.EventTriggerStyle, st.integers(0, 9), names, st.integers(1, 3)), max_size=2).map(
        tuple
    ),
    st.lists(
        st.builds(
            kpm.ReportStyle,
            st.integers(1, 5),
            names,
            st.integers(1, 5),
            st.lists(
                st.builds(kpm.MeasurementInfoActionItem, names, st.none() | st.integers(1, 65536)),
                min_size=1,
                max_size=4,
            ).map(tuple),
            st.integers(1, 2),
            st.integers(1, 3),
        ),
        max_size=3,
    ).map(tuple),
)

# the type of the conftest fixtures kpm_reencodes, rc_reencodes
Reencodes = Callable[[str, bytes], tuple[bytes, bytes]]


@SETTINGS
@given(st.one_of(format1, format2, format3))
def test_indication_message_round_trip(msg: kpm.IndicationMessage) -> None:
    data = kpm.encode_indication_message(msg)
    assert data == kpm.encode_indication_message_reference(msg)
    assert kpm.decode_indication_message(data) == msg
    assert kpm.decode_indication_message_reference(data) == msg


@SETTINGS
@given(st.one_of(format1, format3))
def test_hot_path_matches_asn1tools(msg: kpm.IndicationMessage) -> None:
    """The hand-written path, when it takes the message, gives asn1tools' bytes and values."""
    reference = kpm.encode_indication_message_reference(msg)
    try:
        data = fast.encode_indication_message(msg)
    except fast.AperUnsupported:
        return
    assert data == reference
    expected = kpm.decode_indication_message_reference(reference)
    assert kpm.decode_indication_message(reference) == expected
    try:  # the hand-written decoder takes a subset (REALs it computes exactly as asn1tools does)
        assert fast.decode_indication_message(reference) == expected
    except fast.AperUnsupported:
        pass


def test_hot_path_covers_the_usual_reports() -> None:
    report = kpm.IndicationMessageFormat1(
        (kpm.MeasurementDataItem((1, 2.5, None, 4)),),
        tuple(kpm.MeasurementInfoItem(n) for n in ("DRB.UEThpDl", "DRB.UEThpUl", "RRU.PrbUsedDl", "CQI")),
        1000,
    )
    per_ue = kpm.IndicationMessageFormat3(
        tuple(kpm.UeMeasurementReportItem(UeIdGnbDu(i), report) for i in range(50))
    )
    for msg in (report, per_ue):
        data = fast.encode_indication_message(msg)  # must not raise AperUnsupported
        assert data == kpm.encode_indication_message_reference(msg)
        assert fast.decode_indication_message(data) == msg


@SETTINGS
@given(headers)
def test_indication_header_round_trip(msg: kpm.IndicationHeaderFormat1) -> None:
    data = kpm.encode_indication_header(msg)
    assert data == kpm.encode_indication_header_reference(msg)
    assert kpm.decode_indication_header(data) == msg
    assert kpm.decode_indication_header_reference(data) == msg


@SETTINGS
@given(actions)
def test_action_definition_round_trip(msg: kpm.ActionDefinition) -> None:
    data = kpm.encode_action_definition(msg)
    assert kpm.decode_action_definition(data) == msg


@SETTINGS
@given(st.integers(1, U32))
def test_event_trigger_round_trip(period: int) -> None:
    data = kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(period))
    assert kpm.decode_event_trigger_definition(data).reporting_period == period


@SETTINGS
@given(ran_functions)
def test_ran_function_description_round_trip(msg: kpm.RanFunctionDescription) -> None:
    data = kpm.encode_ran_function_description(msg)
    assert kpm.decode_ran_function_description(data) == msg


def test_default_ran_function_description_offers_the_styles() -> None:
    desc = kpm.default_ran_function_description(("DRB.UEThpDl", "RRU.PrbUsedDl"), ("DRB.UEThpDl", "CQI"))
    back = kpm.decode_ran_function_description(kpm.encode_ran_function_description(desc))
    assert back.ran_function_name.ran_function_e2sm_oid == "1.3.6.1.4.1.53148.1.3.2.2"
    assert back.ran_function_name.ran_function_short_name == "ORAN-E2SM-KPM"
    assert [s.ric_report_style_type for s in back.ric_report_style_list] == [1, 4, 5]
    assert back.measurement_names(1) == ["DRB.UEThpDl", "RRU.PrbUsedDl"]
    assert back.measurement_names() == ["DRB.UEThpDl", "RRU.PrbUsedDl", "CQI"]


def test_slice_labels_and_values_by_type() -> None:
    embb = kpm.MeasurementLabel(slice_id=SNssai(1, 0x000001))
    urllc = kpm.MeasurementLabel(slice_id=SNssai(2))
    msg = kpm.IndicationMessageFormat1(
        (kpm.MeasurementDataItem((1200, 3.25)), kpm.MeasurementDataItem((1300, 4.5))),
        (kpm.MeasurementInfoItem("DRB.UEThpDl", (embb,)), kpm.MeasurementInfoItem("RRU.PrbUsedDl", (urllc,))),
        500,
    )
    back = kpm.decode_indication_message(kpm.encode_indication_message(msg))
    assert isinstance(back, kpm.IndicationMessageFormat1)
    assert back.meas_info_list[0].label_info_list[0].slice_id == SNssai(1, 1)
    assert back.values_by_type() == {"DRB.UEThpDl": [1200, 1300], "RRU.PrbUsedDl": [3.25, 4.5]}


def test_timestamp_round_trip() -> None:
    ts = kpm.ntp_timestamp(1_700_000_000.5)
    assert len(ts) == 8
    assert kpm.unix_seconds(ts) == pytest.approx(1_700_000_000.5, abs=1e-6)


@pytest.mark.parametrize(
    "msg",
    [
        kpm.IndicationMessageFormat1((kpm.MeasurementDataItem((-1,)),)),
        kpm.IndicationMessageFormat1((kpm.MeasurementDataItem((2**32,)),)),
        kpm.IndicationMessageFormat1(()),
        kpm.IndicationMessageFormat1((kpm.MeasurementDataItem(("x",)),)),  # type: ignore[arg-type]
        kpm.IndicationMessageFormat1(
            (kpm.MeasurementDataItem((1,)),), (kpm.MeasurementInfoItem("bad\u00e9name"),)
        ),
        kpm.IndicationMessageFormat1((kpm.MeasurementDataItem((1,)),), granul_period=0),
    ],
)
def test_invalid_values_raise_codec_error(msg: kpm.IndicationMessageFormat1) -> None:
    with pytest.raises(E2CodecError) as err:
        kpm.encode_indication_message(msg)
    assert err.value.message == "E2SM-KPM-IndicationMessage"


def test_codec_error_names_the_field() -> None:
    with pytest.raises(E2CodecError) as err:
        kpm.encode_action_definition(
            kpm.ActionDefinition(1, kpm.ActionDefinitionFormat1((kpm.MeasurementInfoItem("DRB.UEThpDl"),), 0))
        )
    assert err.value.field is not None and "granulPeriod" in err.value.field


def test_cell_report_and_ue_reports_builders() -> None:
    embb = kpm.MeasurementLabel(slice_id=SNssai(1, 1))
    urllc = kpm.MeasurementLabel(slice_id=SNssai(2))
    report = kpm.cell_report(
        {"RRU.PrbAvailDl": 106, ("RRU.PrbUsedDl", embb): 40, ("RRU.PrbUsedDl", urllc): 12.5},
        granul_period=100,
    )
    back = kpm.decode_indication_message(kpm.encode_indication_message(report))
    assert isinstance(back, kpm.IndicationMessageFormat1)
    assert back.values_by_label() == {
        ("RRU.PrbAvailDl", kpm.NO_LABEL): [106],
        ("RRU.PrbUsedDl", embb): [40],
        ("RRU.PrbUsedDl", urllc): [12.5],
    }
    with pytest.raises(E2CodecError, match="appears twice"):
        back.values_by_type()  # RRU.PrbUsedDl twice: only the label view is unambiguous
    per_ue = kpm.ue_reports(
        {UeIdGnbDu(1): {"CQI": 12, "RSRP": 80}, UeIdGnbDu(2): {"CQI": 7, "RSRP": None}}, 100
    )
    back3 = kpm.decode_indication_message(kpm.encode_indication_message(per_ue))
    assert isinstance(back3, kpm.IndicationMessageFormat3)
    assert back3.values_by_ue() == {
        UeIdGnbDu(1): {"CQI": [12], "RSRP": [80]},
        UeIdGnbDu(2): {"CQI": [7], "RSRP": [None]},
    }


def test_values_need_a_record_per_label() -> None:
    bad = kpm.IndicationMessageFormat1(
        (kpm.MeasurementDataItem((1,)),), (kpm.MeasurementInfoItem("A"), kpm.MeasurementInfoItem("B"))
    )
    with pytest.raises(E2CodecError) as err:
        bad.values_by_type()
    assert err.value.field == "measData[0]"


def test_decode_error_names_message_and_field() -> None:
    data = kpm.encode_indication_message(kpm.cell_report({"DRB.UEThpDl": 5, "DRB.UEThpUl": 6}))
    with pytest.raises(E2CodecError) as err:
        kpm.decode_indication_message(data[:-3])
    assert err.value.message == "E2SM-KPM-IndicationMessage"
    assert err.value.field is not None and "measInfoList" in err.value.field


def test_measurement_catalog_is_advertisable() -> None:
    from ricproto.e2sm import measurements

    names = [m.name for m in measurements.CATALOG]
    assert len(names) == len(set(names))
    assert set(measurements.CELL_DEFAULT) <= set(names) and set(measurements.UE_DEFAULT) <= set(names)
    assert all(measurements.BY_NAME[n].ue_level for n in measurements.UE_DEFAULT)
    desc = kpm.default_ran_function_description(tuple(names), measurements.UE_DEFAULT)
    assert (
        kpm.decode_ran_function_description(kpm.encode_ran_function_description(desc)).measurement_names(1)
        == names
    )


def test_hot_path_long_lists_use_two_octet_lengths() -> None:
    """Long records (two-octet length determinants) and big per-UE reports agree with asn1tools."""
    many = kpm.IndicationMessageFormat1(
        (kpm.MeasurementDataItem(tuple(range(0, 300_000, 1000)) + (2.5,) * 30),),
        tuple(kpm.MeasurementInfoItem(f"M{i}.x") for i in range(330)),
        10,
    )
    big = kpm.IndicationMessageFormat3(
        tuple(
            kpm.UeMeasurementReportItem(UeIdGnbDu(i), kpm.cell_report({"CQI": i % 16, "RSRP": float(-i)}))
            for i in range(300)
        )
    )
    for msg in (many, big):
        data = fast.encode_indication_message(msg)
        assert data == kpm.encode_indication_message_reference(msg)
        assert len(data) > 300
        assert fast.decode_indication_message(data) == msg


def test_hot_path_decodes_an_empty_label_ending_the_message() -> None:
    """A label without fields is 22 bits; as the last thing of a message it must not be read past."""
    msg = kpm.IndicationMessageFormat1(
        (kpm.MeasurementDataItem((None,)),),
        (
            kpm.MeasurementInfoItem(
                "0", (kpm.MeasurementLabel(start_end_ind="start"), kpm.MeasurementLabel())
            ),
        ),
    )
    reference = kpm.encode_indication_message_reference(msg)
    assert fast.encode_indication_message(msg) == reference
    assert fast.decode_indication_message(reference) == msg


def test_hot_path_records_around_novalue_and_repeated_values() -> None:
    """Items after a noValue start unaligned (coded bit by bit), the others come from the per-value
    memo; a second encoding (memo hits) and the first both give asn1tools' bytes."""
    record = (0.0, -0.0, None, 2.5, 7, None, None, 3, 1.5, math.inf, -math.inf, math.nan, None, 2**32 - 1)
    msg = kpm.IndicationMessageFormat1(
        (kpm.MeasurementDataItem(record), kpm.MeasurementDataItem(record[::-1], True)),
        tuple(kpm.MeasurementInfoItem(f"M{i}") for i in range(len(record))),
        100,
    )
    reference = kpm.encode_indication_message_reference(msg)
    assert fast.encode_indication_message(msg) == reference
    assert fast.encode_indication_message(msg) == reference


def test_hot_path_meas_info_lists_cached_by_identity_stay_exact() -> None:
    """Fresh measInfoList tuples (some equal, some not, ids possibly reused after one is dropped) and
    the same tuple again all encode as asn1tools does."""
    labels = (
        kpm.NO_LABEL,
        kpm.MeasurementLabel(slice_id=SNssai(1, 5)),
        kpm.MeasurementLabel(plmn_id=b"\x00\xf1\x10"),
    )
    kept = None
    for n in range(12):
        info = tuple(kpm.MeasurementInfoItem(f"A{n % 4}.{i}", (labels[(n + i) % 3],)) for i in range(3))
        msg = kpm.IndicationMessageFormat1((kpm.MeasurementDataItem((1.25, None, n)),), info, 1000)
        reference = kpm.encode_indication_message_reference(msg)
        assert fast.encode_indication_message(msg) == reference
        assert fast.encode_indication_message(msg) == reference
        if n == 0:
            kept = (msg, reference)
    assert kept is not None and fast.encode_indication_message(kept[0]) == kept[1]


# The same bytes against upstream's module (compiled from ../shared/asn1; skips, saying so, without it).
STANDARD_CROSS_CHECKS = [
    ("E2SM-KPM-IndicationMessage", st.one_of(format1, format2, format3), kpm.encode_indication_message),
    ("E2SM-KPM-IndicationHeader", headers, kpm.encode_indication_header),
    ("E2SM-KPM-ActionDefinition", actions, kpm.encode_action_definition),
    (
        "E2SM-KPM-EventTriggerDefinition",
        st.integers(1, U32).map(kpm.EventTriggerDefinition),
        kpm.encode_event_trigger_definition,
    ),
    ("E2SM-KPM-RANfunction-Description", ran_functions, kpm.encode_ran_function_description),
]


@pytest.mark.parametrize(
    ("type_name", "values", "encode"), STANDARD_CROSS_CHECKS, ids=[c[0] for c in STANDARD_CROSS_CHECKS]
)
@SETTINGS
@given(data=st.data())
def test_our_bytes_agree_with_the_standard_module(
    kpm_reencodes: Reencodes, type_name: str, values: Any, encode: Callable[[Any], bytes], data: st.DataObject
) -> None:
    pdu = encode(data.draw(values))
    assert kpm_reencodes(type_name, pdu) == (pdu, pdu)
