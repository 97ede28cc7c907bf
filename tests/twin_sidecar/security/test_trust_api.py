"""The sidecar scores the RAN view it ingests and serves the scores at ``GET /v1/trust`` (real HTTP);
with ``security_publish`` they land in the PDP's trust namespace (real Redis)."""

from __future__ import annotations

import httpx
from twin_records import produce

from ricproto import trust
from twinric.processes import wait_until


def test_trust_served_and_published(twin_server, redis_client, script) -> None:
    twin = twin_server(security_publish=True)
    base = twin.url
    produce(redis_client, script, range(40))
    assert wait_until(lambda: twin.parts.security.rounds == 40, 15)
    body = httpx.get(f"{base}/v1/trust").json()
    subjects = {s["subject"]: s for s in body["subjects"]}
    nodes = [s for s in subjects if s.startswith("e2node:")]
    assert nodes and all(0.0 <= s["score"] <= 1.0 for s in body["subjects"])
    assert body["status"]["rounds"] == 40 and body["status"]["published"] > 0
    one = subjects[nodes[0]]
    assert set(one) >= {"score", "explanation", "signals", "evidence", "t_s"}
    assert "load_mismatch" in one["signals"]
    rec = trust.decode_record(redis_client.get(trust.key(nodes[0])))
    assert rec.source == "twin-security" and rec.score == one["score"]
    assert all(
        s["subject"].startswith("ue:")
        for s in httpx.get(f"{base}/v1/trust", params={"kind": "ue"}).json()["subjects"]
    )
    assert httpx.get(f"{base}/v1/trust", params={"kind": "cell"}).status_code == 422
    assert httpx.get(f"{base}/v1/trust", params={"below": 2}).status_code == 422


def test_scores_kept_to_the_twin_unless_publishing(twin_server, redis_client, script) -> None:
    twin = twin_server()
    produce(redis_client, script, range(5))
    assert wait_until(lambda: twin.parts.security.rounds == 5, 15)
    assert httpx.get(f"{twin.url}/v1/trust").json()["subjects"]
    assert not list(redis_client.scan_iter(match=trust.KEY_PREFIX + "*"))
