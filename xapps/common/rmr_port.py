"""Sending over ricxappframe's RMR with the fields ``RMRXapp.rmr_send`` cannot set (meid, sub_id, trace).

Works on either RMR backend (C librmr or twinric's pure-Python one) because it only uses the
``ricxappframe.rmr.rmr`` API, except for the trace: ricxappframe 3.2.2 wraps no trace function, so
the pure-Python backend offers ``rmr_set_trace`` and with the C library the same-named C function
is called through ctypes (``int rmr_set_trace(rmr_mbuf_t*, const unsigned char*, int)``, which
reallocates the buffer in place when the trace length changes). Retries only while RMR says "retry"
(back-pressure); a missing route fails at once instead of spinning, so the control loop keeps its
time budget.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Any

from ricxappframe.rmr import rmr


def _trace_setter() -> Callable[[Any, bytes], int]:
    own = getattr(rmr, "rmr_set_trace", None)
    if own is not None:
        return lambda sbuf, data: own(sbuf, data, len(data))
    from ricxappframe.rmr.rmrclib.rmrclib import rmr_c_lib  # the C backend  # pragma: no cover

    fn = rmr_c_lib.rmr_set_trace  # pragma: no cover
    fn.argtypes = [ctypes.POINTER(rmr.rmr_mbuf_t), ctypes.c_char_p, ctypes.c_int]  # pragma: no cover
    fn.restype = ctypes.c_int  # pragma: no cover
    return lambda sbuf, data: fn(sbuf, data, len(data))  # pragma: no cover


class RmrPort:
    # The retry budget on RMR_ERR_RETRY is tuning, not contract: 20 or 21 quick retries of a full
    # queue end the same way.
    def __init__(self, vctx: Any, retries: int = 20) -> None:  # pragma: no mutate
        self.vctx = vctx
        self.retries = retries
        self._lock = threading.Lock()
        self._closed = False
        self._set_trace: Callable[[Any, bytes], int] | None = None

    def send(
        self,
        mtype: int,
        payload: bytes,
        *,
        meid: str | None = None,
        sub_id: int | None = None,
        trace: bytes = b"",
    ) -> bool:
        if self._closed:
            return False
        sbuf = rmr.rmr_alloc_msg(
            self.vctx,
            len(payload),
            payload=payload,
            gen_transaction_id=True,
            mtype=mtype,
            meid=meid.encode() if meid else None,
            sub_id=sub_id,
        )
        if trace:
            if self._set_trace is None:
                self._set_trace = _trace_setter()
            if self._set_trace(sbuf, trace) != len(trace):
                rmr.rmr_free_msg(sbuf)
                return False
        try:
            for _ in range(self.retries):
                sbuf = rmr.rmr_send_msg(self.vctx, sbuf)
                state = sbuf.contents.state
                if state == rmr.RMR_OK:
                    return True
                if state != rmr.RMR_ERR_RETRY:
                    return False
            return False
        finally:
            rmr.rmr_free_msg(sbuf)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                rmr.rmr_close(self.vctx)
