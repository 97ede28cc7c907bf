"""What other stacks write: kept where the sender may choose (criticalities, IE order, unknown IEs),
refused where the encoding is wrong (octets left over after the PDU, the IE container or a value)."""

from __future__ import annotations

import pytest

from ricproto.e2ap import (
    Criticality,
    E2CodecError,
    RANfunctionIDItem,
    RICcontrolAckRequest,
    RICcontrolRequest,
    RICindication,
    RICindicationType,
    RICrequestID,
    RICserviceQuery,
    RICsubscriptionDeleteRequest,
    RICsubscriptionResponse,
    decode,
    encode,
)

CONTROL = RICcontrolRequest(
    RICrequestID(1, 0),
    3,
    ricControlHeader=b"\x01\x02",
    ricControlMessage=b"\x03\x04\x05",
    ricControlAckRequest=RICcontrolAckRequest.ack,
)


def _ie(ie_id: int, criticality: int, content: bytes) -> bytes:
    return ie_id.to_bytes(2, "big") + bytes((criticality << 6, len(content))) + content


def _pdu(first: int, procedure: int, criticality: int, ies: list[bytes], body_extra: bytes = b"") -> bytes:
    body = b"\x00" + len(ies).to_bytes(2, "big") + b"".join(ies) + body_extra
    return bytes((first, procedure, criticality << 6, len(body))) + body


def _control_ies(ack_criticality: int = 0) -> list[bytes]:
    return [
        _ie(29, 0, bytes.fromhex("0000010000")),
        _ie(5, 0, bytes.fromhex("0003")),
        _ie(22, 0, b"\x02\x01\x02"),
        _ie(23, 0, b"\x03\x03\x04\x05"),
        _ie(21, ack_criticality, b"\x40"),
    ]


# ---- kept: what the spec leaves to the sender ----------------------------------------------------


def test_received_criticalities_reencode_to_the_same_bytes() -> None:
    ours = encode(CONTROL)
    assert ours == _pdu(0x00, 4, 0, _control_ies())  # the spec's criticalities: all reject
    theirs = _pdu(0x00, 4, 1, _control_ies(ack_criticality=1))  # PDU and one IE sent as "ignore"
    message = decode(theirs)
    assert message == CONTROL  # the same message...
    assert encode(message) == theirs  # ...written back the way it came


def test_ie_order_and_unknown_ignored_ies_are_kept_in_place() -> None:
    ies = _control_ies()
    unknown = _ie(999, 1, b"\xab\xcd")  # a newer version's IE, criticality ignore
    theirs = _pdu(0x00, 4, 0, [ies[1], ies[0], unknown, *ies[2:]])
    message = decode(theirs)
    assert message == CONTROL
    assert encode(message) == theirs


def test_a_changed_value_keeps_the_received_form_but_a_removed_ie_drops_it() -> None:
    theirs = _pdu(0x00, 4, 1, _control_ies(ack_criticality=1))
    message = decode(theirs)
    message.ricControlMessage = b"\x09"
    assert encode(message) == _pdu(
        0x00, 4, 1, [*_control_ies(1)[:3], _ie(23, 0, b"\x01\x09"), _control_ies(1)[4]]
    )
    message.ricControlAckRequest = None  # the IE set changed: spec order and criticalities again
    assert encode(message) == _pdu(0x00, 4, 0, [*_control_ies()[:3], _ie(23, 0, b"\x01\x09")])


def test_list_item_criticality_is_kept() -> None:
    response = RICsubscriptionResponse(RICrequestID(1, 2), 3, [7, 8])
    ours = encode(response)
    # the admitted items (id 14) carry criticality ignore (0x40) per the spec; another stack sends reject
    theirs = ours.replace(bytes.fromhex("000e4002000700"), bytes.fromhex("000e0002000700"), 1)
    assert theirs != ours
    decoded = decode(theirs)
    assert decoded == response and decoded.ricActionsAdmitted.criticalities == (
        Criticality.reject,
        Criticality.ignore,
    )
    assert encode(decoded) == theirs


def test_extension_additions_of_the_message_sequence_are_skipped() -> None:
    query = RICserviceQuery(9, [RANfunctionIDItem(2, 1)])
    plain = encode(query)
    body = bytearray(plain[4:])
    body[0] |= 0x80  # extension bit: additions follow the container
    additions = bytes.fromhex("01") + bytes.fromhex("01ff")  # 1 addition (7 bits), present (1 bit); 1 octet
    extended = plain[:3] + bytes((len(body) + len(additions),)) + bytes(body) + additions
    assert decode(extended) == query


# ---- refused: octets after a complete encoding ---------------------------------------------------


def test_octets_after_the_pdu_are_refused_with_their_offset() -> None:
    pdu = encode(CONTROL)
    with pytest.raises(E2CodecError) as err:
        decode(pdu + b"\x00\x00")
    assert err.value.message == "E2AP-PDU"
    assert err.value.reason == f"2 trailing octets after the PDU, at offset {len(pdu)} of {len(pdu) + 2}"


def test_octets_after_the_ie_container_are_refused_with_their_offset() -> None:
    pdu = _pdu(
        0x00,
        9,
        0,
        [_ie(29, 0, bytes.fromhex("0000010002")), _ie(5, 0, bytes.fromhex("0003"))],
        body_extra=b"\x55",
    )
    with pytest.raises(E2CodecError) as err:
        decode(pdu)
    assert err.value.message == "RICsubscriptionDeleteRequest"
    at = len(pdu) - 1
    assert err.value.reason == f"1 trailing octets after the protocol IEs, at offset {at} of the PDU"
    assert decode(pdu[:3] + bytes((pdu[3] - 1,)) + pdu[4:-1]) == RICsubscriptionDeleteRequest(
        RICrequestID(1, 2), 3
    )


@pytest.mark.parametrize(
    ("ie_id", "content", "field"),
    [
        (29, bytes.fromhex("000001000200"), "ricRequestID"),  # RICrequestID: 5 octets and one more
        (5, bytes.fromhex("000300"), "ranFunctionID"),  # RANfunctionID: 2 octets and one more
        (15, bytes.fromhex("0100"), "ricActionID"),
        (25, bytes.fromhex("01aabb"), "ricIndicationHeader"),  # OCTET STRING of 1 octet, then one more
    ],
)
def test_octets_after_an_ie_value_are_refused_naming_the_field(
    ie_id: int, content: bytes, field: str
) -> None:
    good = {
        29: bytes.fromhex("0000010002"),
        5: bytes.fromhex("0003"),
        15: b"\x01",
        28: b"\x00",
        25: b"\x01\xaa",
        26: b"\x01\xbb",
    }
    good[ie_id] = content
    pdu = _pdu(0x00, 5, 1, [_ie(i, 0, good[i]) for i in (29, 5, 15, 28, 25, 26)])
    with pytest.raises(E2CodecError) as err:
        decode(pdu)
    assert err.value.message == "RICindication" and err.value.field == field
    assert "1 trailing octet" in err.value.reason and "offset" in err.value.reason


def test_octets_after_a_list_item_are_refused() -> None:
    response = encode(RICsubscriptionResponse(RICrequestID(1, 2), 3, [7]))
    item = bytes.fromhex("000e40020007")  # id 14, ignore, 2 octets: extension bit + padding, action 7
    assert item in response
    # one more octet in the item; the IE (17) and PDU lengths grow with it
    bad = bytearray(response.replace(item, bytes.fromhex("000e4003000700"), 1))
    bad[3] += 1
    at = bad.index(bytes.fromhex("001100")) + 3
    bad[at] += 1
    with pytest.raises(E2CodecError) as err:
        decode(bytes(bad))
    assert err.value.field == "ricActionsAdmitted" and "item 0: 1 trailing octet" in err.value.reason


def test_indication_round_trip_is_unchanged() -> None:
    indication = RICindication(
        RICrequestID(1, 7), 2, 1, RICindicationType.report, b"h", b"m", ricIndicationSN=5
    )
    assert decode(encode(indication)) == indication
    assert encode(decode(encode(indication))) == encode(indication)


def test_decode_prefix_takes_the_first_pdu_of_a_larger_buffer_and_says_where_it_ends() -> None:
    from ricproto import e2ap

    pdu = e2ap.encode(e2ap.RICsubscriptionDeleteRequest(e2ap.RICrequestID(7, 9), 3))
    message, used = e2ap.decode_prefix(pdu + bytes(40))  # a C caller's buffer: the PDU, then its capacity
    assert used == len(pdu) and message == e2ap.RICsubscriptionDeleteRequest(e2ap.RICrequestID(7, 9), 3)
    with pytest.raises(e2ap.E2CodecError, match=f"40 trailing octets after the PDU, at offset {len(pdu)}"):
        e2ap.decode(pdu + bytes(40))  # a frame holds one PDU: what follows it is an error
    with pytest.raises(e2ap.E2CodecError):
        e2ap.decode_prefix(pdu[:-1])  # a short buffer is still an error
