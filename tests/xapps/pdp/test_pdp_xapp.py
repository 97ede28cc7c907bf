"""The PDP xApp as a real process: A1 policies over RMR, signed decisions over RMR and REST, revocations
when trust falls, malformed input counted, the decision log on disk and in Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from pdp_fixtures import CELL, MEID, SUBJECT, XAPP, set_trust
from pdp_process import RmrPeer, start_pdp

from ricproto import access, identity, mtypes
from twinric.processes import wait_until
from xapps.pdp.zero_trust_policy import default_policy_body, policy_type_id

TYPE = policy_type_id()


@pytest.fixture
def peer() -> Iterator[RmrPeer]:
    p = RmrPeer()
    yield p
    p.close()


@pytest.fixture
def running(tmp_path, redis_url, redis_client, keys, peer):
    pdp_key = tmp_path / "pdp" / "twinric-pdp.key"
    proc = start_pdp(
        tmp_path,
        redis_url,
        pdp_key,
        keys.directory,
        [(mtypes.A1_POLICY_RESP, peer.endpoint), (mtypes.TWINRIC_ACCESS_REVOKE, peer.endpoint)],
    )
    peer.route_to(proc.endpoint, TYPE)
    set_trust(redis_client, SUBJECT, 0.9)
    set_trust(redis_client, f"e2node:{MEID}", 0.8)
    try:
        yield proc
    finally:
        proc.process.stop()


def signed(keys, rid: str, resource: str = CELL) -> bytes:
    req = access.AccessRequest(rid, SUBJECT, "rc.handover", resource, {"meid": MEID, "xapp": XAPP})
    return access.encode_request(access.sign_request(req, keys.xapp))


def test_a1_policy_change_takes_effect_on_the_next_decision_and_a_bad_one_is_refused(running, peer, keys):
    first = peer.ask(signed(keys, "before"))
    assert not first.permitted and first.reason.startswith("no_policy")  # nothing over A1 yet: deny all
    assert peer.a1("CREATE", "zt", default_policy_body(), TYPE)["status"] == "OK"
    ok = peer.ask(signed(keys, "p1"))
    assert ok.permitted and ok.grant, ok.reason
    strict = {
        **default_policy_body(),
        "version": "strict",
        "trust_thresholds": {"default": 0.5, "cell": 0.95},
    }
    assert peer.a1("UPDATE", "zt", strict, TYPE)["status"] == "OK"
    denied = peer.ask(signed(keys, "p2"))
    assert not denied.permitted and denied.reason.startswith("no_permit")
    assert denied.policy_version.startswith("strict@")

    broken = {
        **default_policy_body(),
        "cedar_policies": default_policy_body()["cedar_policies"].replace(
            "principal.trust < 200", "principal.trustworthiness < 200"
        ),
    }
    assert peer.a1("CREATE", "broken", broken, TYPE)["status"] == "ERROR"
    still = peer.ask(signed(keys, "p3"))
    assert still.policy_version.startswith("strict@") and not still.permitted  # the old policy stays
    refused = running.status()["refused_instances"]["broken"]
    assert "validation" in refused and "trustworthiness" in refused
    assert peer.a1("DELETE", "zt", None, TYPE)["status"] == "DELETED"
    assert peer.ask(signed(keys, "p4")).reason.startswith("no_policy")


def test_falling_trust_revokes_at_every_pep(running, peer, keys, redis_client):
    assert peer.a1("CREATE", "zt", default_policy_body(), TYPE)["status"] == "OK"
    assert peer.ask(signed(keys, "a")).permitted
    set_trust(redis_client, SUBJECT, 0.3)  # below the cell threshold (0.5) it was permitted under
    rev = access.decode_revocation(peer.expect(mtypes.TWINRIC_ACCESS_REVOKE).payload)
    assert rev.subject == SUBJECT and "fell below" in rev.reason
    pdp_public = identity.load_private_key(running.log_path.parent / "pdp" / "twinric-pdp.key").public_key()
    assert access.verify_revocation(rev, pdp_public)
    assert not peer.ask(signed(keys, "b")).permitted
    assert running.metric('twinric_pdp_revocations_total{reason="trust_below_threshold"}') == 1


def test_rest_decide_log_policy_and_malformed_input(running, peer, keys):
    assert peer.a1("CREATE", "zt", default_policy_body(), TYPE)["status"] == "OK"
    url = running.url
    real = httpx.post(f"{url}/v1/decide", content=signed(keys, "rest-1"), timeout=5).json()
    assert real["decision"] == "PERMIT" and real["grant"]
    unsigned = json.loads(signed(keys, "rest-2"))
    for k in ("ts", "nonce", "sig"):
        unsigned.pop(k)
    assert httpx.post(f"{url}/v1/decide", json=unsigned, timeout=5).json()["reason"].startswith("unsigned")
    dry = httpx.post(f"{url}/v1/decide", params={"dry_run": True}, json=unsigned, timeout=5).json()
    assert dry["decision"] == "PERMIT" and "grant" not in dry and dry["ttl_s"] == 0
    batch = httpx.post(
        f"{url}/v1/decide",
        json={"requests": [json.loads(signed(keys, "b1")), {"request_id": "b2"}]},
        timeout=5,
    ).json()["responses"]
    assert batch[0]["decision"] == "PERMIT" and batch[1]["reason"].startswith("malformed")
    assert httpx.post(f"{url}/v1/decide", content=b"{nope", timeout=5).status_code == 400  # not a decision
    assert running.metric('twinric_errors_total{component="pdp-xapp",reason="malformed_request"}') == 2
    # a malformed request over RMR: denied with the reason, counted, the process unharmed
    bad = peer.ask(b'{"request_id":"rmr-bad","subject":7}')
    assert not bad.permitted and bad.reason.startswith("malformed")
    assert running.metric('twinric_errors_total{component="pdp-xapp",reason="malformed_request"}') == 3

    assert wait_until(
        lambda: len(httpx.get(f"{url}/v1/decisions", params={"limit": 50}).json()["decisions"]) == 6, 5
    )
    mine = httpx.get(f"{url}/v1/decisions", params={"subject": SUBJECT}, timeout=5).json()["decisions"]
    assert [d["request"]["request_id"] for d in mine] == ["rest-1", "rest-2", "rest-2", "b1"]
    assert [d["seq"] for d in mine] == sorted(d["seq"] for d in mine)
    lines = running.decisions_file.read_text().splitlines()
    assert len(lines) == 6 and [json.loads(x)["seq"] for x in lines] == list(range(1, 7))
    policy = httpx.get(f"{url}/v1/policy", timeout=5).json()
    assert policy["instance_id"] == "zt" and "rc-controls-by-trusted-xapps" in policy["policies"]
    status = running.status()
    assert status["decisions"] == 6 and status["deny_reasons"]["malformed"] == 2
    assert status["policy_version"].startswith("twinric-default-1@")
    assert "/v1/decide" in httpx.get(f"{url}/openapi.json", timeout=5).json()["paths"]
    assert httpx.get(f"{url}/v1/decisions", params={"since": "yesterday"}, timeout=5).status_code == 400
