"""One TCP connection of the RMR transport, and the named endpoints that own outbound ones.

Writes happen on the caller's thread, one frame at a time under a per-connection lock so frames
never interleave; reads happen on the context's receive thread (see ``context.py``).
"""

from __future__ import annotations

import errno as errno_codes
import logging
import select
import socket
import threading
import time
from collections.abc import Callable

from ricproto.rmr import metrics
from ricproto.rmr.states import RMR_ERR_RETRY, RMR_ERR_SENDFAILED, RMR_OK
from ricproto.rmr.stream import FrameStream

log = logging.getLogger("ricproto.rmr.connection")

# Bytes a connection may hold beyond what the kernel took (a partly written frame, then whole frames
# queued behind it); past this a send answers RMR_ERR_RETRY. Always room for at least one frame.
OUT_LIMIT = 1024 * 1024


class Connection:
    """A connected, non-blocking socket with its frame accumulator, write lock and output buffer.

    A frame the kernel takes only in part is finished from ``out`` by the receive thread when the
    socket becomes writable (frames never interleave: later frames queue behind it). ``out`` is
    bounded by ``OUT_LIMIT``; when it is full and the peer does not drain it within the caller's
    wait, the send answers RMR_ERR_RETRY (EAGAIN) and nothing is written.
    """

    __slots__ = ("_poll", "closed", "endpoint", "fd", "inbound", "on_backlog", "out", "peer", "send_lock",
                 "sock", "stream")

    def __init__(self, sock: socket.socket, *, inbound: bool, peer: str, endpoint: Endpoint | None = None,
                 max_frame: int) -> None:
        sock.setblocking(False)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.sock = sock
        self.fd = sock.fileno()
        self.inbound = inbound
        self.peer = peer
        self.endpoint = endpoint
        self.stream = FrameStream(max_frame)
        self.send_lock = threading.Lock()
        self.closed = False
        self.out = bytearray()
        self.on_backlog: Callable[[Connection], None] | None = None  # set by the context: watch writability
        self._poll = select.poll()
        self._poll.register(self.fd, select.POLLOUT)

    def __repr__(self) -> str:
        return f"Connection({'in' if self.inbound else 'out'} {self.peer}{' closed' if self.closed else ''})"

    def _flush_locked(self) -> int:
        """Write as much of ``out`` as the socket takes; returns the bytes still waiting, -1 if broken."""
        out = self.out
        try:
            sent = self.sock.send(out)
        except BlockingIOError:
            return len(out)
        except OSError:
            self.close("send_error")
            return -1
        del out[:sent]
        return len(out)

    def flush(self) -> int:
        """Called by the receive thread when the socket is writable; bytes still waiting (-1: closed)."""
        if not self.send_lock.acquire(blocking=False):
            return len(self.out)  # a sender holds it and is writing anyway
        try:
            if self.closed:
                return -1
            return self._flush_locked() if self.out else 0
        finally:
            self.send_lock.release()

    def write(self, frame: bytes, first_byte_wait: float) -> tuple[int, int]:
        """Write (or queue behind a partly written frame) one whole frame; returns (RMR state, errno)."""
        with self.send_lock:
            if self.closed:
                return RMR_ERR_SENDFAILED, errno_codes.ENOTCONN
            if self.out:
                waiting = self._flush_locked()
                if waiting < 0:
                    return RMR_ERR_SENDFAILED, errno_codes.EPIPE
                if waiting and waiting + len(frame) > OUT_LIMIT:
                    deadline = time.monotonic() + first_byte_wait
                    while waiting and waiting + len(frame) > OUT_LIMIT:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0 or not self._poll.poll(max(1, int(remaining * 1000))):
                            metrics.SEND_RETRY.inc()
                            return RMR_ERR_RETRY, errno_codes.EAGAIN
                        waiting = self._flush_locked()
                        if waiting < 0:
                            return RMR_ERR_SENDFAILED, errno_codes.EPIPE
                if waiting:
                    self.out += frame
                    return RMR_OK, 0
            try:
                sent = self.sock.send(frame)
            except BlockingIOError:
                sent = 0
            except OSError as exc:
                self.close("send_error")
                return RMR_ERR_SENDFAILED, exc.errno or errno_codes.EIO
            if sent == len(frame):
                return RMR_OK, 0
            self.out += memoryview(frame)[sent:]
        if self.on_backlog is not None:
            self.on_backlog(self)
        return RMR_OK, 0

    def close(self, reason: str) -> None:
        """Close once; the endpoint forgets us so its next send reconnects."""
        if self.closed:
            return
        self.closed = True
        metrics.CONNECTIONS_DROPPED.labels(reason=reason).inc()
        endpoint = self.endpoint
        if endpoint is not None and endpoint.conn is self:
            endpoint.conn = None
        try:
            self.sock.close()
        except OSError:
            pass


def split_endpoint(name: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` -> (host, port)."""
    host, sep, port = name.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"endpoint {name!r} is not host:port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


class Endpoint:
    """A peer known by the literal ``host:port`` string of a route, a src field or a wormhole.

    It holds at most one outbound connection, opened lazily and reused for everything sent to
    that name. A failed connect is remembered for ``retry_after`` seconds so a dead or unresolvable
    peer does not cost a DNS lookup and a connect timeout on every send.
    """

    __slots__ = ("conn", "connect_lock", "failed_until", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.conn: Connection | None = None
        self.connect_lock = threading.Lock()
        self.failed_until = 0.0

    def __repr__(self) -> str:
        return f"Endpoint({self.name}, {'open' if self.conn else 'closed'})"
