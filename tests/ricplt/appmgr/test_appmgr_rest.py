"""appmgr REST over real HTTP with registrations in a real Redis; route pushes recorded."""

from __future__ import annotations

import json
import time

from ricplt.appmgr.registry import XAPPS
from twinric.processes import wait_until


def descriptor(name: str, route_port: int, tx: list[str], rx: list[str], policies: list[int]) -> str:
    return json.dumps(
        {
            "name": name,
            "version": "1.0.0",
            "messaging": {
                "ports": [
                    {
                        "name": "rmrdata",
                        "container": name,
                        "port": 4560,
                        "txMessages": tx,
                        "rxMessages": rx,
                        "policies": policies,
                    },
                    {
                        "name": "rmrroute",
                        "container": name,
                        "port": route_port,
                        "txMessages": [],
                        "rxMessages": [],
                        "policies": [],
                    },
                ]
            },
        }
    )


def register_body(name: str, rmr_port: int, route_port: int, **kw) -> dict:
    return {
        "appName": name,
        "appVersion": "1.0.0",
        "configPath": "",
        "appInstanceName": name,
        "httpEndpoint": "127.0.0.1:8080",
        "rmrEndpoint": f"127.0.0.1:{rmr_port}",
        "config": descriptor(
            name,
            route_port,
            kw.get("tx", ["RIC_SUB_REQ", "RIC_CONTROL_REQ"]),
            kw.get("rx", ["RIC_INDICATION"]),
            kw.get("policies", [20008]),
        ),
    }


def table_for(appmgr, endpoint: str, contains: str, timeout: float = 5) -> str:
    """Wait for a push to ``endpoint`` whose table contains ``contains``; return that table."""
    found: list[str] = []

    def check() -> bool:
        push = appmgr.pusher.last_to(endpoint)
        if push and contains in push.text:
            found.append(push.text)
            return True
        return False

    assert wait_until(check, timeout), f"no table with {contains!r} pushed to {endpoint}"
    return found[0]


def test_platform_gets_a_table_at_start(appmgr) -> None:
    text = table_for(appmgr, "127.0.0.1:4602", "mse|20011|-1|127.0.0.1:4562")
    assert "mse|12010,127.0.0.1:4560|-1|%meid" in text
    assert text.startswith("newrt|start|appmgr-")


def test_register_stores_lists_and_pushes_routes_to_everyone(appmgr) -> None:
    resp = appmgr.http.post("/ric/v1/register", json=register_body("control", 4570, 4571))
    assert resp.status_code == 201
    assert appmgr.registry.client.hexists(XAPPS, "control")
    listing = appmgr.http.get("/ric/v1/xapps").json()
    assert listing == [
        {
            "name": "control",
            "status": "deployed",
            "version": "1.0.0",
            "instances": [
                {
                    "name": "control",
                    "status": "running",
                    "ip": "127.0.0.1",
                    "port": 4570,
                    "txMessages": ["RIC_SUB_REQ", "RIC_CONTROL_REQ"],
                    "rxMessages": ["RIC_INDICATION"],
                    "policies": [20008],
                }
            ],
        }
    ]
    xapp_table = table_for(appmgr, "127.0.0.1:4571", "mse|20010|20008|127.0.0.1:4570")
    assert "mse|12010,127.0.0.1:4570|-1|127.0.0.1:4560" in xapp_table
    assert "mse|12040,127.0.0.1:4570|-1|%meid" in xapp_table
    # the A1 mediator needs the same table to route 20010 to the new handler
    table_for(appmgr, "127.0.0.1:4602", "mse|20010|20008|127.0.0.1:4570")
    status = appmgr.http.get("/ric/v1/routes").json()
    assert wait_until(lambda: appmgr.http.get("/ric/v1/routes").json()["targets"]["control"]["ok"], 5)
    assert "mse|20010|20008|127.0.0.1:4570" in status["table"]
    assert appmgr.counter("appmgr_registered_xapps") == 1


def test_second_handler_of_a_type_fans_out_and_deregister_removes_it(appmgr) -> None:
    appmgr.http.post("/ric/v1/register", json=register_body("control", 4570, 4571))
    appmgr.http.post("/ric/v1/register", json=register_body("pdp", 4580, 4581, tx=[], rx=["A1_POLICY_REQ"]))
    table_for(appmgr, "127.0.0.1:4581", "mse|20010|20008|127.0.0.1:4570;127.0.0.1:4580")
    resp = appmgr.http.post("/ric/v1/deregister", json={"appName": "pdp", "appInstanceName": "pdp"})
    assert resp.status_code == 204
    table_for(appmgr, "127.0.0.1:4571", "mse|20010|20008|127.0.0.1:4570\n")
    assert [x["name"] for x in appmgr.http.get("/ric/v1/xapps").json()] == ["control"]
    assert appmgr.http.post("/ric/v1/deregister", json={"appInstanceName": "pdp"}).status_code == 404


def test_reregistration_replaces_the_instance(appmgr) -> None:
    appmgr.http.post("/ric/v1/register", json=register_body("control", 4570, 4571))
    appmgr.http.post("/ric/v1/register", json=register_body("control", 4570, 4571, policies=[7]))
    table = table_for(appmgr, "127.0.0.1:4571", "mse|20010|7|127.0.0.1:4570")
    assert "|20008|" not in table
    assert len(appmgr.http.get("/ric/v1/xapps").json()[0]["instances"]) == 1


def test_subscription_and_ran_association_handles_feed_the_table(appmgr) -> None:
    appmgr.http.post("/ric/v1/register", json=register_body("control", 4570, 4571))
    sub = {"address": "127.0.0.1", "port": 4570, "subscription_id": 12}
    assert appmgr.http.post("/ric/v1/handles/xapp-subscription-handle", json=sub).status_code == 201
    table_for(appmgr, "127.0.0.1:4571", "mse|12050,127.0.0.1:38000|12|127.0.0.1:4570")
    assoc = [{"E2TAddress": "127.0.0.1:38000", "ranNamelist": ["gnb_001", "gnb_002"]}]
    assert appmgr.http.post("/ric/v1/handles/associate-ran-to-e2tinstance", json=assoc).status_code == 201
    table_for(appmgr, "127.0.0.1:4571", "mme_ar|127.0.0.1:38000|gnb_001 gnb_002")
    dis = [{"E2TAddress": "127.0.0.1:38000", "ranNamelist": ["gnb_001"]}]
    assert appmgr.http.post("/ric/v1/handles/dissociate-ran", json=dis).status_code == 201
    table_for(appmgr, "127.0.0.1:4571", "mme_ar|127.0.0.1:38000|gnb_002\n")
    resp = appmgr.http.request("DELETE", "/ric/v1/handles/xapp-subscription-handle", json=sub)
    assert resp.status_code == 204
    assert wait_until(lambda: "|12|" not in appmgr.pusher.last_to("127.0.0.1:4571").text, 5)


def test_bad_bodies_get_400_with_reason_and_are_counted(appmgr) -> None:
    cases = [
        ("/ric/v1/register", b"{oops", "malformed_json"),
        ("/ric/v1/register", b"", "empty_body"),
        ("/ric/v1/register", json.dumps({"appName": "x", "config": "{}"}).encode(), "missing_field"),
        (
            "/ric/v1/register",
            json.dumps({**register_body("x", 1, 2), "config": "{bad"}).encode(),
            "bad_config",
        ),
        (
            "/ric/v1/register",
            json.dumps({**register_body("x", 1, 2), "rmrEndpoint": "nohost"}).encode(),
            "bad_endpoint",
        ),
        ("/ric/v1/deregister", b"[]", "bad_body"),
        (
            "/ric/v1/handles/xapp-subscription-handle",
            b'{"address": "h", "port": 0, "subscription_id": 1}',
            "bad_subscription",
        ),
        ("/ric/v1/handles/associate-ran-to-e2tinstance", b'[{"ranNamelist": ["a"]}]', "bad_association"),
    ]
    for url, content, reason in cases:
        resp = appmgr.http.post(url, content=content, headers={"content-type": "application/json"})
        assert resp.status_code == 400, (url, content, resp.text)
        assert resp.json()["reason"] == reason and resp.json()["detail"]
        assert appmgr.counter("twinric_errors_total", component="appmgr", reason=reason) >= 1
    assert appmgr.http.get("/ric/v1/xapps").json() == []
    assert (
        'twinric_errors_total{component="appmgr",reason="malformed_json"} 1.0'
        in appmgr.http.get("/metrics").text
    )


def test_unacknowledged_pushes_are_retried_until_acked(appmgr) -> None:
    appmgr.pusher.refuse.add("127.0.0.1:4571")
    appmgr.http.post("/ric/v1/register", json=register_body("control", 4570, 4571))
    assert wait_until(lambda: sum(p.endpoint == "127.0.0.1:4571" for p in appmgr.pusher.pushes) >= 3, 5)
    assert not appmgr.distributor.targets["control"].ok
    appmgr.pusher.refuse.clear()
    assert wait_until(lambda: appmgr.distributor.targets["control"].ok, 5)
    assert appmgr.counter("appmgr_route_pushes_total", result="failed") >= 3
    count = len(appmgr.pusher.pushes)
    time.sleep(0.5)  # several retry intervals
    assert len(appmgr.pusher.pushes) == count  # nothing more to push once everyone acked
