"""Test harness: the control xApp as a real process (``python -m xapps.control``) on free ports."""

from __future__ import annotations

import copy
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from twinric.ports import free_port, wait_for_port
from twinric.processes import ManagedProcess, wait_until

DESCRIPTOR = Path(__file__).resolve().parents[3] / "xapps" / "control" / "config-file.json"


def write_routes(path: Path, routes: list[tuple[int, int, str]]) -> Path:
    lines = ["newrt|start", *(f"mse|{m}|{s}|{ep}" for m, s, ep in routes), "newrt|end"]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class XappProcess:
    process: ManagedProcess
    http_port: int
    rmr_port: int
    config_path: Path
    log_path: Path
    instance: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def ready(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/ric/v1/health/ready", timeout=5).json()

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=5).text

    def metric(self, line_prefix: str) -> float:
        for line in self.metrics().splitlines():
            if line.startswith(line_prefix + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


def start_control_xapp(
    tmp_path: Path,
    redis_url: str,
    routes: list[tuple[int, int, str]],
    *,
    controls: dict[str, Any] | None = None,
    instance: str = "control-test",
    env: dict[str, str] | None = None,
    ports: tuple[int, int] | None = None,
    report_period_ms: int | None = None,
) -> XappProcess:
    """Start the xApp; ``ports`` = (http, rmr) to restart one on the addresses it had."""
    descriptor = json.loads(DESCRIPTOR.read_text())
    http_port, rmr_port = ports or (free_port(), free_port())
    ctl = copy.deepcopy(descriptor["controls"])
    ctl.update(
        {
            "xapp_instance": instance,
            "rmr_port": rmr_port,
            "http_port": http_port,
            "redis_url": redis_url,
            "submgr_url": "http://127.0.0.1:9",  # nothing listens: subscriptions stay pending
            "twin_url": None,
            "register": False,
            "seed": 7,
            "snapshot_poll_s": 0.1,
            "identity": {"key_file": None},  # tests that need one pass it in ``controls``
        }
    )
    ctl["pep"] = {**ctl["pep"], "pdp_public_key": None}
    ctl.update(controls or {})
    if report_period_ms is not None:
        ctl["ran"] = {**ctl["ran"], "report_period_ms": report_period_ms}
    descriptor["controls"] = ctl
    config_path = tmp_path / f"{instance}.json"
    config_path.write_text(json.dumps(descriptor))
    seed = write_routes(tmp_path / f"{instance}.rt", routes)
    log_path = tmp_path / f"{instance}.log"
    process = ManagedProcess(
        instance,
        [sys.executable, "-m", "xapps.control"],
        env={
            **os.environ,
            "TWINRIC_RMR": "python",
            "CONFIG_FILE": str(config_path),
            "RMR_SEED_RT": str(seed),
            "RMR_SRC_ID": "127.0.0.1",
            "RMR_RTG_SVC": "-1",
            "TWINRIC_HTTP_HOST": "127.0.0.1",
            "TWINRIC_CLIENT_HOST": "127.0.0.1",
            **(env or {}),
        },
        log_path=log_path,
    ).start()
    started = XappProcess(process, http_port, rmr_port, config_path, log_path, instance)
    if not (wait_for_port(http_port, timeout=30) and wait_until(lambda: "control xApp" in started.log(), 30)):
        process.stop()
        raise AssertionError(f"control xApp did not start:\n{started.log()}")
    return started
