"""The target policy in the sidecar: learned continuously, put to the gate, watched after promotion.

Three threads touch it:

* the ingest thread hands every decoded transition to ``on_transitions``: blocks of ``horizon``
  consecutive steps are held out for off-policy evaluation (every ``holdout_every``-th block by step),
  the rest go to the learner's replay; recent real states are kept as the test plans' start states;
  the rollback monitor sees every transition (live reward and shield interventions per version);
* the worker thread (``start``) makes learner updates with a duty cycle (after work that took dt it
  sleeps dt * (1 - duty) / duty) and steps aside for API requests before each one (``pause``); every
  ``gate_every_s`` seconds and ``gate_min_updates`` updates it exports a candidate snapshot and puts
  it through the ``PromotionGate`` (OPE on the held-out segments, test plans on planes of the
  predictive model from the recent states); a promotion goes into Redis through the ``PolicyStore``
  and the rollback monitor starts watching it;
* API requests read ``status``/``report`` and the planner reads ``current_q``.

One lock guards the learner and the monitor; each holds it only for one update, one ingest, one
export or one state copy.
"""

from __future__ import annotations

import collections
import copy
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from prometheus_client import Counter, Gauge

from ricproto.ran_space import CellLayout, RanSpace
from ricproto.transition import Transition, TransitionBatch
from twin_sidecar.gate import (
    GateRecord,
    GateSettings,
    LoggedSegments,
    PolicyReport,
    PolicyStore,
    PromotionGate,
    RollbackMonitor,
    RollbackSettings,
)
from twin_sidecar.learner import Learner, LearnerConfig, QNetwork, UpdateDiagnostics
from twin_sidecar.metrics import TwinMetrics
from twin_sidecar.predictive.dynamics import ServingDynamics
from twin_sidecar.settings import PolicySettings

log = logging.getLogger("twin_sidecar.target_policy")

# The sidecar's replay is checkpointed every few seconds: 10k steps (not the learner's 100k default).
SIDECAR_LEARNER_DEFAULTS: dict[str, Any] = {"replay_capacity": 10_000}


@dataclass(frozen=True, slots=True)
class LoggedStep:
    """One logged transition as the learner, the gate and the monitor read it (the attributes they use
    of a ``Transition``), taken from the stream's columns without decoding protobuf messages."""

    xapp_instance: str
    step: int
    s: np.ndarray  # float32 [D]
    action: int
    reward: float
    s_next: np.ndarray  # float32 [D]
    mu: float
    policy_version: str
    intervened: bool


def logged_steps(xapp: str, batch: TransitionBatch) -> list[LoggedStep]:
    return [
        LoggedStep(
            xapp,
            int(batch.step[i]),
            batch.s[i],
            int(batch.action[i]),
            float(batch.reward[i]),
            batch.s_next[i],
            float(batch.mu[i]),
            batch.policy_version[i],
            bool(batch.intervened[i]),
        )
        for i in range(len(batch))
    ]


@dataclass(frozen=True)
class TargetQ:
    """The learner's current Q-network for a reader (the planner): a frozen copy, safe to use anywhere."""

    network: QNetwork  # obs float32 [..., D] -> Q [..., A]; no gradients, eval mode
    updates: int  # learner updates it has seen
    mask: torch.Tensor  # bool [A]: actions that exist in this RAN


class PolicyMetrics:
    """The learner's diagnostics and the gate's decisions, in the twin's registry."""

    def __init__(self, metrics: TwinMetrics) -> None:
        r = metrics.registry
        self.updates = Counter(
            "twinric_twin_policy_updates", "Learner updates of the target policy", registry=r
        )
        self.policy_lag = Gauge(
            "twinric_twin_policy_lag_updates",
            "Mean learner updates between a sampled step's behaviour version and the target",
            registry=r,
        )
        self.ess = Gauge(
            "twinric_twin_policy_ess", "Effective sample size of the importance weights per batch", registry=r
        )
        self.ess_fraction = Gauge(
            "twinric_twin_policy_ess_fraction", "ESS / logged steps in the batch (1 = on-policy)", registry=r
        )
        self.truncation = Gauge(
            "twinric_twin_policy_truncation_rate", "Share of steps whose ratio was truncated", registry=r
        )
        self.td_error = Gauge("twinric_twin_policy_td_error", "Mean |TD error| of the last batch", registry=r)
        self.updates_per_s = Gauge(
            "twinric_twin_policy_updates_per_second", "Learner updates per second (recent)", registry=r
        )
        self.replay = Gauge("twinric_twin_policy_replay_steps", "Steps in the learner's replay", registry=r)
        self.held_out = Gauge("twinric_twin_policy_held_out_steps", "Steps held out for OPE", registry=r)
        self.decisions = Counter(
            "twinric_twin_policy_decisions", "Gate and rollback records", ["kind"], registry=r
        )
        self.gate_seconds = Gauge(
            "twinric_twin_policy_gate_seconds", "Duration of the last gate evaluation", registry=r
        )
        self.rejected = Counter(
            "twinric_twin_policy_transitions_rejected",
            "Transitions the learner refused (malformed)",
            ["reason"],
            registry=r,
        )

    def observe(self, d: UpdateDiagnostics) -> None:
        self.updates.inc()
        self.policy_lag.set(d.policy_lag)
        self.ess.set(d.ess)
        self.ess_fraction.set(d.ess_fraction)
        self.truncation.set(d.truncation_rate)
        self.td_error.set(d.td_error)
        self.updates_per_s.set(d.updates_per_s)
        self.replay.set(d.replay_size)


class TargetPolicy:
    def __init__(
        self,
        settings: PolicySettings,
        xapp: str,
        space: RanSpace,
        layout: CellLayout,
        dynamics: ServingDynamics,
        store: PolicyStore,
        metrics: TwinMetrics,
    ) -> None:
        self.settings = settings
        self.xapp = xapp
        self.space = space
        self.layout = layout
        self.obs_dim = space.max_cells * space.n_features
        self.mask = space.action_mask(layout)
        self.dynamics = dynamics
        self.store = store
        self.metrics = metrics
        self.pm = PolicyMetrics(metrics)
        self.config = LearnerConfig.from_dict({**SIDECAR_LEARNER_DEFAULTS, **settings.learner})
        self.learner = Learner(
            self.config, space, self.mask, dynamics if self.config.dyna_ratio > 0 else None
        )
        self.gate_settings = GateSettings.model_validate(settings.gate)
        self.rollback_settings = RollbackSettings.model_validate(settings.rollback)
        self.gate = self._build_gate(self.gate_settings)
        self.monitor = RollbackMonitor(self.rollback_settings, store)
        self.gate_every_s = settings.gate_every_s
        self.a1_instance = ""  # the twinric-twin A1 policy whose thresholds are in force ("" = settings)

        self.lock = threading.Lock()
        self.held_out: collections.deque[LoggedStep | Transition] = collections.deque(
            maxlen=settings.held_out_steps
        )
        self.recent: collections.deque[np.ndarray] = collections.deque(maxlen=settings.recent_states)
        self.behaviour_version = ""  # policy_version of the newest logged step (what the xApp runs)
        self.last_diagnostics: UpdateDiagnostics | None = None
        self.last_record: GateRecord | None = None
        self.waiting = "learner replay filling"  # why no candidate was put to the gate lately
        self.gate_updates = 0  # learner updates at the last candidate
        self.gate_at = time.monotonic()  # the first candidate waits a full period too
        self.busy_s = 0.0
        self.pause: Callable[[], None] = lambda: None  # before each update (priority.RequestGate)
        self._evaluate_now = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _build_gate(self, gate: GateSettings) -> PromotionGate:
        return PromotionGate(gate, self.space, self.mask, self.dynamics, self.store, self.layout)

    # --- thresholds (settings, then A1) -------------------------------------------------------------
    def apply_thresholds(
        self, gate: GateSettings, rollback: RollbackSettings, every_s: float | None, a1_instance: str
    ) -> None:
        """Put new gate/rollback thresholds in force (raises ValueError when a plan does not fit the RAN);
        the monitor keeps what it has seen."""
        new_gate = self._build_gate(gate)
        with self.lock:
            monitor = RollbackMonitor(rollback, self.store)
            monitor.load_state_dict(self.monitor.state_dict())
            self.gate, self.gate_settings = new_gate, gate
            self.monitor, self.rollback_settings = monitor, rollback
            self.gate_every_s = every_s if every_s is not None else self.settings.gate_every_s
            self.a1_instance = a1_instance
        log.info("gate thresholds from %s: %s", a1_instance or "settings", gate.model_dump(exclude={"plans"}))

    # --- the transition sink (ingest thread) --------------------------------------------------------
    def on_batch(self, batch: TransitionBatch) -> None:
        """The stream consumer's fast sink (numpy columns, no protobuf decoding)."""
        self.on_transitions(logged_steps(self.xapp, batch))

    def on_transitions(self, transitions: Sequence[LoggedStep | Transition]) -> None:
        horizon, every = self.gate_settings.horizon, self.settings.holdout_every
        learn: list[LoggedStep | Transition] = []
        misfits = 0
        with self.lock:
            for msg in transitions:
                fits = len(msg.s) == self.obs_dim and len(msg.s_next) == self.obs_dim
                if (msg.step // horizon) % every:
                    learn.append(msg)  # the learner counts a misfit itself
                elif fits:
                    self.held_out.append(msg)
                else:
                    misfits += 1
                if fits:
                    self.recent.append(np.asarray(msg.s, dtype=np.float32))
            if transitions:
                self.behaviour_version = transitions[-1].policy_version
            result = self.learner.ingest(learn)  # type: ignore[arg-type]  # reads Transition's attributes only
            decided = self.monitor.observe(transitions)  # type: ignore[arg-type]
        if misfits:
            result.rejected["observation_size"] = result.rejected.get("observation_size", 0) + misfits
        for reason, n in result.rejected.items():
            self.pm.rejected.labels(reason=reason).inc(n)
            self.metrics.error(f"transition_{reason}")
        self.pm.held_out.set(len(self.held_out))
        if decided is not None:
            self.pm.decisions.labels(kind=decided.kind).inc()
            self.last_record = decided
            if decided.kind == "rollback":
                log.warning(
                    "rolled back %s: %s; in force: %s", decided.version, decided.reasons, decided.in_force
                )
            else:
                log.info("kept %s: %s", decided.version, decided.reasons)

    # --- worker -------------------------------------------------------------------------------------
    def start(self) -> TargetPolicy:
        self._thread = threading.Thread(target=self._run, name="twin-policy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        torch.set_num_threads(self.settings.torch_threads)
        while not self._stop.is_set():
            try:
                worked = self.tick()
            except Exception:
                self.metrics.error("policy_worker_failed")
                log.exception("target-policy work failed")
                worked = 0.0
            if worked <= 0:
                self._stop.wait(0.2)
            else:  # the duty cycle: leave the core to the API and ingestion for the rest
                self._stop.wait(worked * (1.0 - self.settings.duty) / self.settings.duty)

    def tick(self) -> float:
        """One unit of background work (an update, or a gate evaluation when due); seconds spent."""
        started = time.perf_counter()
        if self.gate_due():
            self.pause()
            self.run_gate()
        elif self.learner.ready():
            self.pause()
            with self.lock:
                diagnostics = self.learner.update()
            self.last_diagnostics = diagnostics
            self.pm.observe(diagnostics)
        else:
            self.waiting = f"learner replay {self.learner.replay.size} of {self.config.min_replay} steps"
            return 0.0
        spent = time.perf_counter() - started
        self.busy_s += spent
        return spent

    def gate_due(self) -> bool:
        if self._evaluate_now.is_set():
            return True
        return (
            self.learner.updates - self.gate_updates >= self.settings.gate_min_updates
            and time.monotonic() - self.gate_at >= self.gate_every_s
        )

    def evaluate_soon(self) -> None:
        """Put a candidate to the gate at the worker's next tick (operator request)."""
        self._evaluate_now.set()

    def run_gate(self) -> GateRecord | None:
        """Export a candidate and decide on it; None (and ``waiting`` says why) when there is not enough
        evidence to decide yet: no trained predictive model, too few held-out segments or updates."""
        self._evaluate_now.clear()
        self.gate_at = time.monotonic()
        gate, cfg = self.gate, self.gate_settings
        if self.learner.updates == 0:
            self.waiting = "no learner update yet"
            return None
        if self.last_record is not None and self.learner.updates == self.gate_updates:
            self.waiting = "no learner update since the last candidate"
            return None
        model = self.dynamics.current  # one predictive-model version for the whole evaluation
        if model.version < 1:
            self.waiting = "predictive model not trained yet (the test plans run on it)"
            return None
        with self.lock:
            held_steps, recent_states = list(self.held_out), list(self.recent)
        held = LoggedSegments.from_transitions(held_steps, cfg.horizon, self.obs_dim)  # type: ignore[arg-type]
        if held.n < cfg.min_segments:
            self.waiting = (
                f"{held.n} held-out segments of {cfg.horizon} steps, the gate needs {cfg.min_segments}"
            )
            return None
        if not recent_states:
            self.waiting = "no recent state for the test plans"
            return None
        recent = torch.from_numpy(np.stack(recent_states[-cfg.plan_states :]))
        with self.lock:
            version = f"q{self.learner.updates}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
            candidate = self.learner.export(version)
        self.gate_updates = self.learner.updates
        started = time.perf_counter()
        gate.dynamics = model
        record = gate.consider(candidate, held, recent)
        self.pm.gate_seconds.set(time.perf_counter() - started)
        self.pm.decisions.labels(kind=record.kind).inc()
        self.last_record = record
        self.waiting = ""
        if record.kind == "promotion":
            with self.lock:
                self.monitor.watch(candidate.version)
            log.info("promoted %s: %s", candidate.version, record.reasons)
        else:
            log.info("refused %s: %s", candidate.version, "; ".join(record.reasons))
        return record

    # --- readers ------------------------------------------------------------------------------------
    def current_q(self) -> TargetQ | None:
        """The planner's view of the learner: a copy of the online Q-network (None before any update)."""
        if self.learner.updates == 0:
            return None
        with self.lock:
            network = copy.deepcopy(self.learner.q)
            updates = self.learner.updates
        network.eval().requires_grad_(False)
        return TargetQ(network, updates, self.learner.mask.clone())

    def report(self, history: int) -> PolicyReport:
        return self.store.report(history)

    def status(self) -> dict[str, Any]:
        d = self.last_diagnostics
        monitor = self.monitor
        return {
            "enabled": self.settings.enabled,
            "updates": self.learner.updates,
            "ingested": self.learner.ingested,
            "rejected": dict(self.learner.rejected),
            "replay": self.learner.replay.size,
            "held_out": len(self.held_out),
            "behaviour_version": self.behaviour_version,
            "diagnostics": None if d is None else d.to_dict(),
            "waiting": self.waiting,
            "next_candidate_in_s": max(0.0, round(self.gate_every_s - (time.monotonic() - self.gate_at), 1)),
            "watching": monitor.watched,
            "watched_steps": len(monitor.after),
            "thresholds_from": self.a1_instance or "settings",
            "gate": self.gate_settings.model_dump(mode="json"),
            "rollback": self.rollback_settings.model_dump(mode="json"),
            "learner": self.config.to_dict(),
        }

    # --- checkpoint (ingest thread) -----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "learner": copy.deepcopy(self.learner.state_dict()),
                "monitor": self.monitor.state_dict(),
                "held_out": [held_row(m) for m in self.held_out],
                "recent": np.stack(list(self.recent))
                if self.recent
                else np.zeros((0, self.obs_dim), np.float32),
                "gate_updates": self.gate_updates,
            }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with self.lock:
            try:
                self.learner.load_state_dict(state["learner"])
            except ValueError as exc:  # another LearnerConfig: the learner starts over, the rest is kept
                log.warning("learner not restored (%s): it starts fresh", exc)
            self.monitor.load_state_dict(state["monitor"])
            self.held_out.clear()
            self.held_out.extend(LoggedStep(*row) for row in state["held_out"])
            self.recent.clear()
            self.recent.extend(np.asarray(r, dtype=np.float32) for r in state["recent"])
            self.gate_updates = int(state["gate_updates"])


def held_row(m: LoggedStep | Transition) -> tuple[Any, ...]:
    """A held-out step as plain values for the checkpoint (``LoggedStep(*row)`` restores it)."""
    return (
        m.xapp_instance,
        int(m.step),
        np.asarray(m.s, dtype=np.float32).copy(),
        int(m.action),
        float(m.reward),
        np.asarray(m.s_next, dtype=np.float32).copy(),
        float(m.mu),
        m.policy_version,
        bool(m.intervened),
    )
