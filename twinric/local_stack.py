"""The embedded default: which processes ``twinric up`` starts, on which ports, with which arguments.

Order matters only for readiness: appmgr (which also plays rtmgr and pushes every route table) comes
first, the platform components accept those pushes on their route ports, e2sim connects last. The
same commands run each component on its own in a RIC-less lab.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass

from twinric.stack import Service

HOST = "127.0.0.1"
PLATFORM_ROLES = [
    "appmgr-http", "appmgr-rmr",
    "e2term-e2", "e2term-rmr", "e2term-rtg", "e2term-metrics",
    "submgr-http", "submgr-rmr", "submgr-rtg",
    "a1-http", "a1-rmr", "a1-rtg",
]
XAPP_ROLES = ["control-http", "control-rmr", "control-rtg"]


@dataclass(frozen=True)
class StackOptions:
    scenario: str = "small"
    speed: float = 1.0
    seed: int | None = None
    log_level: str = "INFO"


def available_xapps() -> list[str]:
    """The xApps that exist in this installation (``xapps.<name>`` runnable with ``-m``)."""
    return [name for name in ("control",) if importlib.util.find_spec(f"xapps.{name}.__main__") is not None]


def build_services(ports: dict[str, int], redis_url: str, options: StackOptions) -> list[Service]:
    py = sys.executable
    log = ["--log-level", options.log_level]
    p = ports
    e2term_rmr = f"{HOST}:{p['e2term-rmr']}"
    services = [
        Service("appmgr", [
            py, "-m", "ricplt.appmgr",
            "--http-port", str(p["appmgr-http"]), "--rmr-port", str(p["appmgr-rmr"]),
            "--redis-url", redis_url, "--src-id", HOST,
            "--platform", f"e2term={e2term_rmr}/{p['e2term-rtg']}",
            "--platform", f"submgr={HOST}:{p['submgr-rmr']}/{p['submgr-rtg']}",
            "--platform", f"a1mediator={HOST}:{p['a1-rmr']}/{p['a1-rtg']}", *log,
        ], ready_port=p["appmgr-http"], metrics_port=p["appmgr-http"]),
        Service("e2term", [
            py, "-m", "ricplt.e2term", "--e2-port", str(p["e2term-e2"]), "--rmr-port", str(p["e2term-rmr"]),
            "--rtg-port", str(p["e2term-rtg"]), "--metrics-port", str(p["e2term-metrics"]),
            "--redis-url", redis_url, "--src-id", HOST, "--transport", "tcp", *log,
        ], ready_port=p["e2term-e2"], metrics_port=p["e2term-metrics"]),
        Service("submgr", [
            py, "-m", "ricplt.submgr",
            "--http-port", str(p["submgr-http"]), "--rmr-port", str(p["submgr-rmr"]),
            "--rtg-port", str(p["submgr-rtg"]), "--redis-url", redis_url, "--src-id", HOST,
            "--rtmgr-url", f"http://{HOST}:{p['appmgr-http']}", *log,
        ], ready_port=p["submgr-http"], metrics_port=p["submgr-http"]),
        Service("a1mediator", [
            py, "-m", "ricplt.a1mediator", "--http-port", str(p["a1-http"]), "--rmr-port", str(p["a1-rmr"]),
            "--rtg-port", str(p["a1-rtg"]), "--redis-url", redis_url, "--src-id", HOST, *log,
        ], ready_port=p["a1-http"], metrics_port=p["a1-http"]),
    ]
    e2sim = [py, "-m", "e2sim", "--scenario", options.scenario, "--e2t", f"{HOST}:{p['e2term-e2']}",
             "--transport", "tcp", "--speed", str(options.speed)]
    if options.seed is not None:
        e2sim += ["--seed", str(options.seed)]
    services.append(Service("e2sim", e2sim))
    return services


def urls(ports: dict[str, int]) -> dict[str, str]:
    """Where an operator reaches the stack (printed by ``up`` and ``status``)."""
    return {
        "a1": f"http://{HOST}:{ports['a1-http']}",
        "submgr": f"http://{HOST}:{ports['submgr-http']}",
        "appmgr": f"http://{HOST}:{ports['appmgr-http']}",
        "e2term_e2": f"{HOST}:{ports['e2term-e2']}",
    }
