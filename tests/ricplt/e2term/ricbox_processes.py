"""Test harness: e2term and submgr as real processes on free ports, with seed route files, and /metrics."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from twinric.ports import free_port, wait_for_port
from twinric.processes import ManagedProcess


def write_routes(path: Path, routes: dict[int, str]) -> Path:
    """A seed route table file sending each mtype (any sub_id) to one endpoint."""
    lines = [
        "newrt|start",
        *(f"mse|{mtype}|-1|{endpoint}" for mtype, endpoint in routes.items()),
        "newrt|end",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def metric(port: int, name: str, **labels: str) -> float:
    """One sample of ``name`` (with exactly these labels, in any order) from ``/metrics``; 0 if absent."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if found == labels:
            return float(match.group(3))
    return 0.0


@dataclass
class E2TermProcess:
    e2_port: int
    rmr_port: int
    metrics_port: int
    process: ManagedProcess
    log_path: Path

    @property
    def rmr_endpoint(self) -> str:
        return f"127.0.0.1:{self.rmr_port}"

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def start_e2term(
    tmp_path: Path,
    redis_url: str,
    routes: dict[int, str],
    *,
    rmr_port: int | None = None,
    name: str = "e2term",
    extra_args: list[str] | None = None,
) -> E2TermProcess:
    e2_port, metrics_port = free_port(), free_port()
    rmr_port = rmr_port or free_port()
    seed = write_routes(tmp_path / f"{name}.rt", routes)
    log_path = tmp_path / f"{name}.log"
    process = ManagedProcess(
        name,
        [
            sys.executable,
            "-m",
            "ricplt.e2term",
            "--e2-host",
            "127.0.0.1",
            "--e2-port",
            str(e2_port),
            "--transport",
            "tcp",
            "--rmr-port",
            str(rmr_port),
            "--metrics-port",
            str(metrics_port),
            "--redis-url",
            redis_url,
            "--seed-rt",
            str(seed),
            "--src-id",
            "127.0.0.1",
            "--log-level",
            "DEBUG",
            *(extra_args or []),
        ],
        log_path=log_path,
    ).start()
    started = E2TermProcess(e2_port, rmr_port, metrics_port, process, log_path)
    if not (wait_for_port(e2_port, timeout=20) and wait_for_port(metrics_port, timeout=5)):
        process.stop()
        raise AssertionError(f"e2term did not start:\n{started.log()}")
    return started


@dataclass
class SubmgrProcess:
    http_port: int
    rmr_port: int
    process: ManagedProcess
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def start_submgr(
    tmp_path: Path,
    redis_url: str,
    routes: dict[int, str],
    *,
    rmr_port: int | None = None,
    rtmgr_url: str | None = None,
    name: str = "submgr",
) -> SubmgrProcess:
    http_port = free_port()
    rmr_port = rmr_port or free_port()
    seed = write_routes(tmp_path / f"{name}.rt", routes)
    log_path = tmp_path / f"{name}.log"
    argv = [
        sys.executable,
        "-m",
        "ricplt.submgr",
        "--http-host",
        "127.0.0.1",
        "--http-port",
        str(http_port),
        "--rmr-port",
        str(rmr_port),
        "--redis-url",
        redis_url,
        "--seed-rt",
        str(seed),
        "--src-id",
        "127.0.0.1",
        "--log-level",
        "DEBUG",
    ]
    if rtmgr_url:
        argv += ["--rtmgr-url", rtmgr_url]
    process = ManagedProcess(name, argv, log_path=log_path).start()
    started = SubmgrProcess(http_port, rmr_port, process, log_path)
    if not wait_for_port(http_port, timeout=20):
        process.stop()
        raise AssertionError(f"submgr did not start:\n{started.log()}")
    return started
