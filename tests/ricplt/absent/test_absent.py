"""The answer for platform components the box does not run: 501 naming the component, logged, counted."""

from __future__ import annotations

import httpx
import pytest

from ricplt.absent.app import component_of, create_app


@pytest.mark.parametrize(
    ("host", "component"),
    [
        ("service-ricplt-alarmmanager-http.ricplt:8080", "alarmmanager"),
        ("service-ricplt-vespamgr-http.ricplt.svc.cluster.local:8080", "vespamgr"),
        ("service-ricplt-e2term-rmr-alpha.ricplt:38000", "e2term"),
        ("SERVICE-RICPLT-O1MEDIATOR-HTTP.ricplt", "o1mediator"),
        ("127.0.0.1:8099", "127.0.0.1"),
        ("", "unknown"),
    ],
)
def test_component_from_the_host_header(host: str, component: str) -> None:
    assert component_of(host) == component


def test_every_request_is_answered_501_and_counted(serve_app, caplog: pytest.LogCaptureFixture) -> None:
    with serve_app(create_app()) as server:
        headers = {"Host": "service-ricplt-alarmmanager-http.ricplt:8080"}
        reply = httpx.post(f"{server.url}/ric/v1/alarms", json={"x": 1}, headers=headers)
        assert reply.status_code == 501
        body = reply.json()
        assert body["error"] == "not_in_box" and body["component"] == "alarmmanager"
        assert "does not run OSC's alarmmanager" in body["detail"] and "POST /ric/v1/alarms" in body["detail"]
        other = httpx.get(f"{server.url}/", headers={"Host": "service-ricplt-vespamgr-http.ricplt:8080"})
        assert other.status_code == 501 and other.json()["component"] == "vespamgr"
        metrics = httpx.get(f"{server.url}/metrics").text
    assert 'twinric_errors_total{component="absent",reason="alarmmanager"} 1.0' in metrics
    assert 'twinric_absent_requests_total{reason="vespamgr"} 1.0' in metrics
    assert any("alarmmanager is not part of twinric's box" in r.getMessage() for r in caplog.records)
