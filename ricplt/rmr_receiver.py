"""The RMR receive thread of the asyncio platform services (e2term, submgr).

RMR's receive blocks, so each service polls it from a thread and hands every message to its event loop.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from ricproto.rmr import RmrContext, RmrMessage

RECEIVE_POLL = 0.2  # seconds; bounds how long a stop waits for the thread


def receive_until_stopped(
    rmr: RmrContext, stopping: threading.Event, hand_over: Callable[[RmrMessage], object]
) -> None:
    """Receive until ``stopping`` is set or ``rmr`` is closed, passing each message to ``hand_over``
    (which schedules it on the service's loop; a message arriving as the loop closes is dropped)."""
    while not stopping.is_set():
        message = rmr.receive(RECEIVE_POLL)
        if message is None:
            if rmr.closed:
                return
            continue
        with contextlib.suppress(RuntimeError):  # the loop is closed while stopping
            hand_over(message)
