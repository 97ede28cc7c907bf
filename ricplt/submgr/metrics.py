"""The submgr's Prometheus metrics (names shared through ``ricproto.metric_names``)."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Gauge

from ricplt.error_metrics import errors_counter
from ricproto import metric_names

COMPONENT = "submgr"


class SubmgrMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.subscriptions_active = Gauge(
            metric_names.SUBSCRIPTIONS_ACTIVE,
            "E2 subscriptions (instances) admitted by their nodes",
            registry=registry,
        )
        self.errors = errors_counter(registry)

    def error(self, reason: str) -> None:
        self.errors.labels(component=COMPONENT, reason=reason).inc()
