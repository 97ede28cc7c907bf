"""End to end: appmgr and the A1 mediator as processes; an xApp registers and routes appear everywhere.

Nobody has a seed table. The xApp (a real RMR context with a route-manager port) registers over
REST with the body ricxappframe sends; appmgr generates the table and pushes it with mtype 20 to
the xApp's and the A1 mediator's route ports, which ack with mtype 22. Then an A1 policy reaches
the xApp (20010 by policy type) and its plain routed 20011 reaches the mediator (platform route).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from ricproto import a1, mtypes
from ricproto.rmr import RmrContext
from twinric.ports import free_port, wait_for_port
from twinric.processes import ManagedProcess, wait_until

pytestmark = pytest.mark.slow

TYPE_ID = 20008
TYPE_BODY = {
    "name": "t",
    "description": "",
    "policy_type_id": TYPE_ID,
    "create_schema": {"type": "object", "properties": {"threshold": {"type": "integer"}}},
}


def register_body(name: str, rmr_port: int, rtg_port: int) -> dict:
    """What ricxappframe POSTs to /ric/v1/register, with the descriptor as a JSON string."""
    descriptor = {
        "name": name,
        "version": "1.0.0",
        "messaging": {
            "ports": [
                {
                    "name": "rmrdata",
                    "container": name,
                    "port": rmr_port,
                    "txMessages": ["A1_POLICY_RESP"],
                    "rxMessages": ["A1_POLICY_REQ"],
                    "policies": [TYPE_ID],
                },
                {
                    "name": "rmrroute",
                    "container": name,
                    "port": rtg_port,
                    "txMessages": [],
                    "rxMessages": [],
                    "policies": [],
                },
            ]
        },
    }
    return {
        "appName": name,
        "appVersion": "1.0.0",
        "configPath": "",
        "appInstanceName": name,
        "httpEndpoint": "127.0.0.1:8080",
        "rmrEndpoint": f"127.0.0.1:{rmr_port}",
        "config": json.dumps(descriptor),
    }


class Xapp:
    """A policy-handling xApp: RMR data port plus route-manager port, no seed table."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rmr_port, self.rtg_port = free_port(), free_port()
        self.ctx = RmrContext(
            self.rmr_port, src_id="127.0.0.1", bind_host="127.0.0.1", rtg_port=self.rtg_port
        )
        self.received: list[a1.A1PolicyRequest] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            msg = self.ctx.receive(0.1)
            if msg is None or msg.mtype != mtypes.A1_POLICY_REQ:
                continue
            req = a1.decode_policy_request(msg.payload)
            self.received.append(req)
            status = (
                a1.A1HandlerStatus.DELETED
                if req.operation is a1.A1Operation.DELETE
                else a1.A1HandlerStatus.OK
            )
            resp = a1.A1PolicyResponse(req.policy_type_id, req.policy_instance_id, self.name, status)
            self.ctx.send(mtypes.A1_POLICY_RESP, a1.encode_policy_response(resp))  # routed, not RTS

    def register_body(self) -> dict:
        return register_body(self.name, self.rmr_port, self.rtg_port)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.ctx.close()


def start(name: str, argv: list[str], http_port: int, tmp_path: Path) -> ManagedProcess:
    proc = ManagedProcess(name, argv, log_path=tmp_path / f"{name}.log").start()
    if not wait_for_port(http_port, timeout=20):
        proc.stop()
        pytest.fail(f"{name} did not start:\n{proc.log_tail()}")
    return proc


@pytest.fixture
def platform(python_exe: str, redis_url: str, redis_client: redis.Redis, tmp_path: Path) -> Iterator[tuple]:
    a1_http, a1_rmr, a1_rtg = free_port(), free_port(), free_port()
    am_http, am_rmr = free_port(), free_port()
    procs = []
    try:
        procs.append(
            start(
                "a1mediator",
                [
                    python_exe,
                    "-m",
                    "ricplt.a1mediator",
                    "--http-port",
                    str(a1_http),
                    "--rmr-port",
                    str(a1_rmr),
                    "--rtg-port",
                    str(a1_rtg),
                    "--src-id",
                    "127.0.0.1",
                    "--redis-url",
                    redis_url,
                ],
                a1_http,
                tmp_path,
            )
        )
        procs.append(
            start(
                "appmgr",
                [
                    python_exe,
                    "-m",
                    "ricplt.appmgr",
                    "--http-port",
                    str(am_http),
                    "--rmr-port",
                    str(am_rmr),
                    "--redis-url",
                    redis_url,
                    "--platform",
                    f"a1mediator=127.0.0.1:{a1_rmr}/{a1_rtg}",
                    "--ack-timeout",
                    "1",
                    "--retry-interval",
                    "0.2",
                ],
                am_http,
                tmp_path,
            )
        )
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{a1_http}", timeout=5) as a1_api,
            httpx.Client(base_url=f"http://127.0.0.1:{am_http}", timeout=5) as am_api,
        ):
            yield a1_api, am_api, procs
    finally:
        for proc in procs:
            proc.stop()


def pushed_ok(am_api: httpx.Client, target: str, contains: str) -> bool:
    status = am_api.get("/ric/v1/routes").json()
    state = status["targets"].get(target)
    return bool(
        state and state["ok"] and state["table_id"] == status["table_id"] and contains in status["table"]
    )


def test_registration_pushes_routes_that_carry_a1_policies(platform) -> None:
    a1_api, am_api, procs = platform
    xapp = Xapp("handler")
    try:
        assert am_api.post("/ric/v1/register", json=xapp.register_body()).status_code == 201
        route = f"mse|20010|{TYPE_ID}|127.0.0.1:{xapp.rmr_port}"
        assert wait_until(lambda: pushed_ok(am_api, "handler", route), 10), am_api.get(
            "/ric/v1/routes"
        ).json()
        assert wait_until(
            lambda: any(
                n.startswith("a1mediator@") and s["ok"]
                for n, s in am_api.get("/ric/v1/routes").json()["targets"].items()
            ),
            10,
        )
        assert xapp.ctx.ready()  # the xApp got its first table from the push (acked with "OK <id>")

        assert a1_api.put(f"/A1-P/v2/policytypes/{TYPE_ID}", json=TYPE_BODY).status_code == 201
        assert (
            a1_api.put(f"/A1-P/v2/policytypes/{TYPE_ID}/policies/p1", json={"threshold": 3}).status_code
            == 202
        )
        assert wait_until(lambda: len(xapp.received) == 1, 10)
        assert xapp.received[0].payload == {"threshold": 3}

        def status() -> str:
            return a1_api.get(f"/A1-P/v2/policytypes/{TYPE_ID}/policies/p1/status").json()["enforceStatus"]

        assert wait_until(lambda: status() == "ENFORCED", 10)

        # after deregistration the mediator has no route to a handler any more: the send fails, counted
        resp = am_api.post("/ric/v1/deregister", json={"appName": "handler", "appInstanceName": "handler"})
        assert resp.status_code == 204
        assert wait_until(lambda: route not in am_api.get("/ric/v1/routes").json()["table"], 10)
        assert wait_until(
            lambda: all(s["ok"] for s in am_api.get("/ric/v1/routes").json()["targets"].values()), 10
        )
        assert (
            a1_api.put(f"/A1-P/v2/policytypes/{TYPE_ID}/policies/p2", json={"threshold": 1}).status_code
            == 202
        )
        assert (
            'a1_rmr_policy_requests_sent_total{operation="CREATE",result="failed"} 1.0'
            in a1_api.get("/metrics").text
        )
        assert len(xapp.received) == 1
        assert all(p.alive() for p in procs)
    finally:
        xapp.close()


def test_xapp_whose_route_port_opens_late_still_gets_its_table(platform) -> None:
    _, am_api, _ = platform
    late_rtg = free_port()
    body = register_body("late", free_port(), late_rtg)
    assert am_api.post("/ric/v1/register", json=body).status_code == 201
    assert wait_until(lambda: "late" in am_api.get("/ric/v1/routes").json()["targets"], 5)
    assert not am_api.get("/ric/v1/routes").json()["targets"]["late"]["ok"]
    ctx = RmrContext(free_port(), src_id="127.0.0.1", bind_host="127.0.0.1", rtg_port=late_rtg)
    try:
        assert ctx.wait_ready(10)
        assert wait_until(lambda: am_api.get("/ric/v1/routes").json()["targets"]["late"]["ok"], 5)
    finally:
        ctx.close()
