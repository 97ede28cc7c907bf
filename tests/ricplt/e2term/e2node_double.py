"""A small E2 node for tests, built from the codecs (not e2sim): setup, subscription and control answers.

It runs its own asyncio loop in a thread so plain (synchronous) tests can drive it. Every PDU it
receives is decoded and kept in ``inbox`` (in arrival order); subscription (delete) requests and control
requests are answered automatically unless switched off.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from ricproto.e2ap import (
    BitString,
    Cause,
    E2APMessage,
    E2nodeComponentConfigAdditionItem,
    E2nodeComponentConfiguration,
    E2nodeComponentInterfaceNG,
    E2nodeComponentInterfaceType,
    E2setupRequest,
    E2setupResponse,
    GlobalE2nodeGnbID,
    GlobalgNBID,
    RANfunctionItem,
    RICcontrolAcknowledge,
    RICcontrolRequest,
    RICindication,
    RICindicationType,
    RICrequestID,
    RICsubscriptionDeleteRequest,
    RICsubscriptionDeleteResponse,
    RICsubscriptionFailure,
    RICsubscriptionRequest,
    RICsubscriptionResponse,
    decode,
    encode,
    plmn_to_bytes,
    ran_name,
)
from ricproto.e2transport import E2Connection, E2ConnectionClosed, E2TransportError, connect

KPM_OID = "1.3.6.1.4.1.53148.1.2.2.2"
RC_OID = "1.3.6.1.4.1.53148.1.1.2.3"


class E2NodeDouble:
    def __init__(self, plmn: str = "00101", gnb_id: int = 0x19B, gnb_id_bits: int = 22) -> None:
        self.global_id = GlobalE2nodeGnbID(GlobalgNBID(plmn_to_bytes(plmn), BitString(gnb_id, gnb_id_bits)))
        self.ran_name = ran_name(self.global_id)
        self.functions = [
            RANfunctionItem(2, b"kpm-definition", 1, KPM_OID),
            RANfunctionItem(3, b"rc-definition", 1, RC_OID),
        ]
        self.answer_subscriptions = True
        self.answer_controls = True
        self.subscription_failure: Cause | None = None  # refuse subscriptions with this cause
        self.refuse_requestors: dict[int, Cause] = {}  # refuse only these ricRequestorIDs
        self.inbox: list[E2APMessage] = []
        self.raw_inbox: list[bytes] = []
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="e2node-double")
        self._thread.start()
        self._conn: E2Connection | None = None
        self._reader: asyncio.Future[None] | None = None
        self.closed_by_peer = threading.Event()

    # ---- plumbing ------------------------------------------------------------------------------

    def _run(self, coro: Any, timeout: float = 5.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _read_loop(self) -> None:
        assert self._conn is not None
        while True:
            try:
                pdu = await self._conn.recv_pdu()
            except (E2ConnectionClosed, E2TransportError, OSError):
                self.closed_by_peer.set()
                return
            message = decode(pdu)
            with self._cond:
                self.inbox.append(message)
                self.raw_inbox.append(pdu)
                self._cond.notify_all()
            answer = self._answer(message)
            if answer is not None:
                await self._conn.send_pdu(encode(answer), 1)

    def _answer(self, message: E2APMessage) -> E2APMessage | None:
        if isinstance(message, RICsubscriptionRequest):
            cause = self.refuse_requestors.get(message.ricRequestID.ricRequestorID, self.subscription_failure)
            if cause is not None:
                return RICsubscriptionFailure(message.ricRequestID, message.ranFunctionID, cause)
        if isinstance(message, RICsubscriptionRequest) and self.answer_subscriptions:
            actions = [a.ricActionID for a in message.ricSubscriptionDetails.ricAction_ToBeSetup_List]
            return RICsubscriptionResponse(message.ricRequestID, message.ranFunctionID, actions)
        if isinstance(message, RICsubscriptionDeleteRequest) and self.answer_subscriptions:
            return RICsubscriptionDeleteResponse(message.ricRequestID, message.ranFunctionID)
        if isinstance(message, RICcontrolRequest) and self.answer_controls:
            return RICcontrolAcknowledge(
                message.ricRequestID,
                message.ranFunctionID,
                ricControlOutcome=b"applied:" + message.ricControlMessage,
            )
        return None

    # ---- API -----------------------------------------------------------------------------------

    def connect(self, port: int, host: str = "127.0.0.1") -> None:
        async def go() -> None:
            self._conn = await connect(host, port, "tcp")
            self._reader = asyncio.ensure_future(self._read_loop())

        self.closed_by_peer.clear()
        self._run(go())

    def setup(self, port: int, transaction_id: int = 1) -> E2setupResponse:
        """Connect and run E2 Setup; returns the termination's E2setupResponse."""
        self.connect(port)
        component = E2nodeComponentConfigAdditionItem(
            E2nodeComponentInterfaceType.ng,
            E2nodeComponentInterfaceNG("amf1"),
            E2nodeComponentConfiguration(b"req", b"resp"),
        )
        self.send(E2setupRequest(transaction_id, self.global_id, self.functions, [component]))
        return self.wait_for(E2setupResponse)

    def send(self, message: E2APMessage, stream: int = 0) -> bytes:
        pdu = encode(message)
        self.send_raw(pdu, stream)
        return pdu

    def send_raw(self, pdu: bytes, stream: int = 0) -> None:
        assert self._conn is not None
        self._run(self._conn.send_pdu(pdu, stream))

    def indication(self, instance: int, requestor: int = 1, sn: int = 1, function: int = 2) -> bytes:
        """Send one RICindication for (requestor, instance); returns its PDU bytes."""
        return self.send(
            RICindication(
                RICrequestID(requestor, instance),
                function,
                1,
                RICindicationType.report,
                f"hdr-{sn}".encode(),
                f"msg-{instance}-{sn}".encode(),
                ricIndicationSN=sn,
            ),
            stream=1,
        )

    def wait_for(
        self, kind: type, timeout: float = 5.0, where: Callable[[Any], bool] = lambda _m: True, after: int = 0
    ) -> Any:
        """The first received message of ``kind`` (from index ``after`` of the inbox) matching ``where``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.inbox[after:]:
                    if isinstance(message, kind) and where(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    got = [type(m).__name__ for m in self.inbox]
                    raise AssertionError(f"no {kind.__name__} within {timeout}s; received {got}")
                self._cond.wait(remaining)

    def received(self, kind: type) -> list[Any]:
        with self._cond:
            return [m for m in self.inbox if isinstance(m, kind)]

    def disconnect(self) -> None:
        async def go() -> None:
            if self._conn is not None:
                await self._conn.close()
            if self._reader is not None:
                self._reader.cancel()

        self._run(go())
        self._conn = None

    def close(self) -> None:
        try:
            self.disconnect()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(2)
            self._loop.close()
