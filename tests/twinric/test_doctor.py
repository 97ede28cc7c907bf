from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from ricproto.sctp import IPPROTO_SCTP
from twinric.ports import LOCAL_PORT_PLAN, free_port, port_is_free


def run_doctor(env_extra: dict[str, str]) -> tuple[int, dict]:
    env = dict(os.environ, **env_extra)
    proc = subprocess.run(
        [sys.executable, "-m", "twinric", "doctor", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return proc.returncode, json.loads(proc.stdout)


def _kernel_sctp() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_SCTP).close()
    except OSError:
        return False
    return True


def test_doctor_json_reports_the_machine(redis_url: str) -> None:
    code, report = run_doctor({"TWINRIC_REDIS_URL": redis_url, "TWINRIC_RMR": "auto"})
    for key in ("python", "redis", "sctp", "rmr", "torch", "ports", "packages"):
        assert key in report, key
    assert report["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert report["redis"]["configured_url"] == redis_url
    assert report["redis"]["reachable"] is True
    assert report["redis"]["will_use"] == redis_url
    assert report["sctp"]["kernel_sctp"] is _kernel_sctp()
    assert report["sctp"]["e2_transport"] == ("sctp" if _kernel_sctp() else "tcp-framed")
    assert report["rmr"]["backend"] == ("c" if report["rmr"]["c_librmr_present"] else "python")
    import torch

    assert report["torch"]["version"] == torch.__version__
    assert report["torch"]["build"] == ("cpu" if torch.version.cuda is None else f"cuda {torch.version.cuda}")
    assert set(report["ports"]["plan"]) == set(LOCAL_PORT_PLAN)
    busy = {role for role, port in LOCAL_PORT_PLAN.items() if not port_is_free(port)}
    assert set(report["ports"]["busy"]) == busy
    assert code == (0 if report["ok"] else 1)


def test_doctor_reports_unreachable_configured_redis() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    code, report = run_doctor({"TWINRIC_REDIS_URL": dead})
    assert report["redis"]["reachable"] is False
    assert report["redis"]["will_use"] is None
    assert report["ok"] is False
    assert code == 1


def test_doctor_sees_a_busy_planned_port(redis_url: str) -> None:
    role, port = next((r, p) for r, p in LOCAL_PORT_PLAN.items() if port_is_free(p))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        _, report = run_doctor({"TWINRIC_REDIS_URL": redis_url})
    assert role in report["ports"]["busy"]
    assert report["ports"]["plan"][role]["free"] is False


def test_doctor_honours_forced_c_backend_without_library(redis_url: str) -> None:
    code, report = run_doctor({"TWINRIC_REDIS_URL": redis_url, "TWINRIC_RMR": "c"})
    if report["rmr"]["c_librmr_present"]:
        pytest.skip("librmr_si.so is installed on this machine")
    assert report["rmr"]["backend"] is None
    assert code == 1


def test_doctor_table_renders(redis_url: str) -> None:
    env = dict(os.environ, TWINRIC_REDIS_URL=redis_url, COLUMNS="200")
    proc = subprocess.run(
        [sys.executable, "-m", "twinric", "doctor"], capture_output=True, text=True, env=env, timeout=120
    )
    assert "kernel SCTP" in proc.stdout
    assert "RMR backend" in proc.stdout
    assert redis_url in proc.stdout
