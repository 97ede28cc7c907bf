"""One RMR connection over a real loopback TCP socket: a partly written frame is finished before the next."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from ricproto.rmr.connection import Connection
from ricproto.rmr.states import RMR_OK

CHUNK = 64 * 1024


@pytest.fixture
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    listener = socket.create_server(("127.0.0.1", 0))
    ours = socket.create_connection(listener.getsockname())
    theirs, _ = listener.accept()
    listener.close()
    try:
        yield ours, theirs
    finally:
        ours.close()
        theirs.close()


def test_a_send_that_finishes_the_waiting_tail_then_sends_its_own_frame(tcp_pair) -> None:
    ours, theirs = tcp_pair
    conn = Connection(ours, inbound=False, peer="test", max_frame=1 << 24)
    sent: list[bytes] = []
    while not conn.out:  # the peer does not read: fill the kernel until a frame is taken only in part
        frame = bytes([len(sent) % 251]) * CHUNK
        assert conn.write(frame, 0.1) == (RMR_OK, 0)
        sent.append(frame)
        assert len(sent) < 10_000, "the kernel never pushed back"
    taken = sum(map(len, sent)) - len(conn.out)

    received = bytearray()
    done = threading.Event()

    def read_all() -> None:
        theirs.settimeout(5)
        try:
            while chunk := theirs.recv(1 << 20):
                received.extend(chunk)
        except TimeoutError:
            pass
        done.set()

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    deadline = time.monotonic() + 10
    while len(received) < taken and time.monotonic() < deadline:  # the kernel's buffers drained
        time.sleep(0.01)
    assert len(received) >= taken

    last = b"last frame"
    assert conn.write(last, 0.1) == (RMR_OK, 0)  # the tail (< one chunk) fits now: flushed, then this
    assert not conn.out and not conn.closed
    ours.shutdown(socket.SHUT_WR)
    assert done.wait(10)
    assert bytes(received) == b"".join(sent) + last
