"""ricxappframe's E2AP helpers (``ricxappframe.e2ap.asn1``) on the pure-Python libriclibe2ap.

The helpers are ricxappframe's own code, unchanged; only the C library under them is ours. Every test
goes through them (or, for the functions they do not wrap, through ``asn1_c_lib`` as ctypes would) and
checks the bytes with ``ricproto.e2ap``.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest
from ricxappframe.e2ap.asn1 import (
    ActionDefinition,
    ControlRequestMsg,
    IndicationMsg,
    SubRequestMsg,
    SubResponseMsg,
    SubsequentAction,
)
from ricxappframe.e2ap.asn1clib.asn1clib import asn1_c_lib

from ricproto import e2ap


def test_the_library_under_ricxappframe_is_ours() -> None:
    import ricxappframe.e2ap.asn1clib.asn1clib as module

    assert module.__name__ == "ricproto.xappframe_e2ap"
    with pytest.raises(AttributeError, match="undefined symbol: e2ap_no_such_function"):
        asn1_c_lib.e2ap_no_such_function  # noqa: B018 - what ctypes does for a missing symbol


def indication(**overrides: object) -> e2ap.RICindication:
    fields = dict(
        ricRequestID=e2ap.RICrequestID(21, 7),
        ranFunctionID=2,
        ricActionID=3,
        ricIndicationType=e2ap.RICindicationType.insert,
        ricIndicationHeader=b"\x01hdr",
        ricIndicationMessage=b"message-body",
        ricIndicationSN=11,
        ricCallProcessID=b"cp",
    )
    fields.update(overrides)
    return e2ap.RICindication(**fields)  # type: ignore[arg-type]


def test_indication_decodes_every_field() -> None:
    msg = IndicationMsg()
    msg.decode(e2ap.encode(indication()))
    assert msg.request_sequence_number == 7 and msg.function_id == 2 and msg.action_id == 3
    assert msg.indication_sequence_number == 11 and msg.indication_type == 1
    assert (msg.indication_header, msg.indication_message, msg.call_process_id) == (
        b"\x01hdr",
        b"message-body",
        b"cp",
    )
    # ricxappframe's wrapper overwrites the requestor id with 1 before reading it: its behaviour, kept.
    assert msg.request_id == 1


def test_indication_without_optional_ies() -> None:
    msg = IndicationMsg()
    msg.decode(e2ap.encode(indication(ricIndicationSN=None, ricCallProcessID=None)))
    assert msg.indication_sequence_number == 0 and msg.call_process_id == b""


@pytest.mark.parametrize(
    "payload",
    [
        e2ap.encode(
            e2ap.RICsubscriptionDeleteRequest(e2ap.RICrequestID(1, 2), 3)
        ),  # an E2AP PDU, another message
        b"\x00\x05garbage",
        b"",
    ],
)
def test_anything_but_an_indication_fails_as_with_the_c_library(payload: bytes) -> None:
    with pytest.raises(ValueError, match="NULL pointer access"):  # the C library returns NULL here too
        IndicationMsg().decode(payload)


def test_subscription_response_with_admitted_and_refused_actions() -> None:
    refused = [
        e2ap.RICactionNotAdmittedItem(4, e2ap.CauseRICrequest.action_not_supported),
        e2ap.RICactionNotAdmittedItem(5, e2ap.CauseMisc.unspecified),
        e2ap.RICactionNotAdmittedItem(6, e2ap.CauseE2node.e2node_component_unknown),
    ]
    pdu = e2ap.encode(e2ap.RICsubscriptionResponse(e2ap.RICrequestID(9, 44), 2, [1, 2, 3], refused))
    msg = SubResponseMsg()
    msg.decode(pdu)
    assert (msg.request_id, msg.request_sequence_number, msg.function_id) == (9, 44, 2)
    assert msg.action_admitted_list.count == 3 and list(msg.action_admitted_list.request_id)[:3] == [1, 2, 3]
    refused_list = msg.action_not_admitted_list
    assert refused_list.count == 3 and list(refused_list.request_id)[:3] == [4, 5, 6]
    causes = [(c.cause_type, c.cause_id) for c in refused_list.cause[:3]]
    # ricRequest is CHOICE position 1, misc 6; the library's switch has no e2Node case: 0, 0
    assert causes == [(1, e2ap.CauseRICrequest.action_not_supported.value), (6, 3), (0, 0)]


def test_subscription_request_encodes_what_it_was_given() -> None:
    definition = ActionDefinition()
    definition.action_definition, definition.size = b"\x01\x02\x03", 3
    follow = SubsequentAction()
    follow.is_valid, follow.subsequent_action_type, follow.time_to_wait = 1, 1, 3
    bare_definition, no_follow = ActionDefinition(), SubsequentAction()
    size, payload = SubRequestMsg().encode(
        5, 6, 2, b"\x08\x27", [1, 2], [0, 2], [definition, bare_definition], [follow, no_follow]
    )
    assert len(payload) == 1024 and payload[size:] == bytes(
        1024 - size
    )  # the whole buffer, as the wrapper returns
    request = e2ap.decode(payload[:size])
    assert request == e2ap.RICsubscriptionRequest(
        e2ap.RICrequestID(5, 6),
        2,
        e2ap.RICsubscriptionDetails(
            b"\x08\x27",
            [
                e2ap.RICactionToBeSetupItem(
                    1,
                    e2ap.RICactionType.report,
                    b"\x01\x02\x03",
                    e2ap.RICsubsequentAction(e2ap.RICsubsequentActionType.wait, e2ap.RICtimeToWait.w10ms),
                ),
                e2ap.RICactionToBeSetupItem(2, e2ap.RICactionType.policy),
            ],
        ),
    )


def test_control_request_optional_ies_follow_the_library() -> None:
    size, payload = ControlRequestMsg().encode(1, 2, 3, b"cp", b"header", b"message", -1)
    assert e2ap.decode(payload[:size]) == e2ap.RICcontrolRequest(
        e2ap.RICrequestID(1, 2), 3, b"header", b"message", ricCallProcessID=b"cp", ricControlAckRequest=None
    )
    size, payload = ControlRequestMsg().encode(1, 2, 3, b"", b"h", b"m", 1)
    control = e2ap.decode(payload[:size])
    assert control.ricCallProcessID == b"" and control.ricControlAckRequest is e2ap.RICcontrolAckRequest.ack


def test_encoding_failures_are_minus_one() -> None:
    with pytest.raises(Exception, match="Could not create payload"):
        ControlRequestMsg().encode(1, 2, 3, b"", b"h", b"m", 7)  # no such ack request value
    with pytest.raises(Exception, match="Could not create payload"):
        SubRequestMsg().encode(1, 2, 3, b"\x08", [1], [9], [ActionDefinition()], [SubsequentAction()])
    small = (ctypes.c_uint8 * 8)()
    encode = asn1_c_lib.e2ap_encode_ric_subscription_delete_request_message
    assert encode(small, 8, 1, 2, 3) == -1  # does not fit
    big = (ctypes.c_uint8 * 64)()
    size = encode(big, 64, 1, 2, 3)
    assert e2ap.decode(bytes(big)[:size]) == e2ap.RICsubscriptionDeleteRequest(e2ap.RICrequestID(1, 2), 3)


def test_sequence_number_helpers() -> None:
    request = e2ap.encode(
        e2ap.RICsubscriptionRequest(
            e2ap.RICrequestID(1, 70),
            2,
            e2ap.RICsubscriptionDetails(b"\x08", [e2ap.RICactionToBeSetupItem(1, e2ap.RICactionType.report)]),
        )
    )
    get = asn1_c_lib.e2ap_get_ric_subscription_request_sequence_number
    assert get(request, len(request)) == 70
    assert asn1_c_lib.e2ap_get_ric_subscription_response_sequence_number(request, len(request)) == -1
    buffer = (ctypes.c_uint8 * 256)(*request)
    size = asn1_c_lib.e2ap_set_ric_subscription_request_sequence_number(buffer, 256, 71)
    assert size > 0 and e2ap.decode(bytes(buffer)[:size]).ricRequestID == e2ap.RICrequestID(1, 71)


def test_the_c_library_is_used_when_asked_for() -> None:
    code = "import ricxappframe.e2ap.asn1"
    forced = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TWINRIC_E2AP": "c"},
    )
    assert forced.returncode != 0 and "libriclibe2ap.so" in forced.stderr  # not on this machine
    python = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TWINRIC_E2AP": "python"},
    )
    assert python.returncode == 0, python.stderr
