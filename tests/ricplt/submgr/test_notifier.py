"""The REST notification to the xApp over real HTTP: a client that never answers is given up on in time."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from prometheus_client import CollectorRegistry

from ricplt.submgr import notifier as notifier_module
from ricplt.submgr.metrics import SubmgrMetrics
from ricplt.submgr.notifier import Notifier
from ricproto.subscription_api import ClientEndpoint, SubscriptionResponse


def test_a_client_that_never_answers_times_out_after_five_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notifier_module, "ATTEMPTS", 1)  # one attempt: its time is the timeout alone
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)  # accepts (in the backlog) and never answers
    registry = CollectorRegistry()
    metrics = SubmgrMetrics(registry)
    client = ClientEndpoint(Host="127.0.0.1", HTTPPort=silent.getsockname()[1], RMRPort=4560)
    response = SubscriptionResponse(SubscriptionId="s1", SubscriptionInstances=[])

    async def scenario() -> tuple[bool, float]:
        notifier = Notifier(metrics)
        started = time.monotonic()
        try:
            return await notifier.notify(client, response), time.monotonic() - started
        finally:
            await notifier.close()

    try:
        delivered, elapsed = asyncio.run(scenario())
    finally:
        silent.close()
    assert delivered is False
    assert 4.5 <= elapsed < 5.8, elapsed
    assert registry.get_sample_value(
        "twinric_errors_total", {"component": "submgr", "reason": "notify-failed"}
    ) == 1.0
