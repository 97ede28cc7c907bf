"""``twinric a1``: the CLI against a real A1 mediator process (real HTTP, real Redis, real RMR handler)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from ricproto import a1, mtypes
from ricproto.rmr import RmrContext
from twinric.cli import app
from twinric.ports import free_port, wait_for_port
from twinric.processes import ManagedProcess

SCHEMA = {
    "type": "object",
    "properties": {"threshold": {"type": "integer", "minimum": 0}},
    "required": ["threshold"],
}


class Handler:
    """An xApp's A1 side on a real RMR context: answers every request with OK."""

    def __init__(self, port: int, mediator_rmr: int) -> None:
        self.ctx = RmrContext(port, src_id="127.0.0.1", bind_host="127.0.0.1")
        self.ctx.load_routes(f"newrt|start\nmse|20011|-1|127.0.0.1:{mediator_rmr}\nnewrt|end|1\n")
        self.requests: list[a1.A1PolicyRequest] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            msg = self.ctx.receive(0.1)
            if msg is None or msg.mtype != mtypes.A1_POLICY_REQ:
                continue
            req = a1.decode_policy_request(msg.payload)
            self.requests.append(req)
            resp = a1.A1PolicyResponse(
                req.policy_type_id, req.policy_instance_id, "cli-test", a1.A1HandlerStatus.OK
            )
            self.ctx.rts(msg, a1.encode_policy_response(resp), mtypes.A1_POLICY_RESP)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.ctx.close()


@pytest.fixture
def a1_url(python_exe: str, redis_url: str, redis_client: redis.Redis, tmp_path: Path) -> Iterator[str]:
    http_port, mediator_rmr, handler_rmr = free_port(), free_port(), free_port()
    seed = tmp_path / "a1.rt"
    seed.write_text(f"newrt|start\nmse|20010|20008|127.0.0.1:{handler_rmr}\nnewrt|end|1\n")
    handler = Handler(handler_rmr, mediator_rmr)
    proc = ManagedProcess(
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
            str(seed),
            "--src-id",
            "127.0.0.1",
            "--redis-url",
            redis_url,
        ],
        log_path=tmp_path / "a1mediator.log",
    ).start()
    try:
        assert wait_for_port(http_port, timeout=20), proc.log_tail()
        yield f"http://127.0.0.1:{http_port}"
    finally:
        proc.stop()
        handler.close()


def run(url: str, *args: str, input: str | None = None):
    return CliRunner().invoke(app, ["a1", "--url", url, *args], input=input)


def test_operator_flow(a1_url: str, tmp_path: Path) -> None:
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(SCHEMA))
    result = run(a1_url, "put-type", "20008", str(schema_file), "--name", "tsapolicy")
    assert result.exit_code == 0, result.output
    assert json.loads(run(a1_url, "types").stdout) == [20008]
    shown = json.loads(run(a1_url, "get-type", "20008").stdout)
    assert (
        shown["create_schema"] == SCHEMA and shown["name"] == "tsapolicy" and shown["policy_type_id"] == 20008
    )

    result = run(a1_url, "put-policy", "20008", "p1", "--data", '{"threshold": 4}')
    assert result.exit_code == 0 and "accepted" in result.stdout
    result = run(a1_url, "status", "20008", "p1", "--wait", "10")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"enforceStatus": "ENFORCED"}
    assert json.loads(run(a1_url, "get-policy", "20008", "p1").stdout) == {"threshold": 4}

    result = run(a1_url, "put-policy", "20008", "p2", "-", input='{"threshold": 2}')  # from stdin
    assert result.exit_code == 0
    assert json.loads(run(a1_url, "policies", "20008").stdout) == ["p1", "p2"]

    assert run(a1_url, "delete-policy", "20008", "p1").exit_code == 0
    gone = run(a1_url, "get-policy", "20008", "p1")
    assert gone.exit_code == 1 and "HTTP 404" in gone.stderr


def test_full_type_object_and_api_suffix_in_url(a1_url: str, tmp_path: Path) -> None:
    type_file = tmp_path / "type.json"
    type_file.write_text(json.dumps({"name": "n", "description": "d", "create_schema": SCHEMA}))
    assert run(f"{a1_url}/A1-P/v2/", "put-type", "7", str(type_file)).exit_code == 0
    assert json.loads(run(a1_url, "get-type", "7").stdout)["description"] == "d"


def test_refusals_are_reported_with_the_mediators_reason(a1_url: str) -> None:
    assert run(a1_url, "put-type", "20008", "--data", json.dumps(SCHEMA)).exit_code == 0
    again = run(a1_url, "put-type", "20008", "--data", json.dumps(SCHEMA))
    assert again.exit_code == 1 and "HTTP 400" in again.stderr and "already exists" in again.stderr

    bad = run(a1_url, "put-policy", "20008", "p1", "--data", '{"threshold": -3}')
    assert bad.exit_code == 1
    assert "HTTP 400" in bad.stderr and "threshold" in bad.stderr and "minimum" in bad.stderr

    assert run(a1_url, "put-policy", "20008", "p1", "--data", "{nope").exit_code == 2  # usage error, not sent
    assert run(a1_url, "put-policy", "20008", "p1").exit_code == 2  # neither file nor --data
    assert run(a1_url, "put-policy", "99", "p1", "--data", "{}").exit_code == 1  # unknown type: 404


def test_status_wait_fails_when_nobody_enforces(a1_url: str) -> None:
    # type 5 has no route to any handler, so nobody ever answers
    assert run(a1_url, "put-type", "5", "--data", json.dumps(SCHEMA)).exit_code == 0
    assert run(a1_url, "put-policy", "5", "x", "--data", '{"threshold": 1}').exit_code == 0
    result = run(a1_url, "status", "5", "x", "--wait", "0.5")
    assert result.exit_code == 1 and json.loads(result.stdout)["enforceStatus"] == "NOT_ENFORCED"


def test_unreachable_mediator() -> None:
    result = run(f"http://127.0.0.1:{free_port()}", "types")
    assert result.exit_code == 2 and "cannot reach the A1 mediator" in result.stderr
