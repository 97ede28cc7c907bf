"""Transitions to the capped Redis stream without ever blocking the control loop.

A ``StreamWriter`` (``xapps.common.stream_writer``: bounded queue, batched ``XADD MAXLEN ~`` in a
writer thread, nothing lost while Redis is down as long as the queue has room) for
``ricproto.transition`` records, with the transition metrics ``twinric_control_transitions_*``.
"""

from __future__ import annotations

import redis

from ricproto.transition import DEFAULT_MAXLEN, FIELD, Transition, encode_transition
from xapps.common.metrics import XappMetrics
from xapps.common.stream_writer import StreamWriter


class TransitionWriter(StreamWriter[Transition]):
    def __init__(
        self,
        redis_client: redis.Redis,
        key: str,
        metrics: XappMetrics,
        *,
        maxlen: int = DEFAULT_MAXLEN,
        queue_size: int = 50_000,
    ) -> None:
        super().__init__(
            redis_client,
            key,
            metrics,
            field=FIELD,
            encode=encode_transition,
            stem="twinric_control_transitions",
            what="transition",
            maxlen=maxlen,
            queue_size=queue_size,
        )
