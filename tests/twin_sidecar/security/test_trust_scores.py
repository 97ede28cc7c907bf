"""Trust scores: evidence lowers them, explained by signal; they decay back when evidence stops; the
records land in the PDP's namespace (real Redis) in the shape the PDP reads."""

from __future__ import annotations

import json
import math

import pytest

from ricproto import trust
from twin_sidecar.security.trust_scores import TrustConfig, TrustScorer


def test_evidence_lowers_trust_and_is_explained() -> None:
    scorer = TrustScorer(TrustConfig(half_life_s=6.0))
    assert scorer.score("ue:1") == 1.0
    scorer.update("ue:1", {"traffic": 1.0, "jump": 0.0}, 0.0)
    scorer.update("ue:1", {"traffic": 1.0, "churn": 0.5}, 0.5)
    st = scorer.subjects["ue:1"]
    assert st.score < 0.6
    expl = st.explanation()
    assert set(expl) == {"traffic", "churn"} and expl["traffic"] > expl["churn"] > 0
    assert sum(expl.values()) == pytest.approx(1 - st.score, abs=1e-3)


def test_trust_decays_back_within_the_bound() -> None:
    cfg = TrustConfig(half_life_s=6.0, max_suspicion=3.0)
    scorer = TrustScorer(cfg)
    for k in range(100):  # a long attack: suspicion is capped
        scorer.update("xapp:rogue", {"harm": 1.0}, k * 0.5)
    assert scorer.subjects["xapp:rogue"].total == pytest.approx(cfg.max_suspicion)
    assert scorer.score("xapp:rogue") == pytest.approx(math.exp(-3.0))
    end = 49.5
    bound = cfg.half_life_s * math.log2(cfg.max_suspicion / math.log(2))
    scorer.decay_all(end + bound - 0.5)
    assert scorer.score("xapp:rogue") < 0.5
    scorer.decay_all(end + bound + 0.5)
    assert scorer.score("xapp:rogue") > 0.5
    scorer.decay_all(end + 10 * cfg.half_life_s)
    assert scorer.score("xapp:rogue") > 0.99


def test_records_published_where_the_pdp_reads(redis_client) -> None:
    scorer = TrustScorer()
    scorer.update("e2node:gnb_001_001_00000003", {"repeat": 1.0, "load_mismatch": 1.0}, 1.0)
    scorer.update("ue:4", {}, 1.0)
    records = scorer.records(wall_time=1_800_000_000.0)
    pubsub = redis_client.pubsub()
    pubsub.subscribe(trust.UPDATES_CHANNEL)
    assert scorer.publish(redis_client, records) == 2
    rec = trust.decode_record(redis_client.get(trust.key("e2node:gnb_001_001_00000003")))
    assert rec.score < 0.6 and rec.source == "twin-security" and rec.ttl_s == 30.0
    assert rec.ts.startswith("2027-01-15T08:00:00") and rec.ts.endswith("+00:00")
    assert set(json.loads(rec.explanation)) == {"repeat", "load_mismatch"}
    assert trust.decode_record(redis_client.get(trust.key("ue:4"))).score == 1.0
    announced = []
    for _ in range(20):
        msg = pubsub.get_message(timeout=0.2)
        if msg and msg["type"] == "message":
            announced.append(msg["data"].decode())
        if len(announced) == 2:
            break
    assert sorted(announced) == ["e2node:gnb_001_001_00000003", "ue:4"]
    pubsub.close()
