"""Request/answer exchanges with the E2 termination over RMR, with submgr's timeout and retries.

A request (12010 or 12020) is sent with meid = the RAN name; the answer is recognised by the RIC
instance id inside the answer's PDU (as submgr does: it decodes the RICrequestID from the payload).
A thread takes RMR messages and completes the waiting futures on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from dataclasses import dataclass
from typing import Literal

from ricplt.rmr_receiver import receive_until_stopped
from ricplt.submgr.metrics import SubmgrMetrics
from ricproto import mtypes
from ricproto.e2ap import E2APMessage, E2CodecError, decode
from ricproto.rmr import RmrContext, RmrMessage
from ricproto.rmr.states import RMR_OK

log = logging.getLogger("submgr.e2")

Procedure = Literal["subscribe", "delete"]
ANSWERS: dict[int, Procedure] = {
    mtypes.RIC_SUB_RESP: "subscribe",
    mtypes.RIC_SUB_FAILURE: "subscribe",
    mtypes.RIC_SUB_DEL_RESP: "delete",
    mtypes.RIC_SUB_DEL_FAILURE: "delete",
}
REQUESTS: dict[Procedure, int] = {"subscribe": mtypes.RIC_SUB_REQ, "delete": mtypes.RIC_SUB_DEL_REQ}


@dataclass(slots=True)  # pragma: no mutate  (slots only save memory: no behaviour depends on them)
class E2Answer:
    mtype: int
    message: E2APMessage


@dataclass(slots=True)  # pragma: no mutate  (slots only save memory: no behaviour depends on them)
class ExchangeOutcome:
    """The answer, or None with ``attempts`` made and whether any RMR send succeeded."""

    answer: E2Answer | None
    attempts: int
    sent: bool


class E2Exchange:
    def __init__(self, rmr: RmrContext, metrics: SubmgrMetrics) -> None:
        self.rmr = rmr
        self.metrics = metrics
        self._waiting: dict[tuple[Procedure, int], asyncio.Future[E2Answer]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._receive, name="submgr-rmr-rx", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(2)

    async def request(
        self, procedure: Procedure, payload: bytes, meid: str, instance: int, timeout: float, retries: int
    ) -> ExchangeOutcome:
        """Send and wait ``timeout`` s for the answer, up to ``1 + retries`` times."""
        loop = asyncio.get_running_loop()
        key = (procedure, instance)
        future: asyncio.Future[E2Answer] = loop.create_future()
        self._waiting[key] = future
        sent = False
        attempts = 0
        try:
            for attempt in range(1 + retries):
                attempts = attempt + 1
                send = functools.partial(
                    self.rmr.send, REQUESTS[procedure], payload, sub_id=instance, meid=meid
                )
                state = await loop.run_in_executor(None, send)
                if state == RMR_OK:
                    sent = True
                else:
                    self.metrics.error("rmr-send-failed")
                    log.warning(
                        "RMR send of %s request %d to %s failed: state %d (attempt %d)",
                        procedure,
                        instance,
                        meid,
                        state,
                        attempts,
                    )
                try:
                    answer = await asyncio.wait_for(asyncio.shield(future), timeout)
                    return ExchangeOutcome(answer, attempts, sent)
                except TimeoutError:
                    log.info(
                        "no answer to %s request %d from %s within %ss (attempt %d of %d)",
                        procedure,
                        instance,
                        meid,
                        timeout,
                        attempts,
                        1 + retries,
                    )
            return ExchangeOutcome(None, attempts, sent)
        finally:
            if self._waiting.get(key) is future:
                del self._waiting[key]
            future.cancel()

    # ---- receive thread ------------------------------------------------------------------------

    def _receive(self) -> None:
        loop = self._loop
        assert loop is not None
        receive_until_stopped(
            self.rmr, self._stopping, lambda message: loop.call_soon_threadsafe(self._deliver, message)
        )

    def _deliver(self, message: RmrMessage) -> None:
        procedure = ANSWERS.get(message.mtype)
        if procedure is None:
            if message.mtype == mtypes.RIC_HEALTH_CHECK_REQ:
                self.rmr.rts(message, b"OK", mtypes.RIC_HEALTH_CHECK_RESP)
                return
            self.metrics.error("unexpected-rmr-mtype")
            log.warning("RMR message type %d is not an E2 subscription answer: dropped", message.mtype)
            return
        try:
            decoded = decode(message.payload)
        except E2CodecError as exc:
            self.metrics.error("malformed-e2-answer")
            log.warning("malformed E2AP answer in RMR %d from %s: %s", message.mtype, message.meid, exc)
            return
        request_id = getattr(decoded, "ricRequestID", None)
        if request_id is None:
            self.metrics.error("malformed-e2-answer")
            log.warning("RMR %d carries %s, not a subscription answer", message.mtype, type(decoded).__name__)
            return
        future = self._waiting.get((procedure, request_id.ricInstanceID))
        if future is None or future.done():
            self.metrics.error("unexpected-e2-answer")
            log.warning(
                "%s for instance %d from %s matches no pending request: dropped",
                type(decoded).__name__,
                request_id.ricInstanceID,
                message.meid,
            )
            return
        future.set_result(E2Answer(message.mtype, decoded))
