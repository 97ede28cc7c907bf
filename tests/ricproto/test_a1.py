"""A1 RMR payload codec: both 20010 forms, 20011, 20012, and clear errors on bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ricproto import a1

GO_CREATE = (
    b'{"operation":"CREATE","policy_type_id":"20008","policy_instance_id":"tsapolicy145",'
    b'"payload":"{\\"threshold\\":5}"}'
)
OBJECT_CREATE = (
    b'{"operation":"CREATE","policy_type_id":20008,"policy_instance_id":"tsapolicy145",'
    b'"payload":{"threshold":5}}'
)


def test_decodes_go_mediator_string_form() -> None:
    req = a1.decode_policy_request(GO_CREATE)
    assert req == a1.A1PolicyRequest(a1.A1Operation.CREATE, 20008, "tsapolicy145", {"threshold": 5})


def test_decodes_documented_object_form() -> None:
    req = a1.decode_policy_request(OBJECT_CREATE)
    assert req == a1.A1PolicyRequest(a1.A1Operation.CREATE, 20008, "tsapolicy145", {"threshold": 5})


def test_go_form_encodes_every_value_as_a_string() -> None:
    req = a1.A1PolicyRequest(a1.A1Operation.UPDATE, 7, "p1", {"a": [1, 2], "b": "x"})
    obj = json.loads(a1.encode_policy_request(req, form="go"))
    assert all(isinstance(v, str) for v in obj.values())
    assert obj["policy_type_id"] == "7"
    assert json.loads(obj["payload"]) == {"a": [1, 2], "b": "x"}
    assert a1.decode_policy_request(a1.encode_policy_request(req, form="go")) == req
    assert a1.decode_policy_request(a1.encode_policy_request(req, form="object")) == req


def test_delete_has_empty_payload_in_go_form() -> None:
    req = a1.A1PolicyRequest(a1.A1Operation.DELETE, 3, "gone", None)
    obj = json.loads(a1.encode_policy_request(req))
    assert obj["payload"] == "" and obj["operation"] == "DELETE"
    assert a1.decode_policy_request(a1.encode_policy_request(req)).payload is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"not json", None),
        (b"[1,2]", None),
        (b'{"policy_type_id":"1","policy_instance_id":"x","payload":"{}"}', "operation"),
        (b'{"operation":"PATCH","policy_type_id":"1","policy_instance_id":"x","payload":"{}"}', "operation"),
        (
            b'{"operation":"CREATE","policy_type_id":"abc","policy_instance_id":"x","payload":"{}"}',
            "policy_type_id",
        ),
        (
            b'{"operation":"CREATE","policy_type_id":0,"policy_instance_id":"x","payload":{}}',
            "policy_type_id",
        ),
        (
            b'{"operation":"CREATE","policy_type_id":true,"policy_instance_id":"x","payload":{}}',
            "policy_type_id",
        ),
        (
            b'{"operation":"CREATE","policy_type_id":1,"policy_instance_id":"","payload":{}}',
            "policy_instance_id",
        ),
        (b'{"operation":"CREATE","policy_type_id":1,"policy_instance_id":"x","payload":"{oops"}', "payload"),
        (b'{"operation":"CREATE","policy_type_id":1,"policy_instance_id":"x","payload":"[1]"}', "payload"),
        (b'{"operation":"CREATE","policy_type_id":1,"policy_instance_id":"x","payload":""}', "payload"),
    ],
)
def test_bad_requests_raise_a1_codec_error_naming_the_field(data: bytes, field: str | None) -> None:
    with pytest.raises(a1.A1CodecError) as info:
        a1.decode_policy_request(data)
    assert info.value.field == field
    assert info.value.message == "A1_POLICY_REQ"
    assert info.value.reason


def test_response_type_id_is_a_json_number() -> None:
    resp = a1.A1PolicyResponse(20008, "p1", "ts-xapp", a1.A1HandlerStatus.OK)
    obj = json.loads(a1.encode_policy_response(resp))
    assert obj == {
        "policy_type_id": 20008,
        "policy_instance_id": "p1",
        "handler_id": "ts-xapp",
        "status": "OK",
    }
    assert a1.decode_policy_response(a1.encode_policy_response(resp)) == resp


def test_response_tolerates_string_type_id_but_not_unknown_status() -> None:
    resp = a1.decode_policy_response(
        b'{"policy_type_id":"5","policy_instance_id":"i","handler_id":"h","status":"DELETED"}'
    )
    assert resp.policy_type_id == 5 and resp.status is a1.A1HandlerStatus.DELETED
    with pytest.raises(a1.A1CodecError, match="status"):
        a1.decode_policy_response(
            b'{"policy_type_id":5,"policy_instance_id":"i","handler_id":"h","status":"MAYBE"}'
        )
    with pytest.raises(a1.A1CodecError, match="handler_id"):
        a1.decode_policy_response(b'{"policy_type_id":5,"policy_instance_id":"i","status":"OK"}')


def test_query_round_trip_and_errors() -> None:
    assert a1.encode_policy_query(a1.A1PolicyQuery(20008)) == b'{"policy_type_id":20008}'
    assert a1.decode_policy_query(b'{"policy_type_id":"20008"}') == a1.A1PolicyQuery(20008)
    with pytest.raises(a1.A1CodecError, match="policy_type_id"):
        a1.decode_policy_query(b"{}")
    with pytest.raises(a1.A1CodecError):
        a1.encode_policy_query(a1.A1PolicyQuery(a1.MAX_POLICY_TYPE_ID + 1))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    op=st.sampled_from(list(a1.A1Operation)),
    type_id=st.integers(1, a1.MAX_POLICY_TYPE_ID),
    iid=st.text(min_size=1, max_size=20),
    payload=st.dictionaries(st.text(max_size=6), json_values, max_size=4),
    form=st.sampled_from(["go", "object"]),
)
def test_request_round_trips_in_both_forms(op, type_id, iid, payload, form) -> None:
    body = None if op is a1.A1Operation.DELETE else payload
    req = a1.A1PolicyRequest(op, type_id, iid, body)
    decoded = a1.decode_policy_request(a1.encode_policy_request(req, form=form))
    assert decoded.operation is op and decoded.policy_type_id == type_id
    assert decoded.policy_instance_id == iid
    assert decoded.payload == body


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_anything_but_a1_codec_error(data: bytes) -> None:
    decoders = (
        (a1.decode_policy_request, a1.A1PolicyRequest),
        (a1.decode_policy_response, a1.A1PolicyResponse),
        (a1.decode_policy_query, a1.A1PolicyQuery),
    )
    for decode, kind in decoders:
        try:
            out = decode(data)
        except a1.A1CodecError as exc:
            assert str(exc)  # a clear reason, never a bare error
            continue
        assert isinstance(out, kind)
