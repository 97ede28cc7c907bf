"""The parts of one twin and their threads: what ``app.py`` builds and the routers reach through
FastAPI dependencies (``api.deps``). A part added later (the learner, the gate, the planner) becomes
a field here, is built in ``app.build_parts`` and registered with the checkpointer there."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from twin_sidecar.checkpoint import Checkpointer
from twin_sidecar.emulation.mirror import Mirror
from twin_sidecar.metrics import TwinMetrics
from twin_sidecar.planes import PlaneStore
from twin_sidecar.planner.online import OnlinePlanner
from twin_sidecar.predictive.dynamics import ServingDynamics
from twin_sidecar.predictive.fidelity import FidelityTracker
from twin_sidecar.predictive.forecaster import LoadForecaster
from twin_sidecar.predictive.replay import TransitionReplay
from twin_sidecar.predictive.training import EnsembleTrainer
from twin_sidecar.priority import RequestGate
from twin_sidecar.security.analytics import SecurityAnalytics
from twin_sidecar.settings import TwinSettings
from twin_sidecar.streams import StreamConsumer
from twin_sidecar.sync import SyncEngine
from twin_sidecar.target_policy import TargetPolicy, TargetQ
from twin_sidecar.twin_a1_policy import A1TwinPolicySource

log = logging.getLogger("twin_sidecar")


@dataclass
class TwinParts:
    settings: TwinSettings
    metrics: TwinMetrics
    redis: redis.Redis
    consumer: StreamConsumer
    checkpointer: Checkpointer
    mirror: Mirror
    dynamics: ServingDynamics
    trainer: EnsembleTrainer
    replay: TransitionReplay
    holdout: TransitionReplay
    fidelity: FidelityTracker
    forecaster: LoadForecaster
    sync: SyncEngine
    planes: PlaneStore
    gate: RequestGate
    train: bool = True  # run the background trainer (off in some tests and benches)
    policy: TargetPolicy | None = None  # the target policy: learner, gate, rollback (None: not built)
    policy_a1: A1TwinPolicySource | None = None  # twinric-twin A1 policies (None: settings only)
    # POST /v1/plan; the planner follows the learner's Q-network (app.learner_q via FollowedQ)
    planner: OnlinePlanner | None = None
    security: SecurityAnalytics | None = None
    started_at: float = field(default_factory=time.time)
    restored: bool = False
    ready_error: str = "not started"
    _stop: threading.Event = field(default_factory=threading.Event)
    _ingest: threading.Thread | None = None

    def start(self) -> TwinParts:
        """Restore the checkpoint, join the consumer group, start ingesting and training."""
        self.restored = self.checkpointer.restore()
        if self.restored:
            log.info("restored from %s: %s", self.checkpointer.path, self.consumer.status())
        try:
            self.consumer.ensure_groups()
            self.ready_error = ""
        except redis.RedisError as exc:  # the ingest loop keeps trying; the API serves meanwhile
            self.consumer.redis_ok = False
            self.ready_error = f"Redis unavailable: {exc}"
        self._ingest = threading.Thread(target=self._run_ingest, name="twin-ingest", daemon=True)
        self._ingest.start()
        if self.train:
            self.sync.start()
            if self.policy is not None and self.policy.settings.enabled:
                self.policy.start()
        if self.policy_a1 is not None:
            self.policy_a1.start()
        return self

    def current_q(self) -> TargetQ | None:
        """The target policy's current Q-network (a frozen copy) for the planner; None before any update."""
        return self.policy.current_q() if self.policy is not None else None

    def _run_ingest(self) -> None:
        def checkpoint() -> None:
            self.checkpointer.save()
            self.metrics.checkpoints.inc()

        try:
            self.consumer.run(self._stop, checkpoint, self.settings.checkpoint_interval_s)
        except Exception as exc:  # never expected: say so loudly, /health turns unready
            self.metrics.error("ingest_failed")
            self.ready_error = f"ingest stopped: {exc}"
            log.exception("ingest loop failed")

    @property
    def ingesting(self) -> bool:
        return self._ingest is not None and self._ingest.is_alive()

    def stop(self) -> None:
        if self.policy_a1 is not None:
            self.policy_a1.stop()
        if self.policy is not None:
            self.policy.stop()
        self.sync.stop()
        self._stop.set()
        if self._ingest is not None:
            self._ingest.join(timeout=30)

    def health(self) -> dict[str, Any]:
        age = time.time() - self.checkpointer.saved_at if self.checkpointer.saved_at else None
        if age is not None:
            self.metrics.checkpoint_age.set(age)
        checks = {
            "ingest": {"ok": self.ingesting, "detail": self.ready_error or "running"},
            "redis": {
                "ok": self.consumer.redis_ok,
                "detail": "reachable" if self.consumer.redis_ok else "retrying",
            },
            "model": {"ok": True, "detail": f"version {self.dynamics.version}"},
        }
        return {
            "alive": True,
            "ready": all(c["ok"] for c in checks.values()),
            "checks": checks,
            "xapp_instance": self.settings.xapp_instance,
            "uptime_s": round(time.time() - self.started_at, 1),
            "restored_from_checkpoint": self.restored,
            "checkpoint_set_aside": str(self.checkpointer.set_aside) if self.checkpointer.set_aside else None,
            "checkpoint_age_s": None if age is None else round(age, 1),
            "streams": self.consumer.status(),
            "mirror": {"rounds": self.mirror.rounds, "last_seq": self.mirror.last_seq},
            "sync": self.sync.status(),
        }
