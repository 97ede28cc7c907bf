"""Prometheus metrics of one xApp instance, in its own registry (served on ``/metrics``).

Own registry rather than the process-global one so several xApp instances can live in one test
process. ``errors`` is the shared ``twinric_errors_total{component, reason}`` counter: every piece
of bad input or failed dependency call is counted there with a short reason label.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ricproto.metric_names import ERRORS


class XappMetrics:
    def __init__(self, component: str) -> None:
        self.component = component
        self.registry = CollectorRegistry(auto_describe=True)
        self._errors = Counter(
            ERRORS, "Bad input and failures", ["component", "reason"], registry=self.registry
        )

    def error(self, reason: str) -> None:
        self._errors.labels(component=self.component, reason=reason).inc()

    def error_count(self, reason: str) -> float:
        value = self.registry.get_sample_value(
            f"{ERRORS}_total" if not ERRORS.endswith("_total") else ERRORS,
            {"component": self.component, "reason": reason},
        )
        return value or 0.0

    def counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        return Counter(name, doc, list(labels), registry=self.registry)

    def gauge(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, list(labels), registry=self.registry)

    def histogram(
        self, name: str, doc: str, buckets: tuple[float, ...], labels: tuple[str, ...] = ()
    ) -> Histogram:
        return Histogram(name, doc, list(labels), buckets=buckets, registry=self.registry)

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float:
        return self.registry.get_sample_value(name, labels or {}) or 0.0

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
