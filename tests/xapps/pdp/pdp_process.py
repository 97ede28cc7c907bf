"""Test harness: the PDP xApp as a real process (``python -m xapps.pdp``) and an RMR peer that plays the
A1 mediator and a PEP."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ricproto import a1, access, mtypes
from ricproto.rmr import RmrContext, RmrMessage
from twinric.ports import free_port, wait_for_port
from twinric.processes import ManagedProcess, wait_until

DESCRIPTOR = Path(__file__).resolve().parents[3] / "xapps" / "pdp" / "config-file.json"


class RmrPeer:
    def __init__(self) -> None:
        self.port = free_port()
        self.ctx = RmrContext(self.port, src_id="127.0.0.1", bind_host="127.0.0.1", route_client=False)
        self.backlog: list[RmrMessage] = []

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def route_to(self, pdp_endpoint: str, type_id: int) -> None:
        self.ctx.load_routes(
            f"newrt|start\nmse|{mtypes.A1_POLICY_REQ}|{type_id}|{pdp_endpoint}\n"
            f"mse|{mtypes.TWINRIC_ACCESS_REQ}|-1|{pdp_endpoint}\nnewrt|end\n"
        )

    def expect(self, mtype: int, timeout: float = 5.0) -> RmrMessage:
        for i, m in enumerate(self.backlog):
            if m.mtype == mtype:
                return self.backlog.pop(i)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            m = self.ctx.receive(left)
            if m is None:
                break
            if m.mtype == mtype:
                return m
            self.backlog.append(m)
        raise AssertionError(f"no RMR {mtype} within {timeout}s (got {[m.mtype for m in self.backlog]})")

    def a1(self, operation: str, instance: str, payload: dict | None, type_id: int) -> dict:
        req = a1.A1PolicyRequest(a1.A1Operation(operation), type_id, instance, payload)
        assert self.ctx.send(mtypes.A1_POLICY_REQ, a1.encode_policy_request(req, "go"), sub_id=type_id) == 0
        return json.loads(self.expect(mtypes.A1_POLICY_RESP).payload)

    def ask(self, payload: bytes, timeout: float = 5.0) -> access.AccessResponse:
        assert wait_until(lambda: self.ctx.send(mtypes.TWINRIC_ACCESS_REQ, payload) == 0, timeout)
        return access.decode_response(self.expect(mtypes.TWINRIC_ACCESS_RESP, timeout).payload)

    def close(self) -> None:
        self.ctx.close()


@dataclass
class PdpProcess:
    process: ManagedProcess
    http_port: int
    rmr_port: int
    log_path: Path
    decisions_file: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.rmr_port}"

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def status(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/v1/status", timeout=5).json()

    def metric(self, line_prefix: str) -> float:
        for line in httpx.get(f"{self.url}/metrics", timeout=5).text.splitlines():
            if line.startswith(line_prefix + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


def start_pdp(
    tmp_path: Path,
    redis_url: str,
    key_file: Path,
    keys_dir: Path,
    routes: list[tuple[int, str]],
    *,
    ports: tuple[int, int] | None = None,
) -> PdpProcess:
    descriptor = json.loads(DESCRIPTOR.read_text())
    http_port, rmr_port = ports or (free_port(), free_port())
    decisions = tmp_path / "pdp-decisions.jsonl"
    descriptor["controls"].update(
        rmr_port=rmr_port,
        http_port=http_port,
        redis_url=redis_url,
        register=False,
        identity={"key_file": str(key_file), "xapp_keys_dir": str(keys_dir)},
        decision_log={"file": str(decisions), "stream_maxlen": 1000},
        trust_scan_s=0.3,
    )
    config = tmp_path / "pdp.json"
    config.write_text(json.dumps(descriptor))
    seed = tmp_path / "pdp.rt"
    seed.write_text("newrt|start\n" + "".join(f"mse|{m}|-1|{ep}\n" for m, ep in routes) + "newrt|end\n")
    log_path = tmp_path / "pdp.log"
    process = ManagedProcess(
        "pdp",
        [sys.executable, "-m", "xapps.pdp"],
        env={
            **os.environ,
            "TWINRIC_RMR": "python",
            "CONFIG_FILE": str(config),
            "RMR_SEED_RT": str(seed),
            "RMR_SRC_ID": "127.0.0.1",
            "RMR_RTG_SVC": "-1",
            "TWINRIC_HTTP_HOST": "127.0.0.1",
        },
        log_path=log_path,
    ).start()
    started = PdpProcess(process, http_port, rmr_port, log_path, decisions)
    if not (wait_for_port(http_port, timeout=30) and wait_until(lambda: "PDP xApp" in started.log(), 30)):
        process.stop()
        raise AssertionError(f"PDP xApp did not start:\n{started.log()}")
    return started
