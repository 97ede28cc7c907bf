"""RIC-in-a-box end to end with the real e2sim: KPM over a REST subscription to an RMRXapp, an RC control
back into the simulation, and an e2sim restart that the platform survives.

Everything is a real process (appmgr/rtmgr, e2term, submgr, A1 mediator, e2sim, and a ricxappframe RMRXapp)
on real Redis, real RMR route pushes and real E2AP over framed TCP.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from ricproto.e2sm import kpm
from ricproto.e2sm.identities import SNssai
from twinric.local_stack import HOST, PLATFORM_ROLES, StackOptions, build_services, urls
from twinric.ports import allocate_ports, free_port
from twinric.processes import ManagedProcess, wait_until
from twinric.stack import Stack, scrape

NODE = "gnb_001_001_000001"
EMBB = SNssai(1, 1)
PROBE = Path(__file__).with_name("kpm_probe_xapp.py")


class Probe:
    """The test xApp process and the JSON events it prints (each stamped with its arrival time ``t``)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.events: queue.Queue[dict] = queue.Queue()
        self.backlog: list[dict] = []  # events a ``next`` passed over, kept for later calls
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                event = json.loads(line)
                if "event" in event:  # ricxappframe's own mdclog lines share stdout
                    event["t"] = time.monotonic()
                    self.events.put(event)

    def send(self, cmd: dict) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def next(self, match: Callable[[dict], bool], timeout: float, after: float = 0.0) -> dict:
        """The first event (oldest first) that matches and arrived at or after ``after``."""
        for i, event in enumerate(self.backlog):
            if event["t"] >= after and match(event):
                return self.backlog.pop(i)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event["t"] >= after and match(event):
                return event
            self.backlog.append(event)
        raise AssertionError(f"no matching event in {timeout} s")

    def forget(self) -> None:
        self.backlog.clear()
        while not self.events.empty():
            self.events.get_nowait()


@pytest.fixture
def ricbox(tmp_path: Path, redis_url: str) -> Iterator[tuple[Stack, dict[str, int]]]:
    ports = allocate_ports(PLATFORM_ROLES, free=True)
    services = build_services(ports, redis_url, StackOptions(scenario="small", speed=1.0))
    stack = Stack(services, tmp_path / "run")
    stack.start()
    try:
        assert wait_until(lambda: scrape(ports["e2term-metrics"]).get("twinric_e2_nodes_connected") == 7, 30)
        yield stack, ports
    finally:
        stack.stop()


@pytest.fixture
def probe(tmp_path: Path, ricbox: tuple[Stack, dict[str, int]]) -> Iterator[tuple[Probe, dict[str, int]]]:
    _, ports = ricbox
    mine = {"rmr": free_port(), "rtg": free_port(), "http": free_port()}
    seed = tmp_path / "seed.rt"  # RMRXapp waits for a first table; the real routes come from the push
    seed.write_text(f"newrt|start\nrte|12040|{HOST}:{ports['e2term-rmr']}\nnewrt|end\n")
    env = dict(os.environ, RMR_SEED_RT=str(seed), RMR_RTG_SVC=str(mine["rtg"]), RMR_SRC_ID=HOST)
    proc = subprocess.Popen(
        [sys.executable, str(PROBE), str(mine["rmr"]), str(mine["http"])],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    probe = Probe(proc)
    try:
        probe.next(lambda e: e["event"] == "ready", 20)
        yield probe, mine
    finally:
        proc.kill()
        proc.wait()


def _register(appmgr: str, mine: dict[str, int]) -> None:
    descriptor = {
        "name": "kpmprobe",
        "version": "1.0.0",
        "messaging": {
            "ports": [
                {"name": "http", "container": "probe", "port": mine["http"], "description": "http"},
                {
                    "name": "rmrdata",
                    "container": "probe",
                    "port": mine["rmr"],
                    "description": "rmr data",
                    "txMessages": ["RIC_SUB_REQ", "RIC_SUB_DEL_REQ", "RIC_CONTROL_REQ"],
                    "rxMessages": [
                        "RIC_SUB_RESP",
                        "RIC_INDICATION",
                        "RIC_CONTROL_ACK",
                        "RIC_CONTROL_FAILURE",
                    ],
                    "policies": [],
                },
                {"name": "rmrroute", "container": "probe", "port": mine["rtg"], "description": "rmr route"},
            ]
        },
    }
    body = {
        "appName": "kpmprobe",
        "appInstanceName": "kpmprobe",
        "appVersion": "1.0.0",
        "configPath": "",
        "httpEndpoint": f"{HOST}:{mine['http']}",
        "rmrEndpoint": f"{HOST}:{mine['rmr']}",
        "config": json.dumps(descriptor),
    }
    assert httpx.post(f"{appmgr}/ric/v1/register", json=body, timeout=5).status_code in (200, 201)


def _subscription(mine: dict[str, int]) -> dict:
    trigger = kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(100))
    action = kpm.encode_action_definition(
        kpm.ActionDefinition(
            1,
            kpm.ActionDefinitionFormat1(
                (
                    kpm.MeasurementInfoItem("RRU.PrbAvailDl"),
                    kpm.MeasurementInfoItem("RRU.PrbUsedDl"),
                    kpm.MeasurementInfoItem("RRU.PrbUsedDl", (kpm.MeasurementLabel(slice_id=EMBB),)),
                ),
                100,
            ),
        )
    )
    return {
        "ClientEndpoint": {"Host": HOST, "HTTPPort": mine["http"], "RMRPort": mine["rmr"]},
        "Meid": NODE,
        "RANFunctionID": kpm.RAN_FUNCTION_ID,
        "SubscriptionDetails": [
            {
                "XappEventInstanceId": 4242,
                "EventTriggers": list(trigger),
                "ActionToBeSetupList": [
                    {
                        "ActionID": 1,
                        "ActionType": "report",
                        "ActionDefinition": list(action),
                        "SubsequentAction": {"SubsequentActionType": "continue", "TimeToWait": "w10ms"},
                    }
                ],
            }
        ],
    }


def _embb_share(event: dict) -> float:
    values = event["values"]
    return values[f"RRU.PrbUsedDl|{EMBB.sst}-{EMBB.sd}"] / values["RRU.PrbAvailDl"]


def test_kpm_to_an_rmrxapp_rc_control_applied_and_e2sim_restart_survived(ricbox, probe) -> None:
    stack, ports = ricbox
    xapp, mine = probe
    endpoints = urls(ports)
    _register(endpoints["appmgr"], mine)
    assert wait_until(
        lambda: (
            httpx.get(f"{endpoints['appmgr']}/ric/v1/routes", timeout=5)
            .json()["targets"]
            .get("kpmprobe", {})
            .get("ok")
            is True
        ),
        15,
    )

    resp = httpx.post(f"{endpoints['submgr']}/ric/v1/subscriptions", json=_subscription(mine), timeout=10)
    assert resp.status_code == 201, resp.text
    subscription_id = resp.json()["SubscriptionId"]
    note = xapp.next(lambda e: e["event"] == "notification", 15)["body"]
    assert note["SubscriptionId"] == subscription_id
    instance = note["SubscriptionInstances"][0]["E2EventInstanceId"]
    assert instance > 0 and note["SubscriptionInstances"][0]["XappEventInstanceId"] == 4242

    # KPM indications arrive by RMR with sub_id = E2 instance and meid = the RAN name.
    first = xapp.next(lambda e: e["event"] == "indication", 10)
    assert first["sub_id"] == instance and first["meid"] == NODE
    assert first["values"]["RRU.PrbAvailDl"] > 0
    before = [_embb_share(xapp.next(lambda e: e["event"] == "indication", 5)) for _ in range(5)]
    assert max(before) > 0.05  # eMBB uses more than the quota we are about to impose

    # An RC slice-quota control goes back through e2term by meid, is acknowledged and applied.
    xapp.send(
        {"cmd": "quota", "meid": NODE, "sst": EMBB.sst, "sd": EMBB.sd, "min": 0, "max": 5, "dedicated": 0}
    )
    assert xapp.next(lambda e: e["event"] == "sent", 5)["state"] == 0
    ack = xapp.next(lambda e: e["event"] in ("control_ack", "control_failure"), 10)
    assert ack["event"] == "control_ack" and ack["meid"] == NODE
    settled = ack["t"] + 0.35  # reports whose whole granule ran under the new quota (100 ms granules)
    after = [_embb_share(xapp.next(lambda e: e["event"] == "indication", 5, after=settled)) for _ in range(5)]
    assert max(after) <= 0.05 + 1e-6, after
    assert scrape(ports["e2term-metrics"])["twinric_e2_controls_total"] >= 1

    # Kill and restart e2sim: the node comes back and submgr restores the subscription (same instance).
    e2sim = stack.processes["e2sim"]
    e2sim.stop()
    assert wait_until(lambda: scrape(ports["e2term-metrics"]).get("twinric_e2_nodes_connected") == 0, 10)
    restarted = ManagedProcess("e2sim", e2sim.argv, log_path=stack.run_dir / "e2sim-restarted.log").start()
    try:
        assert wait_until(lambda: scrape(ports["e2term-metrics"]).get("twinric_e2_nodes_connected") == 7, 30)
        xapp.forget()  # what arrived before the restart
        again = xapp.next(lambda e: e["event"] == "indication", 20)
        assert again["sub_id"] == instance and again["meid"] == NODE
    finally:
        restarted.stop()
    listed = httpx.get(f"{endpoints['submgr']}/ric/v1/subscriptions", timeout=5).json()
    assert any(s.get("SubscriptionId") == instance for s in listed)
