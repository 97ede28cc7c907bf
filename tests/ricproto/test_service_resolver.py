"""The box's service names: the map's rules (pure) and, in fresh processes, what the import hook installs.

The socket wrappers are process-wide and never undone, so everything that needs them runs in a child
interpreter of the venv (where the ``.pth`` import hook installs them from the environment), against real
servers of this test process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ricproto.service_resolver import (
    LISTEN_ENV,
    MAP_ENV,
    ServiceMap,
    UnknownService,
    format_listen_ports,
    normalize,
    parse_listen_ports,
)
from twinric.ports import free_port


def test_names_are_normalized_like_cluster_dns() -> None:
    assert (
        normalize("Service-RICPLT-appmgr-http.ricplt.svc.cluster.local.")
        == "service-ricplt-appmgr-http.ricplt"
    )
    assert normalize("service-ricplt-appmgr-http.ricplt.svc") == "service-ricplt-appmgr-http.ricplt"


def test_each_service_gets_its_own_cluster_ip_and_keeps_the_asked_port() -> None:
    book = ServiceMap()
    book.add("service-ricplt-appmgr-http.ricplt", 8080, "127.0.0.1:41001")
    book.add("service-ricplt-submgr-http.ricplt", 8088, "127.0.0.1:41002")
    book.add("service-ricplt-submgr-http.ricplt", 3800, "127.0.0.1:41002")
    appmgr = book.resolve("SERVICE-RICPLT-APPMGR-HTTP.ricplt.svc.cluster.local", 8080)
    submgr = book.resolve("service-ricplt-submgr-http.ricplt", 3800)
    assert appmgr != submgr and appmgr.startswith("127.77.") and submgr.startswith("127.77.")
    assert book.resolve("service-ricplt-submgr-http.ricplt", None) == submgr
    assert book.translate(submgr, 8088) == ("127.0.0.1", 41002)
    assert book.translate(appmgr, 8080) == ("127.0.0.1", 41001)
    assert book.translate("127.0.0.1", 8080) is None  # not a cluster IP: untouched
    with pytest.raises(ConnectionRefusedError, match="no port 9"):
        book.translate(appmgr, 9)


def test_names_outside_the_ric_resolve_normally() -> None:
    assert ServiceMap().resolve("pypi.org", 443) is None
    assert ServiceMap().resolve("my-own-host", None) is None


def test_ric_names_the_box_does_not_serve_fail_with_the_component_named() -> None:
    book = ServiceMap(absent={"service-ricplt-alarmmanager-rmr.ricplt": "alarm manager"})
    book.add("service-ricplt-appmgr-http.ricplt", 8080, "127.0.0.1:1")
    with pytest.raises(
        UnknownService, match="OSC's alarm manager, which twinric's box does not run"
    ) as absent:
        book.resolve("service-ricplt-alarmmanager-rmr.ricplt", 4560)
    assert absent.value.component == "alarm manager"
    with pytest.raises(UnknownService, match=r"not a service of twinric's box .*appmgr"):
        book.resolve("service-ricplt-unknown-http.ricplt", 80)
    with pytest.raises(UnknownService, match=r"has no port 9090 .* serves 8080"):
        book.resolve("service-ricplt-appmgr-http.ricplt", 9090)
    with pytest.raises(UnknownService):
        book.resolve("service-ricxapp-someone-rmr.ricxapp", 4560)


def test_map_file_round_trip_and_locked_edits(tmp_path: Path) -> None:
    path = tmp_path / "service-map.json"
    with ServiceMap.editing(path) as book:
        book.add("service-ricxapp-a-rmr.ricxapp", 4560, "127.0.0.1:5000")
    with ServiceMap.editing(path) as book:
        book.add("service-ricxapp-b-rmr.ricxapp", 4560, "127.0.0.1:5001")
        book.absent["service-ricplt-x.ricplt"] = "x"
    loaded = ServiceMap.load(path)
    assert set(loaded.services) == {"service-ricxapp-a-rmr.ricxapp", "service-ricxapp-b-rmr.ricxapp"}
    assert (
        loaded.services["service-ricxapp-a-rmr.ricxapp"].ip
        != loaded.services["service-ricxapp-b-rmr.ricxapp"].ip
    )
    assert loaded.absent == {"service-ricplt-x.ricplt": "x"}
    assert ServiceMap.from_json(json.loads(path.read_text())) == loaded
    with ServiceMap.editing(path) as book:
        book.remove("service-ricxapp-a-rmr.ricxapp")
    assert set(ServiceMap.load(path).services) == {"service-ricxapp-b-rmr.ricxapp"}


def test_listen_ports_variable() -> None:
    assert parse_listen_ports("4560:41001, 8080:41003") == {4560: 41001, 8080: 41003}
    assert format_listen_ports({8080: 3, 4560: 1}) == "4560:1,8080:3"
    assert parse_listen_ports("") == {}
    with pytest.raises(ValueError, match="POD_PORT:BOX_PORT"):
        parse_listen_ports("4560=41001")


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "host": self.headers["Host"]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def _child(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def test_clients_in_a_box_process_reach_services_by_name(tmp_path: Path, web: int) -> None:
    path = tmp_path / "service-map.json"
    book = ServiceMap(absent={"service-ricplt-alarmmanager-rmr.ricplt": "alarm manager"})
    book.add("service-ricplt-e2mgr-http.ricplt", 3800, f"127.0.0.1:{web}")
    book.save(path)
    out = _child(
        """
        import asyncio, json, socket, httpx, requests, urllib.request
        url = "http://service-ricplt-e2mgr-http.ricplt:3800/v1/nodeb/states"
        print(json.dumps(requests.get(url, timeout=5).json()))
        print(json.dumps(httpx.get(url, timeout=5).json()))
        async def main():
            async with httpx.AsyncClient() as client:  # anyio connects to the port it was given
                return (await client.get(url)).json()
        print(json.dumps(asyncio.run(main())))
        print(json.dumps(json.loads(urllib.request.urlopen(url, timeout=5).read())))
        print(json.dumps(socket.gethostbyname("service-ricplt-e2mgr-http.ricplt.svc.cluster.local")))
        try:
            socket.getaddrinfo("service-ricplt-alarmmanager-rmr.ricplt", 4560)
        except socket.gaierror as exc:
            print(json.dumps(str(exc)))
    """,
        {MAP_ENV: str(path)},
    )
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    expected = {"path": "/v1/nodeb/states", "host": "service-ricplt-e2mgr-http.ricplt:3800"}
    assert lines[:4] == [expected] * 4  # requests, httpx, httpx async, urllib
    assert lines[4].startswith("127.77.")
    assert "OSC's alarm manager, which twinric's box does not run" in lines[5]
    assert (
        "twinric box: service-ricplt-alarmmanager-rmr.ricplt is OSC's alarm manager" in out.stderr
    )  # logged


def test_names_added_while_a_process_runs_are_seen(tmp_path: Path, web: int) -> None:
    path = tmp_path / "service-map.json"
    ServiceMap().save(path)
    script = tmp_path / "late.py"
    script.write_text(
        textwrap.dedent("""
        import sys, time, requests
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                print(requests.get("http://service-ricxapp-late-http.ricxapp:8080/x", timeout=2).status_code)
                sys.exit(0)
            except requests.ConnectionError:
                time.sleep(0.1)
        sys.exit(1)
    """)
    )
    child = subprocess.Popen(
        [sys.executable, str(script)],
        env={**os.environ, MAP_ENV: str(path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with ServiceMap.editing(path) as book:
        book.add("service-ricxapp-late-http.ricxapp", 8080, f"127.0.0.1:{web}")
    stdout, stderr = child.communicate(timeout=30)
    assert child.returncode == 0 and stdout.strip() == "200", stderr


def test_pod_ports_move_at_bind_and_the_process_still_sees_them(tmp_path: Path) -> None:
    box_port = free_port()
    out = _child(
        f"""
        import socket
        server = socket.socket()
        server.bind(("0.0.0.0", 4560))  # what the descriptor says; taken on the host, free in a pod
        server.listen()
        print(server.getsockname()[1])
        other = socket.socket()
        other.bind(("127.0.0.1", 0))  # ports the process did not declare are left alone
        print(other.getsockname()[1] != 4560)
        client = socket.create_connection(("127.0.0.1", {box_port}), timeout=5)
        conn, _ = server.accept()
        print("accepted")
    """,
        {LISTEN_ENV: f"4560:{box_port}"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["4560", "True", "accepted"]


def test_a_process_without_the_variables_is_left_alone() -> None:
    env = {k: v for k, v in os.environ.items() if k not in (MAP_ENV, LISTEN_ENV)}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import socket, _socket; print(socket.socket.connect is "
            "_socket.socket.connect, socket.socket.bind is _socket.socket.bind, "
            "socket.getaddrinfo.__module__)",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert out.stdout.split() == ["True", "True", "socket"]
    assert socket.socket.connect is __import__("_socket").socket.connect  # nor is this test process
