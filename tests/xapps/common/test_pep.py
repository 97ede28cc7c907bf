"""PEP decisions: the PDP's answer, caching for its TTL, and deny (or fail-open) when unreachable."""

from __future__ import annotations

import threading

from ricproto import access, mtypes
from xapps.common.metrics import XappMetrics
from xapps.common.pep import PepClient


class Pdp:
    """Answers each request on another thread, as the RMR dispatch thread would deliver it."""

    def __init__(self, decision: str | None, ttl_s: float = 0.0) -> None:
        self.decision = decision
        self.ttl_s = ttl_s
        self.requests: list[access.AccessRequest] = []
        self.pep: PepClient | None = None

    def send(self, mtype: int, payload: bytes) -> bool:
        assert mtype == mtypes.TWINRIC_ACCESS_REQ
        req = access.decode_request(payload)
        self.requests.append(req)
        if self.decision is not None:
            resp = access.AccessResponse(
                req.request_id, access.Decision(self.decision), "because", self.ttl_s
            )
            threading.Timer(0.005, self.pep.on_response, args=(access.encode_response(resp),)).start()
        return True


def client(pdp: Pdp, **kw) -> PepClient:
    pdp.pep = PepClient("xapp:c", pdp.send, XappMetrics("t"), timeout_s=0.2, **kw)
    return pdp.pep


def test_permit_and_deny_come_from_the_pdp():
    pdp = Pdp("PERMIT")
    pep = client(pdp)
    d = pep.check("rc.handover", "cell:1", {"ue": 3})
    assert d.permitted and d.cause == "pdp"
    assert pdp.requests[0].context == {"ue": 3} and pdp.requests[0].subject == "xapp:c"
    pdp.decision = "DENY"
    d = pep.check("rc.handover", "cell:1")
    assert not d.permitted and d.reason == "because"


def test_answers_are_cached_for_their_ttl():
    pdp = Pdp("DENY", ttl_s=60)
    pep = client(pdp)
    assert not pep.check("a", "r").permitted
    pdp.decision = "PERMIT"
    d = pep.check("a", "r")
    assert not d.permitted and d.cause == "cache" and len(pdp.requests) == 1
    assert pep.check("a", "other").permitted  # another resource asks again
    pep.invalidate()
    assert pep.check("a", "r").permitted


def test_unreachable_pdp_denies_and_is_counted_unless_fail_open():
    pdp = Pdp(None)
    pep = client(pdp)
    d = pep.check("a", "r")
    assert not d.permitted and d.cause == "pdp_unreachable" and "PDP unreachable" in d.reason
    assert pep.metrics.error_count("pdp_unreachable") == 1
    assert not pep.check("a", "r").permitted and len(pdp.requests) == 2  # never cached
    assert client(Pdp(None), fail_open=True).check("a", "r").permitted


def test_no_route_denies_at_once():
    pep = PepClient("x", lambda m, p: False, XappMetrics("t"), timeout_s=5)
    d = pep.check("a", "r")
    assert not d.permitted and "no route" in d.reason


def test_malformed_and_late_answers_are_counted():
    pep = PepClient("x", lambda m, p: True, XappMetrics("t"))
    pep.on_response(b"{bad")
    pep.on_response(access.encode_response(access.AccessResponse("nobody", access.Decision.PERMIT)))
    assert pep.metrics.error_count("pdp_bad_response") == 1
    assert pep.metrics.error_count("pdp_late_response") == 1


def test_refresh_ahead_keeps_the_cache_warm_and_follows_the_pdp():
    import time

    pdp = Pdp("PERMIT", ttl_s=0.6)
    pep = client(pdp, refresh_fraction=0.5)
    assert pep.check("a", "r").cause == "pdp"
    time.sleep(0.4)  # less than half the TTL left: served from cache, refreshed in the background
    pdp.decision = "DENY"
    assert pep.check("a", "r").cause == "cache"
    from twinric.processes import wait_until

    assert wait_until(lambda: len(pdp.requests) == 2, 2)
    time.sleep(0.3)  # past the first answer's expiry: the refreshed (DENY) answer is in force
    d = pep.check("a", "r")
    assert d.cause == "cache" and not d.permitted  # no blocking round trip, and the new answer holds
