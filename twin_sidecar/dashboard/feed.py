"""One snapshot of every dashboard view, built from the twin's parts and the Redis tails.

The SSE stream sends one per tick and the page draws all views from it; ``/dashboard/v1/snapshot``
answers the same object once. Snapshots are built under a lock and reused for ``min_interval_s``, so
any number of open pages cost one build per tick. A view whose source is away (Redis down, no record
yet) is named in ``unavailable`` with the reason instead of failing the snapshot.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import asdict
from typing import Any

import numpy as np
import redis

from ricproto.ran_space import PRB_USAGE_COLUMN
from ricproto.transition import ControlOutcome
from twin_sidecar.dashboard.forecast_log import ForecastLog
from twin_sidecar.dashboard.ran_view import neighbour_edges, ran_at, series
from twin_sidecar.dashboard.stream_tails import TransitionTail, decision_tail, step_dict, trust_records
from twin_sidecar.parts import TwinParts

PRB_FEATURE = "prb_usage_dl"
MAX_MARKERS = 150  # per kind
TRUST_EVERY_S = 3.0
DECISION_FIELDS = (
    "decision_id",
    "seq",
    "ts",
    "result",
    "code",
    "reason",
    "policies",
    "trust",
    "policy_version",
)


class DashboardFeed:
    def __init__(
        self,
        parts: TwinParts,
        *,
        window_s: float = 60.0,
        max_points: int = 300,
        forecast_ahead_s: float = 1.0,
        min_interval_s: float = 0.25,
    ) -> None:
        self.parts = parts
        self.window_s = window_s
        self.max_points = max_points
        self.min_interval_s = min_interval_s
        period_ms = parts.settings.ran.report_period_ms
        steps = max(1, min(parts.forecaster.horizon, round(forecast_ahead_s * 1000 / period_ms)))
        self.forecasts = ForecastLog(period_ms, steps)
        self.client = parts.redis
        self.transitions = TransitionTail(parts.redis, parts.settings.xapp_instance, parts.metrics)
        self.lock = threading.Lock()
        self.ticks = 0
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._trust_cache: tuple[float, list[dict[str, Any]]] | None = None
        self._encoded: tuple[tuple[int, str], str] | None = None

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self.min_interval_s:
                return self._cached[1]
            snap = self._build()
            self.ticks += 1
            snap["tick"] = self.ticks
            self._cached = (now, snap)
            return snap

    def event_data(self, extra: dict[str, Any]) -> str:
        """The snapshot with ``extra`` as compact JSON, encoded once per snapshot for every open stream."""
        snap = self.snapshot()
        key = (snap["tick"], json.dumps(extra, sort_keys=True))
        with self.lock:
            if self._encoded is None or self._encoded[0] != key:
                self._encoded = (key, json.dumps({**snap, **extra}, separators=(",", ":")))
            return self._encoded[1]

    def _build(self) -> dict[str, Any]:
        parts, mirror = self.parts, self.parts.mirror
        unavailable: dict[str, str] = {}
        snap: dict[str, Any] = {"server_time": time.time(), "unavailable": unavailable}
        ran = ran_at(mirror)
        h = mirror.history
        snap["history"] = {
            "oldest": None if h.oldest_ns is None else h.oldest_ns / 1e9,
            "latest": None if h.latest_ns is None else h.latest_ns / 1e9,
            "rounds": len(h),
        }
        if ran is None:
            unavailable["ran"] = "no RAN-view record yet: the twin has nothing to mirror"
            snap["t"] = None
            end_ns = time.time_ns()
        else:
            ran["edges"] = neighbour_edges(mirror)
            ran["slices"] = [str(s) for s in mirror.space.slices]
            snap["t"] = ran["t_ns"] / 1e9
            end_ns = int(ran["t_ns"])
        snap["ran"] = ran
        snap["series"] = series(mirror, end_ns, self.window_s, self.max_points)
        start = end_ns / 1e9 - self.window_s
        try:
            self.transitions.poll()
        except redis.RedisError as exc:
            parts.metrics.error("dashboard_redis")
            unavailable["transitions"] = f"Redis: {exc}"
        steps = self.transitions.window(start, end_ns / 1e9 + 1.0)
        snap["reward"] = _thin(
            {"t": [s.t for s in steps], "v": [round(s.reward, 5) for s in steps]}, self.max_points
        )
        snap["policy_versions"] = sorted({s.policy_version for s in steps})
        snap["markers"] = self._markers(start, steps)
        snap["twin"] = _finite(self._twin(end_ns))
        try:
            snap["decisions"] = [
                {k: d.get(k) for k in DECISION_FIELDS} | {"request": _request(d.get("request"))}
                for d in decision_tail(self.client, parts.metrics)
            ]
            snap["trust"] = self._trust()
        except redis.RedisError as exc:
            parts.metrics.error("dashboard_redis")
            unavailable["decisions"] = unavailable["trust"] = f"Redis: {exc}"
            snap["decisions"], snap["trust"] = [], []
        snap["denied_steps"] = [step_dict(s) for s in steps if s.denied][-20:]
        # NaN or infinities can come from the twin's reports (above), JSON parsed from Redis (its
        # parser takes NaN) and KPM values a producer wrote; the series are checked at once as arrays
        for key in ("decisions", "trust", "denied_steps", "reward", "ran"):
            snap[key] = _finite(snap[key])
        return snap

    def _trust(self) -> list[dict[str, Any]]:
        """The trust namespace, scanned at most every ``TRUST_EVERY_S`` (a SCAN walks the whole
        keyspace, which in an OSC RIC's shared dbaas is more than the twin's own keys)."""
        now = time.monotonic()
        if self._trust_cache is None or now - self._trust_cache[0] >= TRUST_EVERY_S:
            self._trust_cache = (now, trust_records(self.client, self.parts.metrics))
        return self._trust_cache[1]

    def _markers(self, start: float, steps: list[Any]) -> list[dict[str, Any]]:
        """Controls the xApp sent (from the mirror), shield interventions and PDP denials (from its
        transitions), oldest first: the newest ``MAX_MARKERS`` of each kind, so a control sent every
        round does not crowd out rare ones."""
        with self.parts.mirror.lock:
            controls = [(c.record, c.outcome) for c in self.parts.mirror.controls.values()]
        by_kind: dict[str, list[tuple[float, Any, int]]] = {}
        for rec, outcome in controls:  # in the order sent
            t = rec.sent_ns / 1e9
            if t > start:
                by_kind.setdefault(rec.kind, []).append((t, rec, outcome))
        marks = [
            {"t": t, "kind": kind, "text": f"{_control_text(rec)} ({_outcome(outcome)})"}
            for kind, sent in by_kind.items()
            for t, rec, outcome in sorted(sent, key=lambda x: x[0])[-MAX_MARKERS:]
        ]
        shield = [s for s in steps if s.intervened][-MAX_MARKERS:]
        denied = [s for s in steps if s.denied][-MAX_MARKERS:]
        marks += [
            {"t": s.t, "kind": "shield", "text": f"shield: {s.intervention_reason or 'intervened'}"}
            for s in shield
        ]
        marks += [
            {"t": s.t, "kind": "denial", "text": f"PDP denied: {s.deny_reason or 'denied'}"} for s in denied
        ]
        return sorted(marks, key=lambda m: (m["t"], m["kind"]))

    def _twin(self, end_ns: int) -> dict[str, Any]:
        parts, mirror = self.parts, self.parts.mirror
        sync = parts.sync
        report = sync.last_report
        fidelity: dict[str, Any] | None = None
        if report is not None:
            prb = report.features.get(PRB_FEATURE, {})
            fidelity = {
                "model_version": report.model_version,
                "samples": report.samples,
                "k": report.k,
                "prb_ratio_1": report.prb_ratio_1,
                "prb_ratio_k": report.prb_ratio_k,
                "coverage_90": report.coverage_90,
                "prb_rmse_1": prb.get("rmse_1"),
                "prb_persistence_rmse_1": prb.get("persistence_rmse_1"),
                "prb_rmse_k": prb.get("rmse_k"),
                "prb_persistence_rmse_k": prb.get("persistence_rmse_k"),
            }
        versions = []
        for v in list(sync.versions)[-30:]:
            fid = v.fidelity or {}
            versions.append(
                {
                    "version": v.version,
                    "published_at": v.published_at,
                    "reason": v.reason,
                    "prb_ratio_1": fid.get("prb_ratio_1"),
                    "prb_ratio_k": fid.get("prb_ratio_k"),
                }
            )
        streams = parts.consumer.status()
        latest = mirror.latest_ns
        forecast: dict[str, Any] | None = None
        if latest is not None:
            self.forecasts.record(mirror, parts.forecaster)
            obs = mirror.observation_at()
            cell = 0
            if obs is not None:  # the busiest cell: where a forecast matters most
                cell = int(
                    np.argmax(obs.reshape(mirror.space.max_cells, -1)[: mirror.n_cells, PRB_USAGE_COLUMN])
                )
            forecast = self.forecasts.compare(mirror, cell, end_ns - int(self.window_s * 1e9))
            recent = mirror.load_history(parts.forecaster.lags)
            mean, std = parts.forecaster.predict(recent)
            period = parts.settings.ran.report_period_ms / 1000
            forecast["ahead"] = [
                {
                    "t": latest / 1e9 + (k + 1) * period,
                    "mean": round(float(mean[cell, k]), 5),
                    "lo": round(float(max(mean[cell, k] - 1.6449 * std[cell, k], 0.0)), 5),
                    "hi": round(float(min(mean[cell, k] + 1.6449 * std[cell, k], 1.0)), 5),
                }
                for k in range(mean.shape[1])
            ]
            forecast["model"] = parts.forecaster.model
            forecast["nr_cell_id"] = mirror.config.cells[cell].nr_cell_id
        return {
            "model_version": parts.dynamics.version,
            "fidelity": fidelity,
            "versions": versions,
            "drift_events": [_jsonable(e) for e in list(sync.drift_events)[-10:]],
            "lag_records": {name: s.get("lag") for name, s in streams.items()},
            "lag_s": None if latest is None else round(time.time() - latest / 1e9, 3),
            "forecast": forecast,
        }


def _finite(value: Any) -> Any:
    """NaN and infinities as null: JSON has no such numbers and browsers refuse them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        return _finite(value.item())
    return value


def _control_text(rec: Any) -> str:
    if rec.kind == "handover":
        return f"handover of {len(rec.ue_ids)} UE(s) {rec.cell_index}→{rec.target_cell_index}"
    if rec.kind == "slice_quota":
        return (
            f"quota cell {rec.cell_index} slice {rec.slice_index}: "
            f"{rec.min_ratio}/{rec.max_ratio}/{rec.dedicated_ratio} %"
        )
    if rec.kind == "cell_offset":
        return f"offset cell {rec.cell_index}→{rec.neighbour_cell_index}: {rec.offset_db} dB"
    return str(rec.kind)


def _outcome(outcome: int) -> str:
    try:
        return ControlOutcome.Name(int(outcome)).lower()
    except ValueError:
        return str(outcome)


def _request(request: Any) -> dict[str, Any]:
    if not isinstance(request, dict):
        return {}
    return {k: request.get(k) for k in ("subject", "action", "resource")}


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value


def _thin(points: dict[str, list[float]], max_points: int) -> dict[str, list[float]]:
    n = len(points["t"])
    if n <= max_points:
        return points
    idx = np.unique(np.linspace(0, n - 1, num=max_points).round().astype(int)).tolist()
    return {k: [v[i] for i in idx] for k, v in points.items()}
