"""Requests first: background work steps aside while the API answers.

Ingestion and training share the process (and its GIL) with the API. Python's GIL hands over at most
every switch interval, so a request competing with a busy ingest thread waits for it several times
(socket read, parse, handler, write). The ``RequestGate`` counts requests in flight (the ASGI
``PriorityMiddleware`` enters and leaves it); the ingest loop calls ``yield_to_requests`` between
records and the trainer before each update, which blocks (releasing the GIL) until no request is in
flight, for at most ``max_wait_s``. At the xApp's pace (one ``/v1/predict`` per report period) this
costs ingestion nothing measurable; under a flood of requests ingestion slows but never stops.
"""

from __future__ import annotations

import threading
from typing import Any


class RequestGate:
    def __init__(self, max_wait_s: float = 0.005) -> None:
        self.max_wait_s = max_wait_s
        self._lock = threading.Lock()
        self._inflight = 0
        self._idle = threading.Event()
        self._idle.set()

    def enter(self) -> None:
        with self._lock:
            self._inflight += 1
            self._idle.clear()

    def leave(self) -> None:
        with self._lock:
            self._inflight = max(0, self._inflight - 1)
            if self._inflight == 0:
                self._idle.set()

    @property
    def inflight(self) -> int:
        return self._inflight

    def yield_to_requests(self) -> None:
        if not self._idle.is_set():
            self._idle.wait(self.max_wait_s)


class PriorityMiddleware:
    """ASGI middleware: every HTTP request holds the gate from its start to its last body byte."""

    def __init__(self, app: Any, gate: RequestGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.gate.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave()
