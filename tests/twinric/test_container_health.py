"""Each role's start command (the descriptors' container commands, the images' CMD) run outside a
container, with the images' HEALTHCHECK command answering for it: healthy while it serves, unhealthy
once it stops. The sidecar also starts the way dms_cli's chart leaves it: no descriptor mounted, so it
asks the xApp beside it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ricproto import identity
from twinric.container_health import health_url
from twinric.onboard_sidecar import SidecarStartError, sidecar_env
from twinric.ports import free_port
from twinric.processes import ManagedProcess, wait_until

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()


def image_command(target: str, instruction: str) -> list[str]:
    """The exec-form command of ``instruction`` (CMD, HEALTHCHECK) in a Dockerfile target, as argv here."""
    section = DOCKERFILE.split(f" AS {target}\n", 1)[1].split("\nFROM ", 1)[0]
    section = re.sub(r"\\\n", " ", section)
    line = [ln for ln in section.splitlines() if ln.startswith(instruction)][-1]
    argv = json.loads(line[line.index("[") :])
    return [sys.executable if argv[0] == "python" else argv[0], *argv[1:]]


def descriptor_command(role: str) -> list[str]:
    d = json.loads((REPO / "xapps" / role / "config-file.json").read_text())
    argv = d["containers"][-1]["command"]  # the RIC-facing container
    return [sys.executable if argv[0] == "python" else argv[0], *argv[1:]]


def healthcheck(target: str, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    """The image's HEALTHCHECK, with the image's TWINRIC_ROLE."""
    role = re.search(rf" AS {target}\n.*?TWINRIC_ROLE=(\w+)", DOCKERFILE, re.S).group(1)
    argv = [*image_command(target, "HEALTHCHECK"), *extra]
    return subprocess.run(argv, env={**env, "TWINRIC_ROLE": role}, capture_output=True, text=True, timeout=30)


def healthy(target: str, env: dict[str, str]) -> bool:
    return healthcheck(target, env).returncode == 0


def xapp_env(tmp_path: Path, role: str, redis_url: str, **controls) -> tuple[dict[str, str], int]:
    """The descriptor edited to run here (free ports, this Redis, no platform), as CONFIG_FILE."""
    d = json.loads((REPO / "xapps" / role / "config-file.json").read_text())
    http_port = free_port()
    d["controls"].update(
        rmr_port=free_port(), http_port=http_port, redis_url=redis_url, register=False, **controls
    )
    config = tmp_path / f"{role}.json"
    config.write_text(json.dumps(d))
    seed = tmp_path / f"{role}.rt"
    seed.write_text("newrt|start\nnewrt|end\n")
    env = {
        **os.environ,
        "TWINRIC_RMR": "python",
        "CONFIG_FILE": str(config),
        "RMR_SEED_RT": str(seed),
        "RMR_SRC_ID": "127.0.0.1",
        "RMR_RTG_SVC": "-1",
        "TWINRIC_HTTP_HOST": "127.0.0.1",
        "TWINRIC_CLIENT_HOST": "127.0.0.1",
    }
    return env, http_port


def start(name: str, argv: list[str], env: dict[str, str], tmp_path: Path) -> ManagedProcess:
    return ManagedProcess(name, argv, env=env, log_path=tmp_path / f"{name}.log").start()


def log(tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.log"
    return path.read_text() if path.exists() else ""


@pytest.mark.slow
def test_control_xapp_and_its_sidecar_started_as_in_the_pod(tmp_path, redis_url):
    key, _ = identity.write_identity(tmp_path / "keys", "twinric-control")
    _, pdp_public = identity.write_identity(tmp_path / "keys", "twinric-pdp")
    env, http_port = xapp_env(
        tmp_path,
        "control",
        redis_url,
        submgr_url="http://127.0.0.1:9",
        twin_url=None,
        seed=7,
        identity={"key_file": str(key)},
        pep={"enabled": True, "pdp_public_key": str(pdp_public)},
    )
    xapp = start("control", descriptor_command("control"), env, tmp_path)
    sidecar = None
    try:
        # no TWINRIC_HTTP_PORT: the health check finds the port in the descriptor, as in the pod
        assert wait_until(lambda: healthy("xapp", env) or not xapp.alive(), 60, 0.5)
        assert xapp.alive(), log(tmp_path, "control")
        twin_port = free_port()
        twin_env = {
            **os.environ,
            "CONFIG_FILE": str(tmp_path / "not-mounted.json"),
            "TWINRIC_XAPP_URL": f"http://127.0.0.1:{http_port}",
            "TWINRIC_TWIN_PORT": str(twin_port),
            "TWINRIC_TWIN_STATE_DIR": str(tmp_path / "twin"),
            "TWINRIC_REDIS_URL": redis_url,
        }
        assert not healthy("twin", twin_env)
        sidecar = start("twin", image_command("twin", "CMD"), twin_env, tmp_path)
        assert wait_until(lambda: healthy("twin", twin_env) or not sidecar.alive(), 120, 0.5)
        assert sidecar.alive(), log(tmp_path, "twin")
        fetched = json.loads((tmp_path / "twin" / "config-file.json").read_text())
        assert fetched["name"] == "twinric-control"
        assert fetched["controls"]["http_port"] == http_port  # the xApp's own descriptor, not the image's
        assert sidecar.alive()
        sidecar.stop()
        assert wait_until(lambda: not healthy("twin", twin_env), 10, 0.2)
    finally:
        if sidecar is not None:
            sidecar.stop()
        xapp.stop()
    result = healthcheck("xapp", env)
    assert result.returncode == 1 and result.stdout.startswith("unhealthy ")


@pytest.mark.slow
def test_pdp_xapp_started_as_in_the_pod(tmp_path, redis_url):
    key, _ = identity.write_identity(tmp_path / "keys", "twinric-pdp")
    (tmp_path / "keys" / "xapps").mkdir()
    env, _ = xapp_env(
        tmp_path,
        "pdp",
        redis_url,
        identity={"key_file": str(key), "xapp_keys_dir": str(tmp_path / "keys" / "xapps")},
        decision_log={"file": str(tmp_path / "decisions.jsonl"), "stream_maxlen": 100},
    )
    pdp = start("pdp", descriptor_command("pdp"), env, tmp_path)
    try:
        assert wait_until(lambda: healthy("xapp", env) or not pdp.alive(), 60, 0.5)
        assert pdp.alive(), log(tmp_path, "pdp")
        assert healthcheck("xapp", env, "--ready").returncode in (0, 1)  # answers either way, never hangs
    finally:
        pdp.stop()
    assert not healthy("xapp", env)


def test_sidecar_without_descriptor_or_xapp_exits_with_a_clear_error(tmp_path):
    env = {
        **os.environ,
        "CONFIG_FILE": str(tmp_path / "absent.json"),
        "TWINRIC_XAPP_URL": f"http://127.0.0.1:{free_port()}",
    }
    argv = [*image_command("twin", "CMD"), "--wait", "0.5"]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no descriptor from the xApp" in result.stderr


def test_sidecar_env_keeps_a_mounted_descriptor_and_defaults_sdl(tmp_path):
    config = tmp_path / "config-file.json"
    config.write_text("{}")
    env = sidecar_env({"CONFIG_FILE": str(config)}, "http://127.0.0.1:9", 0)
    assert env["CONFIG_FILE"] == str(config)
    assert env["DBAAS_SERVICE_HOST"] == "service-ricplt-dbaas-tcp.ricplt.svc.cluster.local"
    kept = sidecar_env({"CONFIG_FILE": str(config), "TWINRIC_REDIS_URL": "redis://r:1/0"}, "http://x", 0)
    assert "DBAAS_SERVICE_HOST" not in kept
    with pytest.raises(SidecarStartError):
        sidecar_env({"CONFIG_FILE": str(tmp_path / "absent")}, f"http://127.0.0.1:{free_port()}", 0)


def test_health_url_port_from_variable_then_descriptor_then_default(tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"controls": {"http_port": 8181, "twin": {"port": 9191}}}))
    assert health_url("xapp", env={"CONFIG_FILE": str(config)}) == "http://127.0.0.1:8181/ric/v1/health/alive"
    assert health_url("twin", True, {"CONFIG_FILE": str(config)}) == "http://127.0.0.1:9191/health/ready"
    env = {"CONFIG_FILE": str(config), "TWINRIC_HTTP_PORT": "7000"}
    assert health_url("xapp", True, env) == "http://127.0.0.1:7000/ric/v1/health/ready"
    assert health_url("twin", env={"CONFIG_FILE": str(tmp_path / "none")}) == "http://127.0.0.1:9000/health"
    config.write_text("not json")
    assert health_url("xapp", env={"CONFIG_FILE": str(config)}).endswith(":8080/ric/v1/health/alive")
    with pytest.raises(ValueError, match="unknown role"):
        health_url("e2sim", env={})
