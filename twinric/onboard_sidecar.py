"""The twin sidecar's start command in an xApp pod: ``python -m twinric.onboard_sidecar``.

Under twinric's chart the sidecar gets what the xApp gets (the descriptor at ``CONFIG_FILE``, SDL's
``DBAAS_*`` variables). Under the chart ``dms_cli`` generates, only the last container of the pod does
(the platform's template mounts the config and the env ConfigMaps after its loop over containers):
then the sidecar asks the xApp beside it (the pod shares one network) for its descriptor
(``GET /ric/v1/config``), keeps it in its state directory, and uses the platform's dbaas service. Then
it becomes ``python -m twin_sidecar``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

DEFAULT_CONFIG = "/opt/ric/config/config-file.json"
DBAAS = ("service-ricplt-dbaas-tcp.ricplt.svc.cluster.local", "6379")
FALLBACK_STATE_DIR = "/tmp/twinric-twin"


class SidecarStartError(RuntimeError):
    """The sidecar cannot find its descriptor."""


def fetch_descriptor(url: str, wait_s: float, interval_s: float = 1.0) -> dict[str, Any]:
    """The xApp's current descriptor; retried while the xApp starts (the pod starts both at once)."""
    deadline = time.monotonic() + wait_s
    last = "no answer"
    while True:
        try:
            resp = httpx.get(url, timeout=2.0)
            if resp.status_code == 200:
                body = resp.json()
                if isinstance(body, dict) and isinstance(body.get("controls"), dict):
                    return body
                last = "the answer is no descriptor (no controls object)"
            else:
                last = f"HTTP {resp.status_code}"
        except (httpx.HTTPError, ValueError) as exc:
            last = str(exc) or type(exc).__name__
        if time.monotonic() >= deadline:
            raise SidecarStartError(f"no descriptor from the xApp at {url} within {wait_s:.0f}s: {last}")
        time.sleep(interval_s)


def sidecar_env(env: Mapping[str, str], xapp_url: str, wait_s: float) -> dict[str, str]:
    """The environment ``python -m twin_sidecar`` runs with in this pod."""
    out = dict(env)
    if not Path(out.get("CONFIG_FILE") or DEFAULT_CONFIG).is_file():
        descriptor = fetch_descriptor(f"{xapp_url.rstrip('/')}/ric/v1/config", wait_s)
        twin = descriptor["controls"].get("twin") or {}
        state = Path(out.get("TWINRIC_TWIN_STATE_DIR") or twin.get("state_dir") or FALLBACK_STATE_DIR)
        state.mkdir(parents=True, exist_ok=True)
        path = state / "config-file.json"
        path.write_text(json.dumps(descriptor, indent=1))
        out["CONFIG_FILE"] = str(path)
    if not out.get("TWINRIC_REDIS_URL") and not out.get("DBAAS_SERVICE_HOST"):
        out["DBAAS_SERVICE_HOST"], out["DBAAS_SERVICE_PORT"] = DBAAS
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m twinric.onboard_sidecar", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--xapp-url",
        default=os.environ.get("TWINRIC_XAPP_URL", "http://127.0.0.1:8080"),
        help="the xApp beside the sidecar (its /ric/v1/config), when CONFIG_FILE is absent",
    )
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the xApp's descriptor")
    args = parser.parse_args(argv)
    try:
        env = sidecar_env(os.environ, args.xapp_url, args.wait)
    except (SidecarStartError, OSError) as exc:
        print(f"twin sidecar cannot start: {exc}", file=sys.stderr)
        return 2
    argv_out = [sys.executable, "-m", "twin_sidecar"]
    os.execve(sys.executable, argv_out, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
