"""The E2 manager stand-in's metrics: R-NIB nodes by connection status, and the shared error counter."""

from __future__ import annotations

import threading

from prometheus_client import Gauge

from ricplt.error_metrics import RestErrorMetrics


class E2mgrMetrics(RestErrorMetrics):
    def __init__(self) -> None:
        super().__init__("e2mgr", "twinric_e2mgr_bad_requests",
                         "Requests e2mgr's REST API refused, by reason.")
        self.rnib_nodes = Gauge("twinric_rnib_nodes", "E2 nodes in the R-NIB, by connection status",
                                ["status"], registry=self.registry)
        self._status: dict[str, bool] = {}
        self._lock = threading.Lock()

    def node_status(self, ran_name: str, connected: bool) -> None:
        with self._lock:
            self._status[ran_name] = connected
            up = sum(self._status.values())
            self.rnib_nodes.labels("connected").set(up)
            self.rnib_nodes.labels("disconnected").set(len(self._status) - up)

    def error(self, reason: str) -> None:
        self.failure(reason)
