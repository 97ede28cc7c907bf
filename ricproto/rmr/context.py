"""``RmrContext``: one RMR endpoint of a process (listener, receive thread, routing, send/RTS/call).

Wire behaviour follows RMR 4.9.4's SI95 transport (rmr.md §1 and §4):

* one receive thread selects over the listener, every inbound connection and every outbound
  connection we opened (peers may answer on either), reassembling frames per socket;
* outbound connections are keyed by the literal endpoint name and opened lazily by the sending
  thread with a connect timeout, so the receive thread never blocks on a connect;
* a full peer socket makes a send answer ``RMR_ERR_RETRY`` instead of blocking;
* the receive queue is bounded: when it is full the receive thread stops reading, so TCP pushes
  back on the senders instead of messages being dropped;
* replies to calls (call flag clear, data1[0] != 0) go to the waiting caller's chute and are
  matched on all 32 xid bytes.
"""

from __future__ import annotations

import errno as errno_codes
import fcntl
import itertools
import logging
import os
import queue
import selectors
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass

from ricproto.rmr import metrics
from ricproto.rmr.connection import Connection, Endpoint, split_endpoint
from ricproto.rmr.frame import encode_frame
from ricproto.rmr.message import NO_XID, RmrMessage
from ricproto.rmr.route_table import RouteTable, RouteTableBuilder, TableEvent
from ricproto.rmr.states import (
    HFL_CALL_MSG,
    MAX_SRC,
    MAX_XID,
    RMR_ERR_BADARG,
    RMR_ERR_NOENDPT,
    RMR_ERR_NOWHOPEN,
    RMR_ERR_SENDFAILED,
    RMR_ERR_TIMEOUT,
    RMR_ERR_WHID,
    RMR_MAX_RCV_BYTES,
    RMR_OK,
    SUB_ID_NONE,
)
from ricproto.rmr.stream import DEFAULT_MAX_FRAME

log = logging.getLogger("ricproto.rmr")

DEFAULT_PORT = 4560
DEFAULT_QUEUE = 4096  # RMR's receive ring
RECV_SIZE = 256 * 1024
CONNECT_TIMEOUT = 2.0
CONNECT_RETRY_AFTER = 0.5
SEND_WAIT = 0.005  # how long a send waits for room in a full socket before RMR_ERR_RETRY
SIOCGIFADDR = 0x8915

_CLOSED = object()  # queue sentinel that wakes receivers on close


class RmrInitError(OSError):
    """The context could not start (bad port, port in use, bad source name)."""


def interface_addresses() -> list[str]:
    """IPv4 addresses of the non-loopback interfaces, in interface order (what RMR puts in srcip)."""
    found: list[str] = []
    try:
        names = socket.if_nameindex()
    except OSError:
        return found
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in names:
            if name == "lo":
                continue
            try:
                packed = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, struct.pack("256s", name[:15].encode()))
            except OSError:
                continue
            address = socket.inet_ntoa(packed[20:24])
            if not address.startswith("127."):
                found.append(address)
    return found


def _strip_port(name: str) -> str:
    if name.startswith("["):
        return name[: name.index("]") + 1] if "]" in name else name
    return name.split(":", 1)[0]


def _is_ip(text: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, text.strip("[]"))
            return True
        except OSError:
            continue
    return False


@dataclass
class _Chute:
    """Where the receive thread drops the reply to one in-flight call."""

    xid: bytes
    replies: queue.SimpleQueue


class RmrContext:
    """An RMR endpoint: listens on ``port`` and sends by route table (see module docstring).

    ``src_id`` (default env ``RMR_SRC_ID``, else the short hostname) plus ``:port`` is the name
    peers use to answer us; ``seed_rt`` (default env ``RMR_SEED_RT``) is the static table, re-read
    when it changes; ``rtg_port`` (default env ``RMR_RTG_SVC`` / ``RMR_CTL_PORT``, else off) is the
    route-manager control port.
    """

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        src_id: str | None = None,
        seed_rt: str | None = None,
        rtg_port: int | None = None,
        bind_host: str | None = None,
        max_queue: int = DEFAULT_QUEUE,
        max_frame: int = DEFAULT_MAX_FRAME,
        connect_timeout: float = CONNECT_TIMEOUT,
        send_wait: float = SEND_WAIT,
        route_client: bool = True,
        name_only: bool | None = None,
        normal_size: int = RMR_MAX_RCV_BYTES,
    ) -> None:
        env = os.environ
        self.max_queue = max_queue
        # rmr_init's size argument: the payload size of a buffer allocated with size <= 0 and the
        # basis of the receive accumulator (what a received buffer reports as room).
        self.normal_size = normal_size if normal_size > 0 else RMR_MAX_RCV_BYTES
        self.max_frame = max_frame
        self.connect_timeout = connect_timeout
        self.send_wait = send_wait
        bind_if = env.get("RMR_BIND_IF") or None
        host = bind_host if bind_host is not None else (bind_if or "0.0.0.0")
        family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host.strip("[]"), port))
            listener.listen(128)
            listener.setblocking(False)
        except OSError as exc:
            listener.close()
            reason = f"cannot listen on {host}:{port}: {exc}"
            raise RmrInitError(exc.errno or errno_codes.EADDRINUSE, reason) from exc
        self._listener = listener
        self.port = int(listener.getsockname()[1])

        name = src_id if src_id is not None else env.get("RMR_SRC_ID") or socket.gethostname().split(".")[0]
        self.src = f"{_strip_port(name)}:{self.port}"
        if len(self.src) >= MAX_SRC:
            listener.close()
            reason = f"source name {self.src!r} is {MAX_SRC} bytes or more"
            raise RmrInitError(errno_codes.ENAMETOOLONG, reason)
        addresses = interface_addresses()
        if bind_if and _is_ip(bind_if):
            ip = bind_if
        elif host not in ("0.0.0.0", "::", "[::]") and _is_ip(host):
            ip = host
        else:
            ip = addresses[0] if addresses else "127.0.0.1"
        name_only_env = env.get("RMR_SRC_NAMEONLY", "0").strip()
        name_only = bool(name_only) or (name_only_env.isdigit() and int(name_only_env) > 0)
        self.srcip = self.src if name_only else f"{ip}:{self.port}"
        own = {self.src} | {f"{a}:{self.port}" for a in addresses}
        if bind_if:
            own.add(f"{bind_if}:{self.port}")
        self.own_names = frozenset(own)
        self._src_b = self.src.encode()
        self._srcip_b = self.srcip.encode()

        self.routes = RouteTableBuilder(self.own_names)
        self._ready = threading.Event()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._endpoints: dict[str, Endpoint] = {}
        self._endpoints_lock = threading.Lock()
        self._chutes: dict[int, _Chute] = {}
        self._chute_lock = threading.Lock()
        self._next_call_id = itertools.cycle(range(1, 256))
        self._wormholes: dict[int, str] = {}
        self._wh_ids = itertools.count(0)
        self._conns: dict[int, Connection] = {}
        self._pending: list[Connection] = []
        self._backlogged: list[Connection] = []
        self._pending_lock = threading.Lock()
        self.stats = {"rx": 0, "tx": 0, "tx_failed": 0, "rx_paused": 0}
        self._running = True

        self._rx_view = memoryview(bytearray(RECV_SIZE))
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ, "listener")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._receive_loop, name=f"rmr-rx-{self.port}", daemon=True)
        self._thread.start()

        self._seed = None
        self._rtmgr = None
        if route_client:
            from ricproto.rmr.rtmgr import RouteManagerLink, route_manager_mode
            from ricproto.rmr.seed_file import SeedRouteFile

            seed = seed_rt if seed_rt is not None else env.get("RMR_SEED_RT")
            if seed:
                self._seed = SeedRouteFile(self, seed)
            mode = route_manager_mode(rtg_port)
            if mode is not None:
                try:
                    self._rtmgr = RouteManagerLink(self, *mode)
                except RmrInitError as exc:
                    # Like RMR: the data path still works; only route-manager updates are lost.
                    log.error("route manager link not started: %s", exc)
        log.info("rmr context listening on %s (src %s, srcip %s)", self.port, self.src, self.srcip)

    # ---- tables --------------------------------------------------------------------------------

    def load_routes(self, text: str, *, from_rtmgr: bool = False) -> list[TableEvent]:
        """Apply route-table text (``newrt|start`` ... ``newrt|end``, ``meid_map`` blocks, updates)."""
        events = self.routes.apply(text, from_rtmgr=from_rtmgr)
        if self.routes.live is not None:
            self._ready.set()
        return events

    @property
    def route_table(self) -> RouteTable | None:
        return self.routes.live

    def ready(self) -> bool:
        """True once a complete route table has been loaded (RMR's ``rmr_ready``)."""
        return self._ready.is_set()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    # ---- receive thread ------------------------------------------------------------------------

    def _receive_loop(self) -> None:
        select = self._selector.select
        while self._running:
            try:
                events = select(0.5)
            except (OSError, ValueError) as exc:
                if not self._running:
                    return
                log.error("receive loop: select failed: %s", exc)
                time.sleep(0.05)
                continue
            for key, mask in events:
                data = key.data
                try:
                    if data == "listener":
                        self._accept()
                    elif data == "wake":
                        self._drain_wake()
                    else:
                        if mask & selectors.EVENT_READ:
                            self._read(data)
                        if mask & selectors.EVENT_WRITE and not data.closed:
                            self._flush(data)
                except Exception:  # one bad connection must never stop the receive thread
                    log.exception("receive loop: error on %r", data)
                    if isinstance(data, Connection):
                        metrics.BAD_INPUT.labels(reason="internal_error").inc()
                        self._drop(data, "internal_error")
            if self._queue.qsize() >= self.max_queue:
                self._pause()

    def _pause(self) -> None:
        # Stop reading until the application catches up: TCP then pushes back on the senders.
        metrics.RX_PAUSED.inc()
        self.stats["rx_paused"] += 1
        low = self.max_queue * 3 // 4
        while self._running and self._queue.qsize() > low:
            time.sleep(0.0005)

    def _accept(self) -> None:
        while True:
            try:
                sock, addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("accept failed: %s", exc)
                return
            peer = f"{addr[0]}:{addr[1]}"
            conn = Connection(sock, inbound=True, peer=peer, max_frame=self.max_frame)
            conn.on_backlog = self._want_write
            self._register(conn)

    def _register(self, conn: Connection) -> None:
        stale = self._conns.pop(conn.fd, None)
        if stale is not None:  # closed by a sending thread; its fd number has been reused
            self._unregister(conn.fd)
        try:
            self._selector.register(conn.sock, selectors.EVENT_READ, conn)
        except (ValueError, KeyError, OSError):
            conn.close("register_failed")
            return
        self._conns[conn.fd] = conn

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        with self._pending_lock:
            pending, self._pending = self._pending, []
            backlogged, self._backlogged = self._backlogged, []
        for conn in pending:
            if not conn.closed:
                self._register(conn)
        for conn in backlogged:
            if not conn.closed and self._conns.get(conn.fd) is conn:
                try:
                    self._selector.modify(conn.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)
                except (KeyError, ValueError, OSError):
                    self._drop(conn, "register_failed")

    def _want_write(self, conn: Connection) -> None:
        # A sender left part of a frame in conn.out: have the receive thread finish it when writable.
        with self._pending_lock:
            self._backlogged.append(conn)
        self._wake()

    def _flush(self, conn: Connection) -> None:
        left = conn.flush()
        if left < 0:
            self._drop(conn, "send_error")
        elif left == 0:
            try:
                self._selector.modify(conn.sock, selectors.EVENT_READ, conn)
            except (KeyError, ValueError, OSError):
                self._drop(conn, "register_failed")

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"w")
        except (BlockingIOError, OSError):
            pass

    def _unregister(self, fd: int) -> None:
        # By the fd number we registered: a socket closed elsewhere reports fileno() -1.
        try:
            self._selector.unregister(fd)
        except (KeyError, ValueError, OSError):
            pass

    def _drop(self, conn: Connection, reason: str) -> None:
        if self._conns.get(conn.fd) is conn:
            del self._conns[conn.fd]
            self._unregister(conn.fd)
        conn.close(reason)

    def _read(self, conn: Connection) -> None:
        # One reusable buffer for every read: no large allocation (and munmap) per recv.
        view = self._rx_view
        try:
            n = conn.sock.recv_into(view)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._drop(conn, "recv_error")
            log.info("connection %s dropped: %s", conn.peer, exc)
            return
        if not n:
            if conn.stream.pending:
                metrics.BAD_INPUT.labels(reason="truncated").inc()
                log.warning("connection %s closed in the middle of a frame (%d bytes lost)", conn.peer,
                            conn.stream.pending)
            self._drop(conn, "peer_closed")
            return
        messages, skipped, fatal = conn.stream.feed(view[:n])
        for err in skipped:
            metrics.BAD_INPUT.labels(reason=err.reason).inc()
            log.warning("frame from %s skipped: %s", conn.peer, err)
        if messages:
            self._deliver(messages, conn)
        if fatal is not None:
            metrics.BAD_INPUT.labels(reason=fatal.reason).inc()
            log.warning("connection %s dropped (%s): %s; SI95 cannot resynchronise", conn.peer, fatal.reason,
                        fatal)
            self._drop(conn, fatal.reason)

    def _deliver(self, messages: list[RmrMessage], conn: Connection) -> None:
        put = self._queue.put
        chutes = self._chutes
        for msg in messages:
            msg.conn = conn
            if msg.call_id and not msg.flags & HFL_CALL_MSG:
                chute = chutes.get(msg.call_id)
                if chute is not None:
                    chute.replies.put(msg)
                else:
                    metrics.MESSAGES_DROPPED.labels(reason="late_call_reply").inc()
                    log.info("reply for call-id %d with no caller waiting dropped", msg.call_id)
                continue
            put(msg)
        self.stats["rx"] += len(messages)

    # ---- receiving -----------------------------------------------------------------------------

    def receive(self, timeout: float | None = None) -> RmrMessage | None:
        """The next received message, or None after ``timeout`` seconds (None: wait forever)."""
        try:
            msg = self._queue.get(True, timeout)
        except queue.Empty:
            return None
        if msg is _CLOSED:
            self._queue.put(_CLOSED)
            return None
        return msg

    def pending(self) -> int:
        """Messages received and not yet taken by ``receive``."""
        return self._queue.qsize()

    # ---- endpoints -----------------------------------------------------------------------------

    def endpoint(self, name: str) -> Endpoint:
        ep = self._endpoints.get(name)
        if ep is None:
            with self._endpoints_lock:
                ep = self._endpoints.setdefault(name, Endpoint(name))
        return ep

    def _connection(self, ep: Endpoint) -> Connection | None:
        conn = ep.conn
        if conn is not None and not conn.closed:
            return conn
        with ep.connect_lock:
            conn = ep.conn
            if conn is not None and not conn.closed:
                return conn
            if time.monotonic() < ep.failed_until:
                return None
            try:
                host, port = split_endpoint(ep.name)
                sock = socket.create_connection((host, port), timeout=self.connect_timeout)
            except (OSError, ValueError) as exc:
                ep.failed_until = time.monotonic() + CONNECT_RETRY_AFTER
                log.info("cannot connect to %s: %s", ep.name, exc)
                return None
            if sock.getsockname() == sock.getpeername():  # Linux TCP self-connect
                sock.close()
                ep.failed_until = time.monotonic() + CONNECT_RETRY_AFTER
                return None
            conn = Connection(sock, inbound=False, peer=ep.name, endpoint=ep, max_frame=self.max_frame)
            conn.on_backlog = self._want_write
            ep.conn = conn
            # registered before anyone can write on it: a backlog request then finds it in _conns
            with self._pending_lock:
                self._pending.append(conn)
        self._wake()
        return conn

    def _write(self, name: str, frame: bytes) -> tuple[int, int]:
        conn = self._connection(self.endpoint(name))
        if conn is None:
            return RMR_ERR_NOENDPT, errno_codes.ECONNREFUSED
        return conn.write(frame, self.send_wait)

    # ---- sending -------------------------------------------------------------------------------

    def _frame(self, msg: RmrMessage, flags: int, call_id: int) -> bytes:
        return encode_frame(
            msg.mtype, msg.payload, sub_id=msg.sub_id, xid=msg.xid, meid=msg.meid.encode(), src=self._src_b,
            srcip=self._srcip_b, flags=flags, call_id=call_id, trace=msg.trace,
        )

    def _route(self, msg: RmrMessage, frame: bytes) -> tuple[int, int]:
        table = self.routes.live
        entry = table.lookup(msg.mtype, msg.sub_id) if table is not None else None
        if entry is None:
            return RMR_ERR_NOENDPT, errno_codes.ENXIO
        if entry.by_meid:
            owner = table.meid_map.get(msg.meid)  # type: ignore[union-attr]
            if owner is None:
                return RMR_ERR_NOENDPT, errno_codes.ENXIO
            return self._write(owner, frame)
        state, err, any_ok = RMR_ERR_NOENDPT, errno_codes.ENXIO, False
        for group in entry.groups:  # ';' groups: a copy to one member of each
            state, err = self._write(group.pick(), frame)
            any_ok = any_ok or state == RMR_OK
        return (RMR_OK, 0) if any_ok else (state, err)

    def _account(self, msg: RmrMessage, state: int, err: int) -> int:
        msg.state, msg.errno = state, err
        if state == RMR_OK:
            self.stats["tx"] += 1
        else:
            self.stats["tx_failed"] += 1
        return state

    def send_msg(self, msg: RmrMessage) -> int:
        """Send by route table (mtype, sub_id, meid); sets and returns ``msg.state``."""
        state, err = self._route(msg, self._frame(msg, 0, 0))
        return self._account(msg, state, err)

    def send(self, mtype: int, payload: bytes, *, sub_id: int = SUB_ID_NONE, meid: str | None = None,
             xid: bytes | None = None, trace: bytes = b"") -> int:
        """Send by route table; returns the RMR state (0 OK, 2 NOENDPT, 10 RETRY, 5 SENDFAILED...)."""
        msg = RmrMessage(mtype, payload, sub_id, meid or "", _xid(xid), trace=trace)
        return self.send_msg(msg)

    def rts_msg(self, msg: RmrMessage) -> int:
        """Return ``msg`` (a received message, possibly with a new mtype/payload) to its sender.

        Like RMR: a connection to the sender's ``src`` name first, then the connection the message
        came in on, then ``srcip`` (header version > 2). xid, meid, sub_id, trace and the call-id
        travel back unchanged; the call flag is cleared; src/srcip become ours in the frame only.
        """
        frame = self._frame(msg, msg.flags & ~HFL_CALL_MSG, msg.call_id)
        state, err = RMR_ERR_NOENDPT, errno_codes.ENXIO
        if msg.src:
            conn = self._connection(self.endpoint(msg.src))
            if conn is not None:
                return self._account(msg, *conn.write(frame, self.send_wait))
        inbound = msg.conn
        if isinstance(inbound, Connection) and not inbound.closed:
            return self._account(msg, *inbound.write(frame, self.send_wait))
        if msg.conn is None and msg.version > 2 and msg.srcip and msg.srcip != msg.src:
            state, err = self._write(msg.srcip, frame)
        return self._account(msg, state, err)

    def rts(self, received: RmrMessage, payload: bytes, mtype: int | None = None) -> int:
        """Answer ``received`` with ``payload`` (and optionally a new mtype); returns the RMR state."""
        reply = RmrMessage(
            received.mtype if mtype is None else mtype, payload, received.sub_id, received.meid, received.xid,
            received.src, received.srcip, RMR_OK, received.trace, received.call_id, received.flags,
            received.version, 0, received.conn,
        )
        return self.rts_msg(reply)

    # ---- calls ---------------------------------------------------------------------------------

    def _open_chute(self, call_id: int | None) -> tuple[int, _Chute]:
        with self._chute_lock:
            if call_id is None:
                for _ in range(255):
                    candidate = next(self._next_call_id)
                    if candidate not in self._chutes:
                        call_id = candidate
                        break
                else:
                    raise RuntimeError("255 calls already in flight")
            chute = _Chute(b"", queue.SimpleQueue())
            self._chutes[call_id] = chute
        return call_id, chute

    def _close_chute(self, call_id: int, chute: _Chute) -> None:
        with self._chute_lock:
            if self._chutes.get(call_id) is chute:
                del self._chutes[call_id]

    def call_msg(self, msg: RmrMessage, timeout: float = 1.0, *, call_id: int | None = None,
                 wormhole: int | None = None, generate_xid: bool = True) -> RmrMessage | None:
        """Send ``msg`` as a call and wait for the reply with the same xid.

        Returns the reply, or None: on timeout ``msg.state`` is RMR_ERR_TIMEOUT, on a send failure
        it holds the send state. A missing xid is generated (a call needs one to match the reply)
        unless ``generate_xid`` is false (C's rmr_call sends the buffer's xid as it is).
        """
        if msg.xid == NO_XID and generate_xid:
            msg.xid = uuid.uuid4().hex.encode()
        call_id, chute = self._open_chute(call_id)
        chute.xid = msg.xid
        try:
            frame = self._frame(msg, HFL_CALL_MSG, call_id)
            if wormhole is None:
                state, err = self._route(msg, frame)
            else:
                state, err = self._wh_write(wormhole, frame)
            if self._account(msg, state, err) != RMR_OK:
                return None
            deadline = time.monotonic() + timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    reply = chute.replies.get(True, remaining)
                except queue.Empty:
                    break
                if reply.xid == msg.xid:
                    return reply
                metrics.MESSAGES_DROPPED.labels(reason="call_xid_mismatch").inc()
            msg.state, msg.errno = RMR_ERR_TIMEOUT, errno_codes.ETIMEDOUT
            return None
        finally:
            self._close_chute(call_id, chute)

    def call(self, mtype: int, payload: bytes, *, sub_id: int = SUB_ID_NONE, meid: str | None = None,
             timeout: float = 1.0, xid: bytes | None = None) -> RmrMessage | None:
        """Routed call: the reply message, or None on timeout or send failure."""
        msg = RmrMessage(mtype, payload, sub_id, meid or "", _xid(xid) if xid else NO_XID)
        return self.call_msg(msg, timeout)

    # ---- wormholes -----------------------------------------------------------------------------

    def wh_open(self, target: str) -> int:
        """Open (connect now) a direct channel to ``host:port``; its id, or -1 if the connect fails."""
        ep = self.endpoint(target)
        ep.failed_until = 0.0
        if self._connection(ep) is None:
            return -1
        whid = next(self._wh_ids)  # a new id per open; ids of one target share its connection
        self._wormholes[whid] = target
        return whid

    def wh_state(self, whid: int) -> int:
        if not self._wormholes:
            return RMR_ERR_NOWHOPEN
        name = self._wormholes.get(whid)
        if name is None:
            return RMR_ERR_WHID
        conn = self.endpoint(name).conn
        return RMR_OK if conn is not None and not conn.closed else RMR_ERR_NOENDPT

    def wh_close(self, whid: int) -> None:
        """Forget the id; the connection stays open for other users of the endpoint (like RMR)."""
        self._wormholes.pop(whid, None)

    def _wh_write(self, whid: int, frame: bytes) -> tuple[int, int]:
        if not self._wormholes:
            return RMR_ERR_NOWHOPEN, errno_codes.EINVAL
        name = self._wormholes.get(whid)
        if name is None:
            return RMR_ERR_WHID, errno_codes.EINVAL
        return self._write(name, frame)

    def wh_send_msg(self, whid: int, msg: RmrMessage) -> int:
        """Send straight to the wormhole's endpoint (no routing), reconnecting if needed."""
        return self._account(msg, *self._wh_write(whid, self._frame(msg, 0, 0)))

    def wh_send(self, whid: int, mtype: int, payload: bytes, *, sub_id: int = SUB_ID_NONE,
                meid: str | None = None, xid: bytes | None = None) -> int:
        return self.wh_send_msg(whid, RmrMessage(mtype, payload, sub_id, meid or "", _xid(xid)))

    def wh_call(self, whid: int, mtype: int, payload: bytes, *, call_id: int | None = None,
                timeout: float = 1.0, sub_id: int = SUB_ID_NONE,
                meid: str | None = None) -> RmrMessage | None:
        msg = RmrMessage(mtype, payload, sub_id, meid or "")
        return self.call_msg(msg, timeout, call_id=call_id, wormhole=whid)

    # ---- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the threads, close every socket and wake blocked receivers."""
        if not self._running:
            return
        self._running = False
        if self._rtmgr is not None:
            self._rtmgr.close()
        if self._seed is not None:
            self._seed.close()
        self._wake()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=2.0)
        for conn in list(self._conns.values()):
            _flush_before_close(conn)
            conn.close("context_closed")
        for ep in list(self._endpoints.values()):
            if ep.conn is not None:
                ep.conn.close("context_closed")
        for sock in (self._listener, self._wake_r, self._wake_w):
            try:
                sock.close()
            except OSError:
                pass
        try:
            self._selector.close()
        except (OSError, RuntimeError):
            pass
        self._queue.put(_CLOSED)
        log.info("rmr context on port %s closed", self.port)

    @property
    def closed(self) -> bool:
        return not self._running

    def __enter__(self) -> RmrContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _flush_before_close(conn: Connection) -> None:
    # Frames already accepted from the application are written out if the peer takes them soon.
    if conn.out and not conn.closed:
        try:
            conn.sock.settimeout(0.5)
            conn.sock.sendall(conn.out)
        except OSError:
            pass


def _xid(xid: bytes | None) -> bytes:
    if not xid:
        return NO_XID
    if len(xid) > MAX_XID:
        raise ValueError(f"xid of {len(xid)} bytes is longer than {MAX_XID}")
    return xid.ljust(MAX_XID, b"\0")


__all__ = ["RMR_ERR_BADARG", "RMR_ERR_SENDFAILED", "RmrContext", "RmrInitError", "interface_addresses"]
