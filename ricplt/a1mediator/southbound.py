"""The A1 mediator's RMR side: send A1_POLICY_REQ, take A1_POLICY_RESP and answer A1_POLICY_QUERY.

RMR is reached through :class:`RmrPort`, the three calls of ``ricproto.rmr.RmrContext`` we use, so the
logic here runs the same over the real transport and over a recording double in unit tests.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Protocol

from ricplt.a1mediator.metrics import A1Metrics
from ricplt.a1mediator.notifier import StatusNotifier
from ricplt.a1mediator.store import A1Store
from ricproto import a1, mtypes

log = logging.getLogger("a1mediator.southbound")

RMR_OK = 0


class ReceivedMessage(Protocol):
    mtype: int
    payload: bytes
    sub_id: int


class RmrPort(Protocol):
    def send(
        self,
        mtype: int,
        payload: bytes,
        *,
        sub_id: int = -1,
        meid: str | None = None,
        xid: bytes | None = None,
    ) -> int: ...

    def receive(self, timeout: float | None) -> Any: ...


def enforce_status(handler_status: str | None) -> dict[str, str]:
    """The A1-P v2 status object: ENFORCED iff the stored handler status is OK."""
    if handler_status == a1.A1HandlerStatus.OK:
        return {"enforceStatus": "ENFORCED"}
    return {"enforceStatus": "NOT_ENFORCED", "enforceReason": "OTHER_REASON"}


class A1Southbound:
    def __init__(
        self, rmr: RmrPort, store: A1Store, metrics: A1Metrics, notifier: StatusNotifier | None = None
    ) -> None:
        self.rmr = rmr
        self.store = store
        self.metrics = metrics
        self.notifier = notifier
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # outgoing

    def send_request(self, request: a1.A1PolicyRequest) -> bool:
        """Send one 20010 (Go mediator form) with sub_id = policy type; count and log a failure."""
        payload = a1.encode_policy_request(request, form="go")
        state = self.rmr.send(mtypes.A1_POLICY_REQ, payload, sub_id=request.policy_type_id)
        ok = state == RMR_OK
        self.metrics.rmr_sent.labels(str(request.operation), "ok" if ok else "failed").inc()
        if not ok:
            self.metrics.failure("rmr_send_failed")
            log.warning(
                "A1_POLICY_REQ %s %s/%s not sent: RMR state %s (no handler route?)",
                request.operation,
                request.policy_type_id,
                request.policy_instance_id,
                state,
            )
        return ok

    def send_data_delivery(self, job_id: str, payload: str) -> bool:
        """A1-EI data to the xApps (A1_EI_DATA_DELIVERY, sub_id -1) as the Go mediator sends it."""
        message = json.dumps({"ei_job_id": job_id, "payload": payload}, separators=(",", ":"))
        state = self.rmr.send(mtypes.A1_EI_DATA_DELIVERY, message.encode(), sub_id=-1)
        ok = state == RMR_OK
        self.metrics.rmr_sent.labels("DATA_DELIVERY", "ok" if ok else "failed").inc()
        if not ok:  # upstream answers 200 anyway and logs it
            self.metrics.failure("rmr_send_failed")
            log.warning("A1_EI_DATA_DELIVERY for job %s not sent: RMR state %s (no route?)", job_id, state)
        return ok

    # incoming

    def handle(self, msg: ReceivedMessage) -> None:
        """Process one received message; bad input is counted and logged, never raised."""
        self.metrics.rmr_received.labels(str(msg.mtype)).inc()
        try:
            if msg.mtype == mtypes.A1_POLICY_RESP:
                self._on_response(a1.decode_policy_response(msg.payload))
            elif msg.mtype == mtypes.A1_POLICY_QUERY:
                self._on_query(a1.decode_policy_query(msg.payload))
            else:
                self.metrics.bad_rmr("unexpected_mtype")
                log.warning("ignoring RMR message type %s", msg.mtype)
        except a1.A1CodecError as exc:
            self.metrics.bad_rmr("malformed_payload")
            log.warning("malformed A1 message (mtype %s): %s", msg.mtype, exc)

    def _on_response(self, resp: a1.A1PolicyResponse) -> None:
        t, iid = resp.policy_type_id, resp.policy_instance_id
        self.metrics.handler_responses.labels(str(resp.status)).inc()
        meta = self.store.get_metadata(t, iid)
        if meta is None:
            self.metrics.bad_rmr("unknown_instance")
            log.warning("A1_POLICY_RESP for unknown instance %s/%s from %s", t, iid, resp.handler_id)
            return
        if meta.has_been_deleted:
            if resp.status == a1.A1HandlerStatus.DELETED:
                self.store.purge(t, iid)
                log.info("instance %s/%s deleted by handler %s", t, iid, resp.handler_id)
            return  # a late answer to an earlier CREATE/UPDATE of a deleted instance
        self.store.set_handler_status(t, iid, str(resp.status))
        log.info("instance %s/%s: handler %s answered %s", t, iid, resp.handler_id, resp.status)
        destination = self.store.get_notification_destination(t, iid)
        if destination and self.notifier is not None:
            self.notifier.notify(destination, enforce_status(str(resp.status)))

    def _on_query(self, query: a1.A1PolicyQuery) -> None:
        t = query.policy_type_id
        instances = self.store.instances_of_type(t)
        if not instances:
            log.info("A1_POLICY_QUERY for type %s: no instances", t)
            return
        for iid, body in instances.items():
            self.send_request(a1.A1PolicyRequest(a1.A1Operation.CREATE, t, iid, body))

    # receive loop

    def start(self, poll: float = 0.2) -> None:
        self._thread = threading.Thread(target=self._run, args=(poll,), name="a1-rmr-rx", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, poll: float) -> None:
        while not self._stop.is_set():
            try:
                msg = self.rmr.receive(poll)
                if msg is not None:
                    self.handle(msg)
            except Exception:  # keep receiving whatever one message did (e.g. Redis briefly down)
                self.metrics.failure("rmr_loop_exception")
                log.exception("error while handling an RMR message")
                self._stop.wait(poll)
