"""Bring your own xApp: third-party-style xApps run unchanged with `twinric xapp run` against `twinric up`.

One box (`twinric up --free-ports`, real processes, real Redis, real RMR, e2sim over framed TCP) serves the
module; it was started with `--xapp` for the benign xApp. Each test runs one xApp from ``byo_xapps/``
(none of which knows about twinric: they use ricxappframe, requests and the RIC's service names) and
asserts on what it received and what it caused in the box.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from ricproto import e2ap
from ricproto.e2transport import connect
from ricproto.service_resolver import ServiceMap
from twinric.processes import wait_until

BYO = Path(__file__).with_name("byo_xapps")
PY = sys.executable
KPM_OID = "1.3.6.1.4.1.53148.1.3.2.2"  # E2SM-KPM v3
RC_OID = "1.3.6.1.4.1.53148.1.1.2.3"
CONNECTED = 1  # R-NIB ConnectionStatus

pytestmark = pytest.mark.slow


@dataclass
class Box:
    run_dir: Path
    state: dict
    env: dict[str, str]

    @property
    def appmgr(self) -> str:
        return self.state["urls"]["appmgr"]

    def status(self) -> dict:
        out = subprocess.run(
            [PY, "-m", "twinric", "status", "--json", "--run-dir", str(self.run_dir)],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
        )
        return json.loads(out.stdout)

    def registered(self) -> dict[str, dict]:
        listing = httpx.get(f"{self.appmgr}/ric/v1/xapps", timeout=5).json()
        return {i["name"]: i for app in listing for i in app["instances"]}

    def service_map(self) -> ServiceMap:
        return ServiceMap.load(self.run_dir / "service-map.json")

    def controls(self) -> float:
        return float(self.status()["controls"])


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Box]:
    redis.Redis.from_url(redis_url).flushdb()  # no E2 nodes or R-NIB of other tests' boxes
    run_dir = tmp_path_factory.mktemp("byo") / "run"
    env = dict(os.environ, TWINRIC_REDIS_URL=redis_url)
    benign = f"--name benign -- {PY} {BYO / 'benign_xapp.py'}"
    # e2term forwards controls only with a PDP grant: the two xApps that control (and know nothing of
    # twinric's PDP) are let through by the operator's setting, as a user testing their xApp would do
    argv = [
        PY,
        "-m",
        "twinric",
        "up",
        "--free-ports",
        "--run-dir",
        str(run_dir),
        "--json",
        "--for",
        "1800",
        "--xapp",
        benign,
        "--allow-ungranted",
        "service-ricxapp-rc-steer-rmr*",
        "--allow-ungranted",
        "service-ricxapp-e2ap-helper-rmr*",
    ]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    try:
        state_file = run_dir / "state.json"

        def started() -> bool:
            return state_file.exists() and any(
                s["name"] == "xapp-1" for s in json.loads(state_file.read_text())["services"]
            )

        assert wait_until(started, 60), proc.stderr.read() if proc.poll() is not None else "no box"
        found = Box(run_dir, json.loads(state_file.read_text()), env)
        assert wait_until(lambda: (r := found.status())["e2_nodes"] == 7 and r["subscriptions"] >= 7, 60), (
            found.status()
        )
        yield found
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


class XappProcess:
    """`twinric xapp run ... -- COMMAND`: the xApp's JSON lines (its stdout) and xapp run's own lines."""

    def __init__(self, box: Box, *args: str, command: list[str]) -> None:
        argv = [PY, "-m", "twinric", "xapp", "run", "--run-dir", str(box.run_dir), *args, "--", *command]
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=box.env,
            start_new_session=True,
        )
        self.events: queue.Queue[dict] = queue.Queue()
        self.seen: list[dict] = []
        self.stderr: list[str] = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    if "event" in event:  # ricxappframe's own mdclog lines share stdout
                        self.events.put(event)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())

    def next(self, kind: str, timeout: float = 30, where: Callable[[dict], bool] = lambda e: True) -> dict:
        for event in self.seen:
            if event["event"] == kind and where(event):
                self.seen.remove(event)
                return event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event["event"] == kind and where(event):
                return event
            self.seen.append(event)
        raise AssertionError(
            f"no {kind!r} event in {timeout} s; stderr: {self.stderr[-15:]}; "
            f"seen: {[e['event'] for e in self.seen]}"
        )

    def said(self, text: str) -> bool:
        return any(text in line for line in self.stderr)

    def wait(self, timeout: float = 90) -> int:
        code = self.proc.wait(timeout)
        time.sleep(0.2)  # let the readers drain the pipes
        return code

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@contextlib.contextmanager
def xapp_run(box: Box, *args: str, command: list[str]) -> Iterator[XappProcess]:
    process = XappProcess(box, *args, command=command)
    try:
        yield process
    finally:
        process.stop()


class ExtraE2Node:
    """An E2 node of the test's own (not e2sim) that connects to the box's e2term and later leaves."""

    def __init__(self, e2_address: str, gnb_id: int = 0x77) -> None:
        host, _, port = e2_address.rpartition(":")
        gnb = e2ap.GlobalgNBID(e2ap.plmn_to_bytes("00101"), e2ap.BitString(gnb_id, 28))
        self.node = e2ap.GlobalE2nodeGnbID(gnb)
        self.ran_name = e2ap.ran_name(self.node)
        self._leave = threading.Event()
        self._done = threading.Event()
        self.response: object = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._run(host, int(port)),), daemon=True)
        self._thread.start()

    async def _run(self, host: str, port: int) -> None:
        conn = await connect(host, port, "tcp")
        try:
            functions = [
                e2ap.RANfunctionItem(2, b"kpm", 1, KPM_OID),
                e2ap.RANfunctionItem(3, b"rc", 1, RC_OID),
            ]
            component = e2ap.E2nodeComponentConfigAdditionItem(
                e2ap.E2nodeComponentInterfaceType.ng,
                e2ap.E2nodeComponentInterfaceNG("amf1"),
                e2ap.E2nodeComponentConfiguration(b"req", b"resp"),
            )
            await conn.send_pdu(e2ap.encode(e2ap.E2setupRequest(1, self.node, functions, [component])))
            self.response = e2ap.decode(await conn.recv_pdu())
            self._done.set()
            while not self._leave.is_set():
                await asyncio.sleep(0.05)
        finally:
            await conn.close()

    def wait_setup(self, timeout: float = 10) -> object:
        assert self._done.wait(timeout), "no E2 setup response"
        return self.response

    def leave(self) -> None:
        self._leave.set()
        self._thread.join(5)


def test_up_with_xapp_runs_a_benign_xapp_that_exits_cleanly(box: Box) -> None:
    """`twinric up --xapp`: the benign xApp DELETEs a subscription submgr never had, gets 204 as from
    OSC's submgr, and exits 0; its end does not take the box down."""
    log = box.run_dir / "xapp-1.log"
    assert wait_until(lambda: log.exists() and "exited with code" in log.read_text(), 60), (
        log.read_text() if log.exists() else "no xapp-1.log"
    )
    text = log.read_text()
    events = [json.loads(line) for line in text.splitlines() if line.startswith('{"event"')]
    assert {"event": "unsubscribe", "status": 204, "reason": "No Content"} in events
    assert events[-1] == {"event": "bye"}
    assert "benign exited with code 0" in text
    status = box.status()
    assert status["running"] and status["services"]["e2term"] and status["services"]["submgr"]
    assert "service-ricxapp-benign-rmr.ricxapp" not in box.service_map().services  # cleaned up


def test_rmrxapp_registers_itself_reads_rnib_and_follows_ran_changes(box: Box) -> None:
    hw = [PY, str(BYO / "hw_rnib_xapp.py")]
    with xapp_run(box, "--descriptor", str(BYO / "hw-rnib.json"), command=hw) as xapp:
        # R-NIB through ricxappframe's helpers: every simulated node, connected, with KPM and RC functions.
        gnbs = xapp.next("gnbs")["gnbs"]
        names = sorted(g["name"] for g in gnbs)
        assert names == [f"gnb_001_001_{i:06x}" for i in range(1, 8)]
        assert all(g["status"] == CONNECTED and g["plmn"] == "00F110" and len(g["nb"]) == 22 for g in gnbs)
        nodeb = xapp.next("nodeb", where=lambda e: e["name"] == names[0])
        assert nodeb["status"] == CONNECTED and nodeb["type"] == 2  # GNB
        assert nodeb["functions"] == [[2, KPM_OID], [3, RC_OID]] and nodeb["kpm_definitions"] == 1
        e2term = next(s for s in box.state["services"] if s["name"] == "e2term")["argv"]
        assert nodeb["e2t"] == "127.0.0.1:" + e2term[e2term.index("--rmr-port") + 1]
        assert xapp.next("all_nodebs")["count"] == 7
        # e2mgr's REST API and an absent platform component, by their service names.
        assert xapp.next("e2mgr_states") == {"event": "e2mgr_states", "status": 200, "names": names}
        alarm = xapp.next("alarm_manager")
        assert alarm["status"] == 501 and alarm["body"]["component"] == "alarmmanager"
        assert "alarm" in (box.run_dir / "absent.log").read_text()
        assert xapp.next("ready")["config"] == {"greeting": "hello R-NIB"}

        # ricxappframe's register() reached appmgr under the name the Service env gave it.
        assert wait_until(lambda: "hw-rnib" in box.registered(), 20)
        assert wait_until(lambda: xapp.said("hw-rnib registered itself"), 10), xapp.stderr
        mine = box.registered()["hw-rnib"]
        assert mine["ip"] == "service-ricxapp-hw-rnib-rmr.ricxapp" and mine["port"] == 4560
        assert "RAN_CONNECTED" in mine["rxMessages"]

        # A node that connects now is announced as e2mgr does: RMR RAN_CONNECTED and the SDL channel.
        time.sleep(2)  # the route table with this xApp's RAN_CONNECTED route reaches e2mgr
        node = ExtraE2Node(box.state["urls"]["e2term_e2"])
        try:
            assert isinstance(node.wait_setup(), e2ap.E2setupResponse)
            notice = xapp.next("ran_connected", where=lambda e: e["meid"] == node.ran_name)
            assert notice["payload"] == {"nodeType": 2, "messageDirection": 2}
            change = xapp.next("ran_state", where=lambda e: f"{node.ran_name}_CONNECTED" in e["events"])
            assert change["channel"] == "RAN_CONNECTION_STATUS_CHANGE"
        finally:
            node.leave()
        xapp.next("ran_state", where=lambda e: f"{node.ran_name}_DISCONNECTED" in e["events"])

        xapp.proc.send_signal(signal.SIGTERM)  # xapp run hands it on; ricxappframe's stop() deregisters
        assert xapp.wait(60) == 0
        assert xapp.next("stopped", timeout=5)
    assert "hw-rnib" not in box.registered()
    assert "service-ricxapp-hw-rnib-rmr.ricxapp" not in box.service_map().services


def test_xapp_subscribes_over_rest_and_decodes_kpm(box: Box) -> None:
    with xapp_run(
        box, "--descriptor", str(BYO / "kpm-monitor.json"), command=[PY, str(BYO / "kpm_monitor_xapp.py")]
    ) as xapp:
        subscribed = xapp.next("subscribed", timeout=60)
        assert subscribed["status"] == 201 and subscribed["body"]["SubscriptionInstances"] is None
        instance = xapp.next("notification")["instance"]
        assert instance > 0
        listed = xapp.next("listing")["mine"]  # the list's SubscriptionId is the spec's integer
        assert listed == [
            {
                "SubscriptionId": instance,
                "Meid": subscribed["meid"],
                "ClientEndpoint": ["service-ricxapp-kpm-monitor-rmr.ricxapp:4560"],
                "Status": "active",
            }
        ]
        report = xapp.next("cell_report", timeout=60)
        assert report["sub_id"] == instance and report["meid"] == subscribed["meid"] and report["action"] == 1
        assert set(report["values"]) == {"DRB.UEThpDl", "RRU.PrbUsedDl"}
        assert xapp.next("ue_report", timeout=60)["action"] == 2
        summary = xapp.next("summary", timeout=90)
        assert xapp.wait() == 0, xapp.stderr
    # The box's control xApp sends controls all along; none of their answers reached this xApp.
    assert summary["control_answers"] == 0 and summary["deleted"] == 204
    assert wait_until(lambda: xapp.said("kpm-monitor exited with code 0 (registered by itself)"), 5), (
        xapp.stderr
    )
    assert "kpm-monitor" not in box.registered()


def test_rc_xapp_gets_its_own_control_answers_and_handles_failures(box: Box) -> None:
    controls_before = box.controls()
    with xapp_run(
        box,
        "--descriptor",
        str(BYO / "rc-steer.json"),
        "--register-after",
        "2",
        command=[PY, str(BYO / "rc_steer_xapp.py")],
    ) as xapp:
        assert xapp.next("nodes", timeout=60)["count"] == 7
        # It never registers itself: xapp run registered it from its descriptor.
        assert wait_until(lambda: xapp.said("rc-steer did not register itself within 2 s"), 20), xapp.stderr
        assert "RIC_CONTROL_ACK" in box.registered()["rc-steer"]["rxMessages"]
        summary = xapp.next("summary", timeout=60)
        code = xapp.wait()
        answers = []
        while True:
            try:
                answers.append(xapp.next("answer", timeout=0.5))
            except AssertionError:
                break
    assert code == 0 and summary["ok"], (summary, answers)
    by_instance = {a["instance"]: a for a in answers}
    assert by_instance[1]["mtype"] == 12041 and by_instance[1]["sub_id"] == 1
    assert by_instance[2]["mtype"] == 12042 and by_instance[2]["cause"] == "control_message_invalid"
    assert summary["unanswered"] == [3] and summary["foreign"] == 0
    # Meanwhile the box's control xApp kept sending controls; their answers went to it, not here.
    assert box.controls() - controls_before > 3


def test_xapp_with_ricxappframe_e2ap_helpers(box: Box) -> None:
    with xapp_run(
        box, "--descriptor", str(BYO / "e2ap-helper.json"), command=[PY, str(BYO / "e2ap_helper_xapp.py")]
    ) as xapp:
        library = xapp.next("library", timeout=30)
        assert library["module"] == "ricproto.xappframe_e2ap"  # no libriclibe2ap.so needed
        assert xapp.next("control_sent", timeout=60)["state"] == 0
        summary = xapp.next("summary", timeout=60)
        assert xapp.wait() == 0, (summary, xapp.stderr)
    first = summary["indications"][0]
    assert first["function_id"] == 2 and first["action_id"] == 3 and first["type"] == 0
    assert first["sequence_number"] == summary["instance"] == first["sub_id"]
    assert first["measurements"] == ["RRU.PrbTotDl"]
    assert summary["answer"] == {"mtype": 12041, "instance": 5, "requestor": 99}
    assert summary["deleted"] == 204


def test_xapp_run_without_a_box_says_so(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            PY,
            "-m",
            "twinric",
            "xapp",
            "run",
            "--run-dir",
            str(tmp_path),
            "--name",
            "x",
            "--",
            PY,
            "-c",
            "pass",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "no box is running" in out.stderr and "twinric up" in out.stderr
