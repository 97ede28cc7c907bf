"""The synchronisation engine: keeps the predictive model in step with the RAN the mirror sees.

It runs the background training worker (one thread, ``torch`` limited to ``torch_threads``, a duty
cycle of ``duty``: after an update that took dt it sleeps dt * (1 - duty) / duty), and every
``updates_per_version`` updates publishes a new **model version**: calibrated on held-out data,
reward weights refitted, the load forecaster refitted on the mirror's history, swapped into the
serving slot atomically. Each version is recorded with the fidelity it then shows on fresh data.

Drift is detected from two signals and acted on:

* fidelity: the PRB-load one-step RMSE of the model in service, on data it never saw, above
  ``drift_ratio`` x persistence's (two evaluations in a row);
* the RAN changing: a node lost, added or back, a cell reporting for the first time (mirror events).

The reaction: recent data weighs more (the replay's recency half-life shortens to ``drift_half_life``
for the next ``DRIFT_VERSIONS`` versions), and retraining is brought forward (the next version after
a quarter of the usual updates); the event goes into the version history with its reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from ricproto.ran_space import PRESENT_COLUMN
from ricproto.transition import TransitionBatch
from twin_sidecar.emulation.mirror import Mirror, RanChange
from twin_sidecar.metrics import TwinMetrics
from twin_sidecar.predictive.calibration import ConformalScale
from twin_sidecar.predictive.dynamics import ServingDynamics
from twin_sidecar.predictive.fidelity import FidelityReport, FidelityTracker
from twin_sidecar.predictive.forecaster import LoadForecaster
from twin_sidecar.predictive.replay import TransitionReplay
from twin_sidecar.predictive.training import EnsembleTrainer
from twin_sidecar.settings import TwinSettings

log = logging.getLogger("twin_sidecar.sync")
DRIFT_VERSIONS = 3
CALIBRATION_ROWS = 2000


@dataclass
class ModelVersion:
    version: int
    published_at: float  # Unix seconds
    updates: int
    samples: int  # transitions received when published
    reason: str  # "scheduled" | "drift: ..." | "restored"
    calibration: list[float] = field(default_factory=list)
    fidelity: dict[str, Any] | None = None  # measured later, on data that arrived after publishing


class SyncEngine:
    def __init__(
        self,
        settings: TwinSettings,
        mirror: Mirror,
        trainer: EnsembleTrainer,
        replay: TransitionReplay,
        holdout: TransitionReplay,
        fidelity: FidelityTracker,
        forecaster: LoadForecaster,
        serving: ServingDynamics,
        metrics: TwinMetrics,
    ) -> None:
        self.settings = settings
        self.config = settings.training
        self.mirror = mirror
        self.trainer = trainer
        self.replay = replay
        self.holdout = holdout
        self.fidelity = fidelity
        self.forecaster = forecaster
        self.serving = serving
        self.metrics = metrics
        self.versions: deque[ModelVersion] = deque(maxlen=200)
        self.drift_events: deque[dict[str, Any]] = deque(maxlen=200)
        self.received = 0  # transitions received (arrival numbers of the fidelity tracker)
        self.published_at_arrival = 0  # arrival number when the serving version was published
        self.next_version_at = settings.training.updates_per_version
        self.drift_left = 0  # versions still trained with the drift half-life
        self.high_ratio_streak = 0
        self.last_report: FidelityReport | None = None
        self.last_loss: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.busy_s = 0.0
        # the interval's online conformal factor: scored on what the serving model predicted fresh
        self.conformal = ConformalScale(mirror.space.n_features)
        self.served_multiplier = torch.ones(mirror.space.n_features)  # the factor in the serving model
        self.pause: Callable[[], None] = lambda: None  # before each update (priority.RequestGate)

    # --- the transition sink (ingest thread) --------------------------------------------------------
    def on_transitions(self, batch: TransitionBatch) -> None:
        """Every ``holdout_every``-th transition (by step) is held out for calibration; all go to the
        fidelity tracker, which scores each model version on what arrived after it."""
        held = batch.step % self.config.holdout_every == 0
        self.replay.add(batch, ~held)
        self.holdout.add(batch, held)
        self.fidelity.add(batch)
        self.received += len(batch)

    # --- worker -------------------------------------------------------------------------------------
    def start(self) -> SyncEngine:
        self._thread = threading.Thread(target=self._run, name="twin-sync", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        torch.set_num_threads(self.config.torch_threads)
        while not self._stop.is_set():
            try:
                worked = self.tick()
            except Exception:
                self.metrics.error("training_failed")
                log.exception("training step failed")
                worked = 0.0
            if worked <= 0:
                self._stop.wait(0.2)
            else:  # the duty cycle: leave the core to the API and ingestion for the rest
                self._stop.wait(worked * (1.0 - self.config.duty) / self.config.duty)

    def tick(self) -> float:
        """One unit of background work (an update, and a publication when due); returns seconds spent."""
        if len(self.replay) < self.config.min_samples:
            return 0.0
        self.pause()
        started = time.perf_counter()
        if not self.trainer.normalised:
            self.trainer.fit_normalisation(self.replay.all())
        half_life = self.config.drift_half_life if self.drift_left else self.config.recency_half_life
        self.last_loss = self.trainer.update(self.replay, half_life)
        self.metrics.updates.inc()
        if self.trainer.updates >= self.next_version_at:
            self.publish("scheduled")
        spent = time.perf_counter() - started
        self.busy_s += spent
        return spent

    # --- versions -----------------------------------------------------------------------------------
    def publish(self, reason: str) -> ModelVersion:
        """Score the version in service on fresh data, then calibrate, snapshot and swap in a new one."""
        self.evaluate()
        self.score_interval()
        held = self.holdout.all()
        if len(held["step"]) >= 16:
            rows = {k: v[-CALIBRATION_ROWS:] for k, v in held.items()}
            multiplier = self.conformal.multiplier
            self.trainer.calibrate(rows, multiplier)
            self.served_multiplier = torch.as_tensor(multiplier)
        train = self.replay.all()
        self.trainer.fit_reward({k: v[-CALIBRATION_ROWS * 5 :] for k, v in train.items()})
        with self.mirror.lock:
            load = self.mirror.load_history(self.settings.history_rounds)
            present = self.mirror.history.last("observation", self.settings.history_rounds)
        if len(load):
            rows = present.reshape(len(present), self.mirror.space.max_cells, self.mirror.space.n_features)
            self.forecaster.fit(load, rows[:, :, PRESENT_COLUMN] > 0.5)
        version = self.serving.version + 1
        model = self.trainer.snapshot(version)
        self.serving.publish(model)
        self.published_at_arrival = self.received
        self.next_version_at = self.trainer.updates + self.config.updates_per_version
        if self.drift_left:
            self.drift_left -= 1
        entry = ModelVersion(
            version, time.time(), self.trainer.updates, self.received, reason, model.calibration.tolist()
        )
        self.versions.append(entry)
        self.metrics.model_version.set(version)
        log.info("model version %d published (%s) after %d updates", version, reason, self.trainer.updates)
        return entry

    @torch.no_grad()
    def score_interval(self) -> int:
        """Score the serving model's intervals on the transitions that arrived after it was published
        (fresh for it; each scored once, under the version that predicted it) for the conformal factor."""
        model = self.serving.current
        if not model_trained(model.version):
            return 0
        data = self.fidelity.fresh(self.published_at_arrival)
        if len(data["step"]) == 0:
            return 0
        mean, std = model.uncertainty(torch.as_tensor(data["s"]), torch.as_tensor(data["action"]))
        c, f = self.mirror.space.max_cells, self.mirror.space.n_features
        cells = model.graph.in_cells
        err = (torch.as_tensor(data["s_next"]) - mean).reshape(-1, c, f)[:, cells]
        base = std.reshape(-1, c, f)[:, cells] / self.served_multiplier.clamp(min=1e-6)
        return self.conformal.add(err.reshape(-1, f).numpy(), base.reshape(-1, f).numpy())

    def evaluate(self) -> FidelityReport | None:
        """Fidelity of the serving version on what arrived after it; updates metrics, checks drift."""
        model = self.serving.current
        report = self.fidelity.evaluate(model, self.published_at_arrival)
        if report is None:
            self.check_drift(None, self.mirror.take_changes())
            return None
        self.last_report = report
        for entry in self.versions:
            if entry.version == model.version:
                entry.fidelity = report.as_dict()
        if report.prb_ratio_1 is not None:
            self.metrics.fidelity_ratio.labels(horizon="1").set(report.prb_ratio_1)
        if report.prb_ratio_k is not None:
            self.metrics.fidelity_ratio.labels(horizon=str(report.k)).set(report.prb_ratio_k)
        for name, f in report.features.items():
            self.metrics.fidelity_rmse.labels(feature=name, horizon="1", model="twin").set(f["rmse_1"])
            self.metrics.fidelity_rmse.labels(feature=name, horizon="1", model="persistence").set(
                f["persistence_rmse_1"]
            )
        self.check_drift(report, self.mirror.take_changes())
        return report

    def check_drift(self, report: FidelityReport | None, changes: list[RanChange]) -> list[str]:
        """Drift reasons (and the reaction) from a fidelity report and the RAN changes since the last
        check. Before the first trained version nothing can drift: the RAN appearing is just the start."""
        if not model_trained(self.serving.version):
            return []
        reasons = [f"ran: {c.kind} {c.subject}" for c in changes]
        if report is not None:
            ratio = report.prb_ratio_1
            self.high_ratio_streak = (
                self.high_ratio_streak + 1 if ratio and ratio > self.settings.drift_ratio else 0
            )
            if self.high_ratio_streak >= 2:
                reasons.append(f"fidelity: PRB one-step ratio {ratio:.3f} > {self.settings.drift_ratio}")
                self.high_ratio_streak = 0
        if reasons:
            self.react(reasons)
        return reasons

    def react(self, reasons: list[str]) -> None:
        self.drift_left = DRIFT_VERSIONS
        self.next_version_at = min(
            self.next_version_at, self.trainer.updates + max(1, self.config.updates_per_version // 4)
        )
        for r in reasons:
            kind = r.split(":", 1)[0]
            self.metrics.drift.labels(reason=kind).inc()
            self.drift_events.append({"t": time.time(), "reason": r, "model_version": self.serving.version})
            log.warning("drift: %s: recent data re-weighted, retraining brought forward", r)

    def status(self) -> dict[str, Any]:
        return {
            "model_version": self.serving.version,
            "updates": self.trainer.updates,
            "transitions": self.received,
            "replay": len(self.replay),
            "holdout": len(self.holdout),
            "loss": self.last_loss,
            "drift_active": self.drift_left > 0,
            "forecaster": self.forecaster.model,
        }

    # --- checkpoint (the serving model and the version history) -------------------------------------
    def state_dict(self) -> dict[str, Any]:
        model = self.serving.current
        return {
            "serving": {k: v.clone() for k, v in model.state_dict().items()},
            "serving_extra": model.extra_state(),
            "versions": [asdict(v) for v in self.versions],
            "drift_events": list(self.drift_events),
            "received": self.received,
            "published_at_arrival": self.published_at_arrival,
            "next_version_at": self.next_version_at,
            "drift_left": self.drift_left,
            "conformal": self.conformal.state_dict(),
            "served_multiplier": self.served_multiplier.clone(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        model = self.serving.current.copy()
        model.load_state_dict(state["serving"])
        model.load_extra_state(state["serving_extra"])
        self.serving.publish(model)
        self.versions.clear()
        self.versions.extend(ModelVersion(**v) for v in state["versions"])
        self.drift_events.clear()
        self.drift_events.extend(state["drift_events"])
        self.received = int(state["received"])
        self.published_at_arrival = int(state["published_at_arrival"])
        self.next_version_at = int(state["next_version_at"])
        self.drift_left = int(state["drift_left"])
        if "conformal" in state:  # checkpoints from before the conformal factor have none
            self.conformal.load_state_dict(state["conformal"])
            self.served_multiplier = torch.as_tensor(state["served_multiplier"])
        self.metrics.model_version.set(model.version)


def model_trained(version: int) -> bool:
    return version >= 1
