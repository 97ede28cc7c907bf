"""Trust scores of RIC subjects in an SDL-style Redis namespace: the twin's security analytics (or an
operator, until it exists) publishes them; the zero-trust PDP reads them.

Layout (SDL's ``{<namespace>},<key>`` convention, plain Redis commands only):

* ``{twinric-trust},<subject>``: one JSON record per subject (:class:`TrustRecord`), written with
  ``SET`` (raw bytes, no msgpack: SDL readers use ``usemsgpack=False``);
* channel ``twinric-trust:updates``: the subject is ``PUBLISH``-ed after every write or delete, so a
  reader refreshes at once instead of at its next scan (SDL's ``set_and_publish`` needs OSC's dbaas
  module, plain ``PUBLISH`` works everywhere).

Subjects are ``<kind>:<id>`` with kind ``xapp`` (an xApp instance name), ``e2node`` (a RAN name /
meid) or ``ue``. A record: ``score`` in [0, 1] (1 = fully trusted), ``ts`` (ISO 8601 with time zone,
when the score was computed), ``source`` (who computed it), optional ``explanation`` and optional
``ttl_s`` (how long the source vouches for the score; without it the reader's own maximum age
applies). A record older than that is *stale*.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

NAMESPACE = "twinric-trust"
KEY_PREFIX = "{" + NAMESPACE + "},"
UPDATES_CHANNEL = f"{NAMESPACE}:updates"
SUBJECT_KINDS = ("xapp", "e2node", "ue")
SUBJECT_RE = re.compile(r"^(xapp|e2node|ue):[A-Za-z0-9_.:@-]{1,200}$")
MAX_EXPLANATION = 2000


class TrustRecordError(ValueError):
    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"trust record.{field}: {reason}" if field else f"trust record: {reason}")


def validate_subject(subject: str) -> str:
    if not isinstance(subject, str) or not SUBJECT_RE.match(subject):
        raise TrustRecordError(
            f"subject must be <kind>:<id> with kind one of {', '.join(SUBJECT_KINDS)}, got {subject!r}",
            "subject",
        )
    return subject


def key(subject: str) -> str:
    return KEY_PREFIX + validate_subject(subject)


def subject_of_key(redis_key: bytes | str) -> str | None:
    text = redis_key.decode(errors="replace") if isinstance(redis_key, bytes) else redis_key
    return text[len(KEY_PREFIX) :] if text.startswith(KEY_PREFIX) else None


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class TrustRecord:
    subject: str
    score: float
    ts: str  # ISO 8601 with time zone
    source: str
    explanation: str | None = None
    ttl_s: float | None = None

    @cached_property
    def timestamp(self) -> float:
        """``ts`` as Unix seconds (parsed once: a reader checks staleness on every decision)."""
        return datetime.fromisoformat(self.ts).timestamp()

    def age_s(self, now: float) -> float:
        return now - self.timestamp

    def stale(self, now: float, max_age_s: float) -> bool:
        return self.age_s(now) > (self.ttl_s if self.ttl_s is not None else max_age_s)


def _number(value: Any, field: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TrustRecordError(f"must be a number, got {value!r}", field)
    if not lo <= value <= hi:
        raise TrustRecordError(f"must be within [{lo:g}, {hi:g}], got {value!r}", field)
    return float(value)


def make_record(
    subject: str,
    score: float,
    source: str,
    *,
    explanation: str | None = None,
    ttl_s: float | None = None,
    ts: str | None = None,
) -> TrustRecord:
    """A validated record (now, unless ``ts`` is given)."""
    return decode_record(
        encode_record(TrustRecord(subject, score, ts or iso_now(), source, explanation, ttl_s))
    )


def encode_record(rec: TrustRecord) -> bytes:
    body: dict[str, Any] = {
        "subject": validate_subject(rec.subject),
        "score": _number(rec.score, "score", 0.0, 1.0),
        "ts": rec.ts,
        "source": rec.source,
    }
    if rec.explanation is not None:
        body["explanation"] = rec.explanation
    if rec.ttl_s is not None:
        body["ttl_s"] = _number(rec.ttl_s, "ttl_s", 0.0, 10 * 365 * 86400.0)
    return json.dumps(body, separators=(",", ":")).encode()


def decode_record(data: bytes | str) -> TrustRecord:
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrustRecordError(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise TrustRecordError("must be a JSON object")
    subject = validate_subject(obj.get("subject"))  # type: ignore[arg-type]
    score = _number(obj.get("score"), "score", 0.0, 1.0)
    ts = obj.get("ts")
    if not isinstance(ts, str):
        raise TrustRecordError("missing or not a string", "ts")
    try:
        when = datetime.fromisoformat(ts)
    except ValueError:
        raise TrustRecordError(f"not ISO 8601: {ts!r}", "ts") from None
    if when.tzinfo is None:
        raise TrustRecordError(f"needs a time zone (ISO 8601 with offset): {ts!r}", "ts")
    source = obj.get("source")
    if not isinstance(source, str) or not source:
        raise TrustRecordError("must be a non-empty string", "source")
    explanation = obj.get("explanation")
    if explanation is not None and (not isinstance(explanation, str) or len(explanation) > MAX_EXPLANATION):
        raise TrustRecordError(f"must be a string of at most {MAX_EXPLANATION} characters", "explanation")
    ttl = obj.get("ttl_s")
    ttl_s = None if ttl is None else _number(ttl, "ttl_s", 0.0, 10 * 365 * 86400.0)
    return TrustRecord(subject, score, ts, source, explanation, ttl_s)
