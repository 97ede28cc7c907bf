"""Codec of the A1 policy messages carried over RMR (payloads of mtypes 20010, 20011, 20012).

Two forms of ``A1_POLICY_REQ`` (20010) exist in the field and both are decoded:

* the documented contract (and the pre-G Python mediator): ``policy_type_id`` a JSON number and
  ``payload`` a JSON object;
* the Go mediator (G release onward): every value a string, so ``policy_type_id`` is ``"20008"`` and
  ``payload`` is JSON *text* (``""`` on DELETE).

``A1_POLICY_RESP`` (20011) must carry ``policy_type_id`` as a JSON number: the Go mediator
type-asserts a float64 and would crash on a string, so the encoder never emits one.
Every decoding failure raises :class:`A1CodecError` naming the message, field and reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Literal

from ricproto import mtypes

MAX_POLICY_TYPE_ID = 2147483647

RequestForm = Literal["go", "object"]


class A1CodecError(ValueError):
    """An A1 RMR payload could not be decoded or encoded; ``reason`` says why."""

    def __init__(self, message: str, reason: str, field: str | None = None) -> None:
        self.message = message
        self.field = field
        self.reason = reason
        where = f"{message}.{field}" if field else message
        super().__init__(f"{where}: {reason}")


class A1Operation(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class A1HandlerStatus(StrEnum):
    OK = "OK"
    ERROR = "ERROR"
    DELETED = "DELETED"


@dataclass(frozen=True)
class A1PolicyRequest:
    """``A1_POLICY_REQ`` (20010), mediator to xApp; sent with RMR sub_id = ``policy_type_id``."""

    operation: A1Operation
    policy_type_id: int
    policy_instance_id: str
    payload: dict[str, Any] | None  # None on DELETE

    mtype: ClassVar[int] = mtypes.A1_POLICY_REQ


@dataclass(frozen=True)
class A1PolicyResponse:
    """``A1_POLICY_RESP`` (20011), xApp to mediator."""

    policy_type_id: int
    policy_instance_id: str
    handler_id: str
    status: A1HandlerStatus

    mtype: ClassVar[int] = mtypes.A1_POLICY_RESP


@dataclass(frozen=True)
class A1PolicyQuery:
    """``A1_POLICY_QUERY`` (20012), xApp to mediator: re-send every instance of this type."""

    policy_type_id: int

    mtype: ClassVar[int] = mtypes.A1_POLICY_QUERY


def validate_policy_type_id(value: int, message: str = "A1") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_POLICY_TYPE_ID:
        raise A1CodecError(message, f"must be an integer in 1..{MAX_POLICY_TYPE_ID}, got {value!r}",
                           "policy_type_id")
    return value


def _load_object(message: str, data: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise A1CodecError(message, f"payload is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise A1CodecError(message, f"payload must be a JSON object, got {type(obj).__name__}")
    return obj


def _field(message: str, obj: dict[str, Any], name: str) -> Any:
    if name not in obj:
        raise A1CodecError(message, "missing", name)
    return obj[name]


def _type_id(message: str, value: Any) -> int:
    """Accept a JSON number or its decimal text (the Go mediator and hw-python send strings)."""
    if isinstance(value, bool):
        raise A1CodecError(message, f"must be an integer, got {value!r}", "policy_type_id")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            raise A1CodecError(message, f"must be an integer, got {value!r}", "policy_type_id")
        value = int(text)
    if not isinstance(value, int):
        raise A1CodecError(message, f"must be an integer, got {value!r}", "policy_type_id")
    return validate_policy_type_id(value, message)


def _text(message: str, obj: dict[str, Any], name: str) -> str:
    value = _field(message, obj, name)
    if not isinstance(value, str) or not value:
        raise A1CodecError(message, f"must be a non-empty string, got {value!r}", name)
    return value


def encode_policy_request(request: A1PolicyRequest, form: RequestForm = "go") -> bytes:
    """Encode a 20010 payload; ``form="go"`` gives the strings-only form the current OSC mediator sends."""
    validate_policy_type_id(request.policy_type_id, "A1_POLICY_REQ")
    if not request.policy_instance_id:
        raise A1CodecError("A1_POLICY_REQ", "must be a non-empty string", "policy_instance_id")
    if request.operation is not A1Operation.DELETE and request.payload is None:
        raise A1CodecError("A1_POLICY_REQ", f"required for {request.operation}", "payload")
    if form == "go":
        body: dict[str, Any] = {
            "operation": str(request.operation),
            "policy_type_id": str(request.policy_type_id),
            "policy_instance_id": request.policy_instance_id,
            "payload": "" if request.payload is None else json.dumps(request.payload, separators=(",", ":")),
        }
    elif form == "object":
        body = {
            "operation": str(request.operation),
            "policy_type_id": request.policy_type_id,
            "policy_instance_id": request.policy_instance_id,
            "payload": {} if request.payload is None else request.payload,
        }
    else:
        raise A1CodecError("A1_POLICY_REQ", f"unknown form {form!r} (go or object)")
    return json.dumps(body, separators=(",", ":")).encode()


def decode_policy_request(data: bytes) -> A1PolicyRequest:
    """Decode a 20010 payload in either form."""
    message = "A1_POLICY_REQ"
    obj = _load_object(message, data)
    op_text = _field(message, obj, "operation")
    try:
        operation = A1Operation(op_text)
    except ValueError:
        reason = f"must be CREATE, UPDATE or DELETE, got {op_text!r}"
        raise A1CodecError(message, reason, "operation") from None
    type_id = _type_id(message, _field(message, obj, "policy_type_id"))
    instance_id = _text(message, obj, "policy_instance_id")
    raw = obj.get("payload")
    payload: dict[str, Any] | None
    if isinstance(raw, str):
        if raw.strip() == "":
            payload = None
        else:
            try:
                payload = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise A1CodecError(message, f"string payload is not JSON: {exc}", "payload") from None
    else:
        payload = raw
    if payload is not None and not isinstance(payload, dict):
        raise A1CodecError(message, f"must be a JSON object, got {type(payload).__name__}", "payload")
    if operation is A1Operation.DELETE:
        payload = payload or None
    elif payload is None:
        raise A1CodecError(message, f"required for {operation}", "payload")
    return A1PolicyRequest(operation, type_id, instance_id, payload)


def encode_policy_response(response: A1PolicyResponse) -> bytes:
    validate_policy_type_id(response.policy_type_id, "A1_POLICY_RESP")
    body = {
        "policy_type_id": response.policy_type_id,
        "policy_instance_id": response.policy_instance_id,
        "handler_id": response.handler_id,
        "status": str(A1HandlerStatus(response.status)),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def decode_policy_response(data: bytes) -> A1PolicyResponse:
    message = "A1_POLICY_RESP"
    obj = _load_object(message, data)
    type_id = _type_id(message, _field(message, obj, "policy_type_id"))
    instance_id = _text(message, obj, "policy_instance_id")
    handler_id = _text(message, obj, "handler_id")
    status_text = _field(message, obj, "status")
    try:
        status = A1HandlerStatus(status_text)
    except ValueError:
        raise A1CodecError(message, f"must be OK, ERROR or DELETED, got {status_text!r}", "status") from None
    return A1PolicyResponse(type_id, instance_id, handler_id, status)


def encode_policy_query(query: A1PolicyQuery) -> bytes:
    validate_policy_type_id(query.policy_type_id, "A1_POLICY_QUERY")
    return json.dumps({"policy_type_id": query.policy_type_id}, separators=(",", ":")).encode()


def decode_policy_query(data: bytes) -> A1PolicyQuery:
    message = "A1_POLICY_QUERY"
    obj = _load_object(message, data)
    return A1PolicyQuery(_type_id(message, _field(message, obj, "policy_type_id")))
