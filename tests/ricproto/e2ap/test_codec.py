"""E2AP codec: round trips for every message type, pycrate's E2AP as an independent decoder, encode errors."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrate_asn1dir import E2AP as PYCRATE_E2AP

from ricproto.e2ap import (
    MESSAGE_SPECS,
    BitString,
    CauseMisc,
    CauseRICrequest,
    E2CodecError,
    E2nodeComponentConfigAdditionItem,
    E2nodeComponentConfiguration,
    E2nodeComponentInterfaceNG,
    E2nodeComponentInterfaceType,
    E2setupRequest,
    GlobalE2nodeGnbID,
    GlobalgNBID,
    RANfunctionItem,
    RICindication,
    RICindicationType,
    RICrequestID,
    RICsubscriptionDeleteRequest,
    decode,
    encode,
    plmn_to_bytes,
    spec_of,
)

CLASSES = [spec.cls for spec in MESSAGE_SPECS]
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PYCRATE_PDU = PYCRATE_E2AP.E2AP_PDU_Descriptions.E2AP_PDU
KIND_NAMES = ("initiatingMessage", "successfulOutcome", "unsuccessfulOutcome")


def test_every_issue_message_type_is_supported() -> None:
    wanted = {
        "E2setupRequest",
        "E2setupResponse",
        "E2setupFailure",
        "RICsubscriptionRequest",
        "RICsubscriptionResponse",
        "RICsubscriptionFailure",
        "RICsubscriptionDeleteRequest",
        "RICsubscriptionDeleteResponse",
        "RICsubscriptionDeleteFailure",
        "RICindication",
        "RICcontrolRequest",
        "RICcontrolAcknowledge",
        "RICcontrolFailure",
        "ErrorIndication",
        "ResetRequest",
        "ResetResponse",
        "RICserviceUpdate",
        "RICserviceUpdateAcknowledge",
        "E2nodeConfigurationUpdate",
        "E2nodeConfigurationUpdateAcknowledge",
    }
    assert wanted <= {cls.__name__ for cls in CLASSES}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@SETTINGS
@given(data=st.data())
def test_round_trip(cls: type, data: st.DataObject, e2ap_messages: dict) -> None:
    message = data.draw(e2ap_messages[cls])
    encoded = encode(message)
    decoded = decode(encoded)
    assert type(decoded) is cls
    assert decoded == message
    assert encode(decoded) == encoded


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_pycrate_decodes_and_reencodes_identically(
    cls: type, data: st.DataObject, e2ap_messages: dict
) -> None:
    """pycrate's own E2AP (newer than v3.01) parses our bytes as the same message with the same IEs."""
    message = data.draw(e2ap_messages[cls])
    encoded = encode(message)
    PYCRATE_PDU.from_aper(encoded)
    kind, outcome = PYCRATE_PDU.get_val()
    spec = spec_of(cls)
    assert kind == KIND_NAMES[spec.kind]
    assert outcome["procedureCode"] == spec.procedureCode
    assert outcome["criticality"] == spec.criticality.name
    name, body = outcome["value"]
    assert name == cls.__name__
    present = [(ie.id, ie.criticality.name) for ie in spec.ies if getattr(message, ie.field) is not None]
    assert [(ie["id"], ie["criticality"]) for ie in body["protocolIEs"]] == present
    assert PYCRATE_PDU.to_aper() == encoded


def test_pycrate_reads_setup_request_fields() -> None:
    """Field-level check of the most complex message against pycrate's decoded values."""
    node = GlobalE2nodeGnbID(GlobalgNBID(plmn_to_bytes("00101"), BitString(0x19B, 22)), gNB_DU_ID=7)
    kpm = RANfunctionItem(2, b"\x20" * 130, 1, "1.3.6.1.4.1.53148.1.3.2.2")
    addition = E2nodeComponentConfigAdditionItem(
        E2nodeComponentInterfaceType.ng,
        E2nodeComponentInterfaceNG("nginterf"),
        E2nodeComponentConfiguration(b"req", b"resp"),
    )
    PYCRATE_PDU.from_aper(encode(E2setupRequest(9, node, [kpm], [addition])))
    ies = {ie["id"]: ie["value"] for ie in PYCRATE_PDU.get_val()[1]["value"][1]["protocolIEs"]}
    assert ies[49] == ("TransactionID", 9)
    assert ies[3] == (
        "GlobalE2node-ID",
        (
            "gNB",
            {
                "global-gNB-ID": {"plmn-id": b"\x00\xf1\x10", "gnb-id": ("gnb-ID", (0x19B, 22))},
                "gNB-DU-ID": 7,
            },
        ),
    )
    (function,) = ies[10][1]
    assert function["id"] == 8
    assert function["value"] == (
        "RANfunction-Item",
        {
            "ranFunctionID": 2,
            "ranFunctionDefinition": b"\x20" * 130,
            "ranFunctionRevision": 1,
            "ranFunctionOID": "1.3.6.1.4.1.53148.1.3.2.2",
        },
    )
    (component,) = ies[50][1]
    assert component["id"] == 51
    assert component["value"][1]["e2nodeComponentID"] == (
        "e2nodeComponentInterfaceTypeNG",
        {"amf-name": "nginterf"},
    )


def test_large_indication_uses_fragmented_lengths() -> None:
    # a KPM format-3 report for many UEs can exceed 16K octets: APER then fragments the length
    indication = RICindication(
        RICrequestID(1, 2),
        2,
        1,
        RICindicationType.report,
        b"h" * 20,
        bytes(range(256)) * 200,
        ricIndicationSN=65535,
    )
    encoded = encode(indication)
    assert decode(encoded) == indication
    PYCRATE_PDU.from_aper(encoded)
    assert PYCRATE_PDU.to_aper() == encoded


def test_extension_cause_values_round_trip() -> None:
    from ricproto.e2ap import RICsubscriptionFailure

    failure = RICsubscriptionFailure(RICrequestID(1, 1), 2, CauseRICrequest.duplicate_ric_request_id)
    encoded = encode(failure)
    assert decode(encoded) == failure
    PYCRATE_PDU.from_aper(encoded)
    ies = PYCRATE_PDU.get_val()[1]["value"][1]["protocolIEs"]
    assert ies[2]["value"] == ("Cause", ("ricRequest", "duplicate-ric-request-id"))


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (RICsubscriptionDeleteRequest(RICrequestID(1, 1), 4096), "ranFunctionID"),
        (RICsubscriptionDeleteRequest(RICrequestID(70000, 1), 1), "ricRequestID"),
        (RICsubscriptionDeleteRequest(None, 1), "ricRequestID"),  # type: ignore[arg-type]
        (
            RICindication(RICrequestID(1, 1), 2, 1, RICindicationType.report, "text", b""),
            "ricIndicationHeader",
        ),
        (RICindication(RICrequestID(1, 1), 2, 1, CauseMisc.unspecified, b"", b""), "ricIndicationType"),
        (
            E2setupRequest(1, GlobalE2nodeGnbID(GlobalgNBID(b"\x00\xf1", BitString(1, 22))), [], []),
            "globalE2nodeID",
        ),
        (
            E2setupRequest(1, GlobalE2nodeGnbID(GlobalgNBID(b"\x00\xf1\x10", BitString(1, 22))), [], []),
            "ranFunctionsAdded",
        ),
    ],
)
def test_encode_errors_name_message_and_field(message: object, field: str) -> None:
    with pytest.raises(E2CodecError) as info:
        encode(message)  # type: ignore[arg-type]
    assert info.value.message == type(message).__name__
    assert info.value.field == field


def test_encode_rejects_non_messages() -> None:
    with pytest.raises(E2CodecError, match="not an E2AP message"):
        encode(RICrequestID(1, 1))  # type: ignore[arg-type]


def test_decode_names_missing_mandatory_ie() -> None:
    encoded = encode(RICsubscriptionDeleteRequest(RICrequestID(1, 2), 3))
    # drop the second IE (RANfunctionID: 6 octets at the end) and fix up the count and lengths
    body = encoded[4:-6]
    body = body[:1] + (1).to_bytes(2, "big") + body[3:]
    with pytest.raises(E2CodecError) as info:
        decode(encoded[:3] + bytes((len(body),)) + body)
    assert (info.value.message, info.value.field) == ("RICsubscriptionDeleteRequest", "ranFunctionID")
