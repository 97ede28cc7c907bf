"""The twin client over real HTTP: predicted loads in the background, planning within the budget."""

from __future__ import annotations

import logging

import numpy as np
from twin_double import TwinDouble

from twinric.ports import free_port
from twinric.processes import wait_until
from xapps.common.metrics import XappMetrics
from xapps.control.twin_client import TwinClient


def test_predictions_are_fetched_in_the_background_and_go_stale():
    twin = TwinDouble(3, predicted=0.7).start()
    client = TwinClient(twin.url, 3, XappMetrics("t"), period_s=0.05, stale_after_s=0.5).start()
    try:
        assert client.predicted_load() is None
        client.offer_observation(np.zeros(12, dtype=np.float32))
        assert wait_until(lambda: client.predicted_load() is not None, 5)
        assert client.predicted_load().tolist() == [0.7, 0.7, 0.7] and client.up
        twin.stop()
        client.offer_observation(np.zeros(12, dtype=np.float32))
        assert wait_until(lambda: not client.up, 5) and client.last_error
        assert wait_until(lambda: client.predicted_load() is None, 3)  # stale: not used any more
    finally:
        client.stop()
        twin.stop()


def test_plan_within_budget_and_fallback_on_timeout():
    twin = TwinDouble(3, plan_action=4).start()
    metrics = XappMetrics("t")
    client = TwinClient(twin.url, 3, metrics)
    try:
        mask = np.ones(9, dtype=bool)
        assert client.plan(np.zeros(12), mask, 500, "v1") == 4
        assert twin.plans[0]["budget_ms"] == 500 and twin.plans[0]["policy_version"] == "v1"
        twin.plan_delay_s = 0.3
        assert client.plan(np.zeros(12), mask, 50, "v1") is None  # over budget: fall back
        assert metrics.sample("twinric_control_plans_total", {"outcome": "timeout"}) == 1
        twin.plan_delay_s, twin.plan_action = 0.0, 99
        assert client.plan(np.zeros(12), mask, 500, "v1") is None  # outside the space: refused
        assert metrics.error_count("twin_plan_failed") == 1
        assert client.plan(np.zeros(12), mask, 0, "v1") is None and len(twin.plans) == 3  # budget 0: no call
    finally:
        client.stop()
        twin.stop()


def test_unconfigured_or_unreachable_twin():
    assert TwinClient(None, 3, XappMetrics("t")).plan(np.zeros(3), np.ones(3, bool), 100, "v") is None
    client = TwinClient(f"http://127.0.0.1:{free_port()}", 3, XappMetrics("t"))
    assert client.plan(np.zeros(3), np.ones(3, bool), 200, "v") is None and not client.up
    client.stop()


def test_up_and_down_are_logged_once_per_change(caplog):
    client = TwinClient("http://127.0.0.1:9", 3, XappMetrics("t"))  # never contacted: _mark is driven by hand
    try:
        with caplog.at_level(logging.WARNING, logger="xapps.control.twin"):
            client._mark(False, "refused")  # starts down: no change, nothing logged
            client._mark(True)
            client._mark(True)
            client._mark(False, "timed out")
            client._mark(False, "timed out")
        assert [r.getMessage() for r in caplog.records if r.name == "xapps.control.twin"] == [
            "twin up",
            "twin down: timed out",
        ]
        assert client.up is False and client.last_error == "timed out"
    finally:
        client.stop()
