"""The control loop in-process on its real parts (view, behaviour, builder, Redis transition stream):
what each control's outcome becomes in the logged transition, and that a failing step is counted,
logged and survived rather than swallowed."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from kpm_messages import cell_indication
from platform_peer import fixed_snapshot

from ricproto import e2ap, mtypes
from ricproto.ran_space import QuotaStep
from ricproto.transition import ControlOutcome, decode_transition
from twinric.processes import wait_until
from xapps.common.metrics import XappMetrics
from xapps.control.behavior import BehaviorPolicy
from xapps.control.control_policy import ControlSettings
from xapps.control.exploration import Exploration
from xapps.control.heuristic import HeuristicBalancer
from xapps.control.loop import ControlLoop
from xapps.control.ran_view import RanView
from xapps.control.rc_control import ControlBuilder
from xapps.control.shield import ActionShield
from xapps.control.transition_log import TransitionWriter
from xapps.control.twin_client import TwinClient

STREAM = "twinric:test:loop-outcomes"


@dataclass
class FixedSnapshots:
    """The promoted policy, without Redis polling (the loop only reads ``current``)."""

    current: object


@dataclass
class Rig:
    loop: ControlLoop
    metrics: XappMetrics
    sent: list[tuple[bytes, str]]
    inventory: object

    def round(self, loads: list[float] | None = None) -> None:
        """One report from every cell: completes a round, so the loop decides."""
        before = self.loop.decisions
        for cell, load in zip(self.inventory.cells, loads or [0.3] * len(self.inventory.cells), strict=True):
            payload = cell_indication(
                2 * cell.position + 1, load * 100.0, 8000.0, 10.0, self.inventory.space.slices
            )
            self.loop.on_indication(cell.meid, 7, payload)
        assert wait_until(lambda: self.loop.decisions == before + 1, 5), "the loop did not decide"

    def answer(self, index: int, ok: bool = True) -> None:
        request = e2ap.decode(self.sent[index][0])
        if ok:
            pdu, mtype = (
                e2ap.RICcontrolAcknowledge(request.ricRequestID, request.ranFunctionID),
                mtypes.RIC_CONTROL_ACK,
            )
        else:
            pdu = e2ap.RICcontrolFailure(
                request.ricRequestID, request.ranFunctionID, e2ap.CauseRICrequest.unspecified
            )
            mtype = mtypes.RIC_CONTROL_FAILURE
        self.loop.on_control_answer(mtype, e2ap.encode(pdu))

    def outcome(self, name: str, kind: str = "slice_quota") -> float:
        return self.metrics.sample("twinric_control_outcomes_total", {"kind": kind, "outcome": name})


@pytest.fixture
def rig(inventory, redis_client) -> Iterator[Rig]:
    space = inventory.space
    metrics = XappMetrics("control")
    view = RanView(inventory)
    behavior = BehaviorPolicy(
        space,
        ActionShield(space, inventory.layout),
        HeuristicBalancer(space, inventory.layout),
        space.action_mask(inventory.layout),
        seed=1,
    )
    quota = space.encode(QuotaStep(0, 0, 1))  # always one slice-quota control on cell 0
    obs_dim = space.max_cells * space.n_features
    snapshots = FixedSnapshots(fixed_snapshot("v1", obs_dim, space.n_actions, quota))
    writer = TransitionWriter(redis_client, STREAM, metrics).start()
    sent: list[tuple[bytes, str]] = []

    def send_control(payload: bytes, meid: str, grant: object = None) -> bool:
        sent.append((payload, meid))
        return True

    settings = ControlSettings(exploration=Exploration("none"), cell_load_limit=1.0)
    loop = ControlLoop(
        "ctl",
        view,
        behavior,
        ControlBuilder(view),
        snapshots,  # type: ignore[arg-type]
        TwinClient(None, space.max_cells, metrics),
        None,
        writer,
        send_control,
        metrics,
        settings,
        control_timeout_s=0.3,
    ).start()
    try:
        yield Rig(loop, metrics, sent, inventory)
    finally:
        loop.stop()
        writer.stop()


def transitions(redis_client) -> list:
    return [decode_transition(fields[b"t"]) for _, fields in redis_client.xrange(STREAM)]


def test_acknowledged_failed_and_timed_out_controls_are_logged_as_such(rig: Rig, redis_client) -> None:
    rig.round()
    rig.answer(0, ok=True)
    assert wait_until(lambda: rig.outcome("ack") == 1, 5)
    rig.round()
    rig.answer(1, ok=False)
    assert wait_until(lambda: rig.outcome("failure") == 1, 5)
    rig.round()  # no answer to this one: it times out
    assert wait_until(lambda: rig.outcome("timeout") == 1, 5)
    assert rig.metrics.error_count("control_timeout") == 1
    rig.answer(2, ok=True)  # the acknowledgement arrives after the timeout: too late to count
    assert wait_until(lambda: rig.metrics.error_count("control_answer_unknown") == 1, 5)
    rig.round()  # completes the third step's transition
    assert wait_until(lambda: len(transitions(redis_client)) == 3, 5)
    outcomes = [t.outcome for t in transitions(redis_client)]
    assert outcomes == [ControlOutcome.ACKNOWLEDGED, ControlOutcome.FAILED, ControlOutcome.TIMED_OUT]
    assert rig.outcome("ack") == 1  # the late acknowledgement was not counted as one


def test_an_exception_in_a_step_is_counted_logged_and_survived(
    rig: Rig, redis_client, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = rig.loop.behavior.decide

    def failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("policy blew up")
        return real(*args, **kwargs)

    monkeypatch.setattr(rig.loop.behavior, "decide", failing_once)
    with caplog.at_level(logging.ERROR, logger="xapps.control.loop"):
        before = rig.loop.decisions
        for cell in rig.inventory.cells:
            rig.loop.on_indication(
                cell.meid,
                7,
                cell_indication(2 * cell.position + 1, 30.0, 8000.0, 10.0, rig.inventory.space.slices),
            )
        assert wait_until(lambda: rig.metrics.error_count("loop_exception") == 1, 5)
    failures = [r for r in caplog.records if r.getMessage() == "control loop step failed"]
    assert failures and failures[0].exc_info and "policy blew up" in str(failures[0].exc_info[1])
    assert rig.loop.decisions == before  # that round produced nothing...
    time.sleep(0.1)
    rig.round()  # ...and the loop goes on with the next one
    assert rig.loop._thread is not None and rig.loop._thread.is_alive()
    assert len(rig.sent) == 1
