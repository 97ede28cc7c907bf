"""POSTs of the enforce status to a policy instance's ``notificationDestination``, off the RMR thread."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

import httpx

from ricplt.a1mediator.metrics import A1Metrics

log = logging.getLogger("a1mediator.notifier")


class StatusNotifier:
    """A worker thread that POSTs queued status objects; a slow or dead receiver delays only itself."""

    def __init__(self, metrics: A1Metrics, timeout: float = 3.0, max_queue: int = 1000) -> None:
        self.metrics = metrics
        self.timeout = timeout
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue(max_queue)
        self._thread = threading.Thread(target=self._run, name="a1-notifier", daemon=True)
        self._thread.start()

    def notify(self, url: str, status: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait((url, status))
        except queue.Full:
            self.metrics.notifications.labels("dropped").inc()
            self.metrics.failure("notification_dropped")
            log.warning("notification queue full; status for %s dropped", url)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=self.timeout + 1)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while (item := self._queue.get()) is not None:
                url, status = item
                try:
                    resp = client.post(url, json=status)
                    resp.raise_for_status()
                    self.metrics.notifications.labels("ok").inc()
                except Exception as exc:  # any string is a destination (spec): a bad one must not stop us
                    self.metrics.notifications.labels("failed").inc()
                    self.metrics.failure("notification_failed")
                    log.warning("notification to %s failed: %s", url, exc)
