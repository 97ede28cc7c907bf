"""The REST notification to the xApp over real HTTP: retried briefly, bounded in time, failures counted."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from http_recorder import HttpRecorder
from prometheus_client import CollectorRegistry

from ricplt.submgr import notifier as notifier_module
from ricplt.submgr.metrics import SubmgrMetrics
from ricplt.submgr.notifier import Notifier
from ricproto.subscription_api import ClientEndpoint, SubscriptionResponse

FAILED = {"component": "submgr", "reason": "notify-failed"}


def notify(port: int) -> tuple[bool, float, float | None]:
    """One notification to 127.0.0.1:``port``: delivered, seconds taken, notify-failed count."""
    registry = CollectorRegistry()
    client = ClientEndpoint(Host="127.0.0.1", HTTPPort=port, RMRPort=4560)
    response = SubscriptionResponse(SubscriptionId="s1", SubscriptionInstances=[])

    async def scenario() -> tuple[bool, float]:
        notifier = Notifier(SubmgrMetrics(registry))
        started = time.monotonic()
        try:
            return await notifier.notify(client, response), time.monotonic() - started
        finally:
            await notifier.close()

    delivered, elapsed = asyncio.run(scenario())
    return delivered, elapsed, registry.get_sample_value("twinric_errors_total", FAILED)


def test_a_client_that_never_answers_times_out_after_five_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notifier_module, "ATTEMPTS", 1)  # one attempt: its time is the timeout alone
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)  # accepts (in the backlog) and never answers
    try:
        delivered, elapsed, failed = notify(silent.getsockname()[1])
    finally:
        silent.close()
    assert delivered is False and failed == 1.0
    assert 4.5 <= elapsed < 5.8, elapsed


def test_three_attempts_half_a_second_apart_then_counted_as_failed() -> None:
    refusing = HttpRecorder(status=503)
    try:
        delivered, elapsed, failed = notify(refusing.port)
        assert delivered is False and failed == 1.0
        posted = [(r.method, r.path) for r in refusing.requests]
        assert posted == [("POST", "/ric/v1/subscriptions/response")] * 3
        assert 1.0 <= elapsed < 1.45, elapsed  # two waits between three attempts, none after the last
    finally:
        refusing.close()


def test_a_redirect_is_not_a_delivery_and_a_retry_that_succeeds_is() -> None:
    recovering = HttpRecorder(status=200, first=(300,))
    try:
        delivered, elapsed, failed = notify(recovering.port)
        assert delivered is True and failed is None
        body = {"SubscriptionId": "s1", "SubscriptionInstances": []}
        assert [r.body for r in recovering.requests] == [body, body]
        assert 0.5 <= elapsed < 0.95, elapsed
    finally:
        recovering.close()
