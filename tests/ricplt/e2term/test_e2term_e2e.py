"""e2term as a real process: a test E2 node over framed TCP, real Redis, real RMR peers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from e2node_double import E2NodeDouble
from ricbox_processes import E2TermProcess, metric, start_e2term

from ricproto import mtypes
from ricproto.e2ap import (
    CauseProtocol,
    E2nodeConfigurationUpdate,
    E2nodeConfigurationUpdateAcknowledge,
    ErrorIndication,
    RANfunctionIDItem,
    RANfunctionItem,
    ResetRequest,
    ResetResponse,
    RICcontrolAcknowledge,
    RICcontrolAckRequest,
    RICcontrolRequest,
    RICrequestID,
    RICserviceUpdate,
    RICserviceUpdateAcknowledge,
    decode,
    encode,
)
from ricproto.rmr import RmrContext, RmrMessage
from twinric.ports import free_port
from twinric.processes import wait_until

EVENTS = "twinric:e2:events"


class Peer:
    """An RMR endpoint of the test (xApp side) with its own static routes."""

    def __init__(self, routes: dict[int, str] | None = None) -> None:
        self.ctx = RmrContext(free_port(), src_id="127.0.0.1", bind_host="127.0.0.1", route_client=False)
        lines = ["newrt|start", *(f"mse|{m}|-1|{ep}" for m, ep in (routes or {}).items()), "newrt|end"]
        self.ctx.load_routes("\n".join(lines) + "\n")

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.ctx.port}"

    def expect(self, mtype: int, timeout: float = 5.0) -> RmrMessage:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.ctx.receive(left)
            if message is not None and message.mtype == mtype:
                return message
        raise AssertionError(f"no RMR {mtype} within {timeout}s")

    def send_until_ok(self, mtype: int, payload: bytes, meid: str, timeout: float = 5.0) -> None:
        ok = wait_until(lambda: self.ctx.send(mtype, payload, meid=meid) == 0, timeout, interval=0.1)
        assert ok, f"RMR send of {mtype} never succeeded"


@pytest.fixture
def xapp() -> Iterator[Peer]:
    peer = Peer()
    yield peer
    peer.ctx.close()


@pytest.fixture
def e2term(tmp_path: Path, redis_url: str, redis_client: redis.Redis, xapp: Peer) -> Iterator[E2TermProcess]:
    routes = {
        mtypes.RIC_INDICATION: xapp.endpoint,
        mtypes.RIC_CONTROL_ACK: xapp.endpoint,
        mtypes.RIC_CONTROL_FAILURE: xapp.endpoint,
        mtypes.RIC_E2_RIC_ERROR_INDICATION: xapp.endpoint,
    }
    process = start_e2term(tmp_path, redis_url, routes)
    try:
        yield process
    finally:
        process.process.stop()


@pytest.fixture
def node() -> Iterator[E2NodeDouble]:
    double = E2NodeDouble()
    yield double
    double.close()


def _events(client: redis.Redis):
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(EVENTS)
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    return pubsub


def _next_event(pubsub, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.2)
        if message is not None:
            return json.loads(message["data"])
    raise AssertionError("no inventory event")


def _record(client: redis.Redis, ran: str) -> dict:
    raw = client.get(f"twinric:e2:node:{ran}")
    assert raw is not None, f"no inventory record for {ran}"
    return json.loads(raw)


def test_setup_inventory_event_then_loss(
    e2term: E2TermProcess, node: E2NodeDouble, redis_client: redis.Redis
) -> None:
    events = _events(redis_client)
    response = node.setup(e2term.e2_port, transaction_id=5)
    assert response.transactionID == 5
    assert (
        response.globalRICID.pLMN_Identity == bytes([0x13, 0x10, 0x14])
        and response.globalRICID.ric_ID == 0xAACCE
    )
    assert [f.ranFunctionID for f in response.ranFunctionsAccepted] == [2, 3]
    assert len(response.e2nodeComponentConfigAdditionAck) == 1

    assert _next_event(events) == {
        "event": "connected",
        "ranName": "gnb_001_001_00019b",
        "e2term": e2term.rmr_endpoint,
    }
    assert redis_client.smembers("twinric:e2:nodes") == {b"gnb_001_001_00019b"}
    record = _record(redis_client, node.ran_name)
    assert record["connected"] is True and record["lostAt"] is None
    assert record["transport"] == "tcp" and record["e2term"] == e2term.rmr_endpoint
    assert record["peer"].startswith("127.0.0.1:")
    assert [
        (f["ranFunctionID"], f["ranFunctionOID"], f["ranFunctionDefinition"]) for f in record["ranFunctions"]
    ] == [
        (2, node.functions[0].ranFunctionOID, b"kpm-definition".hex()),
        (3, node.functions[1].ranFunctionOID, b"rc-definition".hex()),
    ]
    assert metric(e2term.metrics_port, "twinric_e2_nodes_connected") == 1

    node.disconnect()
    assert _next_event(events)["event"] == "lost"
    record = _record(redis_client, node.ran_name)
    assert record["connected"] is False and record["lostAt"] >= record["connectedAt"]
    assert wait_until(lambda: metric(e2term.metrics_port, "twinric_e2_nodes_connected") == 0, 5)

    node.setup(e2term.e2_port)  # the same node comes back
    assert _next_event(events)["event"] == "connected"
    assert _record(redis_client, node.ran_name)["connected"] is True
    events.close()


def test_indication_and_control_round_trip(e2term: E2TermProcess, node: E2NodeDouble, xapp: Peer) -> None:
    node.setup(e2term.e2_port)
    pdu = node.indication(instance=7, requestor=21, sn=3)
    relayed = xapp.expect(mtypes.RIC_INDICATION)
    assert (relayed.sub_id, relayed.meid, relayed.payload) == (7, node.ran_name, pdu)

    sender = Peer({mtypes.RIC_CONTROL_REQ: e2term.rmr_endpoint})
    try:
        control = RICcontrolRequest(
            RICrequestID(21, 9),
            3,
            b"ctrl-header",
            b"handover ue 5",
            ricControlAckRequest=RICcontrolAckRequest.ack,
        )
        sender.send_until_ok(mtypes.RIC_CONTROL_REQ, encode(control), node.ran_name)
        assert node.wait_for(RICcontrolRequest) == control
        assert node.raw_inbox[-1] == encode(control)  # verbatim
        # The answer goes back to the xApp that sent the request, not along the route other xApps share.
        ack = sender.expect(mtypes.RIC_CONTROL_ACK)
        assert (ack.sub_id, ack.meid) == (9, node.ran_name)
        decoded = decode(ack.payload)
        assert isinstance(decoded, RICcontrolAcknowledge)
        assert decoded.ricControlOutcome == b"applied:handover ue 5"
        with pytest.raises(AssertionError):
            xapp.expect(mtypes.RIC_CONTROL_ACK, timeout=0.5)
        # An answer whose request e2term never relayed has no known sender: it is routed by sub_id,
        # as OSC's E2T sends it (here to the route's xApp).
        node.send(RICcontrolAcknowledge(RICrequestID(21, 10), 3, ricControlOutcome=b"late"), stream=1)
        routed = xapp.expect(mtypes.RIC_CONTROL_ACK)
        assert (routed.sub_id, routed.meid) == (10, node.ran_name)
        assert decode(routed.payload).ricControlOutcome == b"late"
    finally:
        sender.ctx.close()
    assert metric(e2term.metrics_port, "twinric_e2_indications_total") == 1
    assert metric(e2term.metrics_port, "twinric_e2_controls_total") == 1


def test_malformed_pdu_gets_error_indication_and_association_survives(
    e2term: E2TermProcess, node: E2NodeDouble, xapp: Peer
) -> None:
    node.setup(e2term.e2_port)
    node.send_raw(b"\x00\x05\x00\x7fnot-aper")
    error = node.wait_for(ErrorIndication)
    assert error.cause is CauseProtocol.transfer_syntax_error
    node.send_raw(bytes([0x00, 99, 0x00, 0x03, 0x00, 0x00, 0x00]))  # well framed, unknown procedure
    node.wait_for(ErrorIndication, where=lambda m: m.cause is CauseProtocol.abstract_syntax_error_reject)
    assert (
        metric(e2term.metrics_port, "twinric_errors_total", component="e2term", reason="malformed-pdu") == 2
    )

    pdu = node.indication(instance=4)
    relayed = xapp.expect(mtypes.RIC_INDICATION)
    assert relayed.payload == pdu and relayed.sub_id == 4
    assert not node.closed_by_peer.is_set()
    assert "malformed E2AP PDU" in e2term.log()


def test_messages_before_setup_are_dropped_and_counted(
    e2term: E2TermProcess, node: E2NodeDouble, xapp: Peer
) -> None:
    node.connect(e2term.e2_port)
    node.indication(instance=1)
    assert wait_until(
        lambda: (
            metric(e2term.metrics_port, "twinric_errors_total", component="e2term", reason="before-setup")
            == 1
        ),
        5,
    )
    node.setup(e2term.e2_port)  # a fresh association; the earlier one is closed by setup() reconnecting
    pdu = node.indication(instance=2)
    relayed = xapp.expect(mtypes.RIC_INDICATION)
    assert relayed.sub_id == 2 and relayed.payload == pdu  # the pre-setup indication never arrived


def test_control_for_unknown_node_is_counted_and_dropped(e2term: E2TermProcess, node: E2NodeDouble) -> None:
    node.setup(e2term.e2_port)
    sender = Peer({mtypes.RIC_CONTROL_REQ: e2term.rmr_endpoint})
    try:
        control = encode(RICcontrolRequest(RICrequestID(1, 1), 3, b"h", b"m"))
        sender.send_until_ok(mtypes.RIC_CONTROL_REQ, control, "gnb_999_099_000001")
        assert wait_until(
            lambda: (
                metric(e2term.metrics_port, "twinric_errors_total", component="e2term", reason="unknown-meid")
                == 1
            ),
            5,
        )
    finally:
        sender.ctx.close()
    assert node.received(RICcontrolRequest) == []
    assert metric(e2term.metrics_port, "twinric_e2_controls_total") == 0


def test_node_procedures_answered_and_inventory_updated(
    e2term: E2TermProcess, node: E2NodeDouble, redis_client: redis.Redis
) -> None:
    events = _events(redis_client)
    node.setup(e2term.e2_port)
    assert _next_event(events)["event"] == "connected"
    node.send(
        RICserviceUpdate(
            11,
            ranFunctionsAdded=[RANfunctionItem(4, b"\x0a\x0b", 1, "oid-4")],
            ranFunctionsDeleted=[RANfunctionIDItem(3, 1)],
        )
    )
    ack = node.wait_for(RICserviceUpdateAcknowledge)
    assert ack.transactionID == 11 and [f.ranFunctionID for f in ack.ranFunctionsAccepted] == [4]
    assert _next_event(events) == {
        "event": "updated",
        "ranName": node.ran_name,
        "e2term": e2term.rmr_endpoint,
    }
    functions = _record(redis_client, node.ran_name)["ranFunctions"]
    assert [(f["ranFunctionID"], f["ranFunctionDefinition"]) for f in functions] == [
        (2, b"kpm-definition".hex()),
        (4, "0a0b"),
    ]

    node.send(E2nodeConfigurationUpdate(12))
    assert node.wait_for(E2nodeConfigurationUpdateAcknowledge).transactionID == 12
    node.send(ResetRequest(13, CauseProtocol.unspecified))
    assert node.wait_for(ResetResponse).transactionID == 13
    assert [_next_event(events)["event"] for _ in range(2)] == ["updated", "updated"]
    events.close()


def test_stopping_e2term_records_its_nodes_lost(
    e2term: E2TermProcess, node: E2NodeDouble, redis_client: redis.Redis
) -> None:
    events = _events(redis_client)
    node.setup(e2term.e2_port)
    assert _next_event(events)["event"] == "connected"
    assert e2term.process.stop() == 0  # SIGTERM: a clean exit
    assert _next_event(events) == {"event": "lost", "ranName": node.ran_name, "e2term": e2term.rmr_endpoint}
    assert _record(redis_client, node.ran_name)["connected"] is False
    assert node.closed_by_peer.wait(5)
    events.close()


def test_a_second_setup_of_the_same_node_replaces_the_old_association(
    e2term: E2TermProcess, node: E2NodeDouble, xapp: Peer
) -> None:
    node.setup(e2term.e2_port)
    newer = E2NodeDouble()
    try:
        newer.setup(e2term.e2_port)
        assert node.closed_by_peer.wait(5), "the old association should be closed"
        pdu = newer.indication(instance=3)
        assert xapp.expect(mtypes.RIC_INDICATION).payload == pdu
        assert metric(e2term.metrics_port, "twinric_e2_nodes_connected") == 1
    finally:
        newer.close()


def test_sctp_requested_without_kernel_support_fails_clearly(tmp_path: Path, redis_url: str) -> None:
    from ricproto.sctp import kernel_sctp

    if kernel_sctp().available:
        pytest.skip("this kernel has SCTP: the failure path cannot be exercised here")
    import subprocess
    import sys

    argv = [
        sys.executable,
        "-m",
        "ricplt.e2term",
        "--transport",
        "sctp",
        "--e2-port",
        str(free_port()),
        "--rmr-port",
        str(free_port()),
        "--metrics-port",
        str(free_port()),
        "--redis-url",
        redis_url,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "sctp-unavailable" in done.stderr and "length-framed TCP" in done.stderr
