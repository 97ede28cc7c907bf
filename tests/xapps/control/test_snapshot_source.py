"""Promoted snapshots are hot-swapped from Redis; bad or misfit ones are refused and counted."""

from __future__ import annotations

from ricproto.policy_snapshot import encode_snapshot, random_snapshot, snapshot_key, version_key
from twinric.processes import wait_until
from xapps.common.metrics import XappMetrics
from xapps.control.snapshot_source import SnapshotSource


def promote(client, snap) -> None:
    client.set(snapshot_key("x"), encode_snapshot(snap))
    client.set(version_key("x"), snap.version)


def test_hot_swap_while_polling(redis_client):
    source = SnapshotSource(redis_client, "x", 6, 4, XappMetrics("t"), poll_s=0.02).start()
    try:
        assert source.current is None
        promote(redis_client, random_snapshot("v1", [6, 8, 4]))
        assert wait_until(lambda: source.current is not None and source.current.version == "v1", 5)
        promote(redis_client, random_snapshot("v2", [6, 4], seed=5))
        assert wait_until(lambda: source.current.version == "v2", 5)
    finally:
        source.stop()


def test_misfit_and_corrupt_snapshots_are_refused(redis_client):
    metrics = XappMetrics("t")
    source = SnapshotSource(redis_client, "x", 6, 4, metrics)
    promote(redis_client, random_snapshot("good", [6, 4]))
    assert source.poll() and source.current.version == "good"
    promote(redis_client, random_snapshot("wrong-size", [5, 4]))
    assert not source.poll() and source.current.version == "good"
    assert metrics.error_count("snapshot_shape") == 1
    redis_client.set(snapshot_key("x"), b"TWPS garbage")
    redis_client.set(version_key("x"), "broken")
    assert not source.poll() and source.current.version == "good"
    assert metrics.error_count("snapshot_invalid") == 1


def test_version_announced_before_the_blob_is_retried(redis_client):
    source = SnapshotSource(redis_client, "x", 6, 4, XappMetrics("t"))
    promote(redis_client, random_snapshot("v1", [6, 4]))
    assert source.poll()
    redis_client.set(version_key("x"), "v2")  # blob not replaced yet
    assert not source.poll() and source.current.version == "v1"
    redis_client.set(snapshot_key("x"), encode_snapshot(random_snapshot("v2", [6, 4])))
    assert source.poll() and source.current.version == "v2"


def test_a_withdrawn_promotion_returns_to_the_heuristic(redis_client):
    metrics = XappMetrics("t")
    source = SnapshotSource(redis_client, "x", 6, 4, metrics)
    assert not source.poll() and source.current is None  # nothing promoted yet: nothing to withdraw
    promote(redis_client, random_snapshot("v1", [6, 4]))
    assert source.poll() and source.current.version == "v1"
    redis_client.delete(snapshot_key("x"), version_key("x"))  # the twin's rollback of its first promotion
    assert source.poll() and source.current is None
    assert not source.poll()
    promote(redis_client, random_snapshot("v2", [6, 4]))
    assert source.poll() and source.current.version == "v2"
