"""Which xApp sent each RIC control request, so that its acknowledgement or failure goes to that xApp.

OSC's E2T sends a control answer with sub_id = RICrequestID.ricInstanceID and meid = the RAN name, and
rtmgr routes it by that sub_id: to the owner of the subscription with that E2 instance id, and for any
other id to the ``-1`` route, which rtmgr writes once per xApp (RMR keeps the last one). An xApp that puts
its subscription's instance id into its controls gets its answers; any other answer lands at one
arbitrary xApp. The box keeps OSC's sub_id and the routes keyed by subscription, and in addition
remembers the RMR message that carried each request: the answer goes back to its sender the way RMR
answers any message (return to sender), and only when the sender is unknown (e2term restarted, the
record expired) does it fall back to the route table.

Requests are keyed by (RAN name, RICrequestID, RAN function ID). A key may be reused before its answer
comes back (an xApp with a fixed request id); answers then match requests first in, first out.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import NamedTuple

from ricproto.e2ap import RICcontrolAcknowledge, RICcontrolFailure, RICcontrolRequest
from ricproto.rmr import RmrMessage


class ControlKey(NamedTuple):
    ran_name: str
    requestor_id: int
    instance_id: int
    ran_function_id: int


class ControlRequesters:
    """Pending control requests: at most ``capacity`` keys, each forgotten ``ttl`` seconds after its
    last request (a control sent with ``noAck`` never gets an answer)."""

    def __init__(self, ttl: float = 60.0, capacity: int = 4096,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self.clock = clock
        self._pending: OrderedDict[ControlKey, deque[tuple[float, RmrMessage]]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._pending.values())

    @staticmethod
    def key(ran_name: str, pdu: RICcontrolRequest | RICcontrolAcknowledge | RICcontrolFailure) -> ControlKey:
        rid = pdu.ricRequestID
        return ControlKey(ran_name, rid.ricRequestorID, rid.ricInstanceID, pdu.ranFunctionID)

    def remember(self, ran_name: str, request: RICcontrolRequest, message: RmrMessage) -> None:
        """Record that ``message`` (as received from RMR, with its sender) carried ``request``."""
        now = self.clock()
        key = self.key(ran_name, request)
        with self._lock:
            self._expire(now)
            queue = self._pending.pop(key, None) or deque()
            queue.append((now, message))
            self._pending[key] = queue  # most recently used last
            while len(self._pending) > self.capacity:
                self._pending.popitem(last=False)

    def take(self, ran_name: str, answer: RICcontrolAcknowledge | RICcontrolFailure) -> RmrMessage | None:
        """The request message ``answer`` answers (forgotten once taken), or None when unknown."""
        key = self.key(ran_name, answer)
        with self._lock:
            self._expire(self.clock())
            queue = self._pending.get(key)
            if not queue:
                return None
            _, message = queue.popleft()
            if not queue:
                del self._pending[key]
            return message

    def _expire(self, now: float) -> None:
        for key in list(self._pending):
            queue = self._pending[key]
            while queue and now - queue[0][0] > self.ttl:
                queue.popleft()
            if not queue:
                del self._pending[key]
            else:
                break  # keys are in order of their last request: the rest are younger
