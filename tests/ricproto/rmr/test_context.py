"""RmrContext over real sockets on 127.0.0.1: send, RTS paths, calls, wormholes, seed file, rtmgr."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ricproto import mtypes
from ricproto.rmr import RmrContext, RmrMessage
from ricproto.rmr.frame import decode_frame, encode_frame
from ricproto.rmr.states import RMR_ERR_NOENDPT, RMR_ERR_NOWHOPEN, RMR_ERR_WHID, RMR_OK
from ricproto.rmr.stream import FrameStream
from twinric.ports import free_port
from twinric.processes import wait_until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def pair() -> Iterator[tuple[RmrContext, RmrContext]]:
    a = RmrContext(0, src_id="127.0.0.1")
    b = RmrContext(0, src_id="127.0.0.1")
    a.load_routes(
        f"newrt|start\nrte|10|127.0.0.1:{b.port}\nmse|11|-1|%meid\nnewrt|end\n"
        f"meid_map|start\nmme_ar|127.0.0.1:{b.port}|gnb1\nmeid_map|end|1\n"
    )
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_send_carries_every_header_field(pair: tuple[RmrContext, RmrContext]) -> None:
    a, b = pair
    assert a.wait_ready(1)
    assert a.send(10, b"payload", sub_id=42, meid="gnb7", xid=b"XID", trace=b"tr") == RMR_OK
    msg = b.receive(2)
    assert msg is not None
    assert (msg.mtype, msg.payload, msg.sub_id, msg.meid, msg.xid_text, msg.trace) == (
        10,
        b"payload",
        42,
        "gnb7",
        b"XID",
        b"tr",
    )
    assert msg.src == f"127.0.0.1:{a.port}" and msg.srcip.endswith(f":{a.port}")
    assert msg.call_id == 0 and msg.flags == 0 and msg.version == 3


def test_no_route_and_unknown_meid_give_noendpt(pair: tuple[RmrContext, RmrContext]) -> None:
    a, b = pair
    assert a.send(99, b"x") == RMR_ERR_NOENDPT
    assert a.send(11, b"x", meid="unknown") == RMR_ERR_NOENDPT
    assert a.send(11, b"x", meid="gnb1") == RMR_OK
    assert b.receive(2).meid == "gnb1"


def test_dead_endpoint_gives_noendpt_quickly() -> None:
    with RmrContext(0, src_id="127.0.0.1") as a:
        a.load_routes(f"newrt|start\nrte|10|127.0.0.1:{free_port()}\nnewrt|end\n")
        started = time.monotonic()
        assert a.send(10, b"x") == RMR_ERR_NOENDPT
        assert time.monotonic() - started < 1.5


def test_rts_connects_to_src_and_keeps_call_fields(pair: tuple[RmrContext, RmrContext]) -> None:
    a, b = pair
    a.send(10, b"q", xid=b"abc", meid="gnb1", sub_id=3)
    msg = b.receive(2)
    assert b.rts(msg, b"answer", 12) == RMR_OK
    reply = a.receive(2)
    got = (reply.mtype, reply.payload, reply.xid_text, reply.meid, reply.sub_id)
    assert got == (12, b"answer", b"abc", "gnb1", 3)
    assert reply.src == f"127.0.0.1:{b.port}"
    assert reply.conn.inbound  # it came over a new connection b opened to a's src


def test_rts_falls_back_to_the_inbound_connection() -> None:
    """A sender with an unreachable src name gets its reply on the connection it opened."""
    with RmrContext(0, src_id="127.0.0.1") as b:
        raw = socket.create_connection(("127.0.0.1", b.port))
        try:
            raw.sendall(
                encode_frame(
                    5,
                    b"hi",
                    xid=b"X1".ljust(32, b"\0"),
                    src=b"no-such-host.invalid:1",
                    srcip=b"no-such-host.invalid:1",
                    call_id=3,
                    flags=4,
                )
            )
            msg = b.receive(2)
            assert msg is not None and msg.call_id == 3 and msg.flags == 4
            assert b.rts(msg, b"back") == RMR_OK
            raw.settimeout(3)
            stream = FrameStream()
            got = []
            while not got:
                got = stream.feed(raw.recv(65536))[0]
            assert got[0].payload == b"back" and got[0].call_id == 3 and got[0].flags == 0
            assert got[0].xid_text == b"X1" and got[0].src == f"127.0.0.1:{b.port}"
        finally:
            raw.close()


def test_outbound_connections_are_read_too() -> None:
    """A peer that answers on the connection we opened (real RMR's RTS fallback) is heard."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    with RmrContext(0, src_id="127.0.0.1") as a:
        a.load_routes(f"newrt|start\nrte|10|127.0.0.1:{port}\nnewrt|end\n")
        result: dict = {}

        def responder() -> None:
            conn, _ = server.accept()
            with conn:
                data = b""
                stream = FrameStream()
                msgs = []
                while not msgs:
                    data = conn.recv(65536)
                    msgs = stream.feed(data)[0]
                req = msgs[0]
                result["req"] = req
                conn.sendall(
                    encode_frame(21, b"on-same-socket", xid=req.xid, call_id=req.call_id, src=b"x:1")
                )
                time.sleep(0.5)

        t = threading.Thread(target=responder)
        t.start()
        reply = a.call(10, b"call-me", timeout=3)
        t.join()
        server.close()
        assert result["req"].flags == 4 and result["req"].call_id != 0
        assert reply is not None and reply.payload == b"on-same-socket"


def test_call_matches_xid_and_times_out(pair: tuple[RmrContext, RmrContext]) -> None:
    a, b = pair

    def answer() -> None:
        req = b.receive(2)
        # a stray reply with the right call-id but another xid is ignored by the caller
        b.rts_msg(
            RmrMessage(
                req.mtype,
                b"wrong",
                req.sub_id,
                req.meid,
                b"x" * 32,
                req.src,
                req.srcip,
                0,
                req.trace,
                req.call_id,
                req.flags,
                req.version,
                0,
                req.conn,
            )
        )
        b.rts(req, b"right", 13)

    t = threading.Thread(target=answer)
    t.start()
    reply = a.call(10, b"question", timeout=2)
    t.join()
    assert reply is not None and reply.payload == b"right" and reply.mtype == 13
    started = time.monotonic()
    assert a.call(10, b"nobody answers", timeout=0.2) is None
    assert time.monotonic() - started >= 0.2
    assert b.receive(1).payload == b"nobody answers"


def test_wormholes() -> None:
    with RmrContext(0, src_id="127.0.0.1") as a, RmrContext(0, src_id="127.0.0.1") as b:
        assert a.wh_state(0) == RMR_ERR_NOWHOPEN
        assert a.wh_open(f"127.0.0.1:{free_port()}") == -1
        whid = a.wh_open(f"127.0.0.1:{b.port}")
        assert whid >= 0 and a.wh_state(whid) == RMR_OK and a.wh_state(whid + 5) == RMR_ERR_WHID
        assert a.wh_send(whid, 77, b"direct") == RMR_OK
        msg = b.receive(2)
        assert msg.mtype == 77 and msg.call_id == 0
        threading.Thread(target=lambda: b.rts(b.receive(2), b"wh-reply")).start()
        reply = a.wh_call(whid, 78, b"wh-q", call_id=9, timeout=2)
        assert reply is not None and reply.payload == b"wh-reply" and reply.call_id == 9
        a.wh_close(whid)
        assert a.wh_state(whid) in (RMR_ERR_WHID, RMR_ERR_NOWHOPEN)


def test_reconnects_after_the_peer_restarts() -> None:
    port = free_port()
    with RmrContext(0, src_id="127.0.0.1") as a:
        a.load_routes(f"newrt|start\nrte|10|127.0.0.1:{port}\nnewrt|end\n")
        b = RmrContext(port, src_id="127.0.0.1", bind_host="127.0.0.1")
        assert a.send(10, b"one") == RMR_OK and b.receive(2).payload == b"one"
        b.close()
        assert wait_until(lambda: a.endpoint(f"127.0.0.1:{port}").conn is None, 3)  # we saw the close
        b = RmrContext(port, src_id="127.0.0.1", bind_host="127.0.0.1")
        try:
            assert wait_until(lambda: a.send(10, b"two") == RMR_OK, 3)
            assert b.receive(2).payload == b"two"
        finally:
            b.close()


def test_seed_file_is_loaded_and_reloaded(tmp_path: Path) -> None:
    seed = tmp_path / "seed.rt"
    with RmrContext(0, src_id="127.0.0.1") as target:
        with RmrContext(0, src_id="127.0.0.1", seed_rt=str(seed)) as a:
            assert not a.wait_ready(0.2)  # no file yet: not ready
            seed.write_text(f"newrt|start\nrte|10|127.0.0.1:{target.port}\nnewrt|end\n")
            assert a.wait_ready(3)
            assert a.send(10, b"x") == RMR_OK and a.send(20, b"y") == RMR_ERR_NOENDPT
            seed.write_text(f"newrt|start\nrte|20|127.0.0.1:{target.port}\nnewrt|end\n# changed\n")
            assert wait_until(lambda: a.send(20, b"y") == RMR_OK, 4)


def test_route_manager_push_and_ack(caplog: pytest.LogCaptureFixture) -> None:
    ctl = free_port()
    with (
        RmrContext(0, src_id="127.0.0.1") as rtmgr,
        RmrContext(0, src_id="127.0.0.1") as target,
        RmrContext(0, src_id="127.0.0.1", rtg_port=ctl) as app,
    ):
        assert not app.ready()
        whid = rtmgr.wh_open(f"127.0.0.1:{ctl}")
        table = f"newrt|start|rt-9\nrte|10|127.0.0.1:{target.port}\nnewrt|end|1\n".encode()
        assert rtmgr.wh_send(whid, mtypes.RMRRM_TABLE_DATA, table) == RMR_OK
        ack = rtmgr.receive(3)
        assert ack is not None and ack.mtype == mtypes.RMRRM_TABLE_STATE and ack.payload == b"OK rt-9 \n\0"
        assert app.ready() and app.routes.from_rtmgr
        assert app.send(10, b"routed") == RMR_OK and target.receive(2).payload == b"routed"
        update = b"updatert|start|u-1\nmse|10|-1|127.0.0.1:1\nupdatert|end|1\n"
        assert rtmgr.wh_send(whid, mtypes.RMRRM_TABLE_DATA, update) == RMR_OK
        assert rtmgr.receive(3).payload == b"OK u-1 \n\0"
        assert app.route_table.lookup(10, -1).endpoints() == ["127.0.0.1:1"]
    assert "not delivered" not in caplog.text  # both acks went out


def test_route_manager_gets_an_ack_for_the_meid_map_too() -> None:
    ctl = free_port()
    with RmrContext(0, src_id="127.0.0.1") as rtmgr, RmrContext(0, src_id="127.0.0.1", rtg_port=ctl) as app:
        whid = rtmgr.wh_open(f"127.0.0.1:{ctl}")
        table = (
            b"newrt|start|rt-1\nmse|12040|-1|%meid\nnewrt|end|1\n"
            b"meid_map|start|mm-1\nmme_ar|127.0.0.1:9|gnb1\nmeid_map|end|1\n"
        )
        assert rtmgr.wh_send(whid, mtypes.RMRRM_TABLE_DATA, table) == RMR_OK
        acks = [rtmgr.receive(3), rtmgr.receive(3)]
        assert [a.payload for a in acks if a is not None] == [b"OK rt-1 \n\0", b"OK mm-1 \n\0"]
        assert app.route_table.meid_map == {"gnb1": "127.0.0.1:9"}
        bad = b"meid_map|start|mm-2\nmme_ar|127.0.0.1:8|gnb2\nmeid_map|end|3\n"
        assert rtmgr.wh_send(whid, mtypes.RMRRM_TABLE_DATA, bad) == RMR_OK
        nack = rtmgr.receive(3)
        assert nack is not None and nack.payload.startswith(b"ERR mm-2 missing table records")
        assert "gnb2" not in app.route_table.meid_map


def test_route_manager_request_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    with RmrContext(0, src_id="127.0.0.1") as rtmgr:
        monkeypatch.setenv("RMR_RTG_SVC", f"127.0.0.1:{rtmgr.port}")
        monkeypatch.setenv("RMR_CTL_PORT", str(free_port()))
        monkeypatch.setenv("RMR_RTREQ_FREQ", "1")
        with RmrContext(0, src_id="127.0.0.1") as app:
            req = rtmgr.receive(3)
            assert req is not None and req.mtype == mtypes.RMRRM_REQ_TABLE
            assert req.payload.startswith(b"127.0.0.1:") and b" ts=" in req.payload
            whid = rtmgr.wh_open(req.payload.split()[0].decode())
            rtmgr.wh_send(whid, mtypes.RMRRM_TABLE_DATA, b"newrt|start|r1\nrte|1|127.0.0.1:9\nnewrt|end\n")
            assert rtmgr.receive(3).payload == b"OK r1 \n\0"
            assert app.ready()


def test_receive_queue_pushes_back_instead_of_dropping() -> None:
    with RmrContext(0, src_id="127.0.0.1", max_queue=50) as b, RmrContext(0, src_id="127.0.0.1") as a:
        a.load_routes(f"newrt|start\nrte|10|127.0.0.1:{b.port}\nnewrt|end\n")
        sent = 0
        deadline = time.monotonic() + 10
        while sent < 2000 and time.monotonic() < deadline:
            if a.send(10, sent.to_bytes(4, "big") * 256) == RMR_OK:
                sent += 1
        assert wait_until(lambda: b.stats["rx_paused"] > 0, 3)
        got = []
        while len(got) < sent:
            msg = b.receive(2)
            assert msg is not None, f"lost messages: got {len(got)} of {sent}"
            got.append(int.from_bytes(msg.payload[:4], "big"))
        assert got == list(range(sent))


def test_close_wakes_a_blocked_receiver() -> None:
    ctx = RmrContext(0, src_id="127.0.0.1")
    result = []
    t = threading.Thread(target=lambda: result.append(ctx.receive(None)))
    t.start()
    time.sleep(0.1)
    ctx.close()
    t.join(2)
    assert not t.is_alive() and result == [None]


def test_frames_we_send_have_the_layout_of_vector_v1(pair: tuple[RmrContext, RmrContext]) -> None:
    a, _ = pair
    frame = a._frame(RmrMessage(12050, b"hello-e2", 7, "gnb1", b"XID-0001".ljust(32, b"\0")), 0, 0)
    assert len(frame) == 342 and frame[8:9] == b"$"  # V1 is 342 bytes with the same fields
    msg = decode_frame(frame)
    assert msg.src == f"127.0.0.1:{a.port}" and msg.payload == b"hello-e2" and msg.sub_id == 7


def test_close_closes_the_connections_we_opened() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)
    ctx = RmrContext(0, src_id="127.0.0.1")
    try:
        ctx.load_routes(f"newrt|start\nrte|10|127.0.0.1:{server.getsockname()[1]}\nnewrt|end\n")
        assert ctx.send(10, b"hello") == RMR_OK
        conn, _ = server.accept()
        conn.settimeout(5)
        stream, got = FrameStream(), []
        while not got:
            got = stream.feed(conn.recv(65536))[0]
        ctx.close()
        assert conn.recv(65536) == b""  # the peer sees the connection end
        conn.close()
    finally:
        ctx.close()
        server.close()
