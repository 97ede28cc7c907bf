"""Transitions to the capped Redis stream without ever blocking the control loop.

The loop only ``put``s into a bounded in-process queue. A writer thread drains it in batches and
appends with ``XADD MAXLEN ~`` in one pipeline per batch. If Redis is unreachable the batch is kept
and retried with back-off, so nothing is lost while it is down as long as the queue has room; when
the queue is full the new transition is dropped and counted (the loop must keep its time budget).
The twin being down costs nothing here: the stream keeps the entries until it catches up.
"""

from __future__ import annotations

import logging
import queue
import threading

import redis

from ricproto.transition import DEFAULT_MAXLEN, FIELD, Transition, encode_transition
from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.control.transitions")
BATCH = 256


class TransitionWriter:
    def __init__(
        self,
        redis_client: redis.Redis,
        key: str,
        metrics: XappMetrics,
        *,
        maxlen: int = DEFAULT_MAXLEN,
        queue_size: int = 50_000,
    ) -> None:
        self.redis = redis_client
        self.key = key
        self.maxlen = maxlen
        self.metrics = metrics
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=queue_size)
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self._written = metrics.counter(
            "twinric_control_transitions_written", "Transitions appended to Redis"
        )
        self._dropped = metrics.counter("twinric_control_transitions_dropped", "Transitions lost: queue full")
        self._backlog = metrics.gauge("twinric_control_transitions_backlog", "Transitions waiting for Redis")
        self.redis_ok = True

    def put(self, msg: Transition) -> bool:
        self._idle.clear()
        try:
            self._queue.put_nowait(encode_transition(msg))
        except queue.Full:
            self._dropped.inc()
            self.metrics.error("transition_queue_full")
            return False
        return True

    def start(self) -> TransitionWriter:
        self._thread = threading.Thread(target=self._run, name="transition-writer", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        batch: list[bytes] = []
        backoff = 0.05
        while True:
            if not batch:
                try:
                    batch.append(self._queue.get(timeout=0.1))
                except queue.Empty:
                    self._idle.set()
                    if self._stop.is_set():
                        return
                    continue
                while len(batch) < BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
            self._backlog.set(len(batch) + self._queue.qsize())
            try:
                pipe = self.redis.pipeline(transaction=False)
                for data in batch:
                    pipe.xadd(self.key, {FIELD: data}, maxlen=self.maxlen, approximate=True)
                pipe.execute()
            except redis.RedisError as exc:
                if self.redis_ok:
                    log.warning("transition stream unavailable, holding %d: %s", len(batch), exc)
                self.redis_ok = False
                self.metrics.error("redis_unavailable")
                if self._stop.wait(backoff):
                    log.error("stopping with %d transitions not written", len(batch) + self._queue.qsize())
                    return
                backoff = min(backoff * 2, 2.0)
                continue
            if not self.redis_ok:
                log.info("transition stream available again")
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
