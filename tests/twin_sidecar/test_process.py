"""The sidecar as a real process (``python -m twin_sidecar``): exactly-once ingest across kill -9
(consumed = produced, no record applied twice, the mirror intact), a restart that resumes from the
checkpoint, and the refusal to serve beyond localhost without a token."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from twin_records import RanScript, descriptor, produce, ran_config

from twinric.ports import free_port, wait_for_port
from twinric.processes import ManagedProcess, wait_until

pytestmark = pytest.mark.slow


def start_twin(tmp_path: Path, redis_url: str, port: int, name: str, **env: str) -> ManagedProcess:
    desc = descriptor()
    desc["controls"]["twin"] = {
        "training": {
            "min_samples": 50,
            "hidden": 16,
            "batch_size": 16,
            "updates_per_version": 20,
            "duty": 0.2,
        }
    }
    config = tmp_path / "config.json"
    config.write_text(json.dumps(desc))
    proc = ManagedProcess(
        name,
        [sys.executable, "-m", "twin_sidecar"],
        env={
            **os.environ,
            "CONFIG_FILE": str(config),
            "TWINRIC_REDIS_URL": redis_url,
            "TWINRIC_TWIN_PORT": str(port),
            "TWINRIC_XAPP_INSTANCE": "control-t",
            "TWINRIC_TWIN_STATE_DIR": str(tmp_path / "state"),
            "TWINRIC_TWIN_CHECKPOINT_S": "0.3",
            **env,
        },
        log_path=tmp_path / f"{name}.log",
    ).start()
    return proc


def health(port: int) -> dict:
    return httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()


def test_exactly_once_across_kill_9(tmp_path, redis_url, redis_client) -> None:
    script = RanScript(ran_config())
    port = free_port()
    total = 600
    produced = {"n": 0}
    stop = threading.Event()

    def producer() -> None:  # the xApp keeps writing while the twin dies and comes back
        while produced["n"] < total and not stop.is_set():
            produce(redis_client, script, range(produced["n"], produced["n"] + 10))
            produced["n"] += 10
            time.sleep(0.02)

    writer = threading.Thread(target=producer, daemon=True)
    procs = []
    try:
        twin = start_twin(tmp_path, redis_url, port, "twin-1")
        procs.append(twin)
        assert wait_for_port(port, timeout=60), twin.log_tail()
        writer.start()
        for kill in range(3):  # kill -9 mid-stream, three times
            assert wait_until(lambda k=kill: health(port)["mirror"]["rounds"] > 100 * (k + 1), 60), (
                twin.log_tail()
            )
            os.kill(twin.pid, signal.SIGKILL)
            twin.popen.wait(10)
            twin = start_twin(tmp_path, redis_url, port, f"twin-{kill + 2}")
            procs.append(twin)
            assert wait_for_port(port, timeout=60), twin.log_tail()
            assert health(port)["restored_from_checkpoint"] is True
        writer.join(60)
        assert produced["n"] == total

        def caught_up() -> bool:
            h = health(port)
            return all(h["streams"][s]["consumed"] == total for s in ("transitions", "ran_view"))

        assert wait_until(caught_up, 60), health(port)
        h = health(port)
        for s in ("transitions", "ran_view"):
            assert h["streams"][s]["last_seq"] == total - 1
            assert h["streams"][s]["lost"] == 0 and h["streams"][s]["malformed"] == 0
        # applied exactly once: the mirror counted 600 rounds; more would mean a record applied twice
        assert h["mirror"] == {"rounds": total, "last_seq": total - 1}
        assert h["sync"]["transitions"] == total
        dup = sum(h["streams"][s]["duplicates"] for s in ("transitions", "ran_view"))
        state = httpx.get(f"http://127.0.0.1:{port}/v1/state").json()
        assert state["seq"] == total - 1 and state["history"]["rounds_seen"] == total
        print(f"duplicates skipped after the kills: {dup}")
    finally:
        stop.set()
        for p in procs:
            p.stop()


def test_restart_resumes_and_a_clean_stop_leaves_nothing_pending(tmp_path, redis_url, redis_client) -> None:
    script = RanScript(ran_config())
    port = free_port()
    produce(redis_client, script, range(100))
    twin = start_twin(tmp_path, redis_url, port, "twin-a")
    try:
        assert wait_for_port(port, timeout=60)
        assert wait_until(lambda: health(port)["mirror"]["rounds"] == 100, 30)
    finally:
        twin.stop(timeout=30)  # SIGTERM: final checkpoint and ack
    assert redis_client.xpending("twinric:transitions:control-t", "twin")["pending"] == 0
    produce(redis_client, script, range(100, 150))
    twin = start_twin(tmp_path, redis_url, port, "twin-b")
    try:
        assert wait_for_port(port, timeout=60)
        assert wait_until(lambda: health(port)["mirror"]["rounds"] == 150, 30), health(port)
        h = health(port)
        assert h["restored_from_checkpoint"] and h["streams"]["transitions"]["duplicates"] == 0
        at = httpx.get(
            f"http://127.0.0.1:{port}/v1/state/at", params={"t": script.round(42).decided_ns / 1e9}
        ).json()
        assert at["seq"] == 42  # history from before the restart
    finally:
        twin.stop()


def test_refuses_to_serve_beyond_localhost_without_a_token(tmp_path, redis_url) -> None:
    twin = start_twin(tmp_path, redis_url, free_port(), "twin-open", TWINRIC_TWIN_HOST="0.0.0.0")
    try:
        assert twin.popen.wait(60) == 2
        assert "bearer token is required" in twin.log_tail()
    finally:
        twin.stop()
