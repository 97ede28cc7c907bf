"""The control loop: RIC indications in, a behaviour-policy decision per report round, RC controls out.

Runs in its own worker thread. The RMR dispatch thread only enqueues (indications, control
acknowledgements/failures), so the worker can block on the PEP's answer, which the dispatch thread
delivers. Per round (every configured cell reported since the last decision, or 1.5 report periods
after the round's first report):

1. build s' from the KPM view, score the previous step (reward intervention) and write its transition;
2. state intervention: the twin's predicted loads (when fresh) into what the policy sees;
3. plan within the A1 budget if configured, else the promoted snapshot, else the heuristic;
4. exploration (mu logged), action intervention (shield), PEP per control, RC control by meid.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ricproto import e2ap, mtypes
from ricproto.e2error import E2CodecError
from ricproto.ran_space import SteerUes
from ricproto.transition import ActionSource, ControlOutcome, Timestamps, Transition, floats
from xapps.common.metrics import XappMetrics
from xapps.common.pep import PepClient
from xapps.control.behavior import BehaviorPolicy, Decision
from xapps.control.control_policy import ControlSettings
from xapps.control.ran_view import RanView
from xapps.control.ran_view_log import RanViewLog
from xapps.control.rc_control import ControlBuilder, ControlRequest
from xapps.control.snapshot_source import SnapshotSource
from xapps.control.transition_log import TransitionWriter
from xapps.control.twin_client import TwinClient

log = logging.getLogger("xapps.control.loop")

SendControl = Callable[[bytes, str, bytes | None], bool]  # (E2AP RICcontrolRequest, meid, PDP grant) -> sent
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)


@dataclass
class _Step:
    """A decided step waiting for its s' (the next round's observation)."""

    s: np.ndarray
    decision: Decision
    indication_ns: int
    decided_ns: int
    sent_ns: int
    outcome: int
    denied: bool
    deny_reason: str
    state_intervened: bool
    a1_instance: str
    meid: str
    controls: list[int] = field(default_factory=list)  # RIC instance ids in flight


@dataclass
class _InFlight:
    request: ControlRequest
    sent_at: float
    step: _Step


class ControlLoop:
    def __init__(
        self,
        xapp_instance: str,
        view: RanView,
        behavior: BehaviorPolicy,
        builder: ControlBuilder,
        snapshots: SnapshotSource | None,
        twin: TwinClient,
        pep: PepClient | None,
        writer: TransitionWriter,
        send_control: SendControl,
        metrics: XappMetrics,
        settings: ControlSettings,
        *,
        control_timeout_s: float = 1.0,
        ran_view_log: RanViewLog | None = None,
    ) -> None:
        self.xapp_instance = xapp_instance
        self.view = view
        self.behavior = behavior
        self.builder = builder
        self.snapshots = snapshots
        self.twin = twin
        self.pep = pep
        self.writer = writer
        self.send_control = send_control
        self.metrics = metrics
        self.settings = settings
        self.control_timeout_s = control_timeout_s
        self.ran_view_log = ran_view_log
        self.period_s = view.inventory.report_period_ms / 1000.0
        self.pinned_snapshot = None
        self._inbox: queue.SimpleQueue[tuple] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._round_start = 0.0
        self._round_first: float | None = None
        self._round_trigger_ns = 0
        self._round_meid = ""
        self._reported: set[int] = set()
        self._expected = {c.index for c in view.inventory.cells}
        self._pending_step: _Step | None = None
        self._in_flight: dict[int, _InFlight] = {}
        self._step = 0
        self.decisions = 0
        m = metrics
        self._latency = m.histogram(
            "twinric_control_loop_seconds",
            "Last indication of a round to the control leaving (or the decision)",
            LATENCY_BUCKETS,
            ("planning",),
        )
        self._interventions = m.counter(
            "twinric_control_interventions", "Actions muted by the shield", ("rule",)
        )
        self._outcomes = m.counter("twinric_control_outcomes", "RC control outcomes", ("kind", "outcome"))
        self._actions = m.counter("twinric_control_decisions", "Decisions by action source", ("source",))
        self._state_interventions = m.counter("twinric_control_state_interventions", "Twin loads used in s")

    # --- inputs (any thread) -----------------------------------------------------------------------
    def on_indication(self, meid: str, sub_id: int, payload: bytes) -> None:
        self._inbox.put(("ind", meid, sub_id, payload, time.time_ns(), time.monotonic()))

    def on_control_answer(self, mtype: int, payload: bytes) -> None:
        self._inbox.put(("ans", mtype, payload))

    def update_settings(self, settings: ControlSettings) -> None:
        self._inbox.put(("settings", settings))

    # --- worker ------------------------------------------------------------------------------------
    @property
    def first_step(self) -> int:
        return self._step

    @first_step.setter
    def first_step(self, value: int) -> None:
        self._step = value

    def start(self) -> ControlLoop:
        self._thread = threading.Thread(target=self._run, name="control-loop", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._inbox.put(("stop",))
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        idle_timeout = min(self.period_s / 2, 0.05)
        inbox, pending_ues = self._inbox, self.view.pending_ue_reports
        while not self._stop.is_set():
            # UE reports wait for an idle moment between rounds (a steer decodes its cell's at once):
            # decoding them while a round's cell reports arrive would delay its decision
            between_rounds = pending_ues and self._round_first is None
            try:
                item = inbox.get_nowait() if between_rounds else inbox.get(timeout=idle_timeout)
            except queue.Empty:
                item = None
            try:
                if item is not None:
                    self._handle(item)
                elif between_rounds:
                    self._decode_ue_report(next(iter(pending_ues)))
                self._check_round_timer()
                self._expire_controls()
            except Exception:  # the loop must survive anything a message can provoke
                self.metrics.error("loop_exception")
                log.exception("control loop step failed")

    def _handle(self, item: tuple) -> None:
        kind = item[0]
        if kind == "ind":
            _, meid, _sub_id, payload, arrived_ns, arrived = item
            self._ingest(meid, payload, arrived_ns, arrived)
        elif kind == "ans":
            self._answer(item[1], item[2])
        elif kind == "settings":
            self.settings = item[1]

    def _ingest(self, meid: str, payload: bytes, arrived_ns: int, arrived: float) -> None:
        try:
            ind = e2ap.decode(payload)
            if not isinstance(ind, e2ap.RICindication):
                raise E2CodecError("RIC_INDICATION", f"carries {type(ind).__name__}, not a RICindication")
            entry = self.view.ingest(meid, ind, arrived)
        except E2CodecError as exc:
            self.metrics.error("bad_indication")
            log.error("indication from %s dropped: %s", meid, exc)
            return
        state = self.view.cells[entry.index]
        if state.reported_at != arrived:
            return  # a UE-level report: it refines steering, it does not complete a round
        if self._round_first is None:
            self._round_first = arrived
        self._reported.add(entry.index)
        if self.ran_view_log is not None:
            self.ran_view_log.on_cell_report(entry.index, ind.ricIndicationHeader, arrived_ns, state.kpm)
        self._round_trigger_ns, self._round_meid = arrived_ns, meid
        if self._reported >= self._expected:
            self._decide(arrived)

    def _decode_ue_report(self, index: int) -> None:
        try:
            self.view.decode_ue_report(index)
        except E2CodecError as exc:
            self.metrics.error("bad_indication")
            log.error("UE report of cell %d dropped: %s", index, exc)

    def _check_round_timer(self) -> None:
        if self._round_first is not None and time.monotonic() - self._round_first > 1.5 * self.period_s:
            self._decide(time.monotonic())

    # --- one decision ------------------------------------------------------------------------------
    def _decide(self, trigger: float) -> None:
        obs = self.view.observation(self._round_start)
        now_ns = time.time_ns()
        settings = self.settings
        previous = self._pending_step
        self._round_start, self._round_first = trigger, None
        self._reported.clear()
        self.twin.offer_observation(obs)

        predicted = self.twin.predicted_load()
        policy_obs = obs
        if predicted is not None:
            space = self.view.inventory.space
            policy_obs = obs.reshape(space.max_cells, space.n_features).copy()
            present = policy_obs[:, 0] > 0.5
            policy_obs[present, 1] = np.maximum(policy_obs[present, 1], predicted[present])
            policy_obs = policy_obs.reshape(-1)
            self._state_interventions.inc()
        snapshot = self._snapshot(settings)
        planned = None
        if settings.planner_budget_ms > 0 and self.twin.configured:
            # the planner sees what the shield would mute too, so it never spends its budget on them
            allowed = self.behavior.shield.verdict(obs, settings.cell_load_limit, predicted).allowed
            planned = self.twin.plan(
                policy_obs,
                self.behavior.mask & allowed,
                settings.planner_budget_ms,
                snapshot.version if snapshot else "heuristic",
            )
        decision = self.behavior.decide(
            obs, settings, snapshot, policy_obs=policy_obs, predicted_load=predicted, planned_action=planned
        )
        decided_ns = time.time_ns()
        step = _Step(
            obs,
            decision,
            self._round_trigger_ns or now_ns,
            decided_ns,
            0,
            ControlOutcome.NOT_SENT,
            False,
            "",
            predicted is not None,
            settings.a1_instance,
            self._round_meid,
        )
        self._act(step)
        # the loop latency: from the indication that completed the round to the control leaving
        end_ns = step.sent_ns or decided_ns
        latency = max(0, end_ns - step.indication_ns) / 1e9
        # everything below is off the latency path: the control has left
        self._latency.labels(planning="on" if planned is not None else "off").observe(latency)
        self._actions.labels(source=ActionSource.Name(decision.source).lower()).inc()
        if decision.intervened:
            rule = decision.intervention_reason.split(":", 1)[0] or "shield"
            self._interventions.labels(rule=rule).inc()
            log.info("shield muted action %d: %s", decision.proposed, decision.intervention_reason)
        # the previous step's transition is completed after the control left
        if previous is not None:
            self._finish(previous, obs, step.indication_ns)
        if self.ran_view_log is not None:  # the round as seen, with the controls it sent (step = self._step)
            sent = [self._in_flight[i].request for i in step.controls]
            self.ran_view_log.end_round(
                self._step, step.meid, decided_ns, decision.action, obs, sent, step.sent_ns, self.view.cells
            )
        self._pending_step = step
        self.decisions += 1

    def _snapshot(self, settings: ControlSettings):
        current = self.snapshots.current if self.snapshots is not None else None
        if settings.follow_promoted_policies or self.pinned_snapshot is None:
            self.pinned_snapshot = current
        return self.pinned_snapshot

    def _act(self, step: _Step) -> None:
        space = self.view.inventory.space
        action = space.decode(step.decision.action)
        if isinstance(action, SteerUes) and action.cell_index < len(self.view.cells):
            self._decode_ue_report(action.cell_index)  # whom to steer: the cell's latest UE report
        requests = self.builder.build(action)
        for req in requests:
            granted: bytes | None = None
            if self.pep is not None:
                verdict = self.pep.check(
                    f"rc.{req.kind}", req.resource, {"meid": req.meid, "xapp": self.xapp_instance}
                )
                if not verdict.permitted:
                    step.denied, step.deny_reason = True, verdict.reason
                    step.outcome = ControlOutcome.DENIED
                    self._outcomes.labels(kind=req.kind, outcome="denied").inc()
                    log.info("PDP denied %s on %s: %s", req.kind, req.resource, verdict.reason)
                    continue
                granted = verdict.grant
            if self.send_control(req.payload, req.meid, granted):
                step.sent_ns = step.sent_ns or time.time_ns()
                if step.outcome != ControlOutcome.DENIED:
                    step.outcome = ControlOutcome.SENT
                self._in_flight[req.instance_id] = _InFlight(req, time.monotonic(), step)
                step.controls.append(req.instance_id)
                self._outcomes.labels(kind=req.kind, outcome="sent").inc()
                if req.steer is not None:
                    self.behavior.shield.record_steer(*req.steer)
            else:
                self.metrics.error("control_send_failed")
                self._outcomes.labels(kind=req.kind, outcome="send_error").inc()
                if step.outcome == ControlOutcome.NOT_SENT:
                    step.outcome = ControlOutcome.SEND_ERROR
        if isinstance(action, SteerUes) and not requests:
            log.debug("steer from cell %d: no UE to move", action.cell_index)

    def _finish(self, step: _Step, s_next: np.ndarray, next_ns: int) -> None:
        d = step.decision
        msg = Transition(
            xapp_instance=self.xapp_instance,
            step=self._step,
            s=floats(step.s),
            action=d.action,
            reward=self.behavior.reward(s_next, self.settings),
            s_next=floats(s_next),
            mu=d.mu,
            mu_all=floats(d.mu_all),
            policy_version=d.policy_version,
            intervened=d.intervened,
            proposed_action=d.proposed,
            intervention_reason=d.intervention_reason,
            denied=step.denied,
            deny_reason=step.deny_reason,
            source=d.source,
            outcome=step.outcome,
            timestamps=Timestamps(
                indication_ns=step.indication_ns,
                decided_ns=step.decided_ns,
                control_sent_ns=step.sent_ns,
                next_indication_ns=next_ns,
            ),
            a1_policy_instance=step.a1_instance,
            state_intervened=step.state_intervened,
            meid=step.meid,
        )
        self._step += 1
        self.writer.put(msg)

    # --- control answers ---------------------------------------------------------------------------
    def _answer(self, mtype: int, payload: bytes) -> None:
        try:
            pdu = e2ap.decode(payload)
        except E2CodecError as exc:
            self.metrics.error("bad_control_answer")
            log.error("control answer dropped: %s", exc)
            return
        if not isinstance(pdu, e2ap.RICcontrolAcknowledge | e2ap.RICcontrolFailure):
            self.metrics.error("bad_control_answer")
            return
        flight = self._in_flight.pop(pdu.ricRequestID.ricInstanceID, None)
        if flight is None:
            self.metrics.error("control_answer_unknown")
            return
        ok = isinstance(pdu, e2ap.RICcontrolAcknowledge) and mtype == mtypes.RIC_CONTROL_ACK
        if self.ran_view_log is not None:
            outcome = ControlOutcome.ACKNOWLEDGED if ok else ControlOutcome.FAILED
            self.ran_view_log.on_control_outcome(pdu.ricRequestID.ricInstanceID, outcome, time.time_ns())
        self._outcomes.labels(kind=flight.request.kind, outcome="ack" if ok else "failure").inc()
        step = flight.step
        if ok:
            flight.request.remember(self.view)
            if step.outcome == ControlOutcome.SENT:
                step.outcome = ControlOutcome.ACKNOWLEDGED
        else:
            cause = getattr(pdu, "cause", None)
            log.warning("control %s on %s failed: %s", flight.request.kind, flight.request.resource, cause)
            if step.outcome in (ControlOutcome.SENT, ControlOutcome.ACKNOWLEDGED):
                step.outcome = ControlOutcome.FAILED

    def _expire_controls(self) -> None:
        if not self._in_flight:
            return
        now = time.monotonic()
        for iid in [i for i, f in self._in_flight.items() if now - f.sent_at > self.control_timeout_s]:
            flight = self._in_flight.pop(iid)
            self.metrics.error("control_timeout")
            if self.ran_view_log is not None:
                self.ran_view_log.on_control_outcome(iid, ControlOutcome.TIMED_OUT, time.time_ns())
            self._outcomes.labels(kind=flight.request.kind, outcome="timeout").inc()
            if flight.step.outcome == ControlOutcome.SENT:
                flight.step.outcome = ControlOutcome.TIMED_OUT
