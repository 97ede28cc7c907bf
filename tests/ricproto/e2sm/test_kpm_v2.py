"""E2SM-KPM v2.0x beside v3: the same typed API with ``version=2``, round trips, what v2 cannot carry,
kpimon-go's real v2 bytes, and byte equality with kpimon-go's own v2 module (../shared/asn1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asn1tools
import pytest

from ricproto.e2error import E2CodecError
from ricproto.e2sm import asn1spec, kpm
from ricproto.e2sm.identities import NrCgi, SNssai
from ricproto.e2sm.ueid import Guami, UeIdGnb

PLMN = b"\x00\xf1\x10"
UE = UeIdGnb(7, Guami(PLMN))
CGI = NrCgi(PLMN, 0x123456789)
EMBB = kpm.MeasurementLabel(slice_id=SNssai(1, 1))
RSRP_ABOVE = kpm.TestCondInfo("rSRP", "greaterthan", ("valueInt", -100))


def _vector(vectors_dir: Path, name: str) -> bytes:
    return bytes.fromhex((vectors_dir / f"{name}.hex").read_text().strip())


def info(*names: str) -> kpm.ActionDefinitionFormat1:
    return kpm.ActionDefinitionFormat1(tuple(kpm.MeasurementInfoItem(n) for n in names), 1000, CGI)


V2_ACTIONS = [
    kpm.ActionDefinition(1, info("DRB.UEThpDl", "RRU.PrbUsedDl")),
    kpm.ActionDefinition(2, kpm.ActionDefinitionFormat2(UE, info("RSRP", "CQI"))),
    kpm.ActionDefinition(
        3,
        kpm.ActionDefinitionFormat3(
            (
                kpm.MeasurementCondItem(
                    "DRB.UEThpDl", (kpm.MatchingCondItem(RSRP_ABOVE), kpm.MatchingCondItem(EMBB))
                ),
            ),
            1000,
            CGI,
        ),
    ),
]
V2_MESSAGES = [
    kpm.IndicationMessageFormat1(
        (kpm.MeasurementDataItem((1, 2.5, None)),),
        (kpm.MeasurementInfoItem("A"), kpm.MeasurementInfoItem("B", (EMBB,)), kpm.MeasurementInfoItem(7)),
        100,
    ),
    kpm.IndicationMessageFormat2(
        (kpm.MeasurementDataItem((3.5,)),),
        (kpm.MeasurementCondUeIdItem("DRB.UEThpDl", (kpm.MatchingCondItem(RSRP_ABOVE),), (UE,)),),
        100,
    ),
]


def test_version_of_the_oids() -> None:
    assert kpm.version_of(kpm.OID) == 3 and kpm.version_of(kpm.OID_V2) == 2
    with pytest.raises(E2CodecError, match="not E2SM-KPM"):
        kpm.version_of("1.3.6.1.4.1.53148.1.1.2.3")  # RC
    with pytest.raises(E2CodecError, match="unknown KPM version"):
        kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(100), version=4)


@pytest.mark.parametrize("definition", V2_ACTIONS, ids=["f1", "f2", "f3"])
def test_v2_action_definitions_round_trip(definition: kpm.ActionDefinition) -> None:
    data = kpm.encode_action_definition(definition, 2)
    assert kpm.decode_action_definition(data, 2) == definition


@pytest.mark.parametrize("message", V2_MESSAGES, ids=["f1", "f2"])
def test_v2_indication_messages_round_trip(message: kpm.IndicationMessage) -> None:
    data = kpm.encode_indication_message(message, 2)
    assert kpm.decode_indication_message(data, 2) == message


def test_format1_message_bytes_are_the_same_in_v2_and_v3() -> None:
    message = V2_MESSAGES[0]
    assert kpm.encode_indication_message(message, 2) == kpm.encode_indication_message(message, 3)


def test_format3_condition_bytes_differ_between_versions() -> None:
    # v3 wraps each condition in a SEQUENCE with logicalOR; v2 has the bare CHOICE
    v2 = kpm.encode_action_definition(V2_ACTIONS[2], 2)
    v3 = kpm.encode_action_definition(V2_ACTIONS[2], 3)
    assert v2 != v3
    assert kpm.decode_action_definition(v3, 3) == V2_ACTIONS[2]


def test_v2_header_carries_the_ntp_seconds() -> None:
    stamp = kpm.ntp_timestamp(1_767_225_600.75)
    data = kpm.encode_indication_header(kpm.IndicationHeaderFormat1(stamp, sender_name="twinric"), 2)
    back = kpm.decode_indication_header(data, 2)
    assert back.collet_start_time == stamp[:4] and back.sender_name == "twinric"
    assert kpm.unix_seconds(back.collet_start_time) == 1_767_225_600
    assert kpm.unix_seconds(stamp) == pytest.approx(1_767_225_600.75)
    with pytest.raises(E2CodecError):  # 8 octets are not a v2 header
        kpm.decode_indication_header(kpm.encode_indication_header(kpm.IndicationHeaderFormat1(stamp)), 2)


def test_v2_ran_function_description_offers_styles_1_to_3() -> None:
    desc = kpm.default_ran_function_description(("DRB.UEThpDl",), ("CQI",), version=2)
    assert desc.ran_function_name.ran_function_e2sm_oid == kpm.OID_V2
    back = kpm.decode_ran_function_description(kpm.encode_ran_function_description(desc, 2), 2)
    assert back == desc
    assert [s.ric_report_style_type for s in back.ric_report_style_list] == [1, 2, 3]
    assert [s.ric_indication_message_format_type for s in back.ric_report_style_list] == [1, 1, 2]


@pytest.mark.parametrize(
    ("what", "encode"),
    [
        (
            "ActionDefinitionFormat4",
            lambda: kpm.encode_action_definition(
                kpm.ActionDefinition(
                    4, kpm.ActionDefinitionFormat4((kpm.MatchingUeCondPerSubItem(RSRP_ABOVE),), info("CQI"))
                ),
                2,
            ),
        ),
        (
            "ActionDefinitionFormat5",
            lambda: kpm.encode_action_definition(
                kpm.ActionDefinition(5, kpm.ActionDefinitionFormat5((UE, UE), info("CQI"))), 2
            ),
        ),
        (
            "logicalOR",
            lambda: kpm.encode_action_definition(
                kpm.ActionDefinition(
                    3,
                    kpm.ActionDefinitionFormat3(
                        (
                            kpm.MeasurementCondItem(
                                "CQI", (kpm.MatchingCondItem(RSRP_ABOVE, logical_or=True),)
                            ),
                        ),
                        100,
                    ),
                ),
                2,
            ),
        ),
        (
            "ul-rSRP",
            lambda: kpm.encode_action_definition(
                kpm.ActionDefinition(
                    3,
                    kpm.ActionDefinitionFormat3(
                        (
                            kpm.MeasurementCondItem(
                                "CQI",
                                (
                                    kpm.MatchingCondItem(
                                        kpm.TestCondInfo("ul-rSRP", "lessthan", ("valueInt", 1))
                                    ),
                                ),
                            ),
                        ),
                        100,
                    ),
                ),
                2,
            ),
        ),
        (
            "testExpr and testValue",
            lambda: kpm.encode_action_definition(
                kpm.ActionDefinition(
                    3,
                    kpm.ActionDefinitionFormat3(
                        (kpm.MeasurementCondItem("CQI", (kpm.MatchingCondItem(kpm.TestCondInfo("rSRP")),)),),
                        100,
                    ),
                ),
                2,
            ),
        ),
        (
            "ssbIndex",
            lambda: kpm.encode_indication_message(
                kpm.IndicationMessageFormat1(
                    (kpm.MeasurementDataItem((1,)),),
                    (kpm.MeasurementInfoItem("A", (kpm.MeasurementLabel(ssb_index=3),)),),
                ),
                2,
            ),
        ),
        ("format 3", lambda: kpm.encode_indication_message(kpm.ue_reports({UE: {"CQI": 3}}), 2)),
    ],
)
def test_v2_refuses_what_it_cannot_carry(what: str, encode: Any) -> None:
    with pytest.raises(E2CodecError) as err:
        encode()
    assert what in str(err.value)


def test_v3_action_definition_is_not_read_as_v2() -> None:
    data = kpm.encode_action_definition(
        kpm.ActionDefinition(
            4, kpm.ActionDefinitionFormat4((kpm.MatchingUeCondPerSubItem(RSRP_ABOVE),), info("CQI"))
        )
    )
    with pytest.raises(E2CodecError):
        kpm.decode_action_definition(data, 2)


def test_kpimon_format3_vector_is_kpm_v2(vectors_dir: Path) -> None:
    data = _vector(vectors_dir, "kpimon-go_kpm_action-def-f3_measid")
    definition = kpm.decode_action_definition(data, 2)
    assert isinstance(definition.action_definition_format, kpm.ActionDefinitionFormat3)
    assert kpm.encode_action_definition(definition, 2) == data


@pytest.fixture(scope="module")
def kpimon_v2(shared_dir: Path) -> Any:
    folder = shared_dir / "asn1" / "osc-kpimon-go" / "e2sm"
    files = [folder / "e2sm2_0.asn", folder / "kpm2_0.asn"]
    if not all(f.is_file() for f in files):
        pytest.skip(f"{folder} absent: this cross-check compiles kpimon-go's KPM v2 module (not in the tree)")
    return asn1spec.apply_x691_strings(asn1tools.compile_files([str(f) for f in files], "per"))


@pytest.mark.parametrize(
    ("type_name", "data"),
    [("E2SM-KPM-ActionDefinition", kpm.encode_action_definition(a, 2)) for a in V2_ACTIONS]
    + [("E2SM-KPM-IndicationMessage", kpm.encode_indication_message(m, 2)) for m in V2_MESSAGES]
    + [
        (
            "E2SM-KPM-IndicationHeader",
            kpm.encode_indication_header(
                kpm.IndicationHeaderFormat1(kpm.ntp_timestamp(1e9), "1", "s", "t", "v"), 2
            ),
        ),
        (
            "E2SM-KPM-RANfunction-Description",
            kpm.encode_ran_function_description(
                kpm.default_ran_function_description(("DRB.UEThpDl",), ("CQI", "RSRP"), version=2), 2
            ),
        ),
    ],
    ids=["action-f1", "action-f2", "action-f3", "message-f1", "message-f2", "header", "ranfunction"],
)
def test_v2_bytes_match_kpimon_gos_module(kpimon_v2: Any, type_name: str, data: bytes) -> None:
    ours = asn1spec.kpm_spec(2)
    assert kpimon_v2.encode(type_name, kpimon_v2.decode(type_name, data)) == data
    assert kpimon_v2.encode(type_name, ours.decode(type_name, data)) == data
