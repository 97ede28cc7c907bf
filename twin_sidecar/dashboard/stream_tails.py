"""What the dashboard reads from Redis beside the twin's own parts, each a bounded tail:

* ``TransitionTail``: the xApp's transitions stream (the twin's own input) read incrementally from
  the newest entry seen: per step the logged reward, the action source, policy version, and whether
  the shield intervened (with its reason) or the PDP denied the control (with its reason);
* ``decision_tail``: the newest records of the PDP's decision log stream;
* ``trust_records``: every subject's record in the trust namespace the PDP reads.

Redis keys are the producers' documented layouts (the twin never imports ``xapps``). Bad entries are
skipped and counted (``twinric_errors_total{reason="dashboard_..."}``); Redis being away is reported
to the caller, which shows the view as unavailable.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import redis

from ricproto import trust
from ricproto.transition import (
    FIELD,
    ActionSource,
    TransitionCodecError,
    decode_transition_fields,
    stream_key,
)
from twin_sidecar.metrics import TwinMetrics

DECISIONS_KEY = "twinric:pdp:decisions"  # xapps/pdp/decision_log.py: one JSON record in field "d"
DECISIONS_FIELD = b"d"
FIRST_READ = 2000  # entries read back on the first poll (the tail's memory after that)
MAX_SUBJECTS = 500


@dataclass(frozen=True)
class Step:
    t: float  # Unix s the action was decided (the xApp's clock)
    step: int
    reward: float
    action: int
    source: str
    policy_version: str
    intervened: bool
    intervention_reason: str
    denied: bool
    deny_reason: str


class TransitionTail:
    def __init__(
        self, client: redis.Redis, xapp_instance: str, metrics: TwinMetrics, capacity: int = 20_000
    ) -> None:
        self.client = client
        self.key = stream_key(xapp_instance)
        self.metrics = metrics
        self.steps: deque[Step] = deque(maxlen=capacity)
        self.last_id: bytes | None = None

    def poll(self, max_entries: int = 5000) -> int:
        """Read what arrived since the last poll; returns how many steps were added. Raises
        ``redis.RedisError`` when Redis does not answer."""
        if self.last_id is None:
            entries = list(reversed(self.client.xrevrange(self.key, count=FIRST_READ)))
        else:
            entries = self.client.xrange(self.key, min=b"(" + self.last_id, count=max_entries)
        added = 0
        for entry_id, fields in entries:
            self.last_id = entry_id
            step = self._decode(fields.get(FIELD))
            if step is not None:
                self.steps.append(step)
                added += 1
        return added

    def _decode(self, data: bytes | None) -> Step | None:
        if data is None:
            self.metrics.error("dashboard_transition_malformed")
            return None
        try:
            f = decode_transition_fields(data)
        except TransitionCodecError:
            self.metrics.error("dashboard_transition_malformed")
            return None
        times = f.get("timestamps") or {}
        decided = times.get("decided_ns") or times.get("indication_ns") or 0
        try:
            source = ActionSource.Name(int(f["source"]))
        except ValueError:
            source = str(f["source"])
        return Step(
            t=decided / 1e9,
            step=int(f["step"]),
            reward=float(f["reward"]),
            action=int(f["action"]),
            source=source,
            policy_version=str(f["policy_version"]),
            intervened=bool(f["intervened"]),
            intervention_reason=str(f["intervention_reason"]),
            denied=bool(f["denied"]),
            deny_reason=str(f["deny_reason"]),
        )

    def window(self, start: float, end: float) -> list[Step]:
        return [s for s in list(self.steps) if start < s.t <= end]


def step_dict(step: Step) -> dict[str, Any]:
    return asdict(step)


def decision_tail(client: redis.Redis, metrics: TwinMetrics, limit: int = 30) -> list[dict[str, Any]]:
    """The PDP's newest decisions, newest first (a record that is not a JSON object is skipped, counted)."""
    out = []
    for _, fields in client.xrevrange(DECISIONS_KEY, count=limit):
        try:
            record = json.loads(fields.get(DECISIONS_FIELD, b""))
        except (UnicodeDecodeError, json.JSONDecodeError):
            record = None
        if not isinstance(record, dict):
            metrics.error("dashboard_decision_malformed")
            continue
        out.append(record)
    return out


def trust_records(client: redis.Redis, metrics: TwinMetrics) -> list[dict[str, Any]]:
    """Every subject's trust record (at most ``MAX_SUBJECTS``), lowest score first, with its age and
    whether it outlived its own TTL (the PDP's maximum age for records without one is in its policy,
    which the twin does not read)."""
    keys = []
    for k in client.scan_iter(
        match=trust.KEY_PREFIX.replace("{", "[{]").replace("}", "[}]") + "*", count=500
    ):
        keys.append(k)
        if len(keys) >= MAX_SUBJECTS:
            break
    now = time.time()
    out = []
    for data in client.mget(keys) if keys else []:
        if data is None:  # deleted between SCAN and MGET
            continue
        try:
            rec = trust.decode_record(data)
        except trust.TrustRecordError:
            metrics.error("dashboard_trust_malformed")
            continue
        out.append(
            {
                "subject": rec.subject,
                "score": rec.score,
                "ts": rec.ts,
                "source": rec.source,
                "explanation": rec.explanation,
                "age_s": round(rec.age_s(now), 1),
                "ttl_s": rec.ttl_s,
                "stale": rec.ttl_s is not None and rec.age_s(now) > rec.ttl_s,
            }
        )
    return sorted(out, key=lambda r: (r["score"], r["subject"]))
