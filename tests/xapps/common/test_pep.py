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


def _grant_for(pdp_key, xapp_key, ttl_ms: int) -> str:
    import time as _time

    from ricproto import grant, identity

    g = grant.issue_grant(
        pdp_key, "xapp:c", "a", "gnb1", identity.raw_public_key(xapp_key), int(_time.time() * 1000), ttl_ms
    )
    return identity.b64encode(grant.encode_grant(g))


def test_requests_are_signed_and_grants_come_back_with_permits():
    from ricproto import identity

    key, pdp_key = identity.generate_key(), identity.generate_key()
    pdp = Pdp("PERMIT", ttl_s=60)
    granted = _grant_for(pdp_key, key, 60_000)

    def send(mtype, payload):
        req = access.decode_request(payload)
        pdp.requests.append(req)
        resp = access.AccessResponse(req.request_id, access.Decision.PERMIT, "ok", 60, "d1", "v1", granted)
        threading.Timer(0.005, pdp.pep.on_response, args=(access.encode_response(resp),)).start()
        return True

    pdp.pep = PepClient("xapp:c", send, XappMetrics("t"), timeout_s=0.5, signing_key=key)
    d = pdp.pep.check("a", "e2node:gnb1/cell:1")
    assert d.permitted and d.grant == identity.b64decode(granted) and d.decision_id == "d1"
    assert pdp.requests[0].signed and access.verify_request(pdp.requests[0], key.public_key())
    cached = pdp.pep.check("a", "e2node:gnb1/cell:1")
    assert cached.cause == "cache" and cached.grant == d.grant


def test_a_permit_whose_grant_ran_out_is_asked_again():
    from ricproto import identity

    key, pdp_key = identity.generate_key(), identity.generate_key()
    answers = []

    def send(mtype, payload):
        req = access.decode_request(payload)
        answers.append(req)
        g = _grant_for(pdp_key, key, 50)  # lives 50 ms, the permit 60 s
        resp = access.AccessResponse(req.request_id, access.Decision.PERMIT, "ok", 60, grant=g)
        threading.Timer(0.001, pep.on_response, args=(access.encode_response(resp),)).start()
        return True

    pep = PepClient("xapp:c", send, XappMetrics("t"), timeout_s=0.5, signing_key=key)
    assert pep.check("a", "e2node:gnb1/cell:1").cause == "pdp"
    import time as _time

    _time.sleep(0.1)
    assert pep.check("a", "e2node:gnb1/cell:1").cause == "pdp" and len(answers) == 2


def test_a_revocation_drops_the_cached_permits_it_covers():
    from ricproto import identity

    pdp_key = identity.generate_key()
    pdp = Pdp("PERMIT", ttl_s=60)
    pep = client(pdp)
    pep.pdp_public_key = pdp_key.public_key()
    for resource in ("e2node:gnb1/cell:1", "e2node:gnb2/cell:2"):
        assert pep.check("rc.handover", resource).permitted
    assert pep.check("rc.handover", "e2node:gnb1/cell:1").cause == "cache"

    def revoke(subject: str, key=pdp_key) -> int:
        rev = access.sign_revocation(access.AccessRevocation("r", subject, "trust fell", 1), key)
        return pep.on_revocation(access.encode_revocation(rev))

    assert revoke("e2node:gnb1") == 1  # the node: only permits on it
    assert pep.check("rc.handover", "e2node:gnb1/cell:1").cause == "pdp"
    assert pep.check("rc.handover", "e2node:gnb2/cell:2").cause == "cache"
    assert revoke("xapp:c", identity.generate_key()) == 2  # forged: obeyed (it can only deny), counted
    assert pep.metrics.error_count("pdp_forged_revocation") == 1
    assert pep.check("rc.handover", "e2node:gnb2/cell:2").cause == "pdp"
    assert pep.on_revocation(b"{junk") == 0 and pep.metrics.error_count("pdp_bad_revocation") == 1
