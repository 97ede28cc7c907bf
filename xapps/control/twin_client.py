"""The xApp's side of the twin sidecar's HTTP API: predicted loads (state intervention) and planning.

* ``POST {twin}/v1/predict`` with ``{"observation": [...]}`` -> ``{"predicted_load": [max_cells]}``:
  the twin's prediction of each cell's DL PRB usage for the next period. Called from a background
  thread at most once per report period, so the loop only reads a cached, timestamped answer.
* ``POST {twin}/v1/plan`` with ``{"observation", "mask", "budget_ms", "policy_version"}`` ->
  ``{"action": int}``: planning within the A1 budget; called on the loop with the budget as the
  HTTP timeout, and any failure or lateness falls back to the policy's action (counted).

The twin counts as up while its last call succeeded; the xApp's degraded modes follow from that.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx
import numpy as np

from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.control.twin")


class TwinClient:
    def __init__(
        self,
        url: str | None,
        max_cells: int,
        metrics: XappMetrics,
        *,
        period_s: float = 0.1,
        stale_after_s: float = 1.0,
    ) -> None:
        self.url = url.rstrip("/") if url else None
        self.max_cells = max_cells
        self.metrics = metrics
        self.period_s = period_s
        self.stale_after_s = stale_after_s
        self._http = httpx.Client(timeout=1.0) if self.url else None
        self._bg = httpx.Client(timeout=max(period_s, 0.2)) if self.url else None
        self._latest_obs: np.ndarray | None = None
        self._prediction: tuple[float, np.ndarray] | None = None
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.up = False
        self.last_error = "not configured" if not self.url else "not contacted yet"
        self._plans = metrics.counter("twinric_control_plans", "Planning requests by outcome", ("outcome",))

    @property
    def configured(self) -> bool:
        return self.url is not None

    def _mark(self, ok: bool, error: str = "") -> None:
        if ok != self.up:
            log.warning("twin %s%s", "up" if ok else "down", f": {error}" if error else "")
        self.up = ok
        self.last_error = error

    # --- predictions (background) ----------------------------------------------------------------
    def offer_observation(self, obs: np.ndarray) -> None:
        if not self.url:
            return
        with self._cv:
            self._latest_obs = obs
            self._cv.notify()

    def predicted_load(self) -> np.ndarray | None:
        pred = self._prediction
        if pred is None or time.monotonic() - pred[0] > self.stale_after_s:
            return None
        return pred[1]

    def start(self) -> TwinClient:
        if self.url:
            self._thread = threading.Thread(target=self._run, name="twin-predict", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        assert self._bg is not None
        while not self._stop.is_set():
            with self._cv:
                while self._latest_obs is None and not self._stop.is_set():
                    self._cv.wait(0.5)
                obs, self._latest_obs = self._latest_obs, None
            if obs is None:
                continue
            started = time.monotonic()
            try:
                resp = self._bg.post(f"{self.url}/v1/predict", json={"observation": obs.tolist()})
                resp.raise_for_status()
                loads = np.asarray(resp.json()["predicted_load"], dtype=np.float64)
                if loads.shape != (self.max_cells,) or not np.isfinite(loads).all():
                    raise ValueError(f"predicted_load must be {self.max_cells} finite numbers")
                self._prediction = (time.monotonic(), np.clip(loads, 0.0, 1.0))
                self._mark(True)
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                self.metrics.error("twin_predict_failed")
                self._mark(False, str(exc) or type(exc).__name__)
            self._stop.wait(max(0.0, self.period_s - (time.monotonic() - started)))

    # --- planning (on the loop, bounded by the budget) --------------------------------------------
    def plan(self, obs: np.ndarray, mask: np.ndarray, budget_ms: int, policy_version: str) -> int | None:
        if not self.url or budget_ms <= 0 or self._http is None:
            return None
        body: dict[str, Any] = {
            "observation": obs.tolist(),
            "mask": mask.astype(int).tolist(),
            "budget_ms": budget_ms,
            "policy_version": policy_version,
        }
        try:
            resp = self._http.post(f"{self.url}/v1/plan", json=body, timeout=budget_ms / 1000.0)
            resp.raise_for_status()
            action = resp.json()["action"]
            if isinstance(action, bool) or not isinstance(action, int) or not 0 <= action < len(mask):
                raise ValueError(f"action {action!r} outside the space")
        except httpx.TimeoutException:
            self._plans.labels(outcome="timeout").inc()
            return None
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self._plans.labels(outcome="error").inc()
            self.metrics.error("twin_plan_failed")
            self._mark(False, str(exc) or type(exc).__name__)
            return None
        self._plans.labels(outcome="planned").inc()
        self._mark(True)
        return action

    def stop(self) -> None:
        self._stop.set()
        with self._cv:
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for client in (self._http, self._bg):
            if client is not None:
                client.close()
