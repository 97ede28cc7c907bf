"""Prometheus metrics of one A1 mediator (own registry, so several can live in one test process)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge

from ricplt.error_metrics import RestErrorMetrics
from ricproto import metric_names

COMPONENT = "a1mediator"


class A1Metrics(RestErrorMetrics):
    def __init__(self, count_enforced: Callable[[], int] | None = None) -> None:
        super().__init__(COMPONENT, "a1_bad_requests", "Rejected northbound REST requests, by reason.")
        self.rmr_sent = Counter(
            "a1_rmr_policy_requests_sent",
            "A1_POLICY_REQ sends, by operation and result.",
            ["operation", "result"],
            registry=self.registry,
        )
        self.rmr_received = Counter(
            "a1_rmr_messages_received",
            "RMR messages received, by message type.",
            ["mtype"],
            registry=self.registry,
        )
        self.rmr_bad = Counter(
            "a1_rmr_bad_messages",
            "Malformed or unexpected RMR messages, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.handler_responses = Counter(
            "a1_handler_responses",
            "A1_POLICY_RESP received, by status.",
            ["status"],
            registry=self.registry,
        )
        self.notifications = Counter(
            "a1_notifications",
            "Status notifications POSTed to notificationDestination, by result.",
            ["result"],
            registry=self.registry,
        )
        self.enforced = Gauge(
            metric_names.A1_POLICIES_ENFORCED,
            "Policy instances whose handler answered OK.",
            registry=self.registry,
        )
        if count_enforced is not None:
            self.enforced.set_function(lambda: float(count_enforced()))

    def bad_rmr(self, reason: str) -> None:
        self.rmr_bad.labels(reason).inc()
        self.errors.labels(COMPONENT, f"rmr_{reason}").inc()
