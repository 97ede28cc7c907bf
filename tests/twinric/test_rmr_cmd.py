"""``twinric rmr send|recv|probe`` against real RMR endpoints on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ricproto import mtypes
from ricproto.rmr import RmrContext
from twinric.cli import app
from twinric.ports import free_port
from twinric.processes import ManagedProcess, wait_until

pytestmark = pytest.mark.timeout(60)
runner = CliRunner()


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI points the root logger at the runner's (then closed) stderr: put it back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_send_to_a_target_delivers_every_message() -> None:
    with RmrContext(0, src_id="127.0.0.1") as sink:
        result = runner.invoke(
            app,
            [
                "rmr",
                "send",
                "--target",
                f"127.0.0.1:{sink.port}",
                "--mtype",
                "RIC_INDICATION",
                "--payload",
                "msg-{i}",
                "--count",
                "3",
                "--sub-id",
                "4",
                "--meid",
                "gnb1",
                "--src-id",
                "127.0.0.1",
                "--json",
            ],
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout.strip().splitlines()[-1])["sent"] == 3
        got = [sink.receive(2) for _ in range(3)]
    assert [(m.mtype, m.payload, m.sub_id, m.meid) for m in got] == [
        (12050, f"msg-{i}".encode(), 4, "gnb1") for i in range(3)
    ]


def test_send_by_route_table_and_call(tmp_path: Path) -> None:
    with RmrContext(0, src_id="127.0.0.1") as echo:
        table = tmp_path / "rt"
        table.write_text(f"newrt|start\nrte|2000|127.0.0.1:{echo.port}\nnewrt|end\n")

        def answer() -> None:
            msg = echo.receive(3)
            if msg is not None:
                echo.rts(msg, b"pong:" + msg.payload, 2001)

        t = threading.Thread(target=answer)
        t.start()
        result = runner.invoke(
            app,
            [
                "rmr",
                "send",
                "--routes",
                str(table),
                "--mtype",
                "2000",
                "--payload",
                "x",
                "--call",
                "--timeout",
                "2",
                "--src-id",
                "127.0.0.1",
                "--json",
            ],
        )
        t.join()
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["replies"][0]["payload"] == "pong:x" and out["replies"][0]["mtype"] == 2001


def test_send_without_a_route_fails() -> None:
    result = runner.invoke(app, ["rmr", "send", "--target", f"127.0.0.1:{free_port()}", "--mtype", "5"])
    assert result.exit_code == 1


def test_probe_reports_healthy_and_unreachable() -> None:
    with RmrContext(0, src_id="127.0.0.1") as xapp:

        def health() -> None:
            msg = xapp.receive(3)
            if msg is not None and msg.mtype == mtypes.RIC_HEALTH_CHECK_REQ:
                xapp.rts(msg, b"OK\n", mtypes.RIC_HEALTH_CHECK_RESP)

        t = threading.Thread(target=health)
        t.start()
        result = runner.invoke(
            app, ["rmr", "probe", "--target", f"127.0.0.1:{xapp.port}", "--src-id", "127.0.0.1", "--json"]
        )
        t.join()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["healthy"] and report["checks"][0]["answer"] == "OK"
    dead = runner.invoke(app, ["rmr", "probe", "--target", f"127.0.0.1:{free_port()}", "--json"])
    assert dead.exit_code == 1 and json.loads(dead.stdout.strip().splitlines()[-1])["connected"] is False


def test_recv_prints_json_lines_and_echoes(tmp_path: Path, python_exe: str) -> None:
    port = free_port()
    log = tmp_path / "recv.log"
    argv = [
        python_exe,
        "-m",
        "twinric",
        "rmr",
        "recv",
        "--port",
        str(port),
        "--count",
        "2",
        "--echo",
        "--json",
        "--src-id",
        "127.0.0.1",
    ]
    proc = ManagedProcess("rmr-recv", argv, log_path=log).start()
    try:
        assert wait_until(lambda: "listening on" in proc.log_tail(), 20), proc.log_tail()
        with RmrContext(0, src_id="127.0.0.1") as sender:
            whid = sender.wh_open(f"127.0.0.1:{port}")
            assert sender.wh_send(whid, 300, b"first", sub_id=9) == 0
            reply = sender.wh_call(whid, 301, b"second", timeout=3)
            assert reply is not None and reply.mtype == 302 and reply.payload == b"second"
        assert wait_until(lambda: not proc.alive(), 10)
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith('{"mtype"')]
        got = [(x["mtype"], x["payload"], x["sub_id"]) for x in lines]
        assert got == [(300, "first", 9), (301, "second", -1)]
        assert proc.returncode() == 0
    finally:
        proc.stop()
