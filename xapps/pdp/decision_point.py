"""The policy decision point: authenticate, look up trust, evaluate Cedar, grant, log. One batch at a time.

Per request, in this order, and the first failure decides (every DENY has its own ``code``):

1. ``malformed``: the bytes are not an access request (answered when a request id can be salvaged);
2. ``no_policy``: no zero-trust policy in force (nothing has come over A1 yet);
3. ``unknown_subject``: the subject is not ``xapp:<name>`` with a provisioned public key;
4. ``unsigned`` / ``bad_signature`` / ``stale_request`` / ``replayed``: identity and freshness;
5. ``trust_missing`` / ``trust_stale``: no record, or a stale one, for the subject, for the E2 node the
   resource belongs to, or for a UE it names;
6. Cedar, for the whole batch in one ``is_authorized_batch`` over the compiled policy set and the
   trust entities: ``permitted`` (the permit policies that matched), ``forbidden`` (the forbid
   policies that matched), ``evaluation_error`` (a policy could not be evaluated and none permitted),
   ``no_permit``.

A PERMIT of an action on an E2 node comes with a RAN grant (``ricproto.grant``) bound to the subject's
public key, the action and the node; a live grant for the same triple is reused while more than half
its life is left, and never after a revocation that covers it. The TTL a PEP may cache the answer for
is the policy's (permit or deny) and never outlives the grant.

Decisions get gap-free sequence numbers and go to the decision log in that order; ``decide_*`` may be
called from several threads (RMR batches, REST).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import cedarpy

from ricproto import access, grant, identity
from xapps.common.metrics import XappMetrics
from xapps.pdp.cedar_request import ResourceRef, cedar_request, parse_resource, principal_uid
from xapps.pdp.decision_log import DecisionLog, DecisionRecord, iso
from xapps.pdp.replay_guard import ReplayGuard
from xapps.pdp.trust_view import TrustView
from xapps.pdp.zero_trust_policy import ZeroTrustPolicy

log = logging.getLogger("xapps.pdp")

OnPermit = Callable[[list[str], float, float], None]  # (trust subjects relied on, threshold, until)


@dataclass
class _Item:
    """One request on its way through a batch."""

    request: access.AccessRequest | None
    request_id: str  # "" when not even that could be read
    code: str = ""
    reason: str = ""
    ref: ResourceRef | None = None
    trust: dict[str, float] = field(default_factory=dict)
    cedar: dict | None = None
    policies: list[str] = field(default_factory=list)
    response: access.AccessResponse | None = None


class PolicyDecisionPoint:
    def __init__(
        self,
        trust: TrustView,
        keys: identity.KeyRing,
        decision_log: DecisionLog,
        signing_key: identity.Ed25519PrivateKey,
        metrics: XappMetrics,
        *,
        replay: ReplayGuard | None = None,
        clock: Callable[[], float] = time.time,
        on_permit: OnPermit | None = None,
    ) -> None:
        self.trust = trust
        self.keys = keys
        self.log = decision_log
        self.signing_key = signing_key
        self.metrics = metrics
        self.replay = replay or ReplayGuard()
        self.clock = clock
        self.on_permit = on_permit
        self.policy: ZeroTrustPolicy | None = None
        self.boot_id = secrets.token_hex(4)
        self._lock = threading.Lock()
        self._seq = 0
        self._grants: dict[tuple[str, str, str], tuple[str, int, int, str]] = {}  # -> (b64, issued, exp, id)
        self._revoked: dict[str, int] = {}  # subject -> last revocation (Unix ms)
        self.by_code: Counter[str] = Counter()
        self._decisions = metrics.counter(
            "twinric_pdp_decisions", "PDP decisions by result and reason code", ("decision", "code")
        )
        self._decision_children: dict[tuple[str, str], Any] = {}  # labels() once per (decision, code)

    # --- policy and revocation (from A1 and the revocation watch) ----------------------------------
    def set_policy(self, policy: ZeroTrustPolicy | None) -> None:
        with self._lock:
            self.policy = policy
            self._grants.clear()  # grants were issued under the old rules
        log.info("zero-trust policy in force: %s", policy.version if policy else "none (deny all)")

    def revoked(self, subject: str, at_ms: int) -> None:
        """Forget grants a revocation of ``subject`` covers, and never reuse them."""
        with self._lock:
            self._revoked[subject] = at_ms
            for key in [k for k in self._grants if access.revocation_covers(subject, k[0], f"e2node:{k[2]}")]:
                del self._grants[key]

    @property
    def decisions(self) -> int:
        return self._seq

    # --- entry points --------------------------------------------------------------------------------
    def decide_payloads(self, payloads: Sequence[bytes], channel: str = "rmr") -> list[bytes | None]:
        """Encoded answers to encoded requests (None where there is nobody to answer)."""
        items = []
        for data in payloads:
            try:
                req = access.decode_request(data)
            except access.AccessCodecError as exc:
                rid = access.salvage_request_id(data) or ""
                items.append(_Item(None, rid, "malformed", f"malformed request: {exc}"))
                continue
            items.append(_Item(req, req.request_id))
        self._run(items, channel, authenticate=True, grants=True)
        return [access.encode_response(i.response) if i.response is not None else None for i in items]

    def decide_requests(
        self,
        requests: Sequence[access.AccessRequest],
        channel: str = "rest",
        *,
        authenticate: bool = True,
        grants: bool | None = None,
    ) -> list[access.AccessResponse]:
        """Decide decoded requests. ``authenticate=False`` skips identity and freshness (a dry run, or
        a request authenticated elsewhere); ``grants`` (default: as ``authenticate``) issues RAN grants
        and cacheable TTLs, which a dry run never gets."""
        items = [_Item(r, r.request_id) for r in requests]
        grants = authenticate if grants is None else grants
        self._run(items, channel, authenticate=authenticate, grants=grants)
        return [
            i.response or access.AccessResponse(i.request_id or "-", access.Decision.DENY, i.reason)
            for i in items
        ]

    def decide_malformed(self, request_id: str, reason: str, channel: str) -> access.AccessResponse:
        """Record (and answer) a request that was refused before it could be decoded (REST)."""
        item = _Item(None, request_id, "malformed", f"malformed request: {reason}")
        self._run([item], channel, authenticate=True, grants=True)
        return item.response or access.AccessResponse(request_id or "-", access.Decision.DENY, item.reason)

    # --- the pipeline ---------------------------------------------------------------------------------
    def _run(self, items: list[_Item], channel: str, *, authenticate: bool, grants: bool) -> None:
        policy = self.policy
        now = self.clock()
        now_ms = int(now * 1000)
        pending: list[_Item] = []
        for item in items:
            if not item.code:
                self._screen(item, policy, now, now_ms, authenticate)
            if not item.code:
                pending.append(item)
        if pending and policy is not None:
            self._evaluate(pending, policy)
        self._conclude(items, policy, channel, now, grants)

    def _screen(
        self, item: _Item, policy: ZeroTrustPolicy | None, now: float, now_ms: int, authenticate: bool
    ) -> None:
        req = item.request
        assert req is not None
        if policy is None:
            item.code, item.reason = "no_policy", "no zero-trust policy in force"
            return
        principal = principal_uid(req.subject)
        public = None
        if principal is None or principal["type"] != "Xapp":
            item.code, item.reason = (
                "unknown_subject",
                f"{req.subject!r} is not an xApp subject (xapp:<name>)",
            )
            return
        if authenticate:
            public = self.keys.get(principal["id"])
            if public is None:
                item.code, item.reason = "unknown_subject", f"no public key provisioned for {req.subject}"
                return
            if not req.signed:
                item.code, item.reason = "unsigned", "request carries no signature (ts, nonce, sig)"
                return
            if not access.verify_request(req, public):
                item.code, item.reason = (
                    "bad_signature",
                    f"signature does not verify with {req.subject}'s key",
                )
                return
            why = self.replay.check(req.subject, req.nonce, req.ts_ms, now_ms)
            if why is not None:
                window = self.replay.window_ms
                item.code = why
                item.reason = (
                    f"request stamped {req.ts_ms - now_ms:+d} ms from now, outside ±{window} ms"
                    if why == "stale_request"
                    else f"nonce {req.nonce} already used by {req.subject}"
                )
                return
        ref = parse_resource(req.resource)
        item.ref = ref
        for subject in (req.subject, ref.node_subject, ref.ue_subject):
            if subject is None:
                continue
            rec = self.trust.get(subject)
            if rec is None:
                if subject == ref.ue_subject:
                    continue  # a UE the twin has not scored: the policy decides without it
                item.code, item.reason = "trust_missing", f"no trust score for {subject}"
                return
            if rec.stale(now, policy.trust_max_age_s):
                limit = rec.ttl_s if rec.ttl_s is not None else policy.trust_max_age_s
                item.code = "trust_stale"
                item.reason = f"trust score of {subject} is {rec.age_s(now):.1f} s old (limit {limit:g} s)"
                item.trust[subject] = rec.score
                return
            item.trust[subject] = rec.score
        if ref.ue_subject and ref.ue_subject not in item.trust:
            ref = replace(ref, ue=None)  # no UE entity: `context has ue` is false for the policies
        item.cedar = cedar_request(req, ref, policy.min_trust_milli(ref.resource_class))

    def _evaluate(self, pending: list[_Item], policy: ZeroTrustPolicy) -> None:
        entities = self.trust.entities
        try:
            results = cedarpy.is_authorized_batch([i.cedar for i in pending], policy.policy_set, entities)
        except Exception as exc:  # one unusable request must not sink the batch: evaluate one by one
            log.warning("Cedar batch failed (%s): evaluating one by one", exc)
            results = []
            for item in pending:
                try:
                    results.append(cedarpy.is_authorized(item.cedar, policy.policy_set, entities))
                except Exception as one:
                    results.append(one)
        names = policy.policy_ids
        for item, result in zip(pending, results, strict=True):
            if isinstance(result, Exception):
                item.code, item.reason = "evaluation_error", f"Cedar could not evaluate the request: {result}"
                continue
            diagnostics = result.diagnostics
            item.policies = [names.get(p, p) for p in diagnostics.reasons]
            if result.allowed:
                item.code, item.reason = "permitted", f"permitted by {', '.join(item.policies)}"
            elif item.policies:
                item.code, item.reason = "forbidden", f"forbidden by {', '.join(item.policies)}"
            elif diagnostics.errors:
                item.code, item.reason = "evaluation_error", "; ".join(diagnostics.errors)
            else:
                item.code, item.reason = "no_permit", "no policy permits this request"

    def _conclude(
        self, items: list[_Item], policy: ZeroTrustPolicy | None, channel: str, now: float, grants: bool
    ) -> None:
        version = policy.version if policy else ""
        now_ms = int(now * 1000)
        stamp = iso(now)
        with self._lock:
            for item in items:
                self._seq += 1
                decision_id = f"{self.boot_id}-{self._seq}"
                permitted = item.code == "permitted"
                ttl = 0.0
                grant_b64, grant_id = "", ""
                if permitted and policy is not None:
                    ttl = policy.permit_ttl_s
                    req, ref = item.request, item.ref
                    if grants and req is not None and ref is not None and ref.meid:
                        grant_b64, grant_id, expires_ms = self._grant(req, ref.meid, policy, now_ms)
                        ttl = min(ttl, max(0.0, (expires_ms - now_ms) / 1000.0))
                    if grants and self.on_permit is not None and req is not None and ref is not None:
                        relied = [
                            s for s in (req.subject, ref.node_subject, ref.ue_subject) if s in item.trust
                        ]
                        self.on_permit(relied, policy.threshold(ref.resource_class), now + ttl)
                elif policy is not None and item.code not in (
                    "malformed",
                    "unsigned",
                    "bad_signature",
                    "replayed",
                ):
                    ttl = policy.deny_ttl_s if grants else 0.0
                if not grants:
                    ttl = 0.0
                decision = access.Decision.PERMIT if permitted else access.Decision.DENY
                reason = f"{item.code}: {item.reason}" if item.reason else item.code
                if item.request_id:
                    item.response = access.AccessResponse(
                        item.request_id, decision, reason, ttl, decision_id, version, grant_b64
                    )
                req = item.request
                self.log.record(
                    DecisionRecord(
                        decision_id=decision_id,
                        seq=self._seq,
                        ts=stamp,
                        request={
                            "request_id": item.request_id,
                            "subject": req.subject if req else None,
                            "action": req.action if req else None,
                            "resource": req.resource if req else None,
                            "context": req.context if req else {},
                            "channel": channel,
                        },
                        result=str(decision),
                        reason=reason,
                        code=item.code,
                        policies=item.policies,
                        trust=item.trust,
                        policy_version=version,
                        grant_id=grant_id,
                    )
                )
                self.by_code[item.code] += 1
                child = self._decision_children.get((decision, item.code))
                if child is None:
                    child = self._decisions.labels(decision=str(decision).lower(), code=item.code)
                    self._decision_children[(decision, item.code)] = child
                child.inc()
                if item.code == "malformed":
                    self.metrics.error("malformed_request")

    def _grant(
        self, req: access.AccessRequest, meid: str, policy: ZeroTrustPolicy, now_ms: int
    ) -> tuple[str, str, int]:
        """(base64url grant, grant id hex, expires ms) for the request's (subject, action, node)."""
        key = (req.subject, req.action, meid)
        cached = self._grants.get(key)
        if cached is not None:
            b64, issued, expires, gid = cached
            revoked = max(self._revoked.get(req.subject, 0), self._revoked.get(f"e2node:{meid}", 0))
            if expires - now_ms > (expires - issued) // 2 and issued > revoked:
                return b64, gid, expires
        xapp_key = self.keys.raw(req.subject.partition(":")[2])
        if xapp_key is None:  # dry runs of subjects without keys get no grant
            return "", "", now_ms + int(policy.permit_ttl_s * 1000)
        g = grant.issue_grant(
            self.signing_key, req.subject, req.action, meid, xapp_key, now_ms, int(policy.grant_ttl_s * 1000)
        )
        b64 = identity.b64encode(grant.encode_grant(g))
        self._grants[key] = (b64, g.issued_ms, g.expires_ms, g.grant_id.hex())
        return b64, g.grant_id.hex(), g.expires_ms
