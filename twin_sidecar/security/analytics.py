"""The security loop of the twin: each round's evidence -> signals -> detector evidence -> trust scores,
published to the trust namespace the PDP reads; the detectors learn only from subjects still trusted.

``observe`` takes a ``SecurityRound`` (the bench and tests build them from e2sim directly; the sidecar
from the RAN-view stream with ``on_ran_round``). A round that cannot be read is counted in ``errors``
and skipped, never raised.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import redis

from ricproto.ran_view import RanRound
from twin_sidecar.security.detectors import DetectorBank, DetectorConfig
from twin_sidecar.security.evidence import SecurityRound, from_ran_round
from twin_sidecar.security.signals import SignalExtractor
from twin_sidecar.security.training_guard import TrainingGuard
from twin_sidecar.security.trust_scores import TrustConfig, TrustScorer

log = logging.getLogger("twin_sidecar.security")


@dataclass
class AnalyticsConfig:
    learn_threshold: float = 0.8  # detectors learn only from subjects trusted at least this much
    exclude_threshold: float = 0.6  # training guard: data from sources below this stay out
    detectors: DetectorConfig = field(default_factory=DetectorConfig)
    trust: TrustConfig = field(default_factory=TrustConfig)


@dataclass
class SubjectState:
    signals: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, float] = field(default_factory=dict)
    t_s: float = 0.0


class SecurityAnalytics:
    def __init__(
        self, config: AnalyticsConfig | None = None, *, publish_to: redis.Redis | None = None
    ) -> None:
        self.config = config or AnalyticsConfig()
        self.extractor = SignalExtractor()
        self.detectors = DetectorBank(self.config.detectors)
        self.scorer = TrustScorer(self.config.trust)
        self.guard = TrainingGuard(self.scorer.score, self.config.exclude_threshold)
        self.redis = publish_to
        self.state: dict[str, SubjectState] = {}
        self.rounds = 0
        self.published = 0
        self.errors: Counter[str] = Counter()
        self.last_t_s = 0.0
        self._lock = threading.Lock()

    def observe(self, rnd: SecurityRound) -> dict[str, dict[str, float]]:
        """Score one round; returns the evidence per subject (signals with any evidence only)."""
        with self._lock:
            learn_at = self.config.learn_threshold
            trusted_nodes = {c.meid: self.scorer.score(f"e2node:{c.meid}") >= learn_at for c in rnd.cells}
            signals = self.extractor.extract(rnd, trusted_nodes)
            self.scorer.decay_all(rnd.t_s)
            out: dict[str, dict[str, float]] = {}
            for subject, sig in signals.items():
                if not all(math.isfinite(v) for v in sig.values()):
                    self.errors["non_finite_signal"] += 1
                    continue
                ev = self.detectors.score(subject, sig)
                self.scorer.update(subject, ev, rnd.t_s)
                self.state[subject] = SubjectState(sig, ev, rnd.t_s)
                if any(e > 0 for e in ev.values()):
                    out[subject] = {k: v for k, v in ev.items() if v > 0}
            for subject, sig in signals.items():
                if subject in self.state and self.scorer.score(subject) >= learn_at:
                    self.detectors.learn(subject, sig)
            self.guard.all_sources = tuple(sorted(f"e2node:{m}" for m in trusted_nodes))
            self.rounds += 1
            self.last_t_s = rnd.t_s
        return out

    def register(self, subjects: list[str], t_s: float) -> None:
        """Subjects known before any evidence (the provisioned xApps): scored, and published, from now."""
        with self._lock:
            for subject in subjects:
                self.scorer.update(subject, {}, t_s)

    def apply(self, rounds: list[RanRound]) -> None:
        """RAN-view sink (``StreamConsumer.add_ran_view_sink``)."""
        for r in rounds:
            self.on_ran_round(r)

    def on_ran_round(self, r: RanRound) -> None:
        """RAN-view sink: the round as the xApp recorded it (wall clock from its decision time)."""
        try:
            rnd = from_ran_round(r)
        except (ValueError, IndexError) as exc:
            self.errors["bad_round"] += 1
            log.warning("RAN round %s not usable for security analytics: %s", r.seq, exc)
            return
        self.observe(rnd)
        if self.redis is not None:
            self.publish()

    def score(self, subject: str) -> float:
        return self.scorer.score(subject)

    def publish(self, wall_time: float | None = None) -> int:
        """Write every subject's record to the trust namespace; 0 (counted) when Redis is away."""
        if self.redis is None:
            return 0
        with self._lock:
            records = self.scorer.records(wall_time or time.time())
        try:
            n = self.scorer.publish(self.redis, records)
        except redis.RedisError as exc:
            self.errors["publish_failed"] += 1
            log.warning("trust scores not published: %s", exc)
            return 0
        self.published += n
        return n

    def view(self, kind: str | None = None, below: float | None = None) -> list[dict[str, Any]]:
        """Every subject's score, its explanation and the signals behind it (``GET /v1/trust``)."""
        with self._lock:
            out = []
            for subject, st in sorted(self.scorer.subjects.items()):
                if kind is not None and not subject.startswith(kind + ":"):
                    continue
                if below is not None and st.score >= below:
                    continue
                seen = self.state.get(subject, SubjectState())
                out.append(
                    {
                        "subject": subject,
                        "score": round(st.score, 4),
                        "t_s": st.updated_s,
                        "last_evidence_s": st.last_evidence_s,
                        "explanation": st.explanation(),
                        "signals": {k: round(v, 4) for k, v in seen.signals.items()},
                        "evidence": {k: round(v, 4) for k, v in seen.evidence.items()},
                    }
                )
            return out

    def status(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "subjects": len(self.scorer.subjects),
            "published": self.published,
            "errors": dict(self.errors),
            "impersonation_attempts": dict(self.extractor.impersonation_attempts),
            "training_guard": self.guard.status(),
        }

    def thresholds(self) -> Mapping[str, Any]:
        return self.detectors.thresholds()
