"""The policy enforcement point in front of the RAN: which RIC control requests e2term forwards.

With the gate enforcing, a RIC_CONTROL_REQ reaches its E2 node only when its RMR trace carries a RAN
grant of the zero-trust PDP (``ricproto.grant``) that

* is signed by the PDP (its Ed25519 public key is the only key e2term needs; a verified grant is
  cached, so a grant reused by many controls is verified once),
* is live (issued - skew <= now < expires) and not issued at or before a revocation of its subject or
  of its E2 node (``TWINRIC_ACCESS_REVOKE``, verified with the same key),
* names this message's E2 node (RMR meid) and this control's action (``rc.handover``, ... from the
  E2SM-RC control header),
* comes with the holder's proof for exactly this E2AP payload (the xApp's signature, checked with the
  public key inside the grant), seen for the first time (a replayed frame is refused).

No round trip to the PDP per control. Every refusal has a reason code, is counted and logged; the
termination answers it with a RICcontrolFailure. Modes: ``enforce``; ``audit`` (check, count and log,
but forward anyway: for trying the policy on a running RIC); ``off``. ``allow_ungranted``: shell
patterns of RMR sender names (``src``, ``host:port``) an operator lets through without a grant, e.g.
a third-party xApp that knows nothing of twinric's PDP (counted as ``allowed_ungranted``).
"""

from __future__ import annotations

import fnmatch
import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ricproto import access, grant, identity
from ricproto.e2ap import E2CodecError, RICcontrolRequest, decode
from ricproto.e2sm import rc
from ricproto.rmr import RmrMessage


class GateMode(StrEnum):
    OFF = "off"
    AUDIT = "audit"
    ENFORCE = "enforce"


@dataclass(frozen=True)
class GateVerdict:
    forward: bool
    code: str  # "granted", "allowed_ungranted", "gate_off", or the refusal reason
    detail: str = ""
    subject: str | None = None
    request: RICcontrolRequest | None = None  # the decoded control, when it decoded


@functools.lru_cache(maxsize=1024)
def _action_of(ran_function_id: int, header: bytes) -> str:
    """The grant action a control performs (headers repeat: decoded once each)."""
    if ran_function_id != rc.RAN_FUNCTION_ID:
        return f"ranfunction{ran_function_id}"
    return rc.control_action(header)


class ControlGate:
    def __init__(
        self,
        mode: GateMode,
        pdp_public_key: identity.Ed25519PublicKey | None,
        allow_ungranted: Sequence[str] = (),
        *,
        clock: Callable[[], float] = time.time,
        skew_ms: int = 2000,
        max_grants: int = 4096,
    ) -> None:
        if mode is not GateMode.OFF and pdp_public_key is None:
            raise ValueError(f"control gate mode {mode} needs the PDP's public key")
        self.mode = mode
        self.pdp_public_key = pdp_public_key
        self.allow_ungranted = tuple(allow_ungranted)
        self.clock = clock
        self.skew_ms = skew_ms
        self.max_grants = max_grants
        self._lock = threading.Lock()
        self._grants: OrderedDict[bytes, grant.RanGrant] = OrderedDict()  # verified, by their bytes
        self._proofs: dict[bytes, int] = {}  # proof -> its grant's expiry (ms)
        self._revoked: dict[str, int] = {}  # subject -> revoked at (ms)

    # --- revocation -------------------------------------------------------------------------------
    def revoke(self, payload: bytes) -> tuple[bool, str]:
        """Apply a ``TWINRIC_ACCESS_REVOKE``; (applied, why not)."""
        try:
            rev = access.decode_revocation(payload)
        except access.AccessCodecError as exc:
            return False, f"malformed: {exc}"
        if self.pdp_public_key is None or not access.verify_revocation(rev, self.pdp_public_key):
            return False, f"revocation of {rev.subject} is not signed by the PDP"
        with self._lock:
            self._revoked[rev.subject] = max(rev.issued_ms, self._revoked.get(rev.subject, 0))
        return True, rev.subject

    # --- the check --------------------------------------------------------------------------------
    def check(self, message: RmrMessage) -> GateVerdict:
        if self.mode is GateMode.OFF:
            return GateVerdict(True, "gate_off")
        try:
            pdu = decode(message.payload)
            if not isinstance(pdu, RICcontrolRequest):
                raise E2CodecError("RIC_CONTROL_REQ", f"carries {type(pdu).__name__}")
        except E2CodecError as exc:
            return self._verdict(GateVerdict(False, "malformed_control", str(exc)))
        verdict = self._check(message, pdu)
        if not verdict.forward and any(fnmatch.fnmatchcase(message.src, p) for p in self.allow_ungranted):
            verdict = GateVerdict(True, "allowed_ungranted", f"{message.src} allowed by the operator")
        return self._verdict(GateVerdict(verdict.forward, verdict.code, verdict.detail, verdict.subject, pdu))

    def _verdict(self, v: GateVerdict) -> GateVerdict:
        if self.mode is GateMode.AUDIT and not v.forward:
            return GateVerdict(True, v.code, f"audit only: {v.detail}", v.subject, v.request)
        return v

    def _check(self, message: RmrMessage, pdu: RICcontrolRequest) -> GateVerdict:
        if not message.trace:
            return GateVerdict(False, "no_grant", "the control carries no grant (RMR trace empty)")
        try:
            raw, proof = grant.split_trace(message.trace)
        except grant.GrantError as exc:
            return GateVerdict(False, "malformed_grant", str(exc))
        g = self._verified(raw)
        if isinstance(g, GateVerdict):
            return g
        now_ms = int(self.clock() * 1000)
        if not g.valid_at(now_ms, self.skew_ms):
            return GateVerdict(
                False, "grant_expired", f"grant valid {g.issued_ms}..{g.expires_ms}, now {now_ms}", g.subject
            )
        revoked = max(self._revoked.get(g.subject, 0), self._revoked.get(f"e2node:{g.meid}", 0))
        if g.issued_ms <= revoked:
            return GateVerdict(
                False, "grant_revoked", f"grant issued before a revocation at {revoked}", g.subject
            )
        if g.meid != message.meid:
            return GateVerdict(
                False, "grant_wrong_node", f"grant is for {g.meid}, control for {message.meid}", g.subject
            )
        try:
            action = _action_of(pdu.ranFunctionID, pdu.ricControlHeader)
        except E2CodecError as exc:
            return GateVerdict(False, "malformed_control", f"control header: {exc}", g.subject)
        if action != g.action:
            return GateVerdict(
                False, "grant_wrong_action", f"grant is for {g.action}, control is {action}", g.subject
            )
        if not grant.verify_proof(g, proof, message.payload):
            return GateVerdict(False, "bad_proof", "the sender does not hold the grant's key", g.subject)
        with self._lock:
            if proof in self._proofs:
                return GateVerdict(
                    False, "replayed_control", "this exact control was forwarded before", g.subject
                )
            self._proofs[proof] = g.expires_ms
            if len(self._proofs) > 4 * self.max_grants:
                self._proofs = {p: e for p, e in self._proofs.items() if e > now_ms}
        return GateVerdict(True, "granted", f"grant {g.grant_id.hex()}", g.subject)

    def _verified(self, raw: bytes) -> grant.RanGrant | GateVerdict:
        with self._lock:
            g = self._grants.get(raw)
            if g is not None:
                self._grants.move_to_end(raw)
                return g
        try:
            g = grant.decode_grant(raw)
        except grant.GrantError as exc:
            return GateVerdict(False, "malformed_grant", str(exc))
        assert self.pdp_public_key is not None
        if not grant.verify_grant(g, self.pdp_public_key):
            return GateVerdict(False, "bad_grant_signature", "grant not signed by the PDP", g.subject)
        with self._lock:
            self._grants[raw] = g
            while len(self._grants) > self.max_grants:
                self._grants.popitem(last=False)
        return g
