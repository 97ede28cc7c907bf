"""Prometheus metrics of one appmgr (own registry, so several can live in one test process)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge

from ricplt.error_metrics import RestErrorMetrics

COMPONENT = "appmgr"


class AppmgrMetrics(RestErrorMetrics):
    def __init__(self, count_xapps: Callable[[], int] | None = None) -> None:
        super().__init__(COMPONENT, "appmgr_bad_requests", "Rejected REST requests, by reason.")
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
