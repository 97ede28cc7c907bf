"""E2 transports for asyncio: SCTP (what an E2 termination speaks) and length-framed TCP.

Both carry whole E2AP PDUs; the E2 node and the E2 termination stand-in see one interface,
``E2Connection`` (``send_pdu`` / ``recv_pdu`` / ``close``), obtained from ``connect`` or handed to the
handler of ``serve``.

* ``sctp``: one-to-one SCTP socket from the standard library (``IPPROTO_SCTP``), one PDU per SCTP
  message, PPID 70 (E2-CP) and the stream number set per message through ``sendmsg`` ancillary data
  (``SCTP_SNDINFO``); stream 0 for global procedures, 1 for subscription/control. Usable only when
  ``ricproto.sctp.kernel_sctp()`` says the kernel can open SCTP sockets; otherwise ``SctpUnavailable``
  says why.
* ``tcp``: each PDU preceded by its length as 4 bytes big-endian. Lengths of 0 or above
  ``max_pdu_bytes`` are malformed: the error is counted (``e2transport_bad_input{reason}``), logged and
  the connection is closed, since the byte stream can no longer be trusted.

``choose_transport("auto")`` picks SCTP when the kernel has it and framed TCP otherwise.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Literal

from prometheus_client import Counter

from ricproto.sctp import E2AP_PPID, IPPROTO_SCTP, kernel_sctp

log = logging.getLogger(__name__)

TransportKind = Literal["sctp", "tcp"]
DEFAULT_MAX_PDU_BYTES = 128 * 1024  # the E2 termination's receive buffer size
LENGTH_PREFIX = struct.Struct(">I")

# Linux UAPI linux/sctp.h
SCTP_INITMSG = 2
SCTP_RECVRCVINFO = 32
SCTP_SNDINFO = 2
SCTP_RCVINFO = 3
_SNDINFO = struct.Struct("=HHIIi")  # sid, flags, ppid (network order), context, assoc_id
_INITMSG = struct.Struct("=HHHH")  # num_ostreams, max_instreams, max_attempts, max_init_timeo
_RCVINFO_SIZE = 28
E2_STREAMS = 2

BAD_INPUT = Counter(
    "e2transport_bad_input", "E2 transport byte streams/messages rejected, by reason", ["reason"]
)


class E2TransportError(Exception):
    """A transport-level failure; ``reason`` is a short machine-readable tag."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}")


class SctpUnavailable(E2TransportError):
    def __init__(self, detail: str) -> None:
        super().__init__("sctp-unavailable", detail)


class E2ConnectionClosed(E2TransportError):
    def __init__(self, detail: str = "peer closed the connection") -> None:
        super().__init__("closed", detail)


def choose_transport(requested: Literal["auto", "sctp", "tcp"]) -> TransportKind:
    """The transport to use: ``auto`` prefers SCTP; asking for SCTP without kernel support raises."""
    if requested == "tcp":
        return "tcp"
    support = kernel_sctp()
    if requested == "sctp" and not support.available:
        raise SctpUnavailable(support.reason)
    if requested not in ("auto", "sctp"):
        raise ValueError(f"transport must be auto, sctp or tcp, not {requested!r}")
    return "sctp" if support.available else "tcp"


def _reject(reason: str, detail: str) -> E2TransportError:
    BAD_INPUT.labels(reason=reason).inc()
    log.warning("E2 transport input rejected: %s: %s", reason, detail)
    return E2TransportError(reason, detail)


class E2Connection(abc.ABC):
    kind: TransportKind
    max_pdu_bytes: int

    @abc.abstractmethod
    async def send_pdu(self, pdu: bytes, stream: int = 0) -> None:
        """Send one whole E2AP PDU (``stream`` is used by SCTP, ignored by framed TCP)."""

    @abc.abstractmethod
    async def recv_pdu(self) -> bytes:
        """The next whole PDU; ``E2ConnectionClosed`` at end of stream, ``E2TransportError`` if malformed."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @property
    @abc.abstractmethod
    def peer(self) -> tuple[str, int]: ...

    def _check_outgoing(self, pdu: bytes) -> None:
        if not pdu:
            raise E2TransportError("empty-pdu", "refusing to send an empty PDU")
        if len(pdu) > self.max_pdu_bytes:
            raise E2TransportError(
                "oversize-pdu", f"{len(pdu)} bytes exceed the limit of {self.max_pdu_bytes}"
            )


class FramedTcpConnection(E2Connection):
    kind: TransportKind = "tcp"

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        max_pdu_bytes: int = DEFAULT_MAX_PDU_BYTES,
    ) -> None:
        self._reader, self._writer = reader, writer
        self.max_pdu_bytes = max_pdu_bytes
        peer = writer.get_extra_info("peername") or ("?", 0)
        self._peer = (str(peer[0]), int(peer[1]))

    @property
    def peer(self) -> tuple[str, int]:
        return self._peer

    async def send_pdu(self, pdu: bytes, stream: int = 0) -> None:
        self._check_outgoing(pdu)
        self._writer.write(LENGTH_PREFIX.pack(len(pdu)) + pdu)
        await self._writer.drain()

    async def recv_pdu(self) -> bytes:
        try:
            header = await self._reader.readexactly(LENGTH_PREFIX.size)
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise E2ConnectionClosed() from None
            await self.close()
            raise _reject(
                "truncated-length", f"stream ended {len(exc.partial)} bytes into a length prefix"
            ) from None
        (length,) = LENGTH_PREFIX.unpack(header)
        if length == 0 or length > self.max_pdu_bytes:
            await self.close()
            reason = "zero-length" if length == 0 else "oversize-length"
            raise _reject(
                reason,
                f"length prefix {length} from {self._peer} (limit {self.max_pdu_bytes}); connection closed",
            )
        try:
            return await self._reader.readexactly(length)
        except asyncio.IncompleteReadError as exc:
            await self.close()
            raise _reject(
                "truncated-pdu", f"stream ended after {len(exc.partial)} of {length} bytes"
            ) from None

    async def close(self) -> None:
        if not self._writer.is_closing():
            self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


class SctpConnection(E2Connection):
    """One SCTP association on a non-blocking one-to-one socket, driven by the event loop."""

    kind: TransportKind = "sctp"

    def __init__(self, sock: socket.socket, max_pdu_bytes: int = DEFAULT_MAX_PDU_BYTES) -> None:
        sock.setblocking(False)
        with contextlib.suppress(OSError):
            sock.setsockopt(IPPROTO_SCTP, SCTP_RECVRCVINFO, 1)
        self._sock = sock
        self.max_pdu_bytes = max_pdu_bytes
        try:
            peer = sock.getpeername()
            self._peer = (str(peer[0]), int(peer[1]))
        except OSError:
            self._peer = ("?", 0)
        self.last_stream = 0
        self.last_ppid = 0

    @property
    def peer(self) -> tuple[str, int]:
        return self._peer

    async def _wait(self, writable: bool) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        fd = self._sock.fileno()
        add, remove = (
            (loop.add_writer, loop.remove_writer) if writable else (loop.add_reader, loop.remove_reader)
        )
        add(fd, lambda: fut.done() or fut.set_result(None))
        try:
            await fut
        finally:
            remove(fd)

    async def send_pdu(self, pdu: bytes, stream: int = 0) -> None:
        self._check_outgoing(pdu)
        if not 0 <= stream < E2_STREAMS:
            raise E2TransportError("bad-stream", f"E2 uses streams 0 and 1, not {stream}")
        info = _SNDINFO.pack(stream, 0, socket.htonl(E2AP_PPID), 0, 0)
        while True:
            try:
                self._sock.sendmsg([pdu], [(IPPROTO_SCTP, SCTP_SNDINFO, info)])
                return
            except BlockingIOError:
                await self._wait(writable=True)

    async def recv_pdu(self) -> bytes:
        while True:
            try:
                data, ancdata, flags, _ = self._sock.recvmsg(
                    self.max_pdu_bytes + 1, socket.CMSG_SPACE(_RCVINFO_SIZE)
                )
                break
            except BlockingIOError:
                await self._wait(writable=False)
        if not data:
            raise E2ConnectionClosed()
        if len(data) > self.max_pdu_bytes or not flags & socket.MSG_EOR:
            await self.close()
            raise _reject(
                "oversize-message", f"SCTP message above {self.max_pdu_bytes} bytes; association closed"
            )
        for level, ctype, cdata in ancdata:
            if level == IPPROTO_SCTP and ctype == SCTP_RCVINFO and len(cdata) >= 12:
                self.last_stream = struct.unpack_from("=H", cdata, 0)[0]
                self.last_ppid = socket.ntohl(struct.unpack_from("=I", cdata, 8)[0])
        return data

    async def close(self) -> None:
        self._sock.close()


def _sctp_socket(host: str) -> socket.socket:
    support = kernel_sctp()
    if not support.available:
        raise SctpUnavailable(support.reason)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, IPPROTO_SCTP)
    # Ask for the two outbound streams E2 uses.
    with contextlib.suppress(OSError):
        sock.setsockopt(IPPROTO_SCTP, SCTP_INITMSG, _INITMSG.pack(E2_STREAMS, E2_STREAMS, 0, 0))
    return sock


async def connect(
    host: str, port: int, kind: TransportKind = "tcp", max_pdu_bytes: int = DEFAULT_MAX_PDU_BYTES
) -> E2Connection:
    """Open an E2 connection to an E2 termination."""
    if kind == "tcp":
        reader, writer = await asyncio.open_connection(host, port)
        return FramedTcpConnection(reader, writer, max_pdu_bytes)
    if kind == "sctp":
        sock = _sctp_socket(host)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
        except BaseException:
            sock.close()
            raise
        return SctpConnection(sock, max_pdu_bytes)
    raise ValueError(f"unknown transport {kind!r}")


Handler = Callable[[E2Connection], Awaitable[None]]


class E2Server:
    """A listening E2 endpoint; each accepted connection runs ``handler`` in its own task."""

    def __init__(self, kind: TransportKind, port: int, closer: Callable[[], Awaitable[None]]) -> None:
        self.kind = kind
        self.port = port
        self._closer = closer

    async def close(self) -> None:
        await self._closer()


async def serve(
    handler: Handler,
    host: str,
    port: int,
    kind: TransportKind = "tcp",
    max_pdu_bytes: int = DEFAULT_MAX_PDU_BYTES,
) -> E2Server:
    """Listen for E2 connections (port 0 picks a free port; see ``E2Server.port``)."""
    if kind == "tcp":

        async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            conn = FramedTcpConnection(reader, writer, max_pdu_bytes)
            try:
                await handler(conn)
            finally:
                await conn.close()

        server = await asyncio.start_server(on_client, host, port)
        bound = int(server.sockets[0].getsockname()[1])

        async def close_tcp() -> None:
            server.close()
            await server.wait_closed()

        return E2Server("tcp", bound, close_tcp)
    if kind == "sctp":
        sock = _sctp_socket(host)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task[None]] = set()

        async def run_one(client: socket.socket) -> None:
            conn = SctpConnection(client, max_pdu_bytes)
            try:
                await handler(conn)
            finally:
                await conn.close()

        async def accept_loop() -> None:
            while True:
                client, _ = await loop.sock_accept(sock)
                task = asyncio.create_task(run_one(client))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        acceptor = asyncio.create_task(accept_loop())

        async def close_sctp() -> None:
            acceptor.cancel()
            for task in list(tasks):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await acceptor
            sock.close()

        return E2Server("sctp", int(sock.getsockname()[1]), close_sctp)
    raise ValueError(f"unknown transport {kind!r}")
