"""Prometheus metrics of one appmgr (own registry, so several can live in one test process)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

from ricproto import metric_names

COMPONENT = "appmgr"


class AppmgrMetrics:
    def __init__(self, count_xapps: Callable[[], int] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.errors = Counter(
            metric_names.ERRORS.removesuffix("_total"),
            "Bad input and failures, by component and reason.",
            ["component", "reason"],
            registry=self.registry,
        )
        self.bad_requests = Counter(
            "appmgr_bad_requests",
            "Rejected REST requests, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.registrations = Counter(
            "appmgr_registrations",
            "Accepted register/deregister calls, by action.",
            ["action"],
            registry=self.registry,
        )
        self.route_pushes = Counter(
            "appmgr_route_pushes",
            "Route-table pushes to route-manager ports, by result.",
            ["result"],
            registry=self.registry,
        )
        self.xapps = Gauge("appmgr_registered_xapps", "Registered xApp instances.", registry=self.registry)
        if count_xapps is not None:
            self.xapps.set_function(lambda: float(count_xapps()))

    def bad_request(self, reason: str) -> None:
        self.bad_requests.labels(reason).inc()
        self.errors.labels(COMPONENT, reason).inc()

    def failure(self, reason: str) -> None:
        self.errors.labels(COMPONENT, reason).inc()
