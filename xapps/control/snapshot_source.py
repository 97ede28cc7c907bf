"""The promoted target-policy snapshot, hot-swapped from Redis while the loop keeps running.

A poller thread reads the small version key every ``poll_s``; only when it changed does it fetch and
decode the blob, check that it fits the observation/action space, and swap the reference (a single
attribute assignment, so the loop sees the old or the new snapshot, never a mix). A bad snapshot is
counted and logged and the previous one stays in force. When the version key disappears after a
snapshot was taken (the twin rolled back its only promotion), the xApp returns to the heuristic.
"""

from __future__ import annotations

import logging
import threading

import redis

from ricproto.policy_snapshot import (
    PolicySnapshot,
    SnapshotCodecError,
    decode_snapshot,
    snapshot_key,
    version_key,
)
from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.control.snapshot")


class SnapshotSource:
    def __init__(
        self,
        redis_client: redis.Redis,
        xapp: str,
        obs_dim: int,
        n_actions: int,
        metrics: XappMetrics,
        poll_s: float = 1.0,
    ) -> None:
        self.redis = redis_client
        self.version_key = version_key(xapp)
        self.snapshot_key = snapshot_key(xapp)
        self.obs_dim = obs_dim
        self.n_actions = n_actions
        self.metrics = metrics
        self.poll_s = poll_s
        self.current: PolicySnapshot | None = None
        self._seen_version: bytes | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._swaps = metrics.counter("twinric_control_snapshot_swaps", "Promoted snapshots taken into use")
        self._withdrawals = metrics.counter(
            "twinric_control_snapshot_withdrawals", "Promotions the twin withdrew (back to heuristic)"
        )

    def poll(self) -> bool:
        """Check once; True when a new snapshot was swapped in."""
        try:
            version = self.redis.get(self.version_key)
            if version is None and self._seen_version is not None:
                return self._withdrawn()
            if version is None or version == self._seen_version:
                return False
            blob = self.redis.get(self.snapshot_key)
        except redis.RedisError as exc:
            self.metrics.error("redis_unavailable")
            log.warning("snapshot poll failed: %s", exc)
            return False
        self._seen_version = version
        if blob is None:
            self.metrics.error("snapshot_missing")
            log.error("version %r announced but no snapshot stored", version)
            return False
        try:
            snap = decode_snapshot(blob)
        except SnapshotCodecError as exc:
            self.metrics.error("snapshot_invalid")
            log.error("promoted snapshot %r rejected: %s", version, exc)
            return False
        if (snap.obs_dim, snap.n_actions) != (self.obs_dim, self.n_actions):
            self.metrics.error("snapshot_shape")
            log.error(
                "snapshot %s takes %d inputs / %d actions; the space has %d / %d",
                snap.version,
                snap.obs_dim,
                snap.n_actions,
                self.obs_dim,
                self.n_actions,
            )
            return False
        if snap.version != version.decode(errors="replace"):
            # The version key was written before the blob finished replacing: read again next poll.
            self._seen_version = None
            return False
        self.current = snap
        self._swaps.inc()
        log.info("promoted policy %s in use", snap.version)
        return True

    def _withdrawn(self) -> bool:
        """The twin rolled its first promotion back: no promoted policy, so back to the heuristic."""
        self._seen_version = None
        if self.current is None:
            return False
        log.warning("promoted policy %s withdrawn: back to the heuristic", self.current.version)
        self.current = None
        self._withdrawals.inc()
        return True

    def start(self) -> SnapshotSource:
        self.poll()
        self._thread = threading.Thread(target=self._run, name="snapshot-source", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.poll()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
