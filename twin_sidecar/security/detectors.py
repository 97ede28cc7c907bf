"""Streaming anomaly detectors over the signals: one river ``StandardAbsoluteDeviation`` per (subject kind,
signal), learned from the population of trusted subjects, so a subject is judged against its peers and
a distrusted one cannot teach the detector its own behaviour.

A detector's output is *evidence* in [0, 1]: 0 up to ``z_low`` standard deviations above the
population mean, rising linearly to 1 at ``z_high``. Only deviations upward count (every signal is
oriented so that more is worse). A signal whose spread is below its ``floor`` is scored against the
floor (a population that never repeats a report has zero spread, and one repeat must not score
infinity-wise anything but 1), and nothing is scored before ``warmup`` samples were learned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from river import anomaly

from twin_sidecar.security.signals import SIGNALS

# the smallest spread each signal is judged with (its own units)
FLOORS: Mapping[str, float] = {
    "traffic": 0.3,
    "drops": 0.08,
    "churn": 0.15,
    "jump": 1.5,
    "load_mismatch": 0.05,
    "mismatch_trend": 0.03,
    "repeat": 0.05,
    "harm": 0.02,
    "rate": 5.0,  # a controller re-asserting its policy sends bursts
}


@dataclass
class DetectorConfig:
    z_low: float = 4.0
    z_high: float = 8.0
    # samples before the first verdict, per kind (a round brings one per UE, per node, per acting xApp)
    warmup: Mapping[str, int] = field(default_factory=lambda: {"ue": 1000, "e2node": 60, "xapp": 5})


@dataclass
class SignalDetector:
    floor: float
    config: DetectorConfig
    warmup: int = 30
    model: anomaly.StandardAbsoluteDeviation = field(default_factory=anomaly.StandardAbsoluteDeviation)
    n: int = 0

    def learn(self, value: float) -> None:
        self.model.learn_one(None, value)
        self.n += 1

    def z(self, value: float) -> float:
        """Standard deviations above the population mean (0 below it, 0 before the warm-up)."""
        if self.n < self.warmup:
            return 0.0
        sd = self.model.variance.get() ** 0.5
        z = self.model.score_one(None, value) * (sd + 1e-10) / max(sd, self.floor)
        return z if value > self.model.sub_stat.get() else 0.0

    def evidence(self, value: float) -> float:
        c = self.config
        return min(1.0, max(0.0, (self.z(value) - c.z_low) / (c.z_high - c.z_low)))


class DetectorBank:
    """The detectors of every (kind, signal)."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        self.detectors = {
            (kind, name): SignalDetector(FLOORS.get(name, 0.1), self.config, self.config.warmup.get(kind, 30))
            for kind, names in SIGNALS.items()
            for name in names
        }

    def score(self, subject: str, signals: Mapping[str, float]) -> dict[str, float]:
        kind = subject.partition(":")[0]
        return {
            name: self.detectors[(kind, name)].evidence(value)
            for name, value in signals.items()
            if (kind, name) in self.detectors
        }

    def learn(self, subject: str, signals: Mapping[str, float]) -> None:
        kind = subject.partition(":")[0]
        for name, value in signals.items():
            det = self.detectors.get((kind, name))
            if det is not None:
                det.learn(value)

    def thresholds(self) -> dict[str, dict[str, float]]:
        """Per (kind.signal): the value at which evidence starts and at which it is full (for reports)."""
        out = {}
        for (kind, name), det in self.detectors.items():
            mean = det.model.sub_stat.get()
            sd = max(det.model.variance.get() ** 0.5, det.floor)
            out[f"{kind}.{name}"] = {
                "mean": mean,
                "sd": sd,
                "evidence_from": mean + self.config.z_low * sd,
                "full_at": mean + self.config.z_high * sd,
                "samples": det.n,
            }
        return out
