"""The API of ``ricxappframe.rmr.rmr`` (ricxappframe 3.2.2) implemented on ``RmrContext``.

The import hook (``import_hook.py``) makes ``ricxappframe.rmr.rmr`` *be* this module when RMR runs
in Python, so ``RMRXapp``, ``Xapp``, the alarm and metric clients and users' own code run unchanged.
Every function keeps the edge semantics of the ctypes wrapper over C librmr 4.9.4 (rmr.md §4-5, and
the C sources ``rmr_si.c``, ``sr_si_static.c``, ``mbuf_api.c``, ``wormholes.c``):

* arguments are checked the way ctypes checks them: a context is an ``RmrContext`` or None (NULL),
  a buffer an ``rmr_mbuf_t`` or None/NULL, strings ``bytes``; anything else raises
  ``ctypes.ArgumentError`` as a wrong ctypes argument does;
* a NULL context is what C makes of it: ``rmr_alloc_msg`` -> NULL, which the wrapper turns into
  ``BadBufferAllocation``; sends, receives and RTS -> the buffer back with ``RMR_ERR_BADARG``;
  ``rmr_ready`` 0; ``rmr_set_stimeout`` -1; ``rmr_wh_open`` -1;
* buffers are reached through ``.contents``; ``rmr_alloc_msg`` ignores falsy mtype/sub_id and a
  size <= 0 means the context's normal size; ``set_transaction_id`` copies exactly 32 bytes;
* a successful send, wormhole send or RTS gives back the *same* buffer reset for the next message
  (C re-initialises the mbuf in place): payload length 0, mtype and sub_id -1, xid and meid cleared;
  a failed one gives back the buffer untouched apart from its state (and ``tp_state``);
* ``rmr_torcv_msg`` returns the caller's buffer with state 12 when nothing arrived; ``rmr_call``
  returns a NULL buffer on timeout;
* ``rmr_realloc_payload`` leaves a buffer that is large enough alone unless cloning, and a
  reallocation without ``copy`` drops mtype, sub_id and length.
"""

from __future__ import annotations

import ctypes
import errno as errno_codes
import logging
import uuid
from typing import Any

from ricproto.rmr import states
from ricproto.rmr.context import RmrContext, RmrInitError
from ricproto.rmr.message import NO_XID, RmrMessage
from ricproto.rmr.xappframe_clib import get_constants, state_to_status

try:  # the framework's own exception classes, so users' except clauses keep working
    from ricxappframe.rmr.exceptions import BadBufferAllocation, InitFailed, MeidSizeOutOfRange
except ImportError:  # pragma: no cover - ricxappframe is a declared dependency

    class BadBufferAllocation(BaseException):  # type: ignore[no-redef]
        """a bad buffer was allocated, check the rmr context"""

    class MeidSizeOutOfRange(BaseException):  # type: ignore[no-redef]
        """an attempt to set the MEID with a buffer that was too large"""

    class InitFailed(BaseException):  # type: ignore[no-redef]
        """rmr init failure, the context is unusable"""


log = logging.getLogger("ricproto.rmr.xappframe")

BACKEND = "python"  # ours: tells our tests and tools which RMR ricxappframe runs on


def _get_rmr_constant(key: str, default: Any = None) -> Any:
    val = get_constants().get(key, default)
    return val if isinstance(val, type(None) | bool | bytes | float | int | str) else None


# Exactly the constants the wrapper defines at module level (and with its defaults).
RMR_MAX_RCV_BYTES = _get_rmr_constant("RMR_MAX_RCV_BYTES")
RMRFL_MTCALL = _get_rmr_constant("RMRFL_MTCALL", 0x02)
RMRFL_NONE = _get_rmr_constant("RMRFL_NONE", 0x0)
RMR_OK = _get_rmr_constant("RMR_OK", 0x00)
RMR_ERR_NOENDPT = _get_rmr_constant("RMR_ERR_NOENDPT")
RMR_ERR_RETRY = _get_rmr_constant("RMR_ERR_RETRY")
RMR_ERR_TIMEOUT = _get_rmr_constant("RMR_ERR_TIMEOUT")

RMR_MS_PAYLOAD = "payload"
RMR_MS_PAYLOAD_LEN = "payload length"
RMR_MS_MSG_TYPE = "message type"
RMR_MS_SUB_ID = "subscription id"
RMR_MS_TRN_ID = "transaction id"
RMR_MS_MSG_STATE = "message state"
RMR_MS_MSG_STATUS = "message status"
RMR_MS_PAYLOAD_MAX = "payload max size"
RMR_MS_MEID = "meid"
RMR_MS_MSG_SOURCE = "message source"
RMR_MS_ERRNO = "errno"

_MAX_XID = states.MAX_XID
# rmr_init: any flag outside the user mask is internal to C and is dropped (UFL_MASK).
_USER_FLAGS = 0xFF
# C receives into an accumulator of the normal size (at least 1 KiB) plus the headers, 64 bytes of
# "fudge" and another 1 KiB (init and mt_data_cb in rmr_si); a received buffer's payload room is
# what is left of it after the headers: the normal size + 1088 - the trace length.
_RX_EXTRA_ROOM = 64 + 1024


class rmr_mbuf_t:  # the name ricxappframe users know
    """A message buffer. ``buf.contents`` is the buffer itself, as with the ctypes pointer.

    Fields of the C struct: ``state``, ``mtype``, ``len``, ``payload``, ``xaction``, ``sub_id``,
    ``tp_state``. The rest (meid, src, trace, the received message) is private like in C.
    """

    __slots__ = ("_meid", "_rx", "_src", "_trace", "len", "mtype", "payload", "size", "state", "sub_id",
                 "tp_state", "xaction")

    def __init__(self, size: int, src: str = "") -> None:
        self.state = RMR_OK
        self.mtype = -1
        self.len = 0
        self.payload: bytes | bytearray = b""
        self.xaction: bytes = NO_XID
        self.sub_id = states.SUB_ID_NONE
        self.tp_state = 0
        self.size = max(0, size)
        self._meid = ""
        self._src = src
        self._trace = b""
        self._rx: RmrMessage | None = None

    @property
    def contents(self) -> rmr_mbuf_t:
        return self

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return (f"rmr_mbuf_t(state={self.state}, mtype={self.mtype}, len={self.len}, sub_id={self.sub_id}, "
                f"meid={self._meid!r})")

    @classmethod
    def received(cls, msg: RmrMessage, normal_size: int = states.RMR_MAX_RCV_BYTES) -> rmr_mbuf_t:
        """A buffer holding a received message; its room is what C's receive accumulator leaves."""
        buf = cls.__new__(cls)
        buf.state = msg.state
        buf.mtype = msg.mtype
        buf.payload = msg.payload
        buf.len = len(msg.payload)
        buf.size = max(buf.len, max(normal_size, 1024) + _RX_EXTRA_ROOM - len(msg.trace))
        buf.xaction = msg.xid
        buf.sub_id = msg.sub_id
        buf.tp_state = 0
        buf._meid = msg.meid
        buf._src = msg.src
        buf._trace = msg.trace
        buf._rx = msg
        return buf

    def outgoing(self) -> RmrMessage:
        """The message this buffer describes (payload cut to ``len``)."""
        payload = self.payload
        n = self.len
        if len(payload) != n or type(payload) is not bytes:
            payload = bytes(payload[:n])
        return RmrMessage(self.mtype, payload, self.sub_id, self._meid, bytes(self.xaction),
                          trace=self._trace)

    def reset_after_send(self, ctx: RmrContext) -> None:
        """What C's alloc_zcmsg makes of a sent buffer: empty, header cleared, room for the normal size.

        A received buffer keeps its sender's name (C puts src/srcip back after an RTS) so it can be
        returned to the sender again; everything else of the received message is gone.
        """
        self.state = RMR_OK
        self.mtype = -1
        self.len = 0
        self.payload = b""
        self.xaction = NO_XID
        self.sub_id = states.SUB_ID_NONE
        self.size = max(self.size, ctx.normal_size)
        self._meid = ""
        self._trace = b""
        rx = self._rx
        if rx is not None:
            self._rx = RmrMessage(-1, b"", src=rx.src, srcip=rx.srcip, version=rx.version)
        else:
            self._src = ctx.src


class _NullMbuf:
    """What a NULL ``POINTER(rmr_mbuf_t)`` looks like: falsy, and ``.contents`` raises ValueError."""

    __slots__ = ()

    @property
    def contents(self) -> rmr_mbuf_t:
        raise ValueError("NULL pointer access")

    def __bool__(self) -> bool:
        return False


NULL_MBUF = _NullMbuf()


def _wrong_type(position: int, value: Any) -> ctypes.ArgumentError:
    return ctypes.ArgumentError(f"argument {position}: TypeError: wrong type ({type(value).__name__})")


def _ctx(vctx: Any, position: int = 1) -> RmrContext | None:
    """The context, or None for a NULL one; ctypes' ArgumentError for anything that is neither."""
    if vctx is None or isinstance(vctx, RmrContext):
        return vctx
    raise _wrong_type(position, vctx)


def _buf(ptr_mbuf: Any, position: int) -> rmr_mbuf_t | None:
    """The buffer, or None for a NULL one (None or a NULL pointer)."""
    if isinstance(ptr_mbuf, rmr_mbuf_t):
        return ptr_mbuf
    if ptr_mbuf is None or isinstance(ptr_mbuf, _NullMbuf):
        return None
    raise _wrong_type(position, ptr_mbuf)


def _c_string(value: Any, position: int) -> bytes | None:
    """A ``c_char_p`` argument: bytes or None; ctypes refuses str and everything else."""
    if value is None or isinstance(value, bytes):
        return value
    raise _wrong_type(position, value)


def _c_int(value: Any, position: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(position, value)
    return ctypes.c_int(value).value  # C truncates to 32 bits


def _bad_arg(buf: rmr_mbuf_t | None, set_tp_state: bool = True) -> rmr_mbuf_t | _NullMbuf:
    if buf is None:
        return NULL_MBUF
    buf.state = states.RMR_ERR_BADARG
    if set_tp_state:
        buf.tp_state = errno_codes.EINVAL
    return buf


# ---- context ------------------------------------------------------------------------------------

def _port_of(proto_port: bytes | None) -> int:
    """The port of ``b"4560"``, ``b"tcp:4560"`` or ``b":4560"`` (C splits at the first colon)."""
    text = (proto_port if proto_port is not None else b"tcp:4560").decode("utf-8", "replace").strip()
    _, colon, port = text.partition(":")
    if not colon:
        port = text
    if not port.isdigit():  # C's listener cannot bind such a port: rmr_init returns NULL
        raise InitFailed()
    return int(port)


def rmr_init(uproto_port: Any, max_msg_size: int, flags: int) -> RmrContext:
    """Start an RMR context listening on ``uproto_port`` (``b"4560"``, ``b"tcp:4560"``, ``b":4560"``).

    ``max_msg_size`` (> 0) is the normal payload size; ``flags`` as in ``rmr.h``: RMRFL_NAME_ONLY
    sends our name instead of an IP as srcip, RMRFL_NOTHREAD starts no route-table collector and
    makes the context ready at once with an empty table (as C does).
    """
    port = _port_of(_c_string(uproto_port, 1))
    size = _c_int(max_msg_size, 2)
    user_flags = _c_int(flags, 3) & _USER_FLAGS
    try:
        ctx = RmrContext(port, route_client=not user_flags & states.RMRFL_NOTHREAD,
                         name_only=bool(user_flags & states.RMRFL_NAME_ONLY),
                         normal_size=size if size > 0 else states.RMR_MAX_RCV_BYTES)
    except (RmrInitError, OSError, ValueError) as exc:
        log.error("rmr_init failed: %s", exc)
        raise InitFailed() from exc
    if user_flags & states.RMRFL_NOTHREAD:
        ctx.load_routes("newrt|start\nnewrt|end\n")
    return ctx


def rmr_ready(vctx: Any) -> int:
    ctx = _ctx(vctx)
    return 1 if ctx is not None and ctx.ready() else 0


def rmr_close(vctx: Any) -> None:
    ctx = _ctx(vctx)
    if ctx is not None:
        ctx.close()


def rmr_set_stimeout(vctx: Any, rloops: int) -> int:
    """Back-pressure budget: a send waits up to ``rloops`` ms for room before RMR_ERR_RETRY.

    -1 for a NULL context, RMR_OK otherwise; a negative value means 0 (no waiting), as in C.
    """
    ctx = _ctx(vctx)
    loops = _c_int(rloops, 2)
    if ctx is None:
        return -1
    ctx.send_wait = max(0, loops) * 0.001
    return RMR_OK


def rmr_set_vlevel(new_level: int) -> None:
    level = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}.get(
        _c_int(new_level, 1), logging.DEBUG)
    logging.getLogger("ricproto.rmr").setLevel(level)


# ---- buffers -------------------------------------------------------------------------------------

def rmr_alloc_msg(vctx: Any, size: int, payload: bytes | None = None, gen_transaction_id: bool = False,
                  mtype: int | None = None, meid: bytes | None = None, sub_id: int | None = None,
                  fixed_transaction_id: bytes | None = None) -> rmr_mbuf_t:
    """A new buffer with room for ``size`` payload bytes; optional fields set like ricxappframe.

    A NULL context gives a NULL buffer, which the wrapper reports as ``BadBufferAllocation``.
    """
    ctx = _ctx(vctx)
    room = _c_int(size, 2)
    if ctx is None:
        raise BadBufferAllocation
    sbuf = rmr_mbuf_t(room if room > 0 else ctx.normal_size, ctx.src)
    # Truthiness tests as in ricxappframe: mtype 0 and sub_id 0 are ignored.
    if payload:
        set_payload_and_length(payload, sbuf)
    if fixed_transaction_id:
        set_transaction_id(sbuf, fixed_transaction_id)
    elif gen_transaction_id:
        generate_and_set_transaction_id(sbuf)
    if mtype:
        sbuf.mtype = mtype
    if meid:
        rmr_set_meid(sbuf, meid)
    if sub_id:
        sbuf.sub_id = sub_id
    return sbuf


def rmr_realloc_payload(ptr_mbuf: Any, new_len: int, copy: bool = False,
                        clone: bool = False) -> rmr_mbuf_t | _NullMbuf:
    """Room for ``new_len`` payload bytes, as C's realloc_payload.

    NULL for a NULL buffer or ``new_len`` <= 0. Without ``clone`` a buffer that is large enough
    comes back untouched. Otherwise the header (meid, xid, sender) is kept and, with ``copy``, the
    payload, length, mtype and sub_id too; without it length is 0 and mtype and sub_id are -1.
    ``clone`` leaves the original alone and returns a new buffer.
    """
    old = _buf(ptr_mbuf, 1)
    wanted = _c_int(new_len, 2)
    if old is None or wanted <= 0:
        return NULL_MBUF
    if not clone and wanted <= old.size:
        return old
    target = old
    if clone:
        target = rmr_mbuf_t(0, old._src)
        target.xaction, target._meid, target._trace, target._rx = old.xaction, old._meid, old._trace, old._rx
        target.tp_state = old.tp_state
    target.size = max(wanted, old.size)
    target.state = RMR_OK
    if copy:
        target.payload, target.len, target.mtype, target.sub_id = old.payload, old.len, old.mtype, old.sub_id
    else:
        target.payload, target.len, target.mtype, target.sub_id = b"", 0, -1, states.SUB_ID_NONE
    return target


def rmr_free_msg(ptr_mbuf: Any) -> None:
    """Nothing to release in Python; kept for the API (None and NULL are fine, as in C)."""
    _buf(ptr_mbuf, 1)


def rmr_payload_size(ptr_mbuf: Any) -> int:
    """The room in the buffer's payload; -1 for a NULL buffer."""
    buf = _buf(ptr_mbuf, 1)
    return -1 if buf is None else buf.size


def rmr_set_meid(ptr_mbuf: Any, byte_str: bytes) -> int:
    max_meid = _get_rmr_constant("RMR_MAX_MEID", 32)
    if len(byte_str) >= max_meid:
        raise MeidSizeOutOfRange
    return _rmr_bytes2meid(ptr_mbuf, byte_str, len(byte_str))


def _rmr_bytes2meid(ptr_mbuf: Any, src: bytes, length: int) -> int:
    """C's rmr_bytes2meid: at most 32 bytes with the last forced to NUL; -1 for a NULL buffer."""
    buf = _buf(ptr_mbuf, 1)
    data = _c_string(src, 2)
    n = _c_int(length, 3)
    if buf is None or data is None:
        return -1
    n = min(n, states.MAX_MEID)
    raw = bytes(data[:n])
    if n == states.MAX_MEID:
        raw = raw[: states.MAX_MEID - 1]
    buf._meid = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    return n


def rmr_get_meid(ptr_mbuf: Any) -> bytes:
    """The meid up to its first NUL; b"" for a NULL buffer (C leaves the wrapper's buffer empty)."""
    buf = _buf(ptr_mbuf, 1)
    return b"" if buf is None else buf._meid.encode("utf-8", "surrogateescape")


def rmr_set_trace(ptr_mbuf: Any, data: Any, length: Any) -> int:
    """C's ``rmr_set_trace`` (ricxappframe 3.2.2 wraps no trace function; the twinric PEP sets the
    PDP's grant there): the header's trace bytes, the buffer resized to fit as C does. Returns the
    number of bytes set; 0 for a NULL buffer."""
    buf = _buf(ptr_mbuf, 1)
    raw = _c_string(data, 2)
    n = _c_int(length, 3)
    if buf is None or raw is None:
        return 0
    buf._trace = bytes(raw[: max(0, n)])
    return len(buf._trace)


def rmr_get_trace(ptr_mbuf: Any) -> bytes:
    """The trace bytes of a buffer (C's ``rmr_get_trace`` returns them into the caller's array)."""
    buf = _buf(ptr_mbuf, 1)
    return b"" if buf is None else bytes(buf._trace)


def rmr_get_src(ptr_mbuf: Any, dest: Any) -> bytes | None:
    """C copies the sender's name into ``dest`` and returns it; None without ``dest`` or buffer."""
    buf = _buf(ptr_mbuf, 1)
    if buf is None or dest is None:
        return None
    src = buf._src.encode("utf-8", "surrogateescape")[: states.MAX_SRC - 1]
    if hasattr(dest, "value"):
        dest.value = src
    return src


def get_payload(ptr_mbuf: Any) -> bytes:
    buf = ptr_mbuf.contents
    payload, n = buf.payload, buf.len
    if type(payload) is bytes and len(payload) == n:
        return payload
    return bytes(payload[:n])


def get_xaction(ptr_mbuf: Any) -> bytes:
    max_xid = _get_rmr_constant("RMR_MAX_XID", 0)
    return bytes(ptr_mbuf.contents.xaction).split(b"\0", 1)[0][:max_xid]


def get_src(ptr_mbuf: Any) -> str:
    buf = ctypes.create_string_buffer(_get_rmr_constant("RMR_MAX_SRC", 64))
    rmr_get_src(ptr_mbuf, buf)
    return buf.value.decode()


def set_payload_and_length(byte_str: bytes, ptr_mbuf: Any) -> None:
    if rmr_payload_size(ptr_mbuf) < len(byte_str):  # existing message payload too small
        ptr_mbuf = rmr_realloc_payload(ptr_mbuf, len(byte_str), True)
    buf = ptr_mbuf.contents  # a NULL buffer raises ValueError here, as memmove on it would
    buf.payload = bytes(byte_str)
    buf.len = len(byte_str)


def generate_and_set_transaction_id(ptr_mbuf: Any) -> None:
    set_transaction_id(ptr_mbuf, uuid.uuid1().hex.encode("utf-8"))


def set_transaction_id(ptr_mbuf: Any, tid_bytes: bytes) -> None:
    # memmove of exactly RMR_MAX_XID bytes; shorter input is padded where C would copy past its end.
    max_xid = _get_rmr_constant("RMR_MAX_XID", 0)
    ptr_mbuf.contents.xaction = bytes(tid_bytes[:max_xid]).ljust(max_xid, b"\0")


def message_summary(ptr_mbuf: Any) -> dict:
    buf = ptr_mbuf.contents
    return {
        RMR_MS_PAYLOAD: get_payload(ptr_mbuf) if buf.state == RMR_OK else None,
        RMR_MS_PAYLOAD_LEN: buf.len,
        RMR_MS_MSG_TYPE: buf.mtype,
        RMR_MS_SUB_ID: buf.sub_id,
        RMR_MS_TRN_ID: get_xaction(ptr_mbuf),
        RMR_MS_MSG_STATE: buf.state,
        RMR_MS_MSG_STATUS: state_to_status(buf.state),
        RMR_MS_PAYLOAD_MAX: rmr_payload_size(ptr_mbuf),
        RMR_MS_MEID: rmr_get_meid(ptr_mbuf),
        RMR_MS_MSG_SOURCE: get_src(ptr_mbuf),
        RMR_MS_ERRNO: buf.tp_state,
    }


# ---- send / receive ------------------------------------------------------------------------------

def _after_send(ctx: RmrContext, buf: rmr_mbuf_t, msg: RmrMessage, state: int) -> rmr_mbuf_t:
    if state == RMR_OK:
        buf.reset_after_send(ctx)
    else:
        buf.state, buf.tp_state = state, msg.errno
    return buf


def rmr_send_msg(vctx: Any, ptr_mbuf: Any) -> rmr_mbuf_t | _NullMbuf:
    """Send by route table: the buffer reset for the next message on success, or with its state."""
    ctx = _ctx(vctx)
    buf = _buf(ptr_mbuf, 2)
    if ctx is None or buf is None:
        return _bad_arg(buf)
    msg = buf.outgoing()
    return _after_send(ctx, buf, msg, ctx.send_msg(msg))


def rmr_rts_msg(vctx: Any, ptr_mbuf: Any, payload: bytes | None = None,
                mtype: int | None = None) -> rmr_mbuf_t | _NullMbuf:
    """Return to sender: the buffer reset on success (its sender kept, so it can be RTSed again),
    or with its state on failure."""
    if payload:
        set_payload_and_length(payload, ptr_mbuf)
    if mtype:
        ptr_mbuf.contents.mtype = mtype
    ctx = _ctx(vctx)
    buf = _buf(ptr_mbuf, 2)
    if ctx is None or buf is None:
        return _bad_arg(buf)
    msg = buf.outgoing()
    rx = buf._rx
    if rx is not None:
        msg.src, msg.srcip, msg.conn, msg.version = rx.src, rx.srcip, rx.conn, rx.version
        msg.call_id, msg.flags = rx.call_id, rx.flags
    return _after_send(ctx, buf, msg, ctx.rts_msg(msg))


def rmr_rcv_msg(vctx: Any, ptr_mbuf: Any) -> rmr_mbuf_t | _NullMbuf:
    ctx = _ctx(vctx)
    buf = _buf(ptr_mbuf, 2)
    if ctx is None:
        return _bad_arg(buf)
    msg = ctx.receive(None)
    if msg is None:  # context closed
        if buf is None:
            return NULL_MBUF
        buf.state, buf.len = states.RMR_ERR_RCVFAILED, 0
        return buf
    return rmr_mbuf_t.received(msg, ctx.normal_size)


def rmr_torcv_msg(vctx: Any, ptr_mbuf: Any, ms_to: int) -> rmr_mbuf_t | _NullMbuf:
    """The next message within ``ms_to`` ms (0: poll, < 0: wait), else the caller's buffer with
    state RMR_ERR_TIMEOUT and length 0 (NULL if the caller passed none)."""
    ctx = _ctx(vctx)
    buf = _buf(ptr_mbuf, 2)
    wait = _c_int(ms_to, 3)
    if ctx is None:
        return _bad_arg(buf)
    msg = ctx.receive(wait / 1000.0 if wait >= 0 else None)
    if msg is None:
        if buf is None:
            return NULL_MBUF
        buf.state, buf.len = RMR_ERR_TIMEOUT, 0
        return buf
    return rmr_mbuf_t.received(msg, ctx.normal_size)


def rmr_call(vctx: Any, ptr_mbuf: Any) -> rmr_mbuf_t | _NullMbuf:
    """Routed call with a 1 s wait: the reply; NULL on timeout; the same buffer on a send error."""
    ctx = _ctx(vctx)
    buf = _buf(ptr_mbuf, 2)
    if ctx is None or buf is None:
        return _bad_arg(buf, set_tp_state=False)
    return _call(ctx, buf, None, None, 1000)


def _call(ctx: RmrContext, buf: rmr_mbuf_t, whid: int | None, call_id: int | None,
          max_wait_ms: int) -> rmr_mbuf_t | _NullMbuf:
    msg = buf.outgoing()
    # C matches the reply on the 32 xid bytes the buffer holds, whatever they are: nothing is generated.
    reply = ctx.call_msg(msg, max_wait_ms / 1000.0, call_id=call_id, wormhole=whid, generate_xid=False)
    if reply is not None:
        return rmr_mbuf_t.received(reply, ctx.normal_size)
    if msg.state == RMR_ERR_TIMEOUT:
        return NULL_MBUF
    buf.state, buf.tp_state = msg.state, msg.errno
    return buf


# ---- wormholes -----------------------------------------------------------------------------------

def rmr_wh_open(vctx: Any, target: Any) -> int:
    """Connect now to ``host:port``: a wormhole id, or -1 (NULL context, no target, no connection)."""
    ctx = _ctx(vctx)
    name = _c_string(target, 2)
    if ctx is None or not name:
        return -1
    return ctx.wh_open(name.decode("utf-8", "replace"))


def rmr_wh_send_msg(vctx: Any, whid: int, ptr_mbuf: Any) -> rmr_mbuf_t | _NullMbuf:
    ctx = _ctx(vctx)
    wh = _c_int(whid, 2)
    buf = _buf(ptr_mbuf, 3)
    if ctx is None or buf is None:
        return _bad_arg(buf, set_tp_state=False)
    msg = buf.outgoing()
    return _after_send(ctx, buf, msg, ctx.wh_send_msg(wh, msg))


def rmr_wh_call(vctx: Any, whid: int, ptr_mbuf: Any, call_id: int, max_wait: int) -> Any:
    ctx = _ctx(vctx)
    wh = _c_int(whid, 2)
    buf = _buf(ptr_mbuf, 3)
    cid = _c_int(call_id, 4)
    wait = _c_int(max_wait, 5)
    if ctx is None or buf is None:
        return _bad_arg(buf, set_tp_state=False)
    state = ctx.wh_state(wh)
    if state in (states.RMR_ERR_NOWHOPEN, states.RMR_ERR_WHID):
        buf.state = state
        return buf
    if not 1 <= cid <= 255:
        buf.state = states.RMR_ERR_BADARG
        return buf
    return _call(ctx, buf, wh, cid, wait)


def rmr_wh_state(vctx: Any, whid: int, *_unused: Any) -> int:
    """RMR_OK if the wormhole's connection is open, else NOENDPT; NOWHOPEN / WHID for a bad id;
    BADARG for a NULL context."""
    ctx = _ctx(vctx)
    wh = _c_int(whid, 2)
    if ctx is None:
        return states.RMR_ERR_BADARG
    return ctx.wh_state(wh)


def rmr_wh_close(vctx: Any, whid: int) -> None:
    ctx = _ctx(vctx)
    wh = _c_int(whid, 2)
    if ctx is not None:
        ctx.wh_close(wh)
