"""``E2Termination``: E2 associations on one side, RMR on the other.

Uplink: each association runs in its own task; its first PDU must be an E2setupRequest (anything
before it is counted and dropped, as OSC E2T does); the termination answers setup, service update,
configuration update and reset itself, relays the messages of ``uplink.RELAYED`` to RMR verbatim and
answers a PDU it cannot decode with an ErrorIndication (the association stays up).

Downlink: a thread takes messages from RMR and hands them to the event loop, which writes 12010,
12020 and 12040 payloads verbatim on stream 1 of the association named by the meid. The sender of each
control request is remembered so that its acknowledgement or failure goes back to that xApp alone
(``control_requesters``); an answer whose sender is unknown is routed as OSC's E2T sends it.
A RIC control request passes the control gate first (``control_gate.py``: the zero-trust PDP's
grant); one it refuses never reaches the node and is answered with a RICcontrolFailure (cause misc
om-intervention: the RIC's operator-set policy stopped it, not the RAN). ``TWINRIC_ACCESS_REVOKE``
from the PDP updates the gate at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import threading
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor

from ricplt.e2term import procedures
from ricplt.e2term.control_gate import ControlGate, GateMode, GateVerdict
from ricplt.e2term.control_requesters import ControlRequesters
from ricplt.e2term.inventory import NodeInventory
from ricplt.e2term.metrics import E2TermMetrics
from ricplt.e2term.uplink import UplinkRoute, uplink_route
from ricplt.rmr_receiver import receive_until_stopped
from ricproto import mtypes
from ricproto.e2ap import (
    CauseMisc,
    E2APMessage,
    E2CodecError,
    E2nodeConfigurationUpdate,
    E2setupRequest,
    GlobalRICID,
    ResetRequest,
    RICcontrolAcknowledge,
    RICcontrolFailure,
    RICcontrolRequest,
    RICindication,
    RICserviceUpdate,
    decode,
    encode,
    ran_name,
)
from ricproto.e2transport import (
    E2Connection,
    E2ConnectionClosed,
    E2Server,
    E2TransportError,
    TransportKind,
    serve,
)
from ricproto.rmr import RmrContext, RmrMessage
from ricproto.rmr.states import RMR_OK

log = logging.getLogger("e2term")

STREAM_GLOBAL = 0  # setup, reset, error indication, service update answers
STREAM_FUNCTIONAL = 1  # subscription and control requests
DOWNLINK = frozenset({mtypes.RIC_SUB_REQ, mtypes.RIC_SUB_DEL_REQ, mtypes.RIC_CONTROL_REQ})


class Association:
    """One E2 node's connection and, after setup, its RAN name."""

    def __init__(self, conn: E2Connection) -> None:
        self.conn = conn
        self.ran_name: str | None = None
        self.peer = f"{conn.peer[0]}:{conn.peer[1]}"


class E2Termination:
    def __init__(
        self,
        rmr: RmrContext,
        inventory: NodeInventory,
        metrics: E2TermMetrics,
        ric: GlobalRICID,
        transport: TransportKind,
        gate: ControlGate | None = None,
    ) -> None:
        self.rmr = rmr
        self.gate = gate or ControlGate(GateMode.OFF, None)
        self.inventory = inventory
        self.metrics = metrics
        self.ric = ric
        self.transport: TransportKind = transport
        self.associations: dict[str, Association] = {}
        self.control_requesters = ControlRequesters()
        self._server: E2Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = threading.Event()
        self._receiver: threading.Thread | None = None
        # one thread keeps uplink RMR sends in arrival order without blocking the event loop on a connect
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="e2term-rmr-tx")

    # ---- lifecycle -----------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> int:
        """Listen for E2 nodes and start relaying RMR downlink; returns the bound E2 port."""
        self._loop = asyncio.get_running_loop()
        released = await self.inventory.release_stale()
        if released:
            log.info("nodes left connected by a previous run marked lost: %s", ", ".join(released))
        self._server = await serve(self._run_association, host, port, self.transport)
        self._receiver = threading.Thread(target=self._receive_rmr, name="e2term-rmr-rx", daemon=True)
        self._receiver.start()
        log.info(
            "E2 termination listening on %s:%s (%s), RMR %s",
            host,
            self._server.port,
            self.transport,
            self.rmr.src,
        )
        return self._server.port

    async def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            await self._server.close()
        # record the loss now: the association tasks may not run again before the process exits
        for association in list(self.associations.values()):
            await self._association_ended(association)
            await association.conn.close()
        if self._receiver is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._receiver.join, 2.0)
        self._sender.shutdown(wait=True)

    # ---- uplink --------------------------------------------------------------------------------

    async def _run_association(self, conn: E2Connection) -> None:
        association = Association(conn)
        log.info("E2 association from %s (%s)", association.peer, conn.kind)
        try:
            while True:
                try:
                    pdu = await conn.recv_pdu()
                except E2ConnectionClosed:
                    break
                except (E2TransportError, OSError) as exc:
                    reason = exc.reason if isinstance(exc, E2TransportError) else "socket-error"
                    self.metrics.error(f"transport-{reason}")
                    log.warning("E2 association %s failed: %s", association.peer, exc)
                    break
                await self._uplink(association, pdu)
        finally:
            await self._association_ended(association)

    async def _association_ended(self, association: Association) -> None:
        name = association.ran_name
        if name is None or self.associations.get(name) is not association:
            return  # never set up, or replaced by a newer association of the same node
        del self.associations[name]
        self.metrics.nodes_connected.set(len(self.associations))
        log.warning("E2 node %s lost (%s)", name, association.peer)
        try:
            await self.inventory.lost(name)
        except Exception as exc:  # Redis down must not leave the loop; the loss is still logged
            self.metrics.error("inventory-write-failed")
            log.error("cannot record loss of %s: %s", name, exc)

    async def _send_to_node(self, association: Association, message: E2APMessage, stream: int) -> None:
        try:
            await association.conn.send_pdu(encode(message), stream)
        except (E2TransportError, E2CodecError, OSError) as exc:
            self.metrics.error("node-send-failed")
            log.warning("cannot send %s to %s: %s", type(message).__name__, association.peer, exc)

    async def _uplink(self, association: Association, pdu: bytes) -> None:
        try:
            message = decode(pdu)
        except E2CodecError as exc:
            self.metrics.error("malformed-pdu")
            log.warning(
                "malformed E2AP PDU from %s (%s, %d bytes): %s",
                association.ran_name or "-",
                association.peer,
                len(pdu),
                exc,
            )
            await self._send_to_node(association, procedures.error_indication(exc), STREAM_GLOBAL)
            return
        if isinstance(message, E2setupRequest):
            await self._setup(association, message)
            return
        name = association.ran_name
        if name is None:
            self.metrics.error("before-setup")
            log.warning("%s from %s before E2 setup: ignored", type(message).__name__, association.peer)
            return
        route = uplink_route(message)
        if isinstance(message, RICcontrolAcknowledge | RICcontrolFailure) and route is not None:
            requester = self.control_requesters.take(name, message)
            if requester is not None and await self._answer_requester(requester, name, pdu, route):
                return
        if route is not None:
            await self._relay(name, pdu, route.mtype, route.sub_id, isinstance(message, RICindication))
        elif isinstance(message, RICserviceUpdate):
            ack = procedures.service_update_acknowledge(message)
            await self._send_to_node(association, ack, STREAM_GLOBAL)
            await self._record(
                self.inventory.service_updated(
                    name, message.ranFunctionsAdded, message.ranFunctionsModified, message.ranFunctionsDeleted
                )
            )
        elif isinstance(message, E2nodeConfigurationUpdate):
            ack = procedures.configuration_update_acknowledge(message)
            await self._send_to_node(association, ack, STREAM_GLOBAL)
            await self._record(self.inventory.touched(name))
        elif isinstance(message, ResetRequest):
            await self._send_to_node(association, procedures.reset_response(message), STREAM_GLOBAL)
            await self._record(self.inventory.touched(name))
        else:
            self.metrics.error("unexpected-message")
            log.warning(
                "%s from %s is not a message an E2 node sends here: dropped", type(message).__name__, name
            )

    async def _record(self, write: Awaitable[object]) -> None:
        try:
            await write
        except Exception as exc:
            self.metrics.error("inventory-write-failed")
            log.error("inventory update failed: %s", exc)

    async def _setup(self, association: Association, request: E2setupRequest) -> None:
        name = ran_name(request.globalE2nodeID)
        if association.ran_name is not None and association.ran_name != name:
            self.metrics.error("setup-identity-changed")
            log.warning(
                "association %s was %s, now sets up as %s", association.peer, association.ran_name, name
            )
            await self._association_ended(association)
        previous = self.associations.get(name)
        if previous is not None and previous is not association:
            log.warning(
                "E2 node %s set up again from %s: closing its old association %s",
                name,
                association.peer,
                previous.peer,
            )
            self.associations.pop(name)
            await previous.conn.close()
        await self._send_to_node(association, procedures.setup_response(request, self.ric), STREAM_GLOBAL)
        association.ran_name = name
        self.associations[name] = association
        self.metrics.nodes_connected.set(len(self.associations))
        log.info(
            "E2 node %s set up from %s with RAN functions %s",
            name,
            association.peer,
            [f.ranFunctionID for f in request.ranFunctionsAdded],
        )
        await self._record(
            self.inventory.connected(name, association.conn.kind, association.peer, request.ranFunctionsAdded,
                                     request.globalE2nodeID)
        )

    async def _relay(self, name: str, pdu: bytes, mtype: int, sub_id: int, indication: bool) -> None:
        send = functools.partial(self.rmr.send, mtype, pdu, sub_id=sub_id, meid=name)
        try:
            state = await asyncio.get_running_loop().run_in_executor(self._sender, send)
        except RuntimeError:  # the sender is shut down: we are stopping
            return
        if state != RMR_OK:
            self.metrics.error("rmr-send-failed")
            log.warning("RMR send of %d (sub_id %d, meid %s) failed: state %d", mtype, sub_id, name, state)
        elif indication:
            self.metrics.indications.inc()

    async def _answer_requester(self, request: RmrMessage, name: str, pdu: bytes, route: UplinkRoute) -> bool:
        """Return a control answer to the xApp that sent the request (RMR return-to-sender: xid and
        call-id travel back, so an ``rmr_call`` gets it as its reply); False if that fails."""
        answer = RmrMessage(
            route.mtype, pdu, route.sub_id, name, request.xid, request.src, request.srcip,
            call_id=request.call_id, flags=request.flags, version=request.version, conn=request.conn,
        )
        try:
            state = await asyncio.get_running_loop().run_in_executor(
                self._sender, self.rmr.rts_msg, answer)
        except RuntimeError:  # the sender is shut down: we are stopping
            return True
        if state != RMR_OK:
            log.warning("control answer for %s could not go back to %s (state %d): routing it instead",
                        name, request.src, state)
            return False
        return True

    # ---- downlink ------------------------------------------------------------------------------

    def _receive_rmr(self) -> None:
        loop = self._loop
        assert loop is not None

        def hand_over(message: RmrMessage) -> None:
            asyncio.run_coroutine_threadsafe(self._downlink(message), loop)

        receive_until_stopped(self.rmr, self._stopping, hand_over)

    async def _downlink(self, message: RmrMessage) -> None:
        if message.mtype == mtypes.RIC_HEALTH_CHECK_REQ:
            self.rmr.rts(message, b"OK", mtypes.RIC_HEALTH_CHECK_RESP)
            return
        if message.mtype == mtypes.TWINRIC_ACCESS_REVOKE:
            applied, what = self.gate.revoke(message.payload)
            if applied:
                log.warning("PDP revoked %s: its grants are refused from now on", what)
            else:
                self.metrics.error("bad-revocation")
                log.warning("revocation from %s ignored: %s", message.src, what)
            return
        if message.mtype not in DOWNLINK:
            self.metrics.error("unexpected-rmr-mtype")
            log.warning("RMR message type %d is not relayed to E2 nodes: dropped", message.mtype)
            return
        if message.mtype == mtypes.RIC_CONTROL_REQ:
            verdict = self.gate.check(message)
            if verdict.code not in ("granted", "gate_off"):
                self.metrics.control_gate.labels(outcome=verdict.code).inc()
            if not verdict.forward:
                self._refuse(message, verdict)
                return
            if verdict.code not in ("granted", "gate_off", "allowed_ungranted"):
                log.warning(  # audit mode: forwarded although the check failed
                    "control from %s for %s: %s (%s)", message.src, message.meid, verdict.code, verdict.detail
                )
        association = self.associations.get(message.meid)
        if association is None:
            self.metrics.error("unknown-meid")
            log.warning("RMR %d for unknown or disconnected E2 node %r: dropped", message.mtype, message.meid)
            return
        if message.mtype == mtypes.RIC_CONTROL_REQ:
            self._remember_requester(message, verdict.request)
        try:
            await association.conn.send_pdu(message.payload, STREAM_FUNCTIONAL)
        except (E2TransportError, OSError) as exc:
            self.metrics.error("node-send-failed")
            log.warning("cannot forward RMR %d to %s: %s", message.mtype, message.meid, exc)
            return
        if message.mtype == mtypes.RIC_CONTROL_REQ:
            self.metrics.controls.inc()

    def _remember_requester(self, message: RmrMessage, request: object | None = None) -> None:
        """Remember who sent a control; ``request`` is the gate's decoding of it, when the gate ran."""
        if request is None:
            try:
                request = decode(message.payload)
            except E2CodecError:
                return  # forwarded as is: the node answers it with an error indication
        if isinstance(request, RICcontrolRequest):
            self.control_requesters.remember(message.meid, request, message)

    def _refuse(self, message: RmrMessage, verdict: GateVerdict) -> None:
        """Log a refused control and answer its sender with a RICcontrolFailure."""
        log.warning(
            "control from %s (%s) for %s refused: %s: %s",
            message.src, verdict.subject or "no subject", message.meid, verdict.code, verdict.detail,
        )
        req = verdict.request
        if req is None:
            return  # not a decodable control: there is no request id to answer
        failure = RICcontrolFailure(req.ricRequestID, req.ranFunctionID, CauseMisc.om_intervention)
        try:
            answer = dataclasses.replace(
                message, mtype=mtypes.RIC_CONTROL_FAILURE, payload=encode(failure), trace=b""
            )
            state = self.rmr.rts_msg(answer)
        except (E2CodecError, OSError) as exc:
            state = -1
            log.warning("cannot answer the refused control: %s", exc)
        if state != RMR_OK:
            self.metrics.error("rmr-send-failed")
