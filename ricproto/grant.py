"""RAN grants: the PDP's short-lived, signed permission for one xApp to send one kind of RIC control to
one E2 node, and the xApp's proof that a control comes from the grant's holder.

A grant travels with each RIC_CONTROL_REQ in the RMR header's **trace** field, the only part of an RMR
message besides the payload that a sender can fill and that RMR delivers untouched (the payload is the
E2AP PDU the E2 node receives; xid, meid and sub_id have fixed meanings). The E2 termination checks it
before forwarding, with no round trip to the PDP: the PDP's signature (Ed25519, its public key is all
e2term needs), the time window, the E2 node (RMR meid) and the action (from the E2SM-RC control
header), and the proof: the xApp's own Ed25519 signature over the grant id and the SHA-256 of this
control's E2AP payload, made with the key whose public half the PDP put into the grant. A grant copied
off the wire is useless without that key, and a proof covers exactly one payload.

Wire layout (integers big-endian)::

    trace := grant_len u16 | grant | proof (64)
    grant := "TWG1" | issued_ms u64 | expires_ms u64 | grant_id (16) | xapp_key (32)
             | len u8 + subject | len u8 + action | len u8 + meid | pdp_signature (64)

The PDP's signature covers ``grant`` up to itself; the proof covers ``PROOF_TAG | grant_id |
sha256(payload)``. Decoding failures raise :class:`GrantError` naming the field.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass, replace

from ricproto import identity

MAGIC = b"TWG1"
PROOF_TAG = b"twinric-control-proof-v1\n"
GRANT_ID_LEN = 16
_FIXED = struct.Struct(">QQ16s32s")
MAX_TEXT = 255


class GrantError(ValueError):
    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"grant.{field}: {reason}" if field else f"grant: {reason}")


@dataclass(frozen=True, slots=True)
class RanGrant:
    grant_id: bytes
    subject: str  # e.g. "xapp:twinric-control"
    action: str  # e.g. "rc.handover"
    meid: str  # the E2 node (RMR meid / RAN name)
    xapp_key: bytes  # raw Ed25519 public key of the subject
    issued_ms: int
    expires_ms: int
    signature: bytes = b""

    def valid_at(self, now_ms: int, skew_ms: int = 2000) -> bool:
        return self.issued_ms - skew_ms <= now_ms < self.expires_ms


def _text(value: str, name: str) -> bytes:
    data = value.encode()
    if not data or len(data) > MAX_TEXT:
        raise GrantError(f"must be 1..{MAX_TEXT} bytes of UTF-8", name)
    return bytes((len(data),)) + data


def grant_body(g: RanGrant) -> bytes:
    if len(g.grant_id) != GRANT_ID_LEN:
        raise GrantError(f"must be {GRANT_ID_LEN} bytes", "grant_id")
    if len(g.xapp_key) != identity.PUBLIC_KEY_LEN:
        raise GrantError(f"must be {identity.PUBLIC_KEY_LEN} bytes", "xapp_key")
    return b"".join(
        (
            MAGIC,
            _FIXED.pack(g.issued_ms, g.expires_ms, g.grant_id, g.xapp_key),
            _text(g.subject, "subject"),
            _text(g.action, "action"),
            _text(g.meid, "meid"),
        )
    )


def encode_grant(g: RanGrant) -> bytes:
    if len(g.signature) != identity.SIGNATURE_LEN:
        raise GrantError("grant is not signed", "signature")
    return grant_body(g) + g.signature


def decode_grant(data: bytes) -> RanGrant:
    if data[:4] != MAGIC:
        raise GrantError("not a twinric grant (magic)", "magic")
    pos = 4 + _FIXED.size
    if len(data) < pos + 3 + identity.SIGNATURE_LEN:
        raise GrantError(f"{len(data)} bytes is too short", "length")
    issued, expires, grant_id, xapp_key = _FIXED.unpack_from(data, 4)
    texts = []
    for name in ("subject", "action", "meid"):
        n = data[pos] if pos < len(data) else 0
        chunk = data[pos + 1 : pos + 1 + n]
        if n == 0 or len(chunk) != n:
            raise GrantError("length runs past the grant", name)
        try:
            texts.append(chunk.decode())
        except UnicodeDecodeError:
            raise GrantError("not UTF-8", name) from None
        pos += 1 + n
    signature = data[pos:]
    if len(signature) != identity.SIGNATURE_LEN:
        raise GrantError(f"must be {identity.SIGNATURE_LEN} bytes, got {len(signature)}", "signature")
    if expires <= issued:
        raise GrantError("expires before it is issued", "expires_ms")
    return RanGrant(grant_id, texts[0], texts[1], texts[2], xapp_key, issued, expires, signature)


def issue_grant(
    pdp_key: identity.Ed25519PrivateKey,
    subject: str,
    action: str,
    meid: str,
    xapp_key: bytes,
    now_ms: int,
    ttl_ms: int,
) -> RanGrant:
    g = RanGrant(os.urandom(GRANT_ID_LEN), subject, action, meid, xapp_key, now_ms, now_ms + max(1, ttl_ms))
    return replace(g, signature=pdp_key.sign(grant_body(g)))


def verify_grant(g: RanGrant, pdp_public: identity.Ed25519PublicKey) -> bool:
    try:
        body = grant_body(g)
    except GrantError:
        return False
    return identity.verify(pdp_public, g.signature, body)


def proof_message(grant_id: bytes, payload: bytes) -> bytes:
    return PROOF_TAG + grant_id + hashlib.sha256(payload).digest()


def control_trace(grant: bytes, payload: bytes, xapp_key: identity.Ed25519PrivateKey) -> bytes:
    """The RMR trace bytes of one control: the grant as the PDP sent it and the proof for ``payload``."""
    grant_id = grant[4 + 16 : 4 + 16 + GRANT_ID_LEN]
    proof = xapp_key.sign(proof_message(grant_id, payload))
    return struct.pack(">H", len(grant)) + grant + proof


def split_trace(trace: bytes) -> tuple[bytes, bytes]:
    """(grant bytes, proof) of a control's trace; GrantError when it is not one of ours."""
    if len(trace) < 2:
        raise GrantError("no grant in the RMR trace", "trace")
    (n,) = struct.unpack_from(">H", trace)
    grant, proof = trace[2 : 2 + n], trace[2 + n :]
    if len(grant) != n or len(proof) != identity.SIGNATURE_LEN:
        raise GrantError(f"trace of {len(trace)} bytes is not grant({n}) + proof(64)", "trace")
    return grant, proof


def verify_proof(g: RanGrant, proof: bytes, payload: bytes) -> bool:
    try:
        public = identity.public_key_from_raw(g.xapp_key)
    except (identity.IdentityError, ValueError):
        return False
    return identity.verify(public, proof, proof_message(g.grant_id, payload))
