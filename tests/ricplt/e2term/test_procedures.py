"""Pure logic of the e2term: its own answers, the uplink RMR mapping, the inventory record."""

from __future__ import annotations

import pytest

from ricplt.e2term import procedures
from ricplt.e2term.inventory import E2NodeRecord, RanFunctionRecord
from ricplt.e2term.uplink import uplink_route
from ricproto import mtypes
from ricproto.e2ap import (
    BitString,
    CauseProtocol,
    CauseRICrequest,
    E2CodecError,
    E2nodeComponentConfigAdditionItem,
    E2nodeComponentConfiguration,
    E2nodeComponentInterfaceF1,
    E2nodeComponentInterfaceNG,
    E2nodeComponentInterfaceType,
    E2nodeConfigurationUpdate,
    E2setupRequest,
    ErrorIndication,
    GlobalE2nodeGnbID,
    GlobalgNBID,
    RANfunctionIDItem,
    RANfunctionItem,
    RICcontrolAcknowledge,
    RICcontrolFailure,
    RICindication,
    RICindicationType,
    RICrequestID,
    RICserviceUpdate,
    RICsubscriptionDeleteResponse,
    RICsubscriptionFailure,
    RICsubscriptionResponse,
    decode,
    encode,
)

NODE = GlobalE2nodeGnbID(GlobalgNBID(b"\x00\xf1\x10", BitString(0x19B, 22)))


def _component(kind: E2nodeComponentInterfaceType, cid: object) -> E2nodeComponentConfigAdditionItem:
    return E2nodeComponentConfigAdditionItem(kind, cid, E2nodeComponentConfiguration(b"a", b"b"))


def test_setup_response_accepts_every_function_and_acks_every_component() -> None:
    request = E2setupRequest(
        7,
        NODE,
        [RANfunctionItem(2, b"d2", 3, "oid2"), RANfunctionItem(3, b"d3", 1, "oid3")],
        [
            _component(E2nodeComponentInterfaceType.ng, E2nodeComponentInterfaceNG("amf")),
            _component(E2nodeComponentInterfaceType.f1, E2nodeComponentInterfaceF1(5)),
        ],
    )
    response = procedures.setup_response(request, procedures.global_ric_id("310411", 0xAACCE))
    decoded = decode(encode(response))  # the answer must be a valid PDU, not just a dataclass
    assert decoded.transactionID == 7
    assert decoded.globalRICID.pLMN_Identity == bytes([0x13, 0x10, 0x14])
    assert decoded.globalRICID.ric_ID == 0xAACCE
    assert [(f.ranFunctionID, f.ranFunctionRevision) for f in decoded.ranFunctionsAccepted] == [
        (2, 3),
        (3, 1),
    ]
    assert [a.e2nodeComponentID for a in decoded.e2nodeComponentConfigAdditionAck] == [
        E2nodeComponentInterfaceNG("amf"),
        E2nodeComponentInterfaceF1(5),
    ]


def test_global_ric_id_is_the_e2mgr_default_plmn_in_bcd() -> None:
    ric = procedures.global_ric_id("310411", 0xAACCE)
    assert ric.pLMN_Identity == bytes([0x13, 0x10, 0x14])  # MCC 310, MNC 411 (3-digit MNC)
    with pytest.raises(ValueError, match="20 bits"):
        procedures.global_ric_id("310411", 1 << 20)


def test_service_update_ack_lists_added_and_modified() -> None:
    update = RICserviceUpdate(
        4,
        ranFunctionsAdded=[RANfunctionItem(4, b"x", 1, "o4")],
        ranFunctionsModified=[RANfunctionItem(2, b"y", 2, "o2")],
        ranFunctionsDeleted=[RANfunctionIDItem(3, 1)],
    )
    ack = decode(encode(procedures.service_update_acknowledge(update)))
    assert ack.transactionID == 4
    assert [(f.ranFunctionID, f.ranFunctionRevision) for f in ack.ranFunctionsAccepted] == [(4, 1), (2, 2)]


def test_configuration_update_ack_covers_each_list() -> None:
    update = E2nodeConfigurationUpdate(
        9,
        e2nodeComponentConfigAddition=[
            _component(E2nodeComponentInterfaceType.ng, E2nodeComponentInterfaceNG("amf2"))
        ],
    )
    ack = decode(encode(procedures.configuration_update_acknowledge(update)))
    assert ack.transactionID == 9
    assert [a.e2nodeComponentID for a in ack.e2nodeComponentConfigAdditionAck] == [
        E2nodeComponentInterfaceNG("amf2")
    ]
    assert ack.e2nodeComponentConfigUpdateAck is None


@pytest.mark.parametrize(
    ("data", "cause"),
    [
        (b"\x00", CauseProtocol.transfer_syntax_error),
        (b"\x60\x01\x00\x01\x00", CauseProtocol.transfer_syntax_error),  # CHOICE index 3
        (bytes([0x00, 99, 0x00, 0x03, 0x00, 0x00, 0x00]), CauseProtocol.abstract_syntax_error_reject),
    ],
)
def test_decode_failures_map_to_protocol_causes(data: bytes, cause: CauseProtocol) -> None:
    with pytest.raises(E2CodecError) as caught:
        decode(data)
    indication = procedures.error_indication(caught.value)
    assert indication.cause is cause
    assert decode(encode(indication)) == indication


def test_message_level_failure_is_an_abstract_syntax_error() -> None:
    error = E2CodecError("RICindication", "mandatory IE (id 29) is missing", "ricRequestID")
    assert (
        procedures.decode_error_cause(error)
        is CauseProtocol.abstract_syntax_error_falsely_constructed_message
    )


@pytest.mark.parametrize(
    ("message", "mtype", "sub_id"),
    [
        (
            RICindication(RICrequestID(11, 7), 2, 1, RICindicationType.report, b"h", b"m"),
            mtypes.RIC_INDICATION,
            7,
        ),
        (RICsubscriptionResponse(RICrequestID(11, 8), 2, [1]), mtypes.RIC_SUB_RESP, 8),
        (
            RICsubscriptionFailure(RICrequestID(11, 8), 2, CauseRICrequest.unspecified),
            mtypes.RIC_SUB_FAILURE,
            8,
        ),
        (RICsubscriptionDeleteResponse(RICrequestID(11, 9), 2), mtypes.RIC_SUB_DEL_RESP, 9),
        (RICcontrolAcknowledge(RICrequestID(5, 3), 3), mtypes.RIC_CONTROL_ACK, 3),
        (
            RICcontrolFailure(RICrequestID(5, 4), 3, CauseRICrequest.unspecified),
            mtypes.RIC_CONTROL_FAILURE,
            4,
        ),
        (ErrorIndication(cause=CauseProtocol.unspecified), mtypes.RIC_E2_RIC_ERROR_INDICATION, -1),
        (ErrorIndication(ricRequestID=RICrequestID(1, 12)), mtypes.RIC_E2_RIC_ERROR_INDICATION, 12),
    ],
)
def test_uplink_route_uses_osc_types_and_instance_as_sub_id(message: object, mtype: int, sub_id: int) -> None:
    route = uplink_route(message)
    assert route is not None
    assert (route.mtype, route.sub_id) == (mtype, sub_id)


def test_setup_and_service_update_are_not_relayed() -> None:
    assert uplink_route(E2setupRequest(1, NODE, [], [])) is None
    assert uplink_route(RICserviceUpdate(1)) is None


def test_node_record_round_trip_and_service_update() -> None:
    record = E2NodeRecord(
        "gnb_001_001_00019b",
        True,
        "127.0.0.1:38000",
        "tcp",
        "127.0.0.1:5000",
        1.5,
        ranFunctions=[RanFunctionRecord(2, 1, "o2", "aa"), RanFunctionRecord(3, 1, "o3", "bb")],
    )
    assert E2NodeRecord.from_json(record.to_json()) == record
    record.apply_service_update(
        [RANfunctionItem(4, b"\x01\x02", 1, "o4")],
        [RANfunctionItem(2, b"\xff", 2, "o2")],
        [RANfunctionIDItem(3, 1)],
    )
    assert [
        (f.ranFunctionID, f.ranFunctionRevision, f.ranFunctionDefinition) for f in record.ranFunctions
    ] == [(2, 2, "ff"), (4, 1, "0102")]
