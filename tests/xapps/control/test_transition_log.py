"""Transitions reach the capped Redis stream in order, survive a Redis outage, and wait for the twin."""

from __future__ import annotations

import numpy as np
import redis

from ricproto.transition import Transition, decode_transition, floats, stream_key
from twinric.processes import wait_until
from twinric.redis_server import PrivateRedis
from xapps.common.metrics import XappMetrics
from xapps.control.transition_log import TransitionWriter


def make(step: int) -> Transition:
    return Transition(xapp_instance="x", step=step, s=floats(np.full(4, step)), mu=0.5, policy_version="v1")


def read_all(client: redis.Redis, key: str) -> list[Transition]:
    return [decode_transition(f[b"t"]) for _, f in client.xrange(key)]


def test_appends_in_order_and_the_twin_catches_up_later(redis_client):
    key = stream_key("x")
    writer = TransitionWriter(redis_client, key, XappMetrics("t")).start()
    try:
        for i in range(500):  # nobody reads meanwhile: the twin is down
            assert writer.put(make(i))
        assert writer.flush(10)
    finally:
        writer.stop()
    got = read_all(redis_client, key)
    assert [t.step for t in got] == list(range(500))
    assert got[7].s == [7.0] * 4 and got[7].policy_version == "v1"


def test_stream_is_capped_approximately(redis_client):
    key = stream_key("capped")
    writer = TransitionWriter(redis_client, key, XappMetrics("t"), maxlen=100).start()
    try:
        for i in range(2000):
            writer.put(make(i))
        assert writer.flush(10)
    finally:
        writer.stop()
    length = redis_client.xlen(key)
    assert 100 <= length < 400  # MAXLEN ~ trims whole nodes, never below the cap
    assert read_all(redis_client, key)[-1].step == 1999


def test_redis_outage_loses_nothing():
    server = PrivateRedis().start()
    port = server.port
    client = redis.Redis.from_url(server.url, socket_timeout=1, socket_connect_timeout=1)
    metrics = XappMetrics("t")
    writer = TransitionWriter(client, "s", metrics).start()
    restarted = None
    try:
        for i in range(50):
            writer.put(make(i))
        assert writer.flush(10)
        server.stop()
        for i in range(50, 150):
            assert writer.put(make(i))  # never blocks, even with Redis gone
        assert wait_until(lambda: not writer.redis_ok, 10)
        assert metrics.error_count("redis_unavailable") >= 1
        restarted = PrivateRedis(port=port).start()  # an empty Redis came back on the same address
        assert writer.flush(15)
        assert [t.step for t in read_all(client, "s")] == list(range(50, 150))
    finally:
        writer.stop()
        if restarted is not None:
            restarted.stop()
