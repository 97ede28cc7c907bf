"""End to end: the A1 mediator as a process, real Redis, real HTTP, real RMR to a policy handler.

The handler is a real RMR peer (an ``RmrContext`` in the test process) that answers every
A1_POLICY_REQ the way an xApp should: RTS with A1_POLICY_RESP, type id as a JSON number.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from ricproto import a1, mtypes
from ricproto.rmr import RmrContext, RmrMessage
from twinric.ports import free_port, wait_for_port
from twinric.processes import ManagedProcess, wait_until

pytestmark = pytest.mark.slow

TYPE_ID = 20008
TYPE_BODY = {
    "name": "tsapolicy",
    "description": "traffic steering threshold",
    "policy_type_id": TYPE_ID,
    "create_schema": {
        "type": "object",
        "properties": {"threshold": {"type": "integer", "minimum": 0}},
        "required": ["threshold"],
        "additionalProperties": False,
    },
}
TYPE_URL = f"/A1-P/v2/policytypes/{TYPE_ID}"


class PolicyHandler:
    """An xApp's A1 handling on a real RMR context: records requests, answers by RTS."""

    def __init__(self, port: int, mediator_rmr: int) -> None:
        self.ctx = RmrContext(port, src_id="127.0.0.1", bind_host="127.0.0.1")
        target = f"127.0.0.1:{mediator_rmr}"
        self.ctx.load_routes(
            f"newrt|start|handler\nmse|20011|-1|{target}\nmse|20012|-1|{target}\nnewrt|end|2\n"
        )
        self.requests: queue.Queue[tuple[RmrMessage, a1.A1PolicyRequest]] = queue.Queue()
        self.answer = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            msg = self.ctx.receive(0.1)
            if msg is None or msg.mtype != mtypes.A1_POLICY_REQ:
                continue
            req = a1.decode_policy_request(msg.payload)
            self.requests.put((msg, req))
            if self.answer:
                status = a1.A1HandlerStatus.DELETED if req.operation is a1.A1Operation.DELETE else "OK"
                resp = a1.A1PolicyResponse(
                    req.policy_type_id, req.policy_instance_id, "test-xapp", a1.A1HandlerStatus(status)
                )
                self.ctx.rts(msg, a1.encode_policy_response(resp), mtypes.A1_POLICY_RESP)

    def next(self, timeout: float = 5.0) -> tuple[RmrMessage, a1.A1PolicyRequest]:
        return self.requests.get(timeout=timeout)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.ctx.close()


def start_mediator(
    python_exe: str, redis_url: str, tmp_path: Path, extra: list[str]
) -> tuple[ManagedProcess, int]:
    http_port = free_port()
    proc = ManagedProcess(
        "a1mediator",
        [
            python_exe,
            "-m",
            "ricplt.a1mediator",
            "--http-port",
            str(http_port),
            "--redis-url",
            redis_url,
            "--src-id",
            "127.0.0.1",
            *extra,
        ],
        log_path=tmp_path / "a1mediator.log",
    ).start()
    if not wait_for_port(http_port, timeout=20):
        proc.stop()
        pytest.fail(f"A1 mediator did not start:\n{proc.log_tail()}")
    return proc, http_port


@pytest.fixture
def stack(python_exe: str, redis_url: str, redis_client: redis.Redis, tmp_path: Path) -> Iterator[tuple]:
    mediator_rmr, handler_rmr = free_port(), free_port()
    seed = tmp_path / "a1.rt"
    seed.write_text(f"newrt|start\nmse|20010|{TYPE_ID}|127.0.0.1:{handler_rmr}\nnewrt|end|1\n")
    handler = PolicyHandler(handler_rmr, mediator_rmr)
    proc, http_port = start_mediator(
        python_exe, redis_url, tmp_path, ["--rmr-port", str(mediator_rmr), "--seed-rt", str(seed)]
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=5) as http:
            yield http, handler, proc, redis_client
    finally:
        proc.stop()
        handler.close()


def enforce(http: httpx.Client, iid: str) -> str | None:
    resp = http.get(f"{TYPE_URL}/policies/{iid}/status")
    return resp.json()["enforceStatus"] if resp.status_code == 200 else None


def test_policy_lifecycle_over_rest_and_rmr(stack) -> None:
    http, handler, proc, rds = stack
    assert http.get("/A1-P/v2/healthcheck").status_code == 200
    assert http.put(TYPE_URL, json=TYPE_BODY).status_code == 201

    assert http.put(f"{TYPE_URL}/policies/p1", json={"threshold": 5}).status_code == 202
    msg, req = handler.next()
    assert msg.sub_id == TYPE_ID and msg.mtype == mtypes.A1_POLICY_REQ
    wire = json.loads(msg.payload)  # the Go mediator's format: every value a string
    assert wire == {
        "operation": "CREATE",
        "policy_type_id": str(TYPE_ID),
        "policy_instance_id": "p1",
        "payload": '{"threshold":5}',
    }
    assert wait_until(lambda: enforce(http, "p1") == "ENFORCED", 5)

    assert http.put(f"{TYPE_URL}/policies/p1", json={"threshold": 9}).status_code == 202
    _, req = handler.next()
    assert req.operation is a1.A1Operation.UPDATE and req.payload == {"threshold": 9}
    assert wait_until(lambda: enforce(http, "p1") == "ENFORCED", 5)
    assert http.get(f"{TYPE_URL}/policies/p1").json() == {"threshold": 9}

    bad = http.put(f"{TYPE_URL}/policies/p2", json={"threshold": "high"})
    assert bad.status_code == 400 and "threshold" in bad.json()["detail"]
    malformed = http.put(
        f"{TYPE_URL}/policies/p2", content=b"{threshold:", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["reason"] == "malformed_json"
    assert handler.requests.empty()

    assert http.delete(f"{TYPE_URL}/policies/p1").status_code == 202
    _, req = handler.next()
    assert req.operation is a1.A1Operation.DELETE and req.payload is None
    assert wait_until(lambda: not rds.exists("{A1m_ns},a1.policy_inst_metadata.20008.p1"), 5)
    assert http.get(f"{TYPE_URL}/policies/p1").status_code == 404
    assert http.delete(TYPE_URL).status_code == 204

    metrics = http.get("/metrics").text
    assert 'a1_bad_requests_total{reason="schema_violation"} 1.0' in metrics
    assert 'a1_bad_requests_total{reason="malformed_json"} 1.0' in metrics
    assert 'a1_handler_responses_total{status="DELETED"} 1.0' in metrics
    assert proc.alive()


def test_query_resends_instances_and_bad_rmr_input_is_survived(stack) -> None:
    http, handler, proc, _ = stack
    http.put(TYPE_URL, json=TYPE_BODY)
    handler.answer = False
    for i in range(2):
        http.put(f"{TYPE_URL}/policies/q{i}", json={"threshold": i})
        handler.next()
    assert enforce(http, "q0") == "NOT_ENFORCED"

    # garbage and wrongly typed answers on the mediator's RMR port: counted, nothing breaks
    handler.ctx.send(mtypes.A1_POLICY_RESP, b"\x00\xffnot json")
    handler.ctx.send(mtypes.A1_POLICY_RESP, b'{"policy_type_id": [], "policy_instance_id": "q0"}')
    handler.ctx.send(mtypes.A1_POLICY_QUERY, a1.encode_policy_query(a1.A1PolicyQuery(TYPE_ID)))
    resent = sorted(handler.next()[1].policy_instance_id for _ in range(2))
    assert resent == ["q0", "q1"]
    metrics = http.get("/metrics").text
    assert 'a1_rmr_bad_messages_total{reason="malformed_payload"} 2.0' in metrics

    handler.answer = True
    handler.ctx.send(mtypes.A1_POLICY_QUERY, b'{"policy_type_id": 20008}')
    for _ in range(2):
        handler.next()
    assert wait_until(lambda: enforce(http, "q0") == enforce(http, "q1") == "ENFORCED", 5)
    assert "twinric_a1_policies_enforced 2.0" in http.get("/metrics").text
    assert proc.alive()


def test_state_survives_a_mediator_restart(python_exe, redis_url, redis_client, tmp_path) -> None:
    """Instances live in Redis: a restarted mediator still lists them and answers queries with them."""
    rmr_port = free_port()
    proc, http_port = start_mediator(python_exe, redis_url, tmp_path, ["--rmr-port", str(rmr_port)])
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=5) as http:
            http.put(TYPE_URL, json=TYPE_BODY)
            assert http.put(f"{TYPE_URL}/policies/keep", json={"threshold": 1}).status_code == 202
    finally:
        proc.stop()
    proc, http_port = start_mediator(python_exe, redis_url, tmp_path, ["--rmr-port", str(rmr_port)])
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=5) as http:
            assert http.get(f"{TYPE_URL}/policies").json() == ["keep"]
            assert http.get(f"{TYPE_URL}/policies/keep").json() == {"threshold": 1}
    finally:
        proc.stop()
