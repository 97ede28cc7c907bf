"""Trust scores: score-based and contextual (NIST SP 800-207 §3.3.2), one per subject, in [0, 1].

Each subject carries a *suspicion* per signal: every round it decays by ``half_life_s`` and grows by
``weight * evidence``. The trust score is ``exp(-total suspicion)``; the total is capped at
``max_suspicion`` so that a subject whose evidence stops recovers within a bounded time (trust 0.5 is
reached again ``half_life_s * log2(max_suspicion / ln 2)`` after the last evidence). The explanation
of a score is its signals' shares of the suspicion: which signals moved it and by how much.

``records`` gives ``ricproto.trust`` records (timestamped, with the explanation and a TTL) and
``publish`` writes them to the SDL-style namespace the PDP reads, announcing each on the update channel.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis

from ricproto import trust

SOURCE = "twin-security"


@dataclass
class TrustConfig:
    half_life_s: float = 5.0
    max_suspicion: float = 3.0
    weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "traffic": 0.35,
            "drops": 0.35,
            "churn": 0.5,
            "jump": 0.35,
            "load_mismatch": 0.3,
            "mismatch_trend": 0.3,
            "repeat": 0.35,
            "harm": 0.35,
            "rate": 0.1,
        }
    )
    ttl_s: float = 30.0  # how long a published score is vouched for


@dataclass
class SubjectTrust:
    subject: str
    suspicion: dict[str, float] = field(default_factory=dict)
    updated_s: float = 0.0
    last_evidence_s: float | None = None

    @property
    def total(self) -> float:
        return sum(self.suspicion.values())

    @property
    def score(self) -> float:
        return math.exp(-self.total)

    def explanation(self) -> dict[str, float]:
        """Signal -> how much trust it took away (shares of the missing trust, rounded)."""
        total = self.total
        missing = 1.0 - self.score
        return (
            {name: round(missing * s / total, 4) for name, s in sorted(self.suspicion.items()) if s > 1e-4}
            if total > 0
            else {}
        )


class TrustScorer:
    def __init__(self, config: TrustConfig | None = None) -> None:
        self.config = config or TrustConfig()
        self.subjects: dict[str, SubjectTrust] = {}

    def score(self, subject: str) -> float:
        st = self.subjects.get(subject)
        return 1.0 if st is None else st.score

    def update(self, subject: str, evidence: Mapping[str, float], now_s: float) -> SubjectTrust:
        st = self.subjects.get(subject)
        if st is None:
            st = self.subjects[subject] = SubjectTrust(subject, updated_s=now_s)
        self._decay(st, now_s)
        cfg = self.config
        for name, e in evidence.items():
            if e > 0:
                st.suspicion[name] = st.suspicion.get(name, 0.0) + cfg.weights.get(name, 0.2) * e
                st.last_evidence_s = now_s
        total = st.total
        if total > cfg.max_suspicion:
            scale = cfg.max_suspicion / total
            st.suspicion = {k: v * scale for k, v in st.suspicion.items()}
        return st

    def decay_all(self, now_s: float) -> None:
        """Let every subject's suspicion decay to ``now_s`` (subjects not seen this round recover too)."""
        for st in self.subjects.values():
            self._decay(st, now_s)

    def _decay(self, st: SubjectTrust, now_s: float) -> None:
        dt = now_s - st.updated_s
        if dt > 0:
            f = 0.5 ** (dt / self.config.half_life_s)
            st.suspicion = {k: v * f for k, v in st.suspicion.items() if v * f > 1e-6}
            st.updated_s = now_s

    def snapshot(self) -> dict[str, float]:
        return {s: st.score for s, st in self.subjects.items()}

    def records(
        self, wall_time: float | None = None, subjects: Iterable[str] | None = None
    ) -> list[trust.TrustRecord]:
        ts = datetime.fromtimestamp(wall_time, UTC).isoformat(timespec="milliseconds") if wall_time else None
        out = []
        for subject in subjects if subjects is not None else sorted(self.subjects):
            st = self.subjects.get(subject) or SubjectTrust(subject)
            explanation = json.dumps(st.explanation(), separators=(",", ":"))
            out.append(
                trust.make_record(
                    subject,
                    round(st.score, 4),
                    SOURCE,
                    explanation=explanation,
                    ttl_s=self.config.ttl_s,
                    ts=ts,
                )
            )
        return out

    def publish(self, client: redis.Redis, records: Iterable[trust.TrustRecord]) -> int:
        """Write the records (one pipeline) and announce each subject; returns how many were written."""
        recs = list(records)
        if not recs:
            return 0
        pipe = client.pipeline(transaction=False)
        for rec in recs:
            pipe.set(trust.key(rec.subject), trust.encode_record(rec))
            pipe.publish(trust.UPDATES_CHANNEL, rec.subject)
        pipe.execute()
        return len(recs)
