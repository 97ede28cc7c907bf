"""Records to a capped Redis stream without ever blocking the caller (the control loop).

The caller only ``put``s into a bounded in-process queue. A writer thread encodes and drains it in
batches and appends with ``XADD MAXLEN ~`` in one pipeline per batch. If Redis is unreachable the
batch is kept and retried with back-off, so nothing is lost while it is down as long as the queue has
room; when the queue is full the new record is dropped and counted (the loop must keep its time
budget). The reader (the twin) being down costs nothing here: the stream keeps the entries until it
catches up. Encoding runs in the writer thread, off the caller's latency path; a record that fails
to encode is counted and skipped.

Metrics (``stem`` = e.g. ``twinric_control_transitions``): ``<stem>_written``, ``<stem>_dropped``,
``<stem>_backlog``; errors ``<what>_queue_full``, ``<what>_encode_failed``, ``redis_unavailable``.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import redis

from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.common.stream_writer")
BATCH = 256
T = TypeVar("T")


class StreamWriter(Generic[T]):
    def __init__(
        self,
        redis_client: redis.Redis,
        key: str,
        metrics: XappMetrics,
        *,
        field: bytes,
        encode: Callable[[T], bytes],
        stem: str,
        what: str,
        maxlen: int,
        queue_size: int = 50_000,
    ) -> None:
        self.redis = redis_client
        self.key = key
        self.field = field
        self.encode = encode
        self.what = what
        self.maxlen = maxlen
        self.metrics = metrics
        self._queue: queue.Queue[T] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self._written = metrics.counter(f"{stem}_written", f"{what} records appended to Redis")
        self._dropped = metrics.counter(f"{stem}_dropped", f"{what} records lost: queue full")
        self._backlog = metrics.gauge(f"{stem}_backlog", f"{what} records waiting for Redis")
        self.redis_ok = True

    def put(self, record: T) -> bool:
        self._idle.clear()
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self._dropped.inc()
            self.metrics.error(f"{self.what}_queue_full")
            return False
        return True

    def start(self) -> StreamWriter[T]:
        self._thread = threading.Thread(target=self._run, name=f"{self.what}-writer", daemon=True)
        self._thread.start()
        return self

    def _encoded(self, record: T) -> bytes | None:
        try:
            return self.encode(record)
        except Exception:  # our own bug, or a value the schema cannot hold: never stop the writer
            self.metrics.error(f"{self.what}_encode_failed")
            log.exception("%s record not encodable, skipped", self.what)
            return None

    def _run(self) -> None:
        batch: list[bytes] = []
        backoff = 0.05
        while True:
            if not batch:
                try:
                    first = self._queue.get(timeout=0.1)
                except queue.Empty:
                    self._idle.set()
                    if self._stop.is_set():
                        return
                    continue
                records = [first]
                while len(records) < BATCH:
                    try:
                        records.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                batch = [data for data in map(self._encoded, records) if data is not None]
                if not batch:
                    continue
            self._backlog.set(len(batch) + self._queue.qsize())
            try:
                pipe = self.redis.pipeline(transaction=False)
                for data in batch:
                    pipe.xadd(self.key, {self.field: data}, maxlen=self.maxlen, approximate=True)
                pipe.execute()
            except redis.RedisError as exc:
                if self.redis_ok:
                    log.warning("%s stream unavailable, holding %d: %s", self.what, len(batch), exc)
                self.redis_ok = False
                self.metrics.error("redis_unavailable")
                if self._stop.wait(backoff):
                    log.error(
                        "stopping with %d %s records not written", len(batch) + self._queue.qsize(), self.what
                    )
                    return
                backoff = min(backoff * 2, 2.0)
                continue
            if not self.redis_ok:
                log.info("%s stream available again", self.what)
            self.redis_ok = True
            backoff = 0.05
            self._written.inc(len(batch))
            batch = []
            if self._queue.empty():
                self._backlog.set(0)
                self._idle.set()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything put so far is in Redis (tests, shutdown)."""
        return self._idle.wait(timeout) and self._queue.empty()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def stop(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
