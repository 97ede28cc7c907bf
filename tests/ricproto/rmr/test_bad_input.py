"""Bad input on the wire: the context stays up, drops or throttles the connection, counts and logs it."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ricproto.rmr import RmrContext, metrics
from ricproto.rmr.frame import encode_frame
from ricproto.rmr.states import RMR_ERR_RETRY, RMR_OK
from twinric.processes import wait_until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def ctx() -> Iterator[RmrContext]:
    c = RmrContext(0, src_id="127.0.0.1")
    try:
        yield c
    finally:
        c.close()


def still_works(ctx: RmrContext) -> None:
    with socket.create_connection(("127.0.0.1", ctx.port)) as good:
        good.sendall(encode_frame(1, b"still alive"))
        msg = ctx.receive(3)
    assert msg is not None and msg.payload == b"still alive"


def peer_closed(sock: socket.socket) -> bool:
    sock.settimeout(3)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00" * 8 + b"\xff" * 4 + b"garbage that is not RMR at all" * 10, "short_length"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "huge_length"),
        (
            (0xFFFFFF00).to_bytes(4, "little") + (0xFFFFFF00).to_bytes(4, "big") + b"$" + bytes(400),
            "negative_length",
        ),
        (
            (0x7FFFFF00).to_bytes(4, "little") + (0x7FFFFF00).to_bytes(4, "big") + b"$" + bytes(400),
            "huge_length",
        ),
    ],
)
def test_nonsense_streams_drop_the_connection(
    ctx: RmrContext, caplog: pytest.LogCaptureFixture, data: bytes, reason: str
) -> None:
    before = metrics.value(metrics.BAD_INPUT, reason=reason)
    with (
        caplog.at_level(logging.WARNING, logger="ricproto.rmr"),
        socket.create_connection(("127.0.0.1", ctx.port)) as bad,
    ):
        bad.sendall(encode_frame(1, b"accepted first") + data)
        assert peer_closed(bad), "the connection should have been dropped"
    first = ctx.receive(2)
    assert first is not None and first.payload == b"accepted first"  # accepted data is not lost
    assert metrics.value(metrics.BAD_INPUT, reason=reason) == before + 1
    assert any("dropped" in r.getMessage() and reason in r.getMessage() for r in caplog.records)
    still_works(ctx)


def test_truncated_frame_is_counted_when_the_peer_hangs_up(
    ctx: RmrContext, caplog: pytest.LogCaptureFixture
) -> None:
    before = metrics.value(metrics.BAD_INPUT, reason="truncated")
    with caplog.at_level(logging.WARNING, logger="ricproto.rmr"):
        with socket.create_connection(("127.0.0.1", ctx.port)) as bad:
            bad.sendall(encode_frame(1, b"x" * 100)[:200])
        assert wait_until(lambda: metrics.value(metrics.BAD_INPUT, reason="truncated") == before + 1, 3)
    assert any("middle of a frame" in r.getMessage() for r in caplog.records)
    assert ctx.pending() == 0
    still_works(ctx)


def test_inconsistent_header_skips_only_that_frame(ctx: RmrContext) -> None:
    before = metrics.value(metrics.BAD_INPUT, reason="bad_header")
    broken = bytearray(encode_frame(1, b"broken"))
    broken[54:58] = (100000).to_bytes(4, "big")  # plen beyond the frame
    with socket.create_connection(("127.0.0.1", ctx.port)) as peer:
        peer.sendall(bytes(broken) + encode_frame(2, b"next one"))
        msg = ctx.receive(2)
        assert msg is not None and msg.payload == b"next one"  # same connection, still in step
        peer.sendall(encode_frame(3, b"and more"))
        assert ctx.receive(2).payload == b"and more"
    assert metrics.value(metrics.BAD_INPUT, reason="bad_header") == before + 1


def test_peer_that_stops_reading_is_throttled_with_retry(ctx: RmrContext) -> None:
    stuck = socket.create_server(("127.0.0.1", 0))
    stuck.listen(1)
    with RmrContext(0, src_id="127.0.0.1") as healthy:
        ctx.load_routes(
            f"newrt|start\nrte|10|127.0.0.1:{stuck.getsockname()[1]}\n"
            f"rte|11|127.0.0.1:{healthy.port}\nnewrt|end\n"
        )
        before = metrics.value(metrics.SEND_RETRY)
        payload = b"z" * 65536
        states = []
        started = time.monotonic()
        while time.monotonic() - started < 10:
            state = ctx.send(10, payload)
            states.append(state)
            if state == RMR_ERR_RETRY:
                break
        assert states[-1] == RMR_ERR_RETRY, "the send never reported back-pressure"
        assert all(s == RMR_OK for s in states[:-1])
        t0 = time.monotonic()
        assert ctx.send(10, payload) == RMR_ERR_RETRY
        assert time.monotonic() - t0 < 0.5  # it does not block the caller
        assert metrics.value(metrics.SEND_RETRY) >= before + 2
        assert ctx.send(11, b"others still served") == RMR_OK
        assert healthy.receive(2).payload == b"others still served"
    stuck.close()


def test_many_connect_and_close_cycles_leave_no_connections(ctx: RmrContext) -> None:
    for _ in range(50):
        socket.create_connection(("127.0.0.1", ctx.port)).close()
    assert wait_until(lambda: len([c for c in ctx._conns.values() if not c.closed]) == 0, 3)
    still_works(ctx)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    chunks=st.lists(
        st.one_of(
            st.binary(min_size=1, max_size=600),
            st.builds(
                lambda p, cut: encode_frame(9, p)[:cut],
                st.binary(max_size=64),
                st.integers(min_value=1, max_value=400),
            ),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_random_bytes_never_stop_the_receiver(ctx: RmrContext, chunks: list[bytes]) -> None:
    with socket.create_connection(("127.0.0.1", ctx.port)) as noise:
        for chunk in chunks:
            try:
                noise.sendall(chunk)
            except OSError:  # we may already have been dropped
                break
    while ctx.receive(0.01) is not None:  # a random prefix may even be a valid frame
        pass
    assert ctx._thread.is_alive()
    still_works(ctx)
