"""The e2term's Prometheus metrics (names shared through ``ricproto.metric_names``)."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

from ricplt.error_metrics import errors_counter
from ricproto import metric_names

COMPONENT = "e2term"


class E2TermMetrics:
    """Nodes connected, indications relayed, controls forwarded and errors by reason."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.nodes_connected = Gauge(
            metric_names.E2_NODES_CONNECTED, "E2 nodes with a live association", registry=registry
        )
        self.indications = Counter(
            metric_names.E2_INDICATIONS, "RIC indications relayed from E2 nodes to RMR", registry=registry
        )
        self.controls = Counter(
            metric_names.E2_CONTROLS, "RIC control requests forwarded from RMR to E2 nodes", registry=registry
        )
        self.control_gate = Counter(
            "twinric_e2term_control_gate",
            "RIC controls the grant check refused (or let through without a grant), by reason",
            ["outcome"],
            registry=registry,
        )
        self.errors = errors_counter(registry)

    def error(self, reason: str) -> None:
        self.errors.labels(component=COMPONENT, reason=reason).inc()
