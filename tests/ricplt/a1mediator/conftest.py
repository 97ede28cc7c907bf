"""A1 mediator test harness: the real app on real HTTP (``serve_app``) over the session Redis.

The RMR side is a recording double of the three RmrContext calls the mediator uses; the end-to-end
tests (test_a1_e2e.py) run the mediator as a process with the real RMR transport instead.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import redis

from ricplt.a1mediator.app import create_app
from ricplt.a1mediator.metrics import A1Metrics
from ricplt.a1mediator.notifier import StatusNotifier
from ricplt.a1mediator.southbound import A1Southbound
from ricplt.a1mediator.store import A1Store


@dataclass
class Sent:
    mtype: int
    payload: bytes
    sub_id: int


@dataclass
class Inbound:
    mtype: int
    payload: bytes
    sub_id: int = -1


@dataclass
class RecordingRmr:
    """Records sends (answering ``state``) and serves queued inbound messages to ``receive``."""

    state: int = 0
    sent: list[Sent] = field(default_factory=list)
    inbound: queue.Queue = field(default_factory=queue.Queue)

    def send(
        self,
        mtype: int,
        payload: bytes,
        *,
        sub_id: int = -1,
        meid: str | None = None,
        xid: bytes | None = None,
    ) -> int:
        self.sent.append(Sent(mtype, payload, sub_id))
        return self.state

    def receive(self, timeout: float | None) -> Inbound | None:
        try:
            return self.inbound.get(timeout=timeout)
        except queue.Empty:
            return None


@dataclass
class Mediator:
    url: str
    http: httpx.Client
    rmr: RecordingRmr
    store: A1Store
    metrics: A1Metrics
    southbound: A1Southbound

    def inject(self, mtype: int, payload: bytes, sub_id: int = -1) -> None:
        """Hand the mediator a message as if RMR had received it."""
        self.rmr.inbound.put(Inbound(mtype, payload, sub_id))

    def counter(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def mediator(redis_client: redis.Redis, serve_app) -> Iterator[Mediator]:
    store = A1Store(redis_client)
    metrics = A1Metrics(store.count_enforced)
    notifier = StatusNotifier(metrics, timeout=2.0)
    rmr = RecordingRmr()
    southbound = A1Southbound(rmr, store, metrics, notifier)
    app = create_app(store, southbound, metrics, start_receiver=True)
    with serve_app(app) as server, httpx.Client(base_url=server.url, timeout=5) as http:
        yield Mediator(server.url, http, rmr, store, metrics, southbound)
    notifier.close()
