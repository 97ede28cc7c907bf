"""The sidecar's Prometheus metrics, in its own registry (served on ``/metrics``).

Own registry so several twins can live in one test process. Bad input of any kind (a malformed
record, a bad HTTP request) is also counted in the shared ``twinric_errors_total{component,
reason}`` that ``twinric status`` sums.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from ricproto.metric_names import ERRORS

COMPONENT = "twin-sidecar"
LAG = "twinric_twin_lag_records"
FIDELITY_RATIO = "twinric_twin_fidelity_ratio"
MODEL_VERSION = "twinric_twin_model_version"


class TwinMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self._errors = Counter(ERRORS, "Bad input and failures", ["component", "reason"], registry=r)
        self.consumed = Counter(
            "twinric_twin_records_consumed", "Stream records applied (exactly once)", ["stream"], registry=r
        )
        self.duplicates = Counter(
            "twinric_twin_records_duplicate",
            "Records skipped: seq at or below the last applied",
            ["stream"],
            registry=r,
        )
        self.lost = Counter(
            "twinric_twin_records_lost",
            "Records never seen: gaps in seq (trimmed before read)",
            ["stream"],
            registry=r,
        )
        self.restarts = Counter(
            "twinric_twin_stream_restarts",
            "Producer numbering started again (a new stream): seq at or below the last applied on an "
            "entry never read",
            ["stream"],
            registry=r,
        )
        self.malformed = Counter(
            "twinric_twin_records_malformed",
            "Records skipped: undecodable or inconsistent",
            ["stream", "reason"],
            registry=r,
        )
        self.lag = Gauge(LAG, "Stream entries not yet read by the twin", ["stream"], registry=r)
        self.checkpoints = Counter("twinric_twin_checkpoints", "Checkpoints written", registry=r)
        self.checkpoint_age = Gauge(
            "twinric_twin_checkpoint_age_seconds", "Seconds since the last checkpoint", registry=r
        )
        self.updates = Counter("twinric_twin_train_updates", "Gradient updates of the ensemble", registry=r)
        self.model_version = Gauge(MODEL_VERSION, "Version of the predictive model in service", registry=r)
        self.fidelity_ratio = Gauge(
            FIDELITY_RATIO,
            "PRB-load RMSE of the model / persistence's on fresh data",
            ["horizon"],
            registry=r,
        )
        self.fidelity_rmse = Gauge(
            "twinric_twin_fidelity_rmse",
            "RMSE on fresh data per feature",
            ["feature", "horizon", "model"],
            registry=r,
        )
        self.drift = Counter("twinric_twin_drift_events", "Drift detected", ["reason"], registry=r)
        self.http_errors = Counter(
            "twinric_twin_http_errors", "Rejected HTTP requests", ["status", "route"], registry=r
        )
        self.planes = Gauge("twinric_twin_planes", "Virtual planes held", registry=r)
        self.plans = Counter(
            "twinric_twin_plans",
            "Plans answered (POST /v1/plan), by what stopped the search and where Q came from",
            ["stop_reason", "q_source"],
            registry=r,
        )

    def error(self, reason: str) -> None:
        self._errors.labels(component=COMPONENT, reason=reason).inc()

    def sample(self, name: str, labels: dict[str, str] | None = None) -> float:
        return self.registry.get_sample_value(name, labels or {}) or 0.0

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
