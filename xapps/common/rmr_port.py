"""Sending over ricxappframe's RMR with the fields ``RMRXapp.rmr_send`` cannot set (meid, sub_id).

Works on either RMR backend (C librmr or twinric's pure-Python one) because it only uses the
``ricxappframe.rmr.rmr`` API. Retries only while RMR says "retry" (back-pressure); a missing route
fails at once instead of spinning, so the control loop keeps its time budget.
"""

from __future__ import annotations

import threading
from typing import Any

from ricxappframe.rmr import rmr


class RmrPort:
    def __init__(self, vctx: Any, retries: int = 20) -> None:
        self.vctx = vctx
        self.retries = retries
        self._lock = threading.Lock()
        self._closed = False

    def send(self, mtype: int, payload: bytes, *, meid: str | None = None, sub_id: int | None = None) -> bool:
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
