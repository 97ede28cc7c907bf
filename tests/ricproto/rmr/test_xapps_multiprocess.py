"""RMRXapp <-> RMRXapp over 127.0.0.1: three ricxappframe peers in their own processes, on the Python RMR.

Peer A routes by its seed table to B and C (round robin, fan-out, sub_id, meid), calls B, and takes a
route-manager push on its control port; B and C report what they receive to the test's own
``RmrContext`` (the "driver"). See ``rmr_peer_app.py`` for the peers' behaviour.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ricproto import mtypes
from ricproto.rmr import RmrContext, RmrMessage
from twinric.ports import free_port
from twinric.processes import ManagedProcess, wait_until

pytestmark = pytest.mark.timeout(120)

PEER = Path(__file__).with_name("rmr_peer_app.py")
CMD, CMD_DONE, REPORT = 1000, 1001, 999


class Cluster:
    def __init__(self, tmp: Path, python: str) -> None:
        self.driver = RmrContext(0, src_id="127.0.0.1")
        self.ports = {name: free_port() for name in "ABCD"}
        self.ctl_a = free_port()
        d = f"127.0.0.1:{self.driver.port}"
        a, b, c = (f"127.0.0.1:{self.ports[n]}" for n in "ABC")
        self.a_table = (
            "newrt|start|seed-a\n"
            f"rte|300|{b},{c}\n"
            f"rte|301|{b};{c}\n"
            f"mse|302|5|{b}\n"
            f"mse|302|-1|{c}\n"
            "mse|303|-1|%meid\n"
            f"rte|2000|{b}\n"
            f"rte|{REPORT}|{d}\n"
            "newrt|end|7\n"
            "meid_map|start\n"
            f"mme_ar|{b}|gnb1\n"
            f"mme_ar|{c}|gnb2 gnb9\n"
            "mme_del|gnb9\n"
            "meid_map|end|3\n"
        )
        self.procs: dict[str, ManagedProcess] = {}
        for name in "ABCD":
            seed = tmp / f"{name}.rt"
            seed.write_text(self.a_table if name == "A" else f"newrt|start\nrte|{REPORT}|{d}\nnewrt|end\n")
            env = {
                "RMR_SEED_RT": str(seed),
                "RMR_SRC_ID": "127.0.0.1",
                "TWINRIC_RMR": "python",
                "RMR_RTG_SVC": str(self.ctl_a) if name == "A" else "-1",
                "PYTHONUNBUFFERED": "1",
            }
            argv = [python, str(PEER), name, str(self.ports[name])] + (["generic"] if name == "D" else [])
            proc = ManagedProcess(
                f"peer-{name}", argv, env={**os.environ, **env}, log_path=tmp / f"{name}.log"
            )
            self.procs[name] = proc.start()
        self.driver.load_routes(
            f"newrt|start\nrte|{CMD}|{a}\nrte|100|{a}\nrte|2000|{a}\nrte|305|{b}\n"
            f"rte|2100|127.0.0.1:{self.ports['D']}\nnewrt|end\n"
        )

    def wait_ready(self) -> None:
        for name, proc in self.procs.items():
            ok = wait_until(lambda p=proc: "ready on" in (p.log_tail(5) or "") or not p.alive(), 30)
            assert ok and proc.alive(), f"peer {name} did not start:\n{proc.log_tail()}"

    def command(self, body: dict, timeout: float = 5.0) -> dict:
        reply = self.driver.call(CMD, json.dumps(body).encode(), timeout=timeout)
        assert reply is not None, "peer A did not answer the command"
        assert reply.mtype == CMD_DONE
        return json.loads(reply.payload)

    def reports(self, count: int, timeout: float = 5.0) -> list[dict]:
        got: list[dict] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            msg = self.driver.receive(0.1)
            if msg is not None and msg.mtype == REPORT:
                got.append(json.loads(msg.payload))
        return got

    def drain(self) -> None:
        while self.driver.receive(0.05) is not None:
            pass

    def close(self) -> None:
        for proc in self.procs.values():
            proc.stop(timeout=3)
        self.driver.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, python_exe: str) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("rmr-peers"), python_exe)
    try:
        c.wait_ready()
        yield c
    finally:
        c.close()


@pytest.fixture
def peers(cluster: Cluster) -> Cluster:
    cluster.drain()
    return cluster


def test_peers_run_on_the_python_backend(peers: Cluster) -> None:
    for proc in peers.procs.values():
        assert "backend=python" in proc.log_tail(5)


def test_rmrxapp_health_check_answers_ok(peers: Cluster) -> None:
    reply = peers.driver.call(mtypes.RIC_HEALTH_CHECK_REQ, b"ping", timeout=3)
    assert reply is not None
    assert reply.mtype == mtypes.RIC_HEALTH_CHECK_RESP
    assert reply.payload == b"OK\n"
    assert reply.src == f"127.0.0.1:{peers.ports['A']}"


def test_round_robin_alternates_between_group_members(peers: Cluster) -> None:
    sends = [{"mtype": 300, "payload": f"rr-{i}"} for i in range(6)]
    assert peers.command({"send": sends})["states"] == [0] * 6
    got = peers.reports(6)
    by_payload = {r["payload"]: r["me"] for r in got}
    order = [by_payload[f"rr-{i}"] for i in range(6)]
    assert sorted(order) == ["B"] * 3 + ["C"] * 3
    assert all(x != y for x, y in itertools.pairwise(order)), order


def test_fan_out_sends_a_copy_to_every_group(peers: Cluster) -> None:
    assert peers.command({"send": [{"mtype": 301, "payload": "fan"}]})["states"] == [0]
    got = peers.reports(2)
    assert sorted(r["me"] for r in got) == ["B", "C"]
    assert all(r["payload"] == "fan" and r["src"] == f"127.0.0.1:{peers.ports['A']}" for r in got)


def test_sub_id_routing_falls_back_to_minus_one(peers: Cluster) -> None:
    sends = [
        {"mtype": 302, "payload": "s5", "sub_id": 5},
        {"mtype": 302, "payload": "s6", "sub_id": 6},
        {"mtype": 302, "payload": "none"},
    ]
    assert peers.command({"send": sends})["states"] == [0, 0, 0]
    got = {r["payload"]: r for r in peers.reports(3)}
    assert got["s5"]["me"] == "B" and got["s5"]["sub_id"] == 5
    assert got["s6"]["me"] == "C" and got["s6"]["sub_id"] == 6
    assert got["none"]["me"] == "C" and got["none"]["sub_id"] == -1


def test_meid_routing_uses_the_meid_map(peers: Cluster) -> None:
    sends = [
        {"mtype": 303, "payload": "m1", "meid": "gnb1"},
        {"mtype": 303, "payload": "m2", "meid": "gnb2"},
        {"mtype": 303, "payload": "m9", "meid": "gnb9"},
    ]
    states = peers.command({"send": sends})["states"]
    assert states == [0, 0, 2]  # gnb9 was deleted from the map: RMR_ERR_NOENDPT
    got = {r["payload"]: r for r in peers.reports(2)}
    assert got["m1"]["me"] == "B" and got["m1"]["meid"] == "gnb1"
    assert got["m2"]["me"] == "C" and got["m2"]["meid"] == "gnb2"


def test_rts_echoes_xid_and_answers_the_sender(peers: Cluster) -> None:
    assert peers.driver.send(2000, b"hello", xid=b"rts-xid-1") == 0
    msg: RmrMessage | None = None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        msg = peers.driver.receive(0.2)
        if msg is not None and msg.mtype == 2001:
            break
    assert msg is not None and msg.mtype == 2001
    assert msg.payload == b"A:hello"
    assert msg.xid_text == b"rts-xid-1"


def test_call_between_two_rmrxapps(peers: Cluster) -> None:
    result = peers.command({"call": {"mtype": 2000, "payload": "via-a"}})["call"]
    assert result == {"state": 0, "mtype": 2001, "payload": "B:via-a", "xid_match": True}


def test_wormhole_call_times_out_when_the_peer_never_answers(peers: Cluster) -> None:
    target = f"127.0.0.1:{peers.ports['B']}"
    started = time.monotonic()
    result = peers.command(
        {"call": {"mtype": 305, "payload": "no-answer", "timeout_ms": 300, "target": target}}
    )["call"]
    assert result == {"timeout": True}
    assert time.monotonic() - started >= 0.3
    assert [r["payload"] for r in peers.reports(1)] == ["no-answer"]  # B got it; it just never replies


def test_driver_call_times_out_and_returns_none(peers: Cluster) -> None:
    started = time.monotonic()
    assert peers.driver.call(305, b"silent", timeout=0.3) is None
    assert 0.3 <= time.monotonic() - started < 2.0


def test_generic_xapp_answers_by_rts(peers: Cluster) -> None:
    reply = peers.driver.call(2100, b"generic", timeout=3)
    assert reply is not None and reply.mtype == 2101 and reply.payload == b"D:generic"


def test_route_manager_push_changes_routes_live(peers: Cluster) -> None:
    d = f"127.0.0.1:{peers.driver.port}"
    b, c = (f"127.0.0.1:{peers.ports[n]}" for n in "BC")
    whid = peers.driver.wh_open(f"127.0.0.1:{peers.ctl_a}")
    assert whid >= 0
    # A bad count is refused and the live table stays.
    peers.driver.wh_send(
        whid, mtypes.RMRRM_TABLE_DATA, b"newrt|start|bad-1\nrte|300|" + c.encode() + b"\nnewrt|end|5\n"
    )
    # Route manager splits a table over several messages (never a record).
    part1 = f"newrt|start|tbl-7\nrte|300|{c}\nrte|301|{b}\n".encode()
    part2 = f"rte|{REPORT}|{d}\nnewrt|end|3\n".encode()
    assert peers.driver.wh_send(whid, mtypes.RMRRM_TABLE_DATA, part1) == 0
    assert peers.driver.wh_send(whid, mtypes.RMRRM_TABLE_DATA, part2) == 0
    acks = []
    deadline = time.monotonic() + 5
    while len(acks) < 2 and time.monotonic() < deadline:
        msg = peers.driver.receive(0.2)
        if msg is not None and msg.mtype == mtypes.RMRRM_TABLE_STATE:
            acks.append(msg.payload)
    assert acks[0].startswith(b"ERR bad-1 ")
    assert acks[1] == b"OK tbl-7 \n\0"
    sends = [{"mtype": 300, "payload": f"after-{i}"} for i in range(3)] + [{"mtype": 302, "payload": "gone"}]
    assert peers.command({"send": sends})["states"] == [0, 0, 0, 2]
    assert sorted(r["me"] for r in peers.reports(3)) == ["C", "C", "C"]
    stash = Path(peers.procs["A"].env["RMR_SEED_RT"] + ".stash")  # RMR keeps route-manager tables
    assert "newrt|start|tbl-7" in stash.read_text() and "newrt|end|3" in stash.read_text()
