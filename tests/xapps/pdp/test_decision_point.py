"""The decision point: signed requests, trust from Redis, Cedar, grants, reasons; one reason per way
to be denied."""

from __future__ import annotations

import json
import time
from dataclasses import replace

from pdp_fixtures import CELL, MEID, SUBJECT, set_trust

from ricproto import access, grant, identity
from twinric.processes import wait_until
from xapps.pdp.zero_trust_policy import default_policy_body, parse_policy


def code(resp: access.AccessResponse) -> str:
    return resp.reason.split(":", 1)[0]


def test_a_signed_request_of_a_trusted_xapp_is_permitted_with_a_grant(pdp):
    resp = pdp.ask(pdp.signed())
    assert resp.permitted and code(resp) == "permitted", resp.reason
    assert "rc-controls-by-trusted-xapps" in resp.reason
    assert 0 < resp.ttl_s <= 10 and resp.decision_id and resp.policy_version.startswith("twinric-default-1@")
    g = grant.decode_grant(identity.b64decode(resp.grant))
    assert (g.subject, g.action, g.meid) == (SUBJECT, "rc.handover", MEID)
    assert grant.verify_grant(g, pdp.keys.pdp.public_key())
    assert g.xapp_key == identity.raw_public_key(pdp.keys.xapp)


def test_unsigned_forged_and_replayed_requests_are_denied(pdp):
    unsigned = access.encode_request(access.AccessRequest("u", SUBJECT, "rc.handover", CELL, {}))
    assert code(pdp.ask(unsigned)) == "unsigned"
    mallory = identity.generate_key()
    forged = access.sign_request(access.AccessRequest("f", SUBJECT, "rc.handover", CELL, {}), mallory)
    assert code(pdp.ask(access.encode_request(forged))) == "bad_signature"
    good = access.sign_request(access.AccessRequest("t", SUBJECT, "rc.handover", CELL, {}), pdp.keys.xapp)
    tampered = replace(good, resource=f"e2node:{MEID}/cell:1")  # signature over another resource
    assert code(pdp.ask(access.encode_request(tampered))) == "bad_signature"
    assert pdp.ask(access.encode_request(good)).permitted
    again = pdp.ask(access.encode_request(good))
    assert not again.permitted and code(again) == "replayed"
    old = access.sign_request(
        access.AccessRequest("o", SUBJECT, "rc.handover", CELL, {}),
        pdp.keys.xapp,
        now_ms=int(time.time() * 1000) - 60_000,
    )
    assert code(pdp.ask(access.encode_request(old))) == "stale_request"
    stranger = access.sign_request(access.AccessRequest("s", "xapp:rogue", "rc.handover", CELL, {}), mallory)
    assert code(pdp.ask(access.encode_request(stranger))) == "unknown_subject"
    assert not any(pdp.ask(p).grant for p in (unsigned, access.encode_request(forged)))


def test_missing_and_stale_trust_deny_with_their_own_reasons(pdp):
    pdp.client.delete(f"{{twinric-trust}},e2node:{MEID}")
    pdp.client.publish("twinric-trust:updates", f"e2node:{MEID}")
    assert wait_until(lambda: pdp.trust.get(f"e2node:{MEID}") is None, 5)
    resp = pdp.ask(pdp.signed(rid="m"))
    assert not resp.permitted and code(resp) == "trust_missing" and f"e2node:{MEID}" in resp.reason
    set_trust(pdp.client, f"e2node:{MEID}", 0.8, ts="2020-01-01T00:00:00+00:00")
    assert wait_until(lambda: pdp.trust.get(f"e2node:{MEID}") is not None, 5)
    resp = pdp.ask(pdp.signed(rid="s"))
    assert code(resp) == "trust_stale" and not resp.grant
    set_trust(pdp.client, f"e2node:{MEID}", 0.8, ttl_s=0.5)  # fresh, but vouched for half a second
    assert wait_until(lambda: (pdp.trust.get(f"e2node:{MEID}") or object()).__dict__.get("ttl_s") == 0.5, 5)
    assert pdp.ask(pdp.signed(rid="p")).permitted
    time.sleep(0.6)
    assert code(pdp.ask(pdp.signed(rid="q"))) == "trust_stale"


def test_low_trust_is_no_permit_and_very_low_is_forbidden(pdp):
    set_trust(pdp.client, SUBJECT, 0.4)  # below the cell threshold 0.5
    assert wait_until(lambda: pdp.trust.get(SUBJECT).score == 0.4, 5)
    assert code(pdp.ask(pdp.signed(rid="a"))) == "no_permit"
    set_trust(pdp.client, SUBJECT, 0.1)
    assert wait_until(lambda: pdp.trust.get(SUBJECT).score == 0.1, 5)
    resp = pdp.ask(pdp.signed(rid="b"))
    assert code(resp) == "forbidden" and "quarantine-distrusted-xapps" in resp.reason


def test_a_policy_change_takes_effect_on_the_next_decision(pdp):
    assert pdp.ask(pdp.signed(rid="1")).permitted
    body = default_policy_body()
    body["trust_thresholds"] = {**body["trust_thresholds"], "cell": 0.95}
    pdp.point.set_policy(parse_policy(body, "strict"))
    resp = pdp.ask(pdp.signed(rid="2"))
    assert (
        not resp.permitted
        and code(resp) == "no_permit"
        and resp.policy_version.startswith("twinric-default-1@")
    )
    assert resp.policy_version != parse_policy(default_policy_body(), "default").version
    pdp.point.set_policy(None)
    assert code(pdp.ask(pdp.signed(rid="3"))) == "no_policy"


def test_malformed_requests_are_denied_with_a_reason_and_counted(pdp):
    answers = pdp.point.decide_payloads(
        [b"{not json", b'{"request_id":"x1","subject":"xapp:a"}', b"[1,2]", pdp.signed(rid="ok")]
    )
    assert answers[0] is None and answers[2] is None  # nobody to answer
    bad = access.decode_response(answers[1])
    assert (
        bad.request_id == "x1" and not bad.permitted and code(bad) == "malformed" and "action" in bad.reason
    )
    assert access.decode_response(answers[3]).permitted  # the batch's good request is unaffected
    assert pdp.point.metrics.error_count("malformed_request") == 3
    assert pdp.point.by_code["malformed"] == 3


def test_evaluation_errors_deny(pdp):
    body = default_policy_body()
    # passes validation (Long arithmetic) but overflows when evaluated
    body["cedar_policies"] += (
        '\n@id("overflows") permit(principal is Xapp, action == Action::"rc.handover", resource)'
        " when { principal.trust * 9223372036854775807 > 0 };\n"
    )
    pdp.point.set_policy(parse_policy(body, "ue"))
    set_trust(pdp.client, SUBJECT, 0.3)  # the trusted-xapp permit no longer applies
    assert wait_until(lambda: pdp.trust.get(SUBJECT).score == 0.3, 5)
    resp = pdp.ask(pdp.signed(rid="e"))
    assert not resp.permitted and code(resp) == "evaluation_error" and "overflow" in resp.reason


def test_every_decision_is_logged_in_order_with_its_inputs(pdp, tmp_path):
    payloads = [pdp.signed(rid=f"r{i}") for i in range(20)] + [b"{bad"]
    answers = pdp.point.decide_payloads(payloads)
    ids = [access.decode_response(a).decision_id for a in answers if a is not None]
    assert pdp.log.flush(30)
    stream = [json.loads(f[b"d"]) for _, f in pdp.client.xrange("twinric:pdp:decisions")]
    lines = [json.loads(line) for line in (tmp_path / "decisions.jsonl").read_text().splitlines()]
    assert stream == lines and len(stream) == 21
    assert [r["seq"] for r in stream] == list(range(1, 22))
    assert [r["decision_id"] for r in stream[:20]] == ids
    first = stream[0]
    assert first["result"] == "PERMIT" and first["policies"] == ["rc-controls-by-trusted-xapps"]
    assert first["trust"] == {SUBJECT: 0.9, f"e2node:{MEID}": 0.8}
    assert first["request"]["subject"] == SUBJECT and first["request"]["channel"] == "rmr"
    assert first["ts"].endswith("+00:00") and first["policy_version"] and first["grant_id"]
    assert stream[-1]["code"] == "malformed" and stream[-1]["result"] == "DENY"
    assert pdp.log.query(subject=SUBJECT, limit=5)[0]["decision_id"] == ids[0]
    assert pdp.log.query(since=time.time() + 60) == []


def test_dry_runs_need_no_signature_and_carry_no_grant(pdp):
    req = access.AccessRequest("d", SUBJECT, "rc.handover", CELL, {})
    (resp,) = pdp.point.decide_requests([req], "rest-dry-run", authenticate=False)
    assert resp.permitted and resp.ttl_s == 0 and not resp.grant


def test_grants_are_reused_until_a_revocation(pdp):
    a, b = pdp.ask(pdp.signed(rid="a")), pdp.ask(pdp.signed(rid="b"))
    assert a.grant == b.grant
    pdp.point.revoked(SUBJECT, int(time.time() * 1000))
    c = pdp.ask(pdp.signed(rid="c"))
    assert c.permitted and c.grant != a.grant
    quota = pdp.ask(pdp.signed("rc.slice_quota", f"e2node:{MEID}/cell:32769/slice:1-1", rid="q"))
    assert quota.permitted and quota.grant != c.grant  # another action, another grant


def test_an_unreadable_trust_record_counts_as_missing(pdp):
    pdp.client.set(f"{{twinric-trust}},{SUBJECT}", b"{not a record")
    pdp.client.publish("twinric-trust:updates", SUBJECT)
    assert wait_until(lambda: pdp.trust.get(SUBJECT) is None, 5)
    assert code(pdp.ask(pdp.signed(rid="u"))) == "trust_missing"
    assert pdp.point.metrics.error_count("trust_record_invalid") >= 1


def test_a_score_equal_to_the_threshold_passes(pdp):
    body = default_policy_body()
    body["trust_thresholds"] = {"default": 0.57, "cell": 0.057 * 10}  # 0.5700000000000001
    pdp.point.set_policy(parse_policy(body, "edge"))
    set_trust(pdp.client, SUBJECT, 0.57)
    set_trust(pdp.client, f"e2node:{MEID}", 0.57)
    assert wait_until(lambda: pdp.trust.get(f"e2node:{MEID}").score == 0.57, 5)
    assert pdp.ask(pdp.signed(rid="eq")).permitted


def test_every_control_the_xapp_sends_is_permitted_by_the_default_policy(pdp):
    """The control xApp asks about handovers, slice quotas and cell offsets: a default policy that
    forgot one would stop that lever silently (the loop would see only denials)."""
    asks = {
        "rc.handover": CELL,
        "rc.slice_quota": f"{CELL}/slice:1-000001",
        "rc.cell_offset": f"{CELL}/neighbour:32770",
    }
    for i, (action, resource) in enumerate(asks.items()):
        resp = pdp.ask(pdp.signed(action=action, resource=resource, rid=f"lever-{i}"))
        assert resp.permitted and resp.grant, (action, resp.reason)
        assert grant.decode_grant(identity.b64decode(resp.grant)).action == action
    unknown = pdp.ask(pdp.signed(action="rc.style9.action9", resource=CELL, rid="lever-x"))
    assert not unknown.permitted  # an action the policy does not name is never permitted
