"""The xApp HTTP endpoints over real HTTP (uvicorn in its thread): health, config, metrics, notifications."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from twinric.ports import free_port, wait_for_port
from xapps.common.health import HealthState
from xapps.common.http_api import HttpServer, create_app
from xapps.common.metrics import XappMetrics


@pytest.fixture
def served():
    metrics = XappMetrics("test-xapp")
    health = HealthState(metrics, ("heuristic", "promoted_policy"))
    notices: list = []
    state = {"redis": True}

    def on_notice(body):
        if "SubscriptionId" not in body:
            raise ValueError("SubscriptionId missing")
        notices.append(body)

    health.add_check("redis", lambda: (state["redis"], "ping"))
    health.add_check("twin", lambda: (False, "twin down"), required=False)
    port = free_port()
    server = HttpServer(
        create_app(health, lambda: {"name": "x", "controls": {"a": 1}}, metrics, on_notice),
        host="127.0.0.1",
        port=port,
    ).start()
    assert wait_for_port(port, timeout=10)
    try:
        yield httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5), health, notices, state, metrics
    finally:
        server.stop()


def test_alive_ready_and_degraded_detail(served):
    http, health, _, state, _ = served
    assert http.get("/ric/v1/health/alive").status_code == 200
    r = http.get("/ric/v1/health/ready")
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "heuristic" and body["checks"]["twin"] == {
        "ok": False,
        "detail": "twin down",
        "required": False,
    }
    health.set_mode("promoted_policy")
    state["redis"] = False
    r = http.get("/ric/v1/health/ready")
    assert r.status_code == 503 and r.json()["mode"] == "promoted_policy"


def test_config_and_metrics(served):
    http, _, _, _, metrics = served
    assert http.get("/ric/v1/config").json() == {"name": "x", "controls": {"a": 1}}
    metrics.error("demo")
    text = http.get("/metrics").text
    assert 'twinric_errors_total{component="test-xapp",reason="demo"} 1.0' in text
    assert 'twinric_xapp_mode{mode="heuristic"} 1.0' in text


def test_subscription_notification_endpoint(served):
    http, _, notices, _, metrics = served
    instance = {"XappEventInstanceId": 1, "E2EventInstanceId": 9}
    body = {"SubscriptionId": "s1", "SubscriptionInstances": [instance]}
    assert http.post("/ric/v1/subscriptions/response", json=body).status_code == 200
    assert notices == [body]
    assert http.post("/ric/v1/subscriptions/response", json={"x": 1}).status_code == 400
    headers = {"content-type": "application/json"}
    r = http.post("/ric/v1/subscriptions/response", content=b"{nope", headers=headers)
    assert r.status_code == 400 and metrics.error_count("bad_subscription_notification") == 1


def test_stop_gives_up_after_five_seconds_on_a_request_that_hangs():
    """Shutdown is bounded: a config callback stuck past the bound does not hold the xApp's exit."""
    entered, release = threading.Event(), threading.Event()

    def stuck_config() -> dict:
        entered.set()
        release.wait(10)
        return {}

    metrics = XappMetrics("test-xapp")
    port = free_port()
    server = HttpServer(
        create_app(HealthState(metrics, ("heuristic",)), stuck_config, metrics), host="127.0.0.1", port=port
    ).start()
    assert wait_for_port(port, timeout=10)
    caller = threading.Thread(
        target=lambda: httpx.get(f"http://127.0.0.1:{port}/ric/v1/config", timeout=15), daemon=True
    )
    caller.start()
    try:
        assert entered.wait(5)
        started = time.monotonic()
        server.stop()
        elapsed = time.monotonic() - started
        assert 4.5 <= elapsed < 5.8, elapsed
    finally:
        release.set()
        caller.join(10)


def test_default_address_is_all_interfaces_port_8080():
    """The RIC platform (appmgr's descriptor, the Kubernetes service) reaches an xApp's HTTP on 8080."""
    metrics = XappMetrics("test-xapp")
    server = HttpServer(create_app(HealthState(metrics, ("heuristic",)), dict, metrics))
    assert (server.config.host, server.config.port) == ("0.0.0.0", 8080)
