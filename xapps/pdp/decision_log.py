"""Every decision of the PDP, in order, to a capped Redis stream and a rotating JSON-lines file.

One record per decision (the fields of an OPA decision log plus what a zero-trust PDP must show, see
``ml-anchors.md`` 5.2 and the O-RAN WG11 logging rules): ``decision_id`` (also returned to the PEP),
``seq`` (gap-free, in decision order), ``ts`` (ISO 8601 with time zone), ``request`` (subject,
action, resource, context, request id, channel), ``result``, ``reason`` and its ``code``, the Cedar
``policies`` that decided it, the ``trust`` values used, ``policy_version`` and the ``grant_id`` of a
PERMIT that carried a RAN grant.

Deciding never waits for I/O: ``record`` appends to a queue in decision order and one writer thread
drains it every ``interval_s`` in batches (``XADD MAXLEN ~`` in a pipeline, one file write per batch),
so both sinks hold the records in ``seq`` order. The writer wakes on a timer, not per record, so under
load it takes the interpreter lock a few times per second instead of once per decision. While Redis
is down the writer keeps the batch and retries (the file still gets every record at once); past
``max_pending`` the oldest unwritten records are dropped from the Redis side and counted. The
JSON-lines file rotates by size (``logging.handlers``).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.pdp.decision_log")

STREAM_KEY = "twinric:pdp:decisions"
FIELD = "d"
DEFAULT_MAXLEN = 100_000


@dataclass
class DecisionRecord:
    decision_id: str
    seq: int
    ts: str
    request: dict[str, Any]
    result: str  # "PERMIT" | "DENY"
    reason: str
    code: str  # the reason's machine-readable part: permitted, no_permit, trust_stale, ...
    policies: list[str] = field(default_factory=list)
    trust: dict[str, float] = field(default_factory=dict)
    policy_version: str = ""
    grant_id: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), default=str)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")


def parse_since(text: str) -> float:
    """``since`` of a query: ISO 8601 (a time zone is required) or Unix seconds."""
    try:
        return float(text)
    except ValueError:
        pass
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"since needs a time zone: {text!r}")
    return when.timestamp()


class DecisionLog:
    def __init__(
        self,
        client: redis.Redis | None,
        metrics: XappMetrics,
        *,
        stream_key: str = STREAM_KEY,
        maxlen: int = DEFAULT_MAXLEN,
        file_path: Path | None = None,
        max_bytes: int = 20 * 1024 * 1024,
        backups: int = 5,
        max_pending: int = 200_000,
        batch: int = 1000,
        interval_s: float = 0.05,
    ) -> None:
        self.redis = client
        self.metrics = metrics
        self.stream_key = stream_key
        self.maxlen = maxlen
        self.max_pending = max_pending
        self.batch = batch
        self.interval_s = interval_s
        self._queue: deque[DecisionRecord] = deque()
        self._unsent: deque[str] = deque()  # JSON not yet in Redis, in order
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.redis_ok = client is not None
        self._file: logging.Logger | None = None
        self._handler: logging.handlers.RotatingFileHandler | None = None
        if file_path is not None:
            file_path.parent.mkdir(parents=True, exist_ok=True)
            self._handler = logging.handlers.RotatingFileHandler(
                file_path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
            )
            self._handler.setFormatter(logging.Formatter("%(message)s"))
            self._file = logging.getLogger(f"twinric.pdp.decisions.{id(self)}")
            self._file.propagate = False
            self._file.setLevel(logging.INFO)
            self._file.addHandler(self._handler)
        self._dropped = metrics.counter(
            "twinric_pdp_decision_log_dropped", "Decision records never written to Redis (backlog full)"
        )

    # --- producing ------------------------------------------------------------------------------
    def record(self, rec: DecisionRecord) -> None:
        """Queue one decision (called in decision order, under the decider's lock)."""
        self._queue.append(rec)

    # --- writing --------------------------------------------------------------------------------
    def start(self) -> DecisionLog:
        self._thread = threading.Thread(target=self._run, name="decision-log", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._wake:
                self._wake.wait(self.interval_s)
            self.drain()
            if self._unsent and not self.redis_ok:
                self._stop.wait(0.5)  # Redis down: retry twice a second
        self.drain()

    def drain(self) -> int:
        """Write what is queued now; returns how many records left the queue."""
        taken: list[DecisionRecord] = []
        while self._queue and len(taken) < self.batch * 10:
            taken.append(self._queue.popleft())
        lines = [r.to_json() for r in taken]
        if self._file is not None and lines:
            self._file.info("\n".join(lines))
        self._unsent.extend(lines)
        overflow = len(self._unsent) - self.max_pending
        if overflow > 0:
            for _ in range(overflow):
                self._unsent.popleft()
            self._dropped.inc(overflow)
            self.metrics.error("decision_log_backlog_full")
        self._push()
        self.written += len(taken)
        return len(taken)

    def _push(self) -> None:
        if self.redis is None:
            self._unsent.clear()
            return
        while self._unsent:
            chunk = [self._unsent[i] for i in range(min(self.batch, len(self._unsent)))]
            try:
                pipe = self.redis.pipeline(transaction=False)
                for line in chunk:
                    pipe.xadd(self.stream_key, {FIELD: line}, maxlen=self.maxlen, approximate=True)
                pipe.execute()
            except redis.RedisError as exc:
                if self.redis_ok:
                    log.warning(
                        "decision log: Redis unavailable, %d records waiting: %s", len(self._unsent), exc
                    )
                self.redis_ok = False
                self.metrics.error("decision_log_redis_unavailable")
                return
            for _ in chunk:
                self._unsent.popleft()
            self.redis_ok = True

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until everything recorded so far is written (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        while (self._queue or self._unsent) and time.monotonic() < deadline:
            with self._wake:
                self._wake.notify()
            time.sleep(0.01)
        return not self._queue and not self._unsent

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._handler is not None:
            self._handler.close()

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._unsent)

    # --- reading --------------------------------------------------------------------------------
    def query(self, subject: str | None = None, since: float | None = None, limit: int = 100) -> list[dict]:
        """Decisions from the Redis stream, oldest first, at or after ``since`` (Unix s), of ``subject``.

        Stream ids carry Redis's clock at write time, which is at or after the decision's own; the
        scan starts a few seconds early and filters on the record's ``ts``.
        """
        if self.redis is None:
            return []
        start = "-" if since is None else f"{max(0, int((since - 5.0) * 1000))}-0"
        out: list[dict] = []
        while len(out) < limit:
            entries = self.redis.xrange(self.stream_key, min=start, count=max(100, limit))
            if not entries:
                break
            for _entry_id, fields in entries:
                rec = json.loads(fields[FIELD.encode()])
                if subject is not None and rec["request"].get("subject") != subject:
                    continue
                if since is not None and parse_since(rec["ts"]) < since:
                    continue
                out.append(rec)
                if len(out) >= limit:
                    break
            last = entries[-1][0]
            start = "(" + (last.decode() if isinstance(last, bytes) else last)
        return out
