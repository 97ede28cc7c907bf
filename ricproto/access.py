"""PEP <-> PDP access request/response (RMR ``TWINRIC_ACCESS_REQ`` 30100 / ``TWINRIC_ACCESS_RESP`` 30101).

A policy enforcement point (inside an xApp) asks the zero-trust PDP whether ``subject`` may perform
``action`` on ``resource`` given ``context``; the PDP answers PERMIT or DENY with a reason and a TTL
for which the answer may be cached. Payloads are compact JSON objects; ``request_id`` pairs an answer
with its request (the PDP echoes it; RMR transaction ids are not relied on).

Request:  ``{"request_id", "subject", "action", "resource", "context": {str: str|int|float|bool}}``
Response: ``{"request_id", "decision": "PERMIT"|"DENY", "reason", "ttl_s"}``

Every decoding failure raises :class:`AccessCodecError` naming the message, field and reason.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from ricproto import mtypes

ContextValue = str | int | float | bool
MAX_TTL_S = 86_400.0


class AccessCodecError(ValueError):
    def __init__(self, message: str, reason: str, field: str | None = None) -> None:
        self.message = message
        self.reason = reason
        self.field = field
        super().__init__(f"{message}.{field}: {reason}" if field else f"{message}: {reason}")


class Decision(StrEnum):
    PERMIT = "PERMIT"
    DENY = "DENY"


@dataclass(frozen=True)
class AccessRequest:
    request_id: str
    subject: str  # who acts, e.g. "xapp:twinric-control"
    action: str  # e.g. "rc.handover", "rc.slice_quota"
    resource: str  # what is acted on, e.g. "e2node:gnb_001_001_00000001/cell:17"
    context: dict[str, ContextValue] = field(default_factory=dict)

    mtype: ClassVar[int] = mtypes.TWINRIC_ACCESS_REQ

    def cache_key(self) -> tuple[str, str, str]:
        return (self.subject, self.action, self.resource)


@dataclass(frozen=True)
class AccessResponse:
    request_id: str
    decision: Decision
    reason: str = ""
    ttl_s: float = 0.0

    mtype: ClassVar[int] = mtypes.TWINRIC_ACCESS_RESP

    @property
    def permitted(self) -> bool:
        return self.decision is Decision.PERMIT


def _load(message: str, data: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AccessCodecError(message, f"payload is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise AccessCodecError(message, f"payload must be a JSON object, got {type(obj).__name__}")
    return obj


def _text(message: str, obj: dict[str, Any], name: str, *, allow_empty: bool = False) -> str:
    if name not in obj:
        raise AccessCodecError(message, "missing", name)
    value = obj[name]
    if not isinstance(value, str) or (not value and not allow_empty):
        raise AccessCodecError(message, f"must be a non-empty string, got {value!r}", name)
    return value


def _context(message: str, value: Any) -> dict[str, ContextValue]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AccessCodecError(message, "must be an object", "context")
    for k, v in value.items():
        if not isinstance(v, str | int | float | bool) or (isinstance(v, float) and not math.isfinite(v)):
            raise AccessCodecError(message, f"value of {k!r} must be a string, number or boolean", "context")
    return dict(value)


def encode_request(req: AccessRequest) -> bytes:
    message = "TWINRIC_ACCESS_REQ"
    for name in ("request_id", "subject", "action", "resource"):
        if not getattr(req, name):
            raise AccessCodecError(message, "must be a non-empty string", name)
    body = {
        "request_id": req.request_id,
        "subject": req.subject,
        "action": req.action,
        "resource": req.resource,
        "context": _context(message, req.context),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def decode_request(data: bytes) -> AccessRequest:
    message = "TWINRIC_ACCESS_REQ"
    obj = _load(message, data)
    return AccessRequest(
        _text(message, obj, "request_id"),
        _text(message, obj, "subject"),
        _text(message, obj, "action"),
        _text(message, obj, "resource"),
        _context(message, obj.get("context")),
    )


def _ttl(message: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AccessCodecError(message, f"must be a number, got {value!r}", "ttl_s")
    if not 0 <= value <= MAX_TTL_S:
        raise AccessCodecError(message, f"must be within 0..{MAX_TTL_S:g}, got {value!r}", "ttl_s")
    return float(value)


def encode_response(resp: AccessResponse) -> bytes:
    message = "TWINRIC_ACCESS_RESP"
    if not resp.request_id:
        raise AccessCodecError(message, "must be a non-empty string", "request_id")
    body = {
        "request_id": resp.request_id,
        "decision": str(Decision(resp.decision)),
        "reason": resp.reason,
        "ttl_s": _ttl(message, resp.ttl_s),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def decode_response(data: bytes) -> AccessResponse:
    message = "TWINRIC_ACCESS_RESP"
    obj = _load(message, data)
    request_id = _text(message, obj, "request_id")
    raw = obj.get("decision")
    try:
        decision = Decision(raw)
    except ValueError:
        raise AccessCodecError(message, f"must be PERMIT or DENY, got {raw!r}", "decision") from None
    reason = obj.get("reason", "")
    if not isinstance(reason, str):
        raise AccessCodecError(message, "must be a string", "reason")
    return AccessResponse(request_id, decision, reason, _ttl(message, obj.get("ttl_s", 0.0)))
