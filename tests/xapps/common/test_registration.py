"""Registration with the real appmgr process: retried until appmgr is up, listed, then deregistered."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from twinric.ports import free_port, wait_for_port
from twinric.processes import ManagedProcess, wait_until
from xapps.common.metrics import XappMetrics
from xapps.common.registration import AppmgrRegistration, RegistrationBody

pytestmark = pytest.mark.slow
DESCRIPTOR = Path(__file__).resolve().parents[3] / "xapps" / "control" / "config-file.json"


def test_registers_when_appmgr_comes_up_and_deregisters(tmp_path, redis_url, redis_client, python_exe):
    http_port = free_port()
    config = json.loads(DESCRIPTOR.read_text())
    body = RegistrationBody(
        "control-host",
        config["name"],
        config["version"],
        "127.0.0.1:18080",
        f"127.0.0.1:{free_port()}",
        config,
    )
    metrics = XappMetrics("t")
    url = f"http://127.0.0.1:{http_port}"
    registration = AppmgrRegistration(url, body, metrics, timeout_s=1.0, max_backoff_s=0.5).start()
    appmgr = None
    try:
        assert wait_until(lambda: metrics.error_count("appmgr_unreachable") >= 2, 10)
        assert not registration.registered.is_set() and registration.health()[0] is False
        appmgr = ManagedProcess(
            "appmgr",
            [
                python_exe,
                "-m",
                "ricplt.appmgr",
                "--http-port",
                str(http_port),
                "--rmr-port",
                str(free_port()),
                "--redis-url",
                redis_url,
                "--no-follow-e2",
            ],
            log_path=tmp_path / "appmgr.log",
        ).start()
        assert wait_for_port(http_port, timeout=20), appmgr.log_tail()
        assert registration.registered.wait(10), registration.last_error
        listed = httpx.get(f"{url}/ric/v1/xapps", timeout=5).json()
        assert config["name"] in json.dumps(listed)
        registration.stop(deregister=True)
        assert wait_until(
            lambda: config["name"] not in json.dumps(httpx.get(f"{url}/ric/v1/xapps").json()), 5
        )
    finally:
        registration.stop(deregister=False)
        if appmgr is not None:
            appmgr.stop()


def test_options_are_keyword_only():
    body = RegistrationBody("h", "x", "1.0.0", "127.0.0.1:8080", "127.0.0.1:4560", {})
    with pytest.raises(TypeError):
        AppmgrRegistration("http://127.0.0.1:9", body, XappMetrics("t"), 1.0)  # type: ignore[misc]
    registration = AppmgrRegistration(
        url="http://127.0.0.1:9", body=body, metrics=XappMetrics("t"), timeout_s=1.0
    )
    assert registration.timeout_s == 1.0 and registration.max_backoff_s == 10.0
