"""PEP <-> PDP access messages: round trips, the wire shape, and clear errors on bad input."""

from __future__ import annotations

import json

import pytest

from ricproto import access


def test_request_round_trip_and_wire_shape():
    req = access.AccessRequest(
        "r1", "xapp:control", "rc.handover", "e2node:gnb_1/cell:17", {"ue": 5, "x": True}
    )
    data = access.encode_request(req)
    assert json.loads(data) == {
        "request_id": "r1",
        "subject": "xapp:control",
        "action": "rc.handover",
        "resource": "e2node:gnb_1/cell:17",
        "context": {"ue": 5, "x": True},
    }
    assert access.decode_request(data) == req


def test_response_round_trip_and_permitted():
    resp = access.AccessResponse("r1", access.Decision.DENY, "trust score 0.2 < 0.5", 30.0)
    back = access.decode_response(access.encode_response(resp))
    assert back == resp and not back.permitted
    assert access.decode_response(b'{"request_id":"a","decision":"PERMIT"}').permitted


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b'{"request_id":"a","decision":"MAYBE","ttl_s":1}', "decision"),
        (b'{"request_id":"a","decision":"PERMIT","ttl_s":-1}', "ttl_s"),
        (b'{"request_id":"a","decision":"PERMIT","ttl_s":"10"}', "ttl_s"),
        (b'{"decision":"PERMIT"}', "request_id"),
    ],
)
def test_bad_responses_name_the_field(data, field):
    with pytest.raises(access.AccessCodecError) as err:
        access.decode_response(data)
    assert err.value.field == field


@pytest.mark.parametrize(
    "data",
    [
        b"\xff",
        b"[1]",
        b'{"request_id":"a","subject":"s","action":"a"}',
        b'{"request_id":"a","subject":"s","action":"a","resource":"r","context":[1]}',
    ],
)
def test_bad_requests_raise_codec_error(data):
    with pytest.raises(access.AccessCodecError):
        access.decode_request(data)
