"""The containers' health check: ``python -m twinric.container_health [--role xapp|twin] [--ready]``.

The image's HEALTHCHECK and the twin sidecar's Kubernetes exec probes run it inside the container
(the sidecar listens on the pod's localhost only, where a kubelet httpGet cannot reach). Standard
library only, so it starts fast in the slim xApp image. The role is ``--role``, else ``$TWINRIC_ROLE``
(each image sets it), else ``xapp``:

- ``xapp``: ``GET /ric/v1/health/alive`` (``--ready``: ``/ric/v1/health/ready``) on 127.0.0.1, port
  ``$TWINRIC_HTTP_PORT``, else the descriptor's ``controls.http_port`` (``$CONFIG_FILE``), else 8080;
- ``twin``: ``GET /health`` (``--ready``: ``/health/ready``), port ``$TWINRIC_TWIN_PORT``, else the
  descriptor's ``controls.twin.port``, else 9000.

Exit 0 when the answer is 200, 1 otherwise (one line on stdout says why).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = "/opt/ric/config/config-file.json"
ROLES = {
    # role: (port variable, descriptor path to the port, default port, alive path, ready path)
    "xapp": ("TWINRIC_HTTP_PORT", ("http_port",), 8080, "/ric/v1/health/alive", "/ric/v1/health/ready"),
    "twin": ("TWINRIC_TWIN_PORT", ("twin", "port"), 9000, "/health", "/health/ready"),
}


def _descriptor_port(env: Mapping[str, str], path: Sequence[str]) -> int | None:
    try:
        node: Any = json.loads(Path(env.get("CONFIG_FILE") or DEFAULT_CONFIG).read_text()).get("controls", {})
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        return int(node) if node is not None else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None  # no readable descriptor: the variable or the default decides


def health_url(role: str, ready: bool = False, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    var, path, default, alive_path, ready_path = ROLES[role]
    port = int(env[var]) if env.get(var) else (_descriptor_port(env, path) or default)
    return f"http://127.0.0.1:{port}{ready_path if ready else alive_path}"


def check(url: str, timeout: float) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200, f"{url}: {resp.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url}: {exc.code}"
    except (OSError, ValueError) as exc:
        return False, f"{url}: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m twinric.container_health", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--role", default=os.environ.get("TWINRIC_ROLE") or "xapp", choices=sorted(ROLES))
    parser.add_argument("--ready", action="store_true", help="readiness instead of liveness")
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    ok, detail = check(health_url(args.role, args.ready), args.timeout)
    print(("healthy " if ok else "unhealthy ") + detail)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
