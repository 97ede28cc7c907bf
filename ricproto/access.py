"""PEP <-> PDP access messages (RMR ``TWINRIC_ACCESS_REQ`` 30100, ``TWINRIC_ACCESS_RESP`` 30101,
``TWINRIC_ACCESS_REVOKE`` 30102).

A policy enforcement point (inside an xApp) asks the zero-trust PDP whether ``subject`` may perform
``action`` on ``resource`` given ``context``; the PDP answers PERMIT or DENY with a reason and a TTL
for which the answer may be cached. Payloads are compact JSON objects; ``request_id`` pairs an answer
with its request (the PDP echoes it; RMR transaction ids are not relied on).

Request:  ``{"request_id", "subject", "action", "resource", "context": {str: str|int|float|bool},
            "ts", "nonce", "sig"}``
Response: ``{"request_id", "decision": "PERMIT"|"DENY", "reason", "ttl_s", "decision_id",
            "policy_version", "grant"}``
Revocation: ``{"revocation_id", "subject", "reason", "issued", "sig"}``

Signing (RMR authenticates nobody): ``ts`` (Unix ms), ``nonce`` (hex, unique per request) and
``sig``, the subject's Ed25519 signature (unpadded base64url) over :func:`canonical_request`: the
domain tag ``twinric-access-request-v1`` and a newline, then the JSON object of every field but
``sig`` with sorted keys, no whitespace and ASCII escapes (``json.dumps(sort_keys=True,
separators=(",", ":"))``). A verifier re-serialises the decoded fields, so the signer must use the
same form. Requests without the three fields still decode (older PEPs); the PDP denies them.
The response's ``grant`` (unpadded base64url of :mod:`ricproto.grant` bytes) is what e2term needs
to forward a RIC control; revocations are signed by the PDP in the same way
(:func:`canonical_revocation`). Optional fields are omitted from the JSON when empty.

Every decoding failure raises :class:`AccessCodecError` naming the message, field and reason.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar

from ricproto import identity, mtypes

ContextValue = str | int | float | bool
MAX_TTL_S = 86_400.0
REQUEST_TAG = b"twinric-access-request-v1\n"
REVOCATION_TAG = b"twinric-access-revocation-v1\n"
MAX_NONCE_LEN = 64


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
    ts_ms: int = 0  # when the PEP signed it (Unix ms); 0 = unsigned
    nonce: str = ""
    signature: str = ""  # base64url Ed25519 signature over canonical_request()

    mtype: ClassVar[int] = mtypes.TWINRIC_ACCESS_REQ

    def cache_key(self) -> tuple[str, str, str]:
        return (self.subject, self.action, self.resource)

    @property
    def signed(self) -> bool:
        return bool(self.signature and self.nonce and self.ts_ms)


@dataclass(frozen=True)
class AccessResponse:
    request_id: str
    decision: Decision
    reason: str = ""
    ttl_s: float = 0.0
    decision_id: str = ""  # the PDP's decision log id
    policy_version: str = ""
    grant: str = ""  # base64url ricproto.grant bytes (PERMITs of actions on an E2 node)

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
    if req.ts_ms or req.nonce or req.signature:
        body.update(ts=req.ts_ms, nonce=req.nonce, sig=req.signature)
    return json.dumps(body, separators=(",", ":")).encode()


def decode_request(data: bytes) -> AccessRequest:
    message = "TWINRIC_ACCESS_REQ"
    obj = _load(message, data)
    ts = obj.get("ts", 0)
    if isinstance(ts, bool) or not isinstance(ts, int) or ts < 0:
        raise AccessCodecError(message, f"must be a non-negative integer (Unix ms), got {ts!r}", "ts")
    nonce = obj.get("nonce", "")
    if not isinstance(nonce, str) or len(nonce) > MAX_NONCE_LEN:
        raise AccessCodecError(message, f"must be a string of at most {MAX_NONCE_LEN} characters", "nonce")
    sig = obj.get("sig", "")
    if not isinstance(sig, str):
        raise AccessCodecError(message, "must be a string", "sig")
    return AccessRequest(
        _text(message, obj, "request_id"),
        _text(message, obj, "subject"),
        _text(message, obj, "action"),
        _text(message, obj, "resource"),
        _context(message, obj.get("context")),
        ts,
        nonce,
        sig,
    )


def salvage_request_id(data: bytes) -> str | None:
    """The ``request_id`` of a request that failed to decode, when there is one to answer to."""
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    rid = obj.get("request_id") if isinstance(obj, dict) else None
    return rid if isinstance(rid, str) and 0 < len(rid) <= 128 else None


def canonical_request(req: AccessRequest) -> bytes:
    """The bytes a PEP signs and the PDP verifies (every field but the signature)."""
    body = {
        "request_id": req.request_id,
        "subject": req.subject,
        "action": req.action,
        "resource": req.resource,
        "context": req.context,
        "ts": req.ts_ms,
        "nonce": req.nonce,
    }
    return REQUEST_TAG + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign_request(
    req: AccessRequest,
    key: identity.Ed25519PrivateKey,
    *,
    now_ms: int | None = None,
    nonce: str | None = None,
) -> AccessRequest:
    """``req`` with a fresh timestamp and nonce, signed by ``key``."""
    stamped = replace(
        req, ts_ms=int(time.time() * 1000) if now_ms is None else now_ms, nonce=nonce or secrets.token_hex(12)
    )
    return replace(stamped, signature=identity.b64encode(key.sign(canonical_request(stamped))))


def verify_request(req: AccessRequest, public: identity.Ed25519PublicKey) -> bool:
    try:
        signature = identity.b64decode(req.signature)
    except identity.IdentityError:
        return False
    return identity.verify(public, signature, canonical_request(req))


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
    for name in ("decision_id", "policy_version", "grant"):
        if getattr(resp, name):
            body[name] = getattr(resp, name)
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
    optional = {}
    for name in ("reason", "decision_id", "policy_version", "grant"):
        value = obj.get(name, "")
        if not isinstance(value, str):
            raise AccessCodecError(message, "must be a string", name)
        optional[name] = value
    return AccessResponse(
        request_id,
        decision,
        optional["reason"],
        _ttl(message, obj.get("ttl_s", 0.0)),
        optional["decision_id"],
        optional["policy_version"],
        optional["grant"],
    )


# ---- revocation (PDP -> every PEP) ---------------------------------------------------------------


@dataclass(frozen=True)
class AccessRevocation:
    """Drop every cached permit that involves ``subject`` (as the actor, or as the E2 node / UE acted on),
    and refuse grants for it issued at or before ``issued_ms``."""

    revocation_id: str
    subject: str
    reason: str
    issued_ms: int
    signature: str = ""  # base64url Ed25519 signature of the PDP over canonical_revocation()

    mtype: ClassVar[int] = mtypes.TWINRIC_ACCESS_REVOKE


def canonical_revocation(rev: AccessRevocation) -> bytes:
    body = {
        "revocation_id": rev.revocation_id,
        "subject": rev.subject,
        "reason": rev.reason,
        "issued": rev.issued_ms,
    }
    return REVOCATION_TAG + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign_revocation(rev: AccessRevocation, key: identity.Ed25519PrivateKey) -> AccessRevocation:
    return replace(rev, signature=identity.b64encode(key.sign(canonical_revocation(rev))))


def verify_revocation(rev: AccessRevocation, public: identity.Ed25519PublicKey) -> bool:
    try:
        signature = identity.b64decode(rev.signature)
    except identity.IdentityError:
        return False
    return identity.verify(public, signature, canonical_revocation(rev))


def encode_revocation(rev: AccessRevocation) -> bytes:
    message = "TWINRIC_ACCESS_REVOKE"
    for name in ("revocation_id", "subject"):
        if not getattr(rev, name):
            raise AccessCodecError(message, "must be a non-empty string", name)
    body = {
        "revocation_id": rev.revocation_id,
        "subject": rev.subject,
        "reason": rev.reason,
        "issued": rev.issued_ms,
        "sig": rev.signature,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def decode_revocation(data: bytes) -> AccessRevocation:
    message = "TWINRIC_ACCESS_REVOKE"
    obj = _load(message, data)
    issued = obj.get("issued")
    if isinstance(issued, bool) or not isinstance(issued, int) or issued < 0:
        raise AccessCodecError(message, f"must be a non-negative integer (Unix ms), got {issued!r}", "issued")
    reason, sig = obj.get("reason", ""), obj.get("sig", "")
    if not isinstance(reason, str):
        raise AccessCodecError(message, "must be a string", "reason")
    if not isinstance(sig, str):
        raise AccessCodecError(message, "must be a string", "sig")
    return AccessRevocation(
        _text(message, obj, "revocation_id"), _text(message, obj, "subject"), reason, issued, sig
    )


def revocation_covers(revoked: str, subject: str, resource: str) -> bool:
    """Does a revocation of ``revoked`` touch a permit of ``subject`` on ``resource``?

    The subject itself, or the thing acted on: ``e2node:X`` covers every resource under
    ``e2node:X/...``; a UE covers resources that name it (a path segment of the resource).
    """
    return revoked == subject or revoked in resource.split("/")
