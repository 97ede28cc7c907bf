"""The PDP's view of the trust namespace (``ricproto.trust``): every subject's latest record in memory,
and the Cedar entities built from them.

Decisions never wait on Redis: the view is refreshed by the namespace's update channel (a subject is
re-read the moment its publisher announces it) and by a full scan every ``scan_s`` (which catches
announcements missed while disconnected and records deleted without one). If Redis goes away the
last records stay, and they go stale by their own timestamps, so decisions fail closed on their own.
A record that does not decode is counted, logged and treated as missing.

Cedar sees a subject as an entity with a ``trust`` attribute in thousandths (``Xapp::"name"``,
``E2Node::"meid"``, ``Ue::"id"``); the ``cedarpy.Entities`` handle is rebuilt only when a record
changes, so a decision does not re-parse entities.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import cedarpy
import redis

from ricproto import trust
from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.pdp.trust")

CEDAR_TYPES = {"xapp": "Xapp", "e2node": "E2Node", "ue": "Ue"}
OnChange = Callable[[str, trust.TrustRecord | None], None]


def cedar_uid(subject: str) -> tuple[str, str]:
    """(entity type, id) of a trust subject: ``xapp:c`` -> ``("Xapp", "c")``."""
    kind, _, ident = subject.partition(":")
    return CEDAR_TYPES[kind], ident


def trust_milli(score: float) -> int:
    return round(score * 1000)


class TrustView:
    def __init__(self, client: redis.Redis, metrics: XappMetrics, *, scan_s: float = 2.0) -> None:
        self.redis = client
        self.metrics = metrics
        self.scan_s = scan_s
        self._lock = threading.Lock()
        self._records: dict[str, trust.TrustRecord] = {}
        self.entities = cedarpy.Entities.from_json_str("[]")
        self.generation = 0  # bumped whenever the records change
        self.redis_ok = False
        self.last_error = ""
        self._listeners: list[OnChange] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- reading --------------------------------------------------------------------------------
    def get(self, subject: str) -> trust.TrustRecord | None:
        return self._records.get(subject)

    def subjects(self) -> list[str]:
        return sorted(self._records)

    def add_listener(self, listener: OnChange) -> None:
        self._listeners.append(listener)

    # --- refreshing -----------------------------------------------------------------------------
    def refresh_all(self) -> bool:
        """Re-read the whole namespace; False (and the old view kept) when Redis cannot be read."""
        try:
            # braces are not glob characters in Redis: SDL lists a namespace with KEYS "{ns},*" too
            keys = list(self.redis.scan_iter(match=trust.KEY_PREFIX + "*", count=500))
            values = self.redis.mget(keys) if keys else []
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return False
        self.redis_ok, self.last_error = True, ""
        fresh: dict[str, trust.TrustRecord] = {}
        for k, raw in zip(keys, values, strict=True):
            subject = trust.subject_of_key(k)
            rec = self._decode(subject, raw)
            if rec is not None and subject is not None:
                fresh[subject] = rec
        self._replace(fresh)
        return True

    def refresh(self, subject: str) -> None:
        try:
            raw = self.redis.get(trust.key(subject))
        except trust.TrustRecordError:
            self.metrics.error("trust_bad_subject")
            return
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return
        rec = self._decode(subject, raw)
        with self._lock:
            fresh = dict(self._records)
            if rec is None:
                fresh.pop(subject, None)
            else:
                fresh[subject] = rec
        self._replace(fresh)

    def _decode(self, subject: str | None, raw: bytes | None) -> trust.TrustRecord | None:
        if raw is None or subject is None:
            return None
        try:
            rec = trust.decode_record(raw)
        except trust.TrustRecordError as exc:
            self.metrics.error("trust_record_invalid")
            log.error("trust record of %s ignored: %s", subject, exc)
            return None
        if rec.subject != subject:
            self.metrics.error("trust_record_invalid")
            log.error("trust record under %s names %s: ignored", subject, rec.subject)
            return None
        return rec

    def _replace(self, fresh: dict[str, trust.TrustRecord]) -> None:
        with self._lock:
            old = self._records
            if fresh == old:
                return
            self._records = fresh
            self.entities = cedarpy.Entities.from_json_str(
                json.dumps(
                    [
                        {
                            "uid": dict(zip(("type", "id"), cedar_uid(s), strict=True)),
                            "attrs": {"trust": trust_milli(r.score)},
                            "parents": [],
                        }
                        for s, r in fresh.items()
                    ]
                )
            )
            self.generation += 1
        for subject in set(old) | set(fresh):
            if old.get(subject) != fresh.get(subject):
                for listener in self._listeners:
                    try:
                        listener(subject, fresh.get(subject))
                    except Exception:
                        self.metrics.error("trust_listener_failed")
                        log.exception("trust change listener failed")

    def _redis_failed(self, exc: Exception) -> None:
        if self.redis_ok or not self.last_error:
            log.warning("trust namespace unreadable (keeping %d records): %s", len(self._records), exc)
        self.redis_ok, self.last_error = False, str(exc)
        self.metrics.error("trust_redis_unavailable")

    # --- threads ----------------------------------------------------------------------------------
    def start(self) -> TrustView:
        self.refresh_all()
        for target, name in ((self._scan_loop, "trust-scan"), (self._listen_loop, "trust-updates")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _scan_loop(self) -> None:
        while not self._stop.wait(self.scan_s):
            self.refresh_all()

    def _listen_loop(self) -> None:
        while not self._stop.is_set():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(trust.UPDATES_CHANNEL)
                self.refresh_all()  # anything published while we were not listening
                while not self._stop.is_set():
                    msg = pubsub.get_message(timeout=0.5)
                    if msg and msg.get("type") == "message":
                        data = msg["data"]
                        self.refresh(data.decode(errors="replace") if isinstance(data, bytes) else str(data))
            except (redis.RedisError, OSError, ValueError, AttributeError) as exc:
                self._redis_failed(exc)
                self._stop.wait(1.0)
            finally:
                try:  # closed by this thread only: redis-py's PubSub is not thread-safe
                    pubsub.close()
                except (redis.RedisError, OSError, AttributeError):
                    pass

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=3)
