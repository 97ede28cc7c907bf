"""The decision log on its own: rotation of the JSON-lines file, order, and Redis going away (records
wait and follow in order; the file has them at once; nothing is lost within the backlog)."""

from __future__ import annotations

import json

import redis

from twinric.ports import free_port
from xapps.common.metrics import XappMetrics
from xapps.pdp.decision_log import DecisionLog, DecisionRecord, parse_since


def rec(seq: int) -> DecisionRecord:
    return DecisionRecord(
        f"b-{seq}",
        seq,
        "2026-01-01T00:00:00.000000+00:00",
        {"subject": "xapp:a"},
        "DENY",
        "no_permit: x",
        "no_permit",
    )


def test_the_file_rotates_by_size_and_keeps_every_record_in_order(tmp_path):
    path = tmp_path / "decisions.jsonl"
    log = DecisionLog(
        None, XappMetrics("t"), file_path=path, max_bytes=4000, backups=50, interval_s=0.01
    ).start()
    for batch in range(10):  # a batch is written whole into one file: rotation happens between batches
        for i in range(20 * batch + 1, 20 * batch + 21):
            log.record(rec(i))
        assert log.flush(30)
    log.stop()
    files = sorted(
        tmp_path.glob("decisions.jsonl*"), key=lambda p: -int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0
    )
    assert len(files) > 2  # rotated
    seqs = [json.loads(line)["seq"] for f in files for line in f.read_text().splitlines()]
    assert seqs == list(range(1, 201))


def test_records_wait_for_redis_and_follow_in_order(tmp_path, redis_url, redis_client):
    metrics = XappMetrics("t")
    dead = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    log = DecisionLog(dead, metrics, file_path=tmp_path / "d.jsonl", interval_s=0.01).start()
    for i in range(1, 11):
        log.record(rec(i))
    assert not log.flush(1.0)  # Redis down: not written there
    assert (
        not log.redis_ok and log.pending == 10 and metrics.error_count("decision_log_redis_unavailable") >= 1
    )
    assert len((tmp_path / "d.jsonl").read_text().splitlines()) == 10  # the file has them already
    log.redis = redis.Redis.from_url(redis_url)  # Redis is back
    for i in range(11, 16):
        log.record(rec(i))
    assert log.flush(5.0) and log.redis_ok
    log.stop()
    stream = [json.loads(f[b"d"])["seq"] for _, f in redis_client.xrange("twinric:pdp:decisions")]
    assert stream == list(range(1, 16))


def test_since_parsing():
    assert parse_since("1700000000") == 1700000000.0
    assert parse_since("2026-01-01T00:00:00Z") == parse_since("2026-01-01T00:00:00+00:00")
    for bad in ("2026-01-01T00:00:00", "yesterday"):
        try:
            parse_since(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")
