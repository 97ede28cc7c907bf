"""Policy enforcement point: ask the zero-trust PDP over RMR before acting, cache answers for their TTL.

Cached answers are refreshed ahead of expiry (a request sent in the background when less than
``refresh_fraction`` of the TTL is left), so a loop acting on the same resources keeps a warm cache.
``check`` blocks the caller (the control loop's worker thread, never the RMR dispatch thread, which
delivers the answers to ``on_response``) for at most ``timeout_s``. No answer in time, or no route to
the PDP, counts as unreachable: the decision is DENY unless ``fail_open`` is configured, and it is
counted either way. Unreachable decisions are not cached, so the next control asks again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from ricproto import access, grant, identity, mtypes
from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.common.pep")

Send = Callable[[int, bytes], bool]  # (mtype, payload) -> sent


@dataclass(frozen=True)
class PepDecision:
    permitted: bool
    reason: str
    cause: str  # "pdp" | "cache" | "pdp_unreachable"
    grant: bytes | None = None  # the RAN grant of a PERMIT (ricproto.grant bytes)
    decision_id: str = ""


_NO_GRANT = (b"", 0.0)  # (grant bytes, when it expires in time.monotonic() seconds)


class _Waiter:
    __slots__ = ("event", "response")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.response: access.AccessResponse | None = None


class PepClient:
    def __init__(
        self,
        subject: str,
        send: Send,
        metrics: XappMetrics,
        *,
        timeout_s: float = 0.05,
        fail_open: bool = False,
        max_cache: int = 10_000,
        refresh_fraction: float = 0.2,
        signing_key: identity.Ed25519PrivateKey | None = None,
        pdp_public_key: identity.Ed25519PublicKey | None = None,
    ) -> None:
        self.subject = subject
        self.signing_key = signing_key
        self.pdp_public_key = pdp_public_key
        self.send = send
        self.metrics = metrics
        self.timeout_s = timeout_s
        self.fail_open = fail_open
        self.max_cache = max_cache
        self._lock = threading.Lock()
        # key -> (expires at, response, ttl, (grant bytes, grant expires at)); times are monotonic s
        self._cache: dict[
            tuple[str, str, str], tuple[float, access.AccessResponse, float, tuple[bytes, float]]
        ] = {}
        self._pending: dict[str, _Waiter] = {}
        self._refreshes: dict[str, tuple[tuple[str, str, str], float]] = {}  # request id -> (key, sent at)
        self._refreshing: set[tuple[str, str, str]] = set()
        self.refresh_fraction = refresh_fraction
        self._decisions = metrics.counter(
            "twinric_pep_decisions", "PEP decisions by outcome and cause", ("decision", "cause")
        )
        self._revocations = metrics.counter("twinric_pep_revocations", "PDP revocations obeyed")
        self.last_unreachable = 0.0

    def check(
        self, action: str, resource: str, context: dict[str, access.ContextValue] | None = None
    ) -> PepDecision:
        key = (self.subject, action, resource)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            refresh = False
            # a permit whose grant has run out is no use for a control: ask again
            if hit is not None and (hit[0] <= now or (hit[3][0] and hit[3][1] <= now)):
                hit = None
            if hit is not None:
                expires, resp, ttl, (grant_bytes, _) = hit
                # refresh ahead: ask again before the entry expires, without waiting for the answer,
                # so a steady loop never pays a PDP round trip for a resource it keeps acting on
                refresh = expires - now < self.refresh_fraction * ttl and key not in self._refreshing
                if refresh:
                    self._refreshing.add(key)
        if hit is not None:
            if refresh:
                self._refresh(key, action, resource, context)
            return self._count(
                PepDecision(resp.permitted, resp.reason, "cache", grant_bytes or None, resp.decision_id)
            )
        request_id = uuid.uuid4().hex
        req = self._request(request_id, action, resource, context)
        waiter = _Waiter()
        with self._lock:
            self._pending[request_id] = waiter
        try:
            sent = self.send(mtypes.TWINRIC_ACCESS_REQ, access.encode_request(req))
            answered = sent and waiter.event.wait(self.timeout_s)
        finally:
            with self._lock:
                self._pending.pop(request_id, None)
        if not answered or waiter.response is None:
            self.metrics.error("pdp_unreachable")
            self.last_unreachable = time.monotonic()
            why = (
                "no route to the PDP" if not sent else f"no PDP answer within {self.timeout_s * 1000:.0f} ms"
            )
            log.warning(
                "PEP: %s for %s on %s: %s",
                why,
                action,
                resource,
                "permitting (fail-open)" if self.fail_open else "denying",
            )
            return self._count(PepDecision(self.fail_open, f"PDP unreachable: {why}", "pdp_unreachable"))
        resp = waiter.response
        grant_entry = self._store(key, resp, now)
        return self._count(
            PepDecision(resp.permitted, resp.reason, "pdp", grant_entry[0] or None, resp.decision_id)
        )

    def _request(
        self, request_id: str, action: str, resource: str, context: dict[str, access.ContextValue] | None
    ) -> access.AccessRequest:
        req = access.AccessRequest(request_id, self.subject, action, resource, dict(context or {}))
        return access.sign_request(req, self.signing_key) if self.signing_key is not None else req

    def _grant(self, resp: access.AccessResponse, asked_at: float) -> tuple[bytes, float]:
        """The response's grant and when it runs out (monotonic s); a malformed grant is dropped."""
        if not resp.grant or not resp.permitted:
            return _NO_GRANT
        try:
            raw = identity.b64decode(resp.grant)
            g = grant.decode_grant(raw)
        except (identity.IdentityError, grant.GrantError) as exc:
            self.metrics.error("pdp_bad_grant")
            log.error("grant in PDP answer %s unusable: %s", resp.request_id, exc)
            return _NO_GRANT
        # the grant's own clock is the PDP's wall clock: map its remaining life onto ours
        return raw, asked_at + max(0.0, g.expires_ms / 1000.0 - time.time())

    def _store(
        self, key: tuple[str, str, str], resp: access.AccessResponse, asked_at: float
    ) -> tuple[bytes, float]:
        grant_entry = self._grant(resp, asked_at)
        with self._lock:
            self._refreshing.discard(key)
            if resp.ttl_s <= 0:
                self._cache.pop(key, None)
                return grant_entry
            if len(self._cache) >= self.max_cache:
                self._prune(asked_at)
            self._cache[key] = (asked_at + resp.ttl_s, resp, resp.ttl_s, grant_entry)
        return grant_entry

    def _refresh(
        self,
        key: tuple[str, str, str],
        action: str,
        resource: str,
        context: dict[str, access.ContextValue] | None,
    ) -> None:
        request_id = uuid.uuid4().hex
        req = self._request(request_id, action, resource, context)
        now = time.monotonic()
        with self._lock:
            for rid in [r for r, (_, at) in self._refreshes.items() if now - at > 30.0]:  # never answered
                self._refreshing.discard(self._refreshes.pop(rid)[0])
            self._refreshes[request_id] = (key, now)
        if not self.send(mtypes.TWINRIC_ACCESS_REQ, access.encode_request(req)):
            with self._lock:
                self._refreshes.pop(request_id, None)
                self._refreshing.discard(key)

    def on_response(self, payload: bytes) -> None:
        """Deliver a ``TWINRIC_ACCESS_RESP`` (called from the RMR dispatch thread)."""
        try:
            resp = access.decode_response(payload)
        except access.AccessCodecError as exc:
            self.metrics.error("pdp_bad_response")
            log.error("malformed TWINRIC_ACCESS_RESP: %s", exc)
            return
        with self._lock:
            waiter = self._pending.get(resp.request_id)
            refresh = self._refreshes.pop(resp.request_id, None)
        if refresh is not None:
            self._store(refresh[0], resp, refresh[1])
            return
        if waiter is None:
            self.metrics.error("pdp_late_response")
            return
        waiter.response = resp
        waiter.event.set()

    def on_revocation(self, payload: bytes) -> int:
        """Obey a ``TWINRIC_ACCESS_REVOKE``: drop the cached answers it covers; returns how many."""
        try:
            rev = access.decode_revocation(payload)
        except access.AccessCodecError as exc:
            self.metrics.error("pdp_bad_revocation")
            log.error("malformed TWINRIC_ACCESS_REVOKE: %s", exc)
            return 0
        if self.pdp_public_key is not None and not access.verify_revocation(rev, self.pdp_public_key):
            self.metrics.error("pdp_forged_revocation")
            log.warning(
                "revocation %s of %s not signed by the PDP: obeyed anyway", rev.revocation_id, rev.subject
            )
        with self._lock:
            dropped = [k for k in self._cache if access.revocation_covers(rev.subject, k[0], k[2])]
            for k in dropped:
                del self._cache[k]
        self._revocations.inc()
        log.info("PDP revoked %s (%s): %d cached answer(s) dropped", rev.subject, rev.reason, len(dropped))
        return len(dropped)

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()

    def _prune(self, now: float) -> None:
        for k in [k for k, (exp, *_) in self._cache.items() if exp <= now]:
            del self._cache[k]
        while len(self._cache) >= self.max_cache:
            self._cache.pop(next(iter(self._cache)))

    def _count(self, decision: PepDecision) -> PepDecision:
        self._decisions.labels(
            decision="permit" if decision.permitted else "deny", cause=decision.cause
        ).inc()
        return decision
