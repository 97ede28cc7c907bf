"""Revocation (NIST SP 800-207's policy administrator closing a path): when the trust of a subject that
holds live permits falls below the threshold they were granted under, goes stale or disappears, the
PDP tells every PEP at once (``TWINRIC_ACCESS_REVOKE``, signed) and stops reusing grants that cover it.

The watch learns from every PERMIT which trust subjects it relied on (the xApp, the E2 node, a UE),
the highest threshold relied on and until when a PEP may hold the permit (``note_permit``); it is told
of every trust change (``on_trust_change``, from the trust view) and checks for records going stale
with time (``check_stale``). A subject is revoked once per lapse: it is forgotten until a new permit
relies on it again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from ricproto import access, identity, mtypes, trust
from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.pdp.revocation")

Send = Callable[[int, bytes], bool]


class RevocationWatch:
    def __init__(
        self,
        signing_key: identity.Ed25519PrivateKey,
        send: Send,
        metrics: XappMetrics,
        *,
        trust_of: Callable[[str], trust.TrustRecord | None],
        max_age_s: Callable[[], float],
        on_revoked: Callable[[str, int], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signing_key = signing_key
        self.send = send
        self.metrics = metrics
        self.trust_of = trust_of
        self.max_age_s = max_age_s
        self.on_revoked = on_revoked
        self.clock = clock
        self._lock = threading.Lock()
        self._live: dict[str, tuple[float, float]] = {}  # subject -> (highest threshold, permits live until)
        self.sent: list[access.AccessRevocation] = []  # the last 100
        self.total = 0
        self._count = metrics.counter("twinric_pdp_revocations", "Revocations sent to the PEPs", ("reason",))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def note_permit(self, subjects: list[str], threshold: float, until: float) -> None:
        with self._lock:
            for s in subjects:
                old = self._live.get(s)
                self._live[s] = (
                    max(threshold, old[0]) if old else threshold,
                    max(until, old[1]) if old else until,
                )

    def tracked(self) -> dict[str, tuple[float, float]]:
        with self._lock:
            return dict(self._live)

    def on_trust_change(self, subject: str, record: trust.TrustRecord | None) -> None:
        with self._lock:
            live = self._live.get(subject)
        if live is None or live[1] < self.clock():
            return
        if record is None:
            self.revoke(subject, "trust record removed", "trust_missing")
        elif record.score < live[0]:
            self.revoke(
                subject, f"trust {record.score:.3f} fell below {live[0]:.3f}", "trust_below_threshold"
            )

    def check_stale(self) -> None:
        now = self.clock()
        with self._lock:
            live = {s: v for s, v in self._live.items() if v[1] >= now}
            self._live = live
        for subject in live:
            rec = self.trust_of(subject)
            if rec is None:
                self.revoke(subject, "trust record missing", "trust_missing")
            elif rec.stale(now, self.max_age_s()):
                self.revoke(subject, f"trust record {rec.age_s(now):.0f} s old", "trust_stale")

    def revoke(self, subject: str, reason: str, kind: str = "operator") -> access.AccessRevocation:
        issued = int(self.clock() * 1000)
        rev = access.sign_revocation(
            access.AccessRevocation(uuid.uuid4().hex, subject, reason, issued), self.signing_key
        )
        with self._lock:
            self._live.pop(subject, None)
        if self.on_revoked is not None:
            self.on_revoked(subject, issued)
        sent = self.send(mtypes.TWINRIC_ACCESS_REVOKE, access.encode_revocation(rev))
        if not sent:
            self.metrics.error("revocation_not_sent")
        self.sent.append(rev)
        del self.sent[:-100]
        self.total += 1
        self._count.labels(reason=kind).inc()
        log.warning("revoked %s: %s (%s)", subject, reason, "sent" if sent else "NOT sent: no route")
        return rev

    def start(self, interval_s: float = 1.0) -> RevocationWatch:
        def run() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.check_stale()
                except Exception:
                    self.metrics.error("revocation_check_failed")
                    log.exception("staleness check failed")

        self._thread = threading.Thread(target=run, name="revocation-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
