"""Route pushes over real RMR: every block's acknowledgement is awaited and checked; tables C cannot
parse are never pushed."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from ricplt.appmgr.distribution import RmrRoutePusher, chunk_table
from ricplt.routes import PlatformEndpoints, XappRoutes, generate_route_table
from ricproto import mtypes
from ricproto.rmr import RmrContext
from twinric.ports import free_port
from twinric.processes import wait_until

pytestmark = pytest.mark.timeout(60)

TABLE = generate_route_table(
    [XappRoutes("h", "127.0.0.1:9", policies=(5,))],
    PlatformEndpoints(a1mediator="127.0.0.1:8"),
    meids={"127.0.0.1:7": ["gnb1", "gnb2"]},
    table_id="t-1",
)


def register_body(name: str, rmr_port: int, route_port: int) -> dict:
    """An xApp on RMR (it sends controls) that handles A1 policy type 20008."""
    ports = [
        {
            "name": "rmrdata",
            "container": name,
            "port": 4560,
            "txMessages": ["RIC_CONTROL_REQ"],
            "rxMessages": ["RIC_INDICATION"],
            "policies": [20008],
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
    descriptor = {"name": name, "version": "1.0.0", "messaging": {"ports": ports}}
    return {
        "appName": name,
        "appVersion": "1.0.0",
        "configPath": "",
        "appInstanceName": name,
        "httpEndpoint": "127.0.0.1:8080",
        "rmrEndpoint": f"127.0.0.1:{rmr_port}",
        "config": json.dumps(descriptor),
    }


class ScriptedRoutePort:
    """A route-manager port that answers each mtype-20 message with scripted mtype-22 payloads
    (what a C RMR sends after the blocks it parsed)."""

    def __init__(self, answers: list[bytes]) -> None:
        self.ctx = RmrContext(0, src_id="127.0.0.1", route_client=False)
        self.answers = answers
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            msg = self.ctx.receive(0.1)
            if msg is not None and msg.mtype == mtypes.RMRRM_TABLE_DATA:
                for answer in self.answers:
                    self.ctx.rts(msg, answer, mtypes.RMRRM_TABLE_STATE)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.ctx.close()


@pytest.fixture
def pusher() -> Iterator[RmrRoutePusher]:
    ctx = RmrContext(0, src_id="127.0.0.1", route_client=False)
    try:
        yield RmrRoutePusher(ctx)
    finally:
        ctx.close()


def push(pusher: RmrRoutePusher, port: int):
    return pusher.push(
        f"127.0.0.1:{port}", TABLE.table_id, chunk_table(TABLE.text()), 2.0, blocks=tuple(TABLE.blocks())
    )


def test_our_rmr_acks_table_and_meid_map_and_the_push_counts_both(pusher: RmrRoutePusher) -> None:
    ctl = free_port()
    with RmrContext(0, src_id="127.0.0.1", rtg_port=ctl) as app:
        outcome = push(pusher, ctl)
        assert outcome.ok, outcome.detail
        assert app.route_table.meid_map == {"gnb1": "127.0.0.1:7", "gnb2": "127.0.0.1:7"}


def test_a_refused_meid_map_is_not_reported_as_delivered(pusher: RmrRoutePusher) -> None:
    port = ScriptedRoutePort([b"OK t-1 \n\0", b"ERR t-1 missing table records: expected 1 got 0\n\n\0"])
    try:
        outcome = push(pusher, port.ctx.port)
    finally:
        port.close()
    assert not outcome.ok
    assert "refused the MEID map of table t-1" in outcome.detail and "missing table records" in outcome.detail


def test_a_missing_meid_map_ack_is_a_failed_push(pusher: RmrRoutePusher) -> None:
    port = ScriptedRoutePort([b"OK t-1 \n\0"])  # what an RMR that does not ack MEID maps answers
    try:
        outcome = pusher.push(
            f"127.0.0.1:{port.ctx.port}", "t-1", chunk_table(TABLE.text()), 0.5, blocks=("newrt", "meid_map")
        )
    finally:
        port.close()
    assert not outcome.ok and "for the MEID map" in outcome.detail


def test_acks_of_other_tables_are_ignored(pusher: RmrRoutePusher) -> None:
    port = ScriptedRoutePort([b"ERR t-0 old\n\0", b"OK t-1 \n\0", b"OK t-1 \n\0"])
    try:
        outcome = push(pusher, port.ctx.port)
    finally:
        port.close()
    assert outcome.ok, outcome.detail


def test_a_table_rmr_cannot_parse_is_refused_and_the_last_one_kept(appmgr) -> None:
    for i in range(64):
        assert (
            appmgr.http.post(
                "/ric/v1/register", json=register_body(f"x{i:02d}", 5000 + i, 6000 + i)
            ).status_code
            == 201
        )
    assert wait_until(lambda: "127.0.0.1:5063" in appmgr.http.get("/ric/v1/routes").json()["table"], 10)
    good = appmgr.http.get("/ric/v1/routes").json()["table_id"]
    assert appmgr.http.post("/ric/v1/register", json=register_body("x64", 5064, 6064)).status_code == 201
    assert wait_until(lambda: appmgr.http.get("/ric/v1/routes").json()["error"], 10)
    status = appmgr.http.get("/ric/v1/routes").json()
    assert "65 receivers" in status["error"] and "64 fan-out groups" in status["error"]
    # The last good table stays (a late rebuild for x63 may have renumbered it, never with x64 in it).
    generation = int(status["table_id"].rsplit("-", 1)[1])
    assert generation >= int(good.rsplit("-", 1)[1]) and "127.0.0.1:5063" in status["table"]
    assert "127.0.0.1:5064" not in status["table"]
    assert appmgr.counter("twinric_errors_total", component="appmgr", reason="route_limit") >= 1
    assert appmgr.pusher.last_to("127.0.0.1:6064") is None  # nothing was pushed with the broken table
    appmgr.http.post("/ric/v1/deregister", json={"appName": "x64", "appInstanceName": "x64"})
    assert wait_until(lambda: not appmgr.http.get("/ric/v1/routes").json()["error"], 10)
