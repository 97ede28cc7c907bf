"""The API of ``ricxappframe.rmr.rmr`` (ricxappframe 3.2.2) implemented on ``RmrContext``.

The import hook (``import_hook.py``) makes ``ricxappframe.rmr.rmr`` *be* this module when RMR runs
in Python, so ``RMRXapp``, ``Xapp``, the alarm and metric clients and users' own code run unchanged.
The quirks of the ctypes wrapper are kept on purpose (rmr.md §5): buffers are reached through
``.contents``; ``rmr_alloc_msg`` ignores falsy mtype/sub_id; ``set_transaction_id`` copies exactly
32 bytes; send returns a fresh buffer on success and the same one on failure; ``rmr_torcv_msg``
returns the caller's buffer with state 12 when nothing arrived; ``rmr_call`` returns a NULL
buffer on timeout.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from ricproto.rmr import states
from ricproto.rmr.context import DEFAULT_PORT, RmrContext, RmrInitError
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

BACKEND = "python"

RMR_MAX_RCV_BYTES = states.RMR_MAX_RCV_BYTES
RMRFL_MTCALL = states.RMRFL_MTCALL
RMRFL_NONE = states.RMRFL_NONE
RMR_OK = states.RMR_OK
RMR_ERR_BADARG = states.RMR_ERR_BADARG
RMR_ERR_NOENDPT = states.RMR_ERR_NOENDPT
RMR_ERR_EMPTY = states.RMR_ERR_EMPTY
RMR_ERR_NOHDR = states.RMR_ERR_NOHDR
RMR_ERR_SENDFAILED = states.RMR_ERR_SENDFAILED
RMR_ERR_CALLFAILED = states.RMR_ERR_CALLFAILED
RMR_ERR_NOWHOPEN = states.RMR_ERR_NOWHOPEN
RMR_ERR_WHID = states.RMR_ERR_WHID
RMR_ERR_OVERFLOW = states.RMR_ERR_OVERFLOW
RMR_ERR_RETRY = states.RMR_ERR_RETRY
RMR_ERR_RCVFAILED = states.RMR_ERR_RCVFAILED
RMR_ERR_TIMEOUT = states.RMR_ERR_TIMEOUT
RMR_ERR_UNSET = states.RMR_ERR_UNSET
RMR_ERR_TRUNC = states.RMR_ERR_TRUNC
RMR_ERR_INITFAILED = states.RMR_ERR_INITFAILED
RMR_ERR_NOTSUPP = states.RMR_ERR_NOTSUPP

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


def _get_rmr_constant(key: str, default: Any = None) -> Any:
    val = get_constants().get(key, default)
    return val if isinstance(val, type(None) | bool | bytes | float | int | str) else None


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
    def received(cls, msg: RmrMessage) -> rmr_mbuf_t:
        buf = cls.__new__(cls)
        buf.state = msg.state
        buf.mtype = msg.mtype
        buf.payload = msg.payload
        buf.len = buf.size = len(msg.payload)
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


class _NullMbuf:
    """What a NULL ``POINTER(rmr_mbuf_t)`` looks like: falsy, and ``.contents`` raises ValueError."""

    __slots__ = ()

    @property
    def contents(self) -> rmr_mbuf_t:
        raise ValueError("NULL pointer access")

    def __bool__(self) -> bool:
        return False


NULL_MBUF = _NullMbuf()


def _ctx(vctx: Any) -> RmrContext:
    if not isinstance(vctx, RmrContext):
        raise TypeError(f"not an RMR context: {vctx!r}")
    return vctx


# ---- context ------------------------------------------------------------------------------------

def _port_of(uproto_port: Any) -> int:
    if uproto_port is None:
        return DEFAULT_PORT
    text = uproto_port.decode() if isinstance(uproto_port, bytes | bytearray) else str(uproto_port)
    text = text.strip()
    if text.startswith("tcp:"):
        text = text[4:]
    text = text.rpartition(":")[2]
    if not text.isdigit():
        raise InitFailed()
    return int(text)


def rmr_init(uproto_port: Any, max_msg_size: int, flags: int) -> RmrContext:
    """Start an RMR context listening on ``uproto_port`` (``b"4560"``, ``b"tcp:4560"``, ``b":4560"``)."""
    try:
        return RmrContext(_port_of(uproto_port))
    except (RmrInitError, OSError) as exc:
        log.error("rmr_init failed: %s", exc)
        raise InitFailed() from exc


def rmr_ready(vctx: Any) -> int:
    return 1 if _ctx(vctx).ready() else 0


def rmr_close(vctx: Any) -> None:
    _ctx(vctx).close()


def rmr_set_stimeout(vctx: Any, rloops: int) -> int:
    """Back-pressure budget: a send waits up to ``rloops`` ms for room before RMR_ERR_RETRY."""
    _ctx(vctx).send_wait = max(0, int(rloops)) * 0.001
    return 0


def rmr_set_vlevel(new_level: int) -> None:
    level = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}.get(int(new_level),
                                                                                           logging.DEBUG)
    logging.getLogger("ricproto.rmr").setLevel(level)


# ---- buffers -------------------------------------------------------------------------------------

def rmr_alloc_msg(vctx: Any, size: int, payload: bytes | None = None, gen_transaction_id: bool = False,
                  mtype: int | None = None, meid: bytes | None = None, sub_id: int | None = None,
                  fixed_transaction_id: bytes | None = None) -> rmr_mbuf_t:
    """A new buffer with room for ``size`` payload bytes; optional fields set like ricxappframe."""
    ctx = _ctx(vctx)
    sbuf = rmr_mbuf_t(size, ctx.src)
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


def rmr_realloc_payload(ptr_mbuf: rmr_mbuf_t, new_len: int, copy: bool = False,
                        clone: bool = False) -> rmr_mbuf_t:
    """Make room for ``new_len`` payload bytes (in place, or in a clone); ``copy`` keeps the payload."""
    target = ptr_mbuf
    if clone:
        target = rmr_mbuf_t(new_len, ptr_mbuf._src)
        target.mtype, target.sub_id, target.xaction = ptr_mbuf.mtype, ptr_mbuf.sub_id, ptr_mbuf.xaction
        target._meid, target._trace, target._rx = ptr_mbuf._meid, ptr_mbuf._trace, ptr_mbuf._rx
    target.size = max(new_len, target.size if not clone else 0)
    if copy:
        target.payload, target.len = ptr_mbuf.payload, ptr_mbuf.len
    else:
        target.payload, target.len = b"", 0
    return target


def rmr_free_msg(ptr_mbuf: Any) -> None:
    """Nothing to release in Python; kept for the API."""


def rmr_payload_size(ptr_mbuf: rmr_mbuf_t) -> int:
    return ptr_mbuf.contents.size


def rmr_set_meid(ptr_mbuf: rmr_mbuf_t, byte_str: bytes) -> int:
    if len(byte_str) >= states.MAX_MEID:
        raise MeidSizeOutOfRange
    return rmr_bytes2meid(ptr_mbuf, byte_str, len(byte_str))


def rmr_bytes2meid(ptr_mbuf: rmr_mbuf_t, src: bytes, length: int) -> int:
    raw = bytes(src[: min(length, states.MAX_MEID - 1)])
    ptr_mbuf.contents._meid = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    return len(raw)


def rmr_get_meid(ptr_mbuf: rmr_mbuf_t) -> bytes:
    return ptr_mbuf.contents._meid.encode("utf-8", "surrogateescape")


def rmr_set_trace(ptr_mbuf: rmr_mbuf_t, data: bytes, length: int | None = None) -> int:
    """RMR's ``rmr_set_trace``: the header's trace bytes (ricxappframe 3.2.2 does not wrap it; the C
    library resizes the buffer to fit, as here). Returns the number of bytes set."""
    raw = bytes(data[: len(data) if length is None else max(0, length)])
    ptr_mbuf.contents._trace = raw
    return len(raw)


def rmr_get_trace(ptr_mbuf: rmr_mbuf_t) -> bytes:
    """The trace bytes of a buffer (RMR's ``rmr_get_trace`` without the caller's destination)."""
    return bytes(ptr_mbuf.contents._trace)


def rmr_get_src(ptr_mbuf: rmr_mbuf_t, dest: Any = None) -> bytes:
    src = ptr_mbuf.contents._src.encode("utf-8", "surrogateescape")
    if dest is not None and hasattr(dest, "value"):
        dest.value = src[: len(dest) - 1] if hasattr(dest, "__len__") else src
    return src


def get_payload(ptr_mbuf: rmr_mbuf_t) -> bytes:
    buf = ptr_mbuf.contents
    payload, n = buf.payload, buf.len
    if type(payload) is bytes and len(payload) == n:
        return payload
    return bytes(payload[:n])


def get_xaction(ptr_mbuf: rmr_mbuf_t) -> bytes:
    return bytes(ptr_mbuf.contents.xaction).split(b"\0", 1)[0][:_MAX_XID]


def get_src(ptr_mbuf: rmr_mbuf_t) -> str:
    return rmr_get_src(ptr_mbuf).decode("utf-8", "replace")


def set_payload_and_length(byte_str: bytes, ptr_mbuf: rmr_mbuf_t) -> None:
    buf = ptr_mbuf.contents
    data = bytes(byte_str)
    if buf.size < len(data):  # "realloc" like the wrapper does when the payload does not fit
        buf.size = len(data)
    buf.payload = data
    buf.len = len(data)


def generate_and_set_transaction_id(ptr_mbuf: rmr_mbuf_t) -> None:
    set_transaction_id(ptr_mbuf, uuid.uuid1().hex.encode("utf-8"))


def set_transaction_id(ptr_mbuf: rmr_mbuf_t, tid_bytes: bytes) -> None:
    ptr_mbuf.contents.xaction = bytes(tid_bytes[:_MAX_XID]).ljust(_MAX_XID, b"\0")


def message_summary(ptr_mbuf: rmr_mbuf_t) -> dict:
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

def _after_send(ptr_mbuf: rmr_mbuf_t, msg: RmrMessage, state: int) -> rmr_mbuf_t:
    if state == RMR_OK:
        fresh = rmr_mbuf_t(ptr_mbuf.size, ptr_mbuf._src)
        return fresh
    ptr_mbuf.state, ptr_mbuf.tp_state = state, msg.errno
    return ptr_mbuf


def rmr_send_msg(vctx: Any, ptr_mbuf: rmr_mbuf_t) -> rmr_mbuf_t:
    """Send by route table: a new empty buffer on success, the same buffer with its state on failure."""
    msg = ptr_mbuf.contents.outgoing()
    return _after_send(ptr_mbuf, msg, _ctx(vctx).send_msg(msg))


def rmr_rts_msg(vctx: Any, ptr_mbuf: rmr_mbuf_t, payload: bytes | None = None,
                mtype: int | None = None) -> rmr_mbuf_t:
    """Return to sender; the same buffer comes back (with its state) so it can be RTSed again."""
    buf = ptr_mbuf.contents
    if payload:
        set_payload_and_length(payload, buf)
    if mtype:
        buf.mtype = mtype
    msg = buf.outgoing()
    rx = buf._rx
    if rx is not None:
        msg.src, msg.srcip, msg.conn, msg.version = rx.src, rx.srcip, rx.conn, rx.version
        msg.call_id, msg.flags = rx.call_id, rx.flags
    state = _ctx(vctx).rts_msg(msg)
    buf.state, buf.tp_state = state, msg.errno
    return buf


def rmr_rcv_msg(vctx: Any, ptr_mbuf: Any) -> rmr_mbuf_t:
    msg = _ctx(vctx).receive(None)
    if msg is None:  # context closed
        buf = ptr_mbuf if isinstance(ptr_mbuf, rmr_mbuf_t) else rmr_mbuf_t(0)
        buf.state, buf.len = RMR_ERR_RCVFAILED, 0
        return buf
    return rmr_mbuf_t.received(msg)


def rmr_torcv_msg(vctx: Any, ptr_mbuf: Any, ms_to: int) -> rmr_mbuf_t:
    """The next message within ``ms_to`` ms, else the caller's buffer with state RMR_ERR_TIMEOUT."""
    ctx = _ctx(vctx)
    msg = ctx.receive(ms_to / 1000.0 if ms_to >= 0 else None)
    if msg is None:
        buf = ptr_mbuf if isinstance(ptr_mbuf, rmr_mbuf_t) else rmr_mbuf_t(0, ctx.src)
        buf.state, buf.len, buf.tp_state = RMR_ERR_TIMEOUT, 0, 0
        return buf
    return rmr_mbuf_t.received(msg)


def rmr_call(vctx: Any, ptr_mbuf: rmr_mbuf_t) -> rmr_mbuf_t | _NullMbuf:
    """Routed call with a 1 s wait: the reply; NULL on timeout; the same buffer on a send error."""
    return _call(_ctx(vctx), ptr_mbuf, None, None, 1000)


def _call(ctx: RmrContext, ptr_mbuf: rmr_mbuf_t, whid: int | None, call_id: int | None,
          max_wait_ms: int) -> rmr_mbuf_t | _NullMbuf:
    buf = ptr_mbuf.contents
    msg = buf.outgoing()
    if msg.xid == NO_XID:
        generate_and_set_transaction_id(buf)
        msg.xid = buf.xaction
    reply = ctx.call_msg(msg, max_wait_ms / 1000.0, call_id=call_id, wormhole=whid)
    if reply is not None:
        return rmr_mbuf_t.received(reply)
    if msg.state == RMR_ERR_TIMEOUT:
        return NULL_MBUF
    buf.state, buf.tp_state = msg.state, msg.errno
    return buf


# ---- wormholes -----------------------------------------------------------------------------------

def rmr_wh_open(vctx: Any, target: Any) -> int:
    text = target.decode() if isinstance(target, bytes | bytearray) else str(target)
    return _ctx(vctx).wh_open(text)


def rmr_wh_send_msg(vctx: Any, whid: int, ptr_mbuf: rmr_mbuf_t) -> rmr_mbuf_t:
    msg = ptr_mbuf.contents.outgoing()
    return _after_send(ptr_mbuf, msg, _ctx(vctx).wh_send_msg(whid, msg))


def rmr_wh_call(vctx: Any, whid: int, ptr_mbuf: rmr_mbuf_t, call_id: int, max_wait: int) -> Any:
    if not 1 <= int(call_id) <= 255:
        ptr_mbuf.contents.state = RMR_ERR_BADARG
        return ptr_mbuf
    return _call(_ctx(vctx), ptr_mbuf, whid, int(call_id), max_wait)


def rmr_wh_state(vctx: Any, whid: int, *_unused: Any) -> int:
    return _ctx(vctx).wh_state(whid)


def rmr_wh_close(vctx: Any, whid: int) -> None:
    _ctx(vctx).wh_close(whid)
