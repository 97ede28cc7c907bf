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

from ricproto import access, mtypes
from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.common.pep")

Send = Callable[[int, bytes], bool]  # (mtype, payload) -> sent


@dataclass(frozen=True)
class PepDecision:
    permitted: bool
    reason: str
    cause: str  # "pdp" | "cache" | "pdp_unreachable"


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
    ) -> None:
        self.subject = subject
        self.send = send
        self.metrics = metrics
        self.timeout_s = timeout_s
        self.fail_open = fail_open
        self.max_cache = max_cache
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str, str], tuple[float, access.AccessResponse, float]] = {}
        self._pending: dict[str, _Waiter] = {}
        self._refreshes: dict[str, tuple[tuple[str, str, str], float]] = {}  # request id -> (key, sent at)
        self._refreshing: set[tuple[str, str, str]] = set()
        self.refresh_fraction = refresh_fraction
        self._decisions = metrics.counter(
            "twinric_pep_decisions", "PEP decisions by outcome and cause", ("decision", "cause")
        )
        self.last_unreachable = 0.0

    def check(
        self, action: str, resource: str, context: dict[str, access.ContextValue] | None = None
    ) -> PepDecision:
        key = (self.subject, action, resource)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            refresh = False
            if hit is not None and hit[0] > now:
                expires, resp, ttl = hit
                # refresh ahead: ask again before the entry expires, without waiting for the answer,
                # so a steady loop never pays a PDP round trip for a resource it keeps acting on
                refresh = expires - now < self.refresh_fraction * ttl and key not in self._refreshing
                if refresh:
                    self._refreshing.add(key)
        if hit is not None and hit[0] > now:
            if refresh:
                self._refresh(key, action, resource, context)
            return self._count(PepDecision(resp.permitted, resp.reason, "cache"))
        request_id = uuid.uuid4().hex
        req = access.AccessRequest(request_id, self.subject, action, resource, dict(context or {}))
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
        self._store(key, resp, now)
        return self._count(PepDecision(resp.permitted, resp.reason, "pdp"))

    def _store(self, key: tuple[str, str, str], resp: access.AccessResponse, asked_at: float) -> None:
        with self._lock:
            self._refreshing.discard(key)
            if resp.ttl_s <= 0:
                self._cache.pop(key, None)
                return
            if len(self._cache) >= self.max_cache:
                self._prune(asked_at)
            self._cache[key] = (asked_at + resp.ttl_s, resp, resp.ttl_s)

    def _refresh(
        self,
        key: tuple[str, str, str],
        action: str,
        resource: str,
        context: dict[str, access.ContextValue] | None,
    ) -> None:
        request_id = uuid.uuid4().hex
        req = access.AccessRequest(request_id, self.subject, action, resource, dict(context or {}))
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

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()

    def _prune(self, now: float) -> None:
        for k in [k for k, (exp, _, _) in self._cache.items() if exp <= now]:
            del self._cache[k]
        while len(self._cache) >= self.max_cache:
            self._cache.pop(next(iter(self._cache)))

    def _count(self, decision: PepDecision) -> PepDecision:
        self._decisions.labels(
            decision="permit" if decision.permitted else "deny", cause=decision.cause
        ).inc()
        return decision
