"""A Redis consumer group over the xApp's transition and RAN-view streams, exactly once by seq.

Delivery is at-least-once (XREADGROUP; XACK only after the checkpoint that covers an entry) and made
idempotent by the records' own sequence numbers (``Transition.step``, ``RanViewRecord.seq``):

* a record whose seq is at or below the last applied one is a duplicate (a re-delivery after a crash
  between checkpoint and ack): skipped, counted; a duplicate is always an entry at or before the
  newest entry id the twin has read;
* a record at or below the last applied seq in an entry *after* that id is no re-delivery: the
  producer numbers from the start again (the stream is a new one: a fresh Redis, a FLUSH, a
  ``twinric up`` that kept the twin's state dir, or an xApp that lost its numbering). The twin follows
  the new numbering (counted as a restart) instead of skipping every record until seq passes the old;
* a jump in seq is a gap (entries trimmed by ``MAXLEN ~`` while the twin was down): counted as lost;
* an entry that does not decode, or whose shape does not fit the RAN space, is malformed: skipped,
  counted by reason, logged (rate-limited), and acked so it never comes back.

After a restart the consumer first re-reads its own pending entries (delivered, never acked) and then
new ones: with the stream positions restored from the checkpoint, every record reaches the sinks
exactly once. Sinks are called on the ingest thread, per chunk of at most ``sink_chunk`` records
of a read (the request gate is checked between chunks), in stream order:

* ``add_transition_sink(fn(list[Transition]))``: protobuf messages (decoded for these sinks only:
  the protobuf 3.20 runtime costs ~2 ms per scenario-sized record);
* ``add_transition_batch_sink(fn(TransitionBatch))``: the same records as numpy columns (fast path);
* ``add_ran_view_sink(fn(list[RanRound]))``.

``run`` is the ingest loop: poll, and every ``interval_s`` call ``checkpoint()`` then ack.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import redis

from ricproto import ran_view, transition
from ricproto.ran_view import RanRound, RanViewCodecError, decode_ran_round
from ricproto.transition import (
    Transition,
    TransitionBatch,
    TransitionCodecError,
    decode_transition,
    decode_transition_fields,
)
from twin_sidecar.metrics import TwinMetrics

log = logging.getLogger("twin_sidecar.streams")
TRANSITIONS = "transitions"
RAN_VIEW = "ran_view"
LOG_FIRST = 20  # malformed records logged in full, then one in LOG_EVERY
LOG_EVERY = 1000


@dataclass
class StreamPosition:
    """What the twin has taken from one stream (checkpointed with everything built from it)."""

    last_seq: int = -1  # of the last applied record
    last_id: str = "0-0"  # stream entry id of the newest record read
    consumed: int = 0
    duplicates: int = 0
    lost: int = 0
    malformed: int = 0
    restarts: int = 0  # numbering started again (a new stream)


class StreamConsumer:
    def __init__(
        self,
        client: redis.Redis,
        xapp_instance: str,
        metrics: TwinMetrics,
        *,
        obs_dim: int,
        n_actions: int,
        group: str = "twin",
        consumer: str = "sidecar",
        count: int = 1000,
        sink_chunk: int = 32,
    ) -> None:
        self.redis = client
        self.metrics = metrics
        self.obs_dim = obs_dim
        self.n_actions = n_actions
        self.group = group
        self.consumer = consumer
        self.count = count
        self.sink_chunk = max(1, sink_chunk)  # records handed to the sinks between gate checks
        self.keys = {
            TRANSITIONS: transition.stream_key(xapp_instance),
            RAN_VIEW: ran_view.stream_key(xapp_instance),
        }
        self._field = {TRANSITIONS: transition.FIELD, RAN_VIEW: ran_view.FIELD}
        self.positions = {name: StreamPosition() for name in self.keys}
        self._pending_phase = {name: True for name in self.keys}  # re-read own pending entries first
        self._cursor = {name: "0" for name in self.keys}
        self._unacked: dict[str, list[bytes]] = {name: [] for name in self.keys}
        self._malformed_since: dict[str, int] = {name: 0 for name in self.keys}
        self._transition_sinks: list[Callable[[list[Transition]], None]] = []
        self._batch_sinks: list[Callable[[TransitionBatch], None]] = []
        self._ran_view_sinks: list[Callable[[list[RanRound]], None]] = []
        self.lag: dict[str, int | None] = {name: None for name in self.keys}
        self.redis_ok = True
        self.pause: Callable[[], None] = _no_pause  # called between records (priority.RequestGate)

    # --- sinks ---------------------------------------------------------------------------------------
    def add_transition_sink(self, sink: Callable[[list[Transition]], None]) -> None:
        self._transition_sinks.append(sink)

    def add_transition_batch_sink(self, sink: Callable[[TransitionBatch], None]) -> None:
        self._batch_sinks.append(sink)

    def add_ran_view_sink(self, sink: Callable[[list[RanRound]], None]) -> None:
        self._ran_view_sinks.append(sink)

    # --- reading ------------------------------------------------------------------------------------
    def ensure_groups(self) -> None:
        for key in self.keys.values():
            try:
                self.redis.xgroup_create(key, self.group, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def poll(self, block_ms: int = 100) -> int:
        """One XREADGROUP over both streams; returns the number of entries read."""
        ids = {self.keys[n]: ("0" if self._pending_phase[n] else ">") for n in self.keys}
        for n in self.keys:
            if self._pending_phase[n]:
                ids[self.keys[n]] = self._cursor[n]
        block = None if any(self._pending_phase.values()) else block_ms
        try:
            replies = self.redis.xreadgroup(self.group, self.consumer, ids, count=self.count, block=block)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            self.ensure_groups()  # the stream was deleted (e.g. FLUSHDB): start over on the new one
            return 0
        by_key = {(k.decode() if isinstance(k, bytes) else k): entries for k, entries in replies or []}
        total = 0
        switched = False
        for name, key in self.keys.items():
            entries = by_key.get(key, [])
            if self._pending_phase[name] and not entries:
                self._pending_phase[name] = False  # own pending list drained: new entries from now on
                switched = True
                continue
            if entries:
                total += len(entries)
                self._apply(name, entries)
        return self.poll(block_ms) if switched and not total else total

    def _apply(self, name: str, entries: list[tuple[bytes, dict[bytes, bytes] | None]]) -> None:
        pos = self.positions[name]
        field = self._field[name]
        accepted: list[tuple[Any, bytes]] = []
        pause = self.pause
        last_order = _entry_order(pos.last_id)
        for entry_id, fields in entries:
            pause()
            self._unacked[name].append(entry_id)
            entry = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            order = _entry_order(entry)
            unseen = order > last_order  # never read before
            if unseen:
                pos.last_id, last_order = entry, order
            if self._pending_phase[name]:
                self._cursor[name] = entry
            if fields is None:  # a pending entry trimmed from the stream meanwhile: the gap counts it
                continue
            data = fields.get(field)
            if data is None:
                self._malformed(name, "missing_field", f"entry {entry} has no field {field!r}")
                continue
            try:
                record, seq = self._decode(name, data)
            except (TransitionCodecError, RanViewCodecError) as exc:
                self._malformed(name, _reason(str(exc)), f"entry {entry}: {exc}")
                continue
            if seq <= pos.last_seq:
                if not unseen:
                    pos.duplicates += 1
                    self.metrics.duplicates.labels(stream=name).inc()
                    continue
                pos.restarts += 1
                self.metrics.restarts.labels(stream=name).inc()
                log.warning(
                    "%s: entry %s numbers from seq %d after %d was applied: the producer started again "
                    "(a new stream); following its numbering",
                    name,
                    entry,
                    seq,
                    pos.last_seq,
                )
                pos.last_seq = seq - 1
                self._malformed_since[name] = 0
            gap = seq - pos.last_seq - 1 - self._malformed_since[name]
            if gap > 0:
                pos.lost += gap
                self.metrics.lost.labels(stream=name).inc(gap)
                log.warning(
                    "%s: %d records lost before seq %d (trimmed before the twin read them)", name, gap, seq
                )
            self._malformed_since[name] = 0
            pos.last_seq = seq
            accepted.append((record, data))
        if not accepted:
            return
        pos.consumed += len(accepted)
        self.metrics.consumed.labels(stream=name).inc(len(accepted))
        # the sinks take the records in chunks, with the gate checked before each: a request waits
        # for at most one chunk of mirror/replay work, not for the whole read
        for start in range(0, len(accepted), self.sink_chunk):
            chunk = accepted[start : start + self.sink_chunk]
            if start:
                pause()
            if name == TRANSITIONS:
                if self._batch_sinks:
                    batch = TransitionBatch.from_fields([r for r, _ in chunk])
                    for sink in self._batch_sinks:
                        self._call(sink, batch)
                if self._transition_sinks:
                    messages = [decode_transition(data) for _, data in chunk]
                    for sink in self._transition_sinks:
                        self._call(sink, messages)
            else:
                rounds = [r for r, _ in chunk]
                for sink in self._ran_view_sinks:
                    self._call(sink, rounds)

    def _decode(self, name: str, data: bytes) -> tuple[Any, int]:
        if name == RAN_VIEW:
            r = decode_ran_round(data)
            if r.observation.shape[0] not in (0, self.obs_dim):
                raise RanViewCodecError(
                    f"shape: observation of {r.observation.shape[0]}, expected {self.obs_dim}"
                )
            return r, int(r.seq)
        f = decode_transition_fields(data)
        if f["s"].shape[0] != self.obs_dim:
            raise TransitionCodecError(f"shape: s has {f['s'].shape[0]} values, expected {self.obs_dim}")
        if f["mu_all"].shape[0] not in (0, self.n_actions) or f["action"] >= self.n_actions:
            raise TransitionCodecError(
                f"shape: action {f['action']} / mu_all do not fit {self.n_actions} actions"
            )
        return f, int(f["step"])

    def _malformed(self, name: str, reason: str, detail: str) -> None:
        pos = self.positions[name]
        pos.malformed += 1
        self._malformed_since[name] += 1
        self.metrics.malformed.labels(stream=name, reason=reason).inc()
        self.metrics.error(f"{name}_malformed")
        if pos.malformed <= LOG_FIRST or pos.malformed % LOG_EVERY == 0:
            log.error("%s record skipped (%s, %d so far): %s", name, reason, pos.malformed, detail)

    def _call(self, sink: Callable[[Any], None], value: Any) -> None:
        try:
            sink(value)
        except Exception:  # a sink's bug must not stop ingestion for the others
            self.metrics.error("sink_failed")
            log.exception("stream sink %r failed", sink)

    def ack(self) -> int:
        """XACK everything read so far (call after the checkpoint that covers it)."""
        done = 0
        for name, ids in self._unacked.items():
            for i in range(0, len(ids), 1000):
                done += int(self.redis.xack(self.keys[name], self.group, *ids[i : i + 1000]))
            ids.clear()
        return done

    @property
    def unacked(self) -> int:
        return sum(len(v) for v in self._unacked.values())

    def update_lag(self) -> dict[str, int | None]:
        """Entries not yet delivered to the group (Redis >= 7 reports it; else from the stream length)."""
        for name, key in self.keys.items():
            lag: int | None = None
            try:
                for info in self.redis.xinfo_groups(key):
                    gname = info.get("name")
                    if (gname.decode() if isinstance(gname, bytes) else gname) == self.group:
                        lag = info.get("lag")
                        if lag is None:
                            lag = max(0, int(self.redis.xlen(key)) - self.positions[name].consumed)
            except redis.ResponseError:
                lag = None
            self.lag[name] = None if lag is None else int(lag)
            if lag is not None:
                self.metrics.lag.labels(stream=name).set(int(lag))
        return self.lag

    # --- the ingest loop ----------------------------------------------------------------------------
    def run(
        self, stop: threading.Event, checkpoint: Callable[[], Any], interval_s: float, block_ms: int = 100
    ) -> None:
        last_checkpoint = last_lag = time.monotonic()
        backoff = 0.05
        while not stop.is_set():
            try:
                if not self.redis_ok:
                    self.ensure_groups()
                self.poll(block_ms)
                now = time.monotonic()
                if self.unacked and now - last_checkpoint >= interval_s:
                    checkpoint()
                    self.ack()
                    last_checkpoint = now
                if now - last_lag >= 1.0:
                    self.update_lag()
                    last_lag = now
                if not self.redis_ok:
                    log.info("Redis reachable again: ingesting")
                self.redis_ok, backoff = True, 0.05
            except redis.RedisError as exc:
                if self.redis_ok:
                    log.warning("Redis unavailable, retrying: %s", exc)
                self.redis_ok = False
                self.metrics.error("redis_unavailable")
                stop.wait(backoff)
                backoff = min(2 * backoff, 2.0)
        if self.unacked:  # a clean stop leaves nothing to re-read
            try:
                checkpoint()
                self.ack()
            except redis.RedisError as exc:
                log.warning("final ack failed (entries will be re-read and skipped as duplicates): %s", exc)

    # --- checkpoint ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"positions": {n: asdict(p) for n, p in self.positions.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, p in state.get("positions", {}).items():
            if name in self.positions:
                self.positions[name] = StreamPosition(**p)
        self._pending_phase = {name: True for name in self.keys}
        self._cursor = {name: "0" for name in self.keys}

    def status(self) -> dict[str, Any]:
        return {
            name: {**asdict(pos), "lag": self.lag[name], "key": self.keys[name]}
            for name, pos in self.positions.items()
        }


def _no_pause() -> None:
    return None


def _entry_order(entry_id: str) -> tuple[int, int]:
    """A stream entry id (``<ms>-<seq>``) as something that orders like Redis orders entries."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _reason(message: str) -> str:
    if "schema_version" in message:
        return "schema_version"
    if message.startswith("shape"):
        return "shape"
    if message.startswith("not a"):
        return "undecodable"
    return "inconsistent"
