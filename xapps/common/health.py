"""Liveness/readiness of an xApp, with named checks and the degraded mode it runs in.

``alive`` means the process is serving; ``ready`` means every required check passes. Degraded modes
(e.g. "no twin: last promoted policy") do not make an xApp unready - it still controls the RAN -
but they are reported in the ready detail and as a gauge so operators see them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from xapps.common.metrics import XappMetrics

Check = Callable[[], tuple[bool, str]]


class HealthState:
    def __init__(self, metrics: XappMetrics, modes: tuple[str, ...]) -> None:
        self._lock = threading.Lock()
        self._checks: dict[str, tuple[Check, bool]] = {}
        self._details: dict[str, Any] = {}
        self.modes = modes
        self.mode = modes[0]
        self.alive = True
        self._mode_gauge = metrics.gauge("twinric_xapp_mode", "1 for the mode the xApp runs in", ("mode",))
        self.set_mode(self.mode)

    def add_check(self, name: str, check: Check, *, required: bool = True) -> None:
        with self._lock:
            self._checks[name] = (check, required)

    def set_detail(self, key: str, value: Any) -> None:
        with self._lock:
            self._details[key] = value

    def set_mode(self, mode: str) -> None:
        if mode not in self.modes:
            raise ValueError(f"unknown mode {mode!r}")
        with self._lock:
            self.mode = mode
            for m in self.modes:
                self._mode_gauge.labels(mode=m).set(1 if m == mode else 0)

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        with self._lock:
            checks = dict(self._checks)
            details = dict(self._details)
            mode = self.mode
        results: dict[str, Any] = {}
        ready = True
        for name, (check, required) in checks.items():
            try:
                ok, detail = check()
            except Exception as exc:  # a failing check must not break the endpoint
                ok, detail = False, f"check raised {exc!r}"
            results[name] = {"ok": ok, "detail": detail, "required": required}
            ready = ready and (ok or not required)
        return ready, {"ready": ready, "mode": mode, "checks": results, **details}
