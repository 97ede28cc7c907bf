"""The A1 mediator process against a handler built on ricxappframe's RMRXapp (pure-Python RMR backend)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from twinric.ports import free_port, wait_for_port
from twinric.processes import ManagedProcess, wait_until

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
TYPE_ID = 21000
TYPE_URL = f"/A1-P/v2/policytypes/{TYPE_ID}"
TYPE_BODY = {
    "name": "t",
    "description": "",
    "policy_type_id": TYPE_ID,
    "create_schema": {"type": "object", "properties": {"level": {"type": "string"}}},
}


def lines(path: Path) -> list[dict]:
    """The handler's request lines (its stdout also carries ricxappframe's mdclog lines)."""
    if not path.exists():
        return []
    # Only whole lines: the handler may be half-way through writing the last one.
    complete = [line for line in path.read_text().splitlines(keepends=True) if line.endswith("\n")]
    parsed = [json.loads(line) for line in complete if line.startswith("{")]
    return [p for p in parsed if "operation" in p]


def test_rmrxapp_handler_gets_go_format_requests_and_enforces(python_exe, redis_url, redis_client, tmp_path):
    http_port, mediator_rmr, handler_rmr = free_port(), free_port(), free_port()
    (tmp_path / "mediator.rt").write_text(
        f"newrt|start\nmse|20010|{TYPE_ID}|127.0.0.1:{handler_rmr}\nnewrt|end|1\n"
    )
    (tmp_path / "handler.rt").write_text(f"newrt|start\nmse|20011|-1|127.0.0.1:{mediator_rmr}\nnewrt|end|1\n")
    handler_out = tmp_path / "handler.out"
    env = {
        **os.environ,
        "TWINRIC_RMR": "python",
        "RMR_SEED_RT": str(tmp_path / "handler.rt"),
        "RMR_SRC_ID": "127.0.0.1",
        "RMR_RTG_SVC": "-1",
    }
    handler = ManagedProcess(
        "handler",
        [python_exe, str(HERE / "rmrxapp_policy_handler.py"), str(handler_rmr)],
        env=env,
        log_path=handler_out,
    ).start()
    mediator = ManagedProcess(
        "a1mediator",
        [
            python_exe,
            "-m",
            "ricplt.a1mediator",
            "--http-port",
            str(http_port),
            "--rmr-port",
            str(mediator_rmr),
            "--seed-rt",
            str(tmp_path / "mediator.rt"),
            "--src-id",
            "127.0.0.1",
            "--redis-url",
            redis_url,
        ],
        log_path=tmp_path / "a1mediator.log",
    ).start()
    try:
        assert wait_until(
            lambda: "ready" in handler_out.read_text() if handler_out.exists() else False, 30
        ), handler.log_tail()
        assert wait_for_port(http_port, timeout=20), mediator.log_tail()
        with httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=5) as http:
            assert http.put(TYPE_URL, json=TYPE_BODY).status_code == 201
            assert http.put(f"{TYPE_URL}/policies/z1", json={"level": "strict"}).status_code == 202
            assert wait_until(lambda: len(lines(handler_out)) == 1, 10), handler.log_tail()
            assert lines(handler_out)[0] == {
                "operation": "CREATE",
                "policy_type_id": TYPE_ID,
                "policy_instance_id": "z1",
                "payload": {"level": "strict"},
                "sub_id": TYPE_ID,
            }

            def status() -> str:
                return http.get(f"{TYPE_URL}/policies/z1/status").json()["enforceStatus"]

            assert wait_until(lambda: status() == "ENFORCED", 10), mediator.log_tail()
            assert http.delete(f"{TYPE_URL}/policies/z1").status_code == 202
            assert wait_until(lambda: len(lines(handler_out)) == 2, 10)
            assert lines(handler_out)[1]["operation"] == "DELETE"
            assert wait_until(
                lambda: not redis_client.exists(f"{{A1m_ns}},a1.policy_inst_metadata.{TYPE_ID}.z1"), 10
            )
        assert handler.alive() and mediator.alive()
    finally:
        mediator.stop()
        handler.stop()
