"""appmgr test harness: the real app on real HTTP (``serve_app``) over the session Redis.

Route pushing goes through a recording pusher here; test_appmgr_e2e.py pushes over real RMR.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import redis

from ricplt.appmgr.app import create_app
from ricplt.appmgr.distribution import PlatformComponent, PushOutcome, RouteDistributor
from ricplt.appmgr.metrics import AppmgrMetrics
from ricplt.appmgr.registry import Registry


@dataclass
class Push:
    endpoint: str
    table_id: str
    text: str


@dataclass
class RecordingPusher:
    """Records pushes; endpoints in ``refuse`` fail (as a dead route port would)."""

    pushes: list[Push] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def push(
        self,
        endpoint: str,
        table_id: str,
        chunks: list[bytes],
        timeout: float,
        blocks: tuple[str, ...] = ("newrt",),
    ) -> PushOutcome:
        with self.lock:
            self.pushes.append(Push(endpoint, table_id, b"".join(chunks).decode()))
        if endpoint in self.refuse:
            return PushOutcome(False, "connection refused")
        return PushOutcome(True, "OK")

    def last_to(self, endpoint: str) -> Push | None:
        with self.lock:
            return next((p for p in reversed(self.pushes) if p.endpoint == endpoint), None)


PLATFORM = [
    PlatformComponent.parse("submgr=127.0.0.1:4560/4600"),
    PlatformComponent.parse("e2term=127.0.0.1:38000/4601"),
    PlatformComponent.parse("a1mediator=127.0.0.1:4562/4602"),
]


@dataclass
class Appmgr:
    http: httpx.Client
    pusher: RecordingPusher
    registry: Registry
    metrics: AppmgrMetrics
    distributor: RouteDistributor

    def counter(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def appmgr(redis_client: redis.Redis, serve_app) -> Iterator[Appmgr]:
    registry = Registry(redis_client)
    metrics = AppmgrMetrics(lambda: len(registry.xapps()))
    pusher = RecordingPusher()
    distributor = RouteDistributor(registry, PLATFORM, pusher, metrics, ack_timeout=0.5, retry_interval=0.1)
    app = create_app(registry, distributor, metrics, start_distributor=True)
    with serve_app(app) as server, httpx.Client(base_url=server.url, timeout=5) as http:
        yield Appmgr(http, pusher, registry, metrics, distributor)
