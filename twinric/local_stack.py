"""The embedded default: which processes ``twinric up`` starts, on which ports, with which arguments.

Order matters only for readiness: appmgr (which also plays rtmgr and pushes every route table) comes
first, the platform components accept those pushes on their route ports, e2sim connects last. The
same commands run each component on its own in a RIC-less lab.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twinric import pdp_stack
from twinric.stack import Service

HOST = "127.0.0.1"
PLATFORM_ROLES = [
    "appmgr-http", "appmgr-rmr",
    "e2term-e2", "e2term-rmr", "e2term-rtg", "e2term-metrics",
    "submgr-http", "submgr-rmr", "submgr-rtg",
    "a1-http", "a1-rmr", "a1-rtg",
    "e2mgr-http", "e2mgr-rmr", "e2mgr-rtg", "absent-http",
]
XAPP_ROLES = [
    "control-http", "control-rmr", "control-rtg",
    "twin-http",  # the control xApp's twin sidecar
    "pdp-http", "pdp-rmr", "pdp-rtg",
]


@dataclass(frozen=True)
class StackOptions:
    scenario: str = "small"
    speed: float = 1.0
    seed: int | None = None
    log_level: str = "INFO"
    # Merged over the control xApp's ``controls`` after ``twinric up``'s own settings (a nested object
    # is merged key by key): how a bench or a lab adds what the box lacks, e.g. ``{"twin_url": URL,
    # "pep": {"enabled": True}}`` with its own twin and PDP. None (``twinric up``) changes nothing.
    control_overrides: Mapping[str, Any] | None = None
    # RMR senders (src patterns) whose RIC controls e2term forwards without a PDP grant: third-party
    # xApps run in the box that know nothing of the zero-trust PDP (``--allow-ungranted``).
    allow_ungranted: tuple[str, ...] = ()


def available_xapps() -> list[str]:
    """The xApps that exist in this installation (``xapps.<name>`` runnable with ``-m``)."""
    names = ("control", "pdp")
    return [name for name in names if importlib.util.find_spec(f"xapps.{name}.__main__") is not None]


def ran_controls(scenario: str, n_neighbours: int = 3, report_period_ms: int = 100) -> dict[str, Any]:
    """``controls.ran`` of the control xApp for an e2sim scenario: cells, their E2 nodes and neighbours,
    slices with their starting quotas. In a RIC an operator provisions this (the xApp's view of the
    network it may steer); locally it is read from the scenario the simulator runs."""
    from e2sim.gym import scenario_space
    from e2sim.ran.model import RanModel
    from e2sim.scenario import load_scenario

    sc = load_scenario(scenario)
    model = RanModel(sc)
    layout = model.cell_layout(n_neighbours)
    meid = {i: node.ran_name for node in model.nodes for i in node.cell_indices}
    return {
        "max_cells": len(model.cells),
        "n_neighbours": n_neighbours,
        "plmn": sc.topology.plmn,
        "report_period_ms": report_period_ms,
        "delay_budget_ms": scenario_space(sc, n_neighbours).delay_budget_ms,
        "slices": [
            {"sst": s.snssai.sst, "sd": s.snssai.sd,
             "quota": {"min": s.min_ratio, "max": s.max_ratio, "dedicated": s.dedicated_ratio}}
            for s in sc.slices
        ],
        "cells": [
            {"nr_cell_id": c.nr_cgi.nr_cell_id, "meid": meid[c.index],
             "neighbours": [layout.nr_cell_ids[j] for j in layout.neighbours[c.index]]}
            for c in model.cells
        ],
    }


def control_xapp_config(scenario: str, run_dir: Path, overrides: Mapping[str, Any] | None = None,
                        rtg_port: int | None = None, zero_trust: Mapping[str, Any] | None = None,
                        twin_url: str | None = None) -> Path:
    """The control xApp's descriptor with this run's RAN inventory; written into the run directory.

    ``overrides`` (see ``StackOptions.control_overrides``) is merged over ``controls`` last;
    ``rtg_port`` replaces the ``rmrroute`` port, which appmgr reads from the registered descriptor to
    know where to push route tables (the xApp listens where ``RMR_RTG_SVC`` says, not on 4561);
    ``zero_trust`` (``pdp_stack.control_overrides``) gives it its identity and turns its PEP on."""
    import xapps.control

    descriptor = json.loads((Path(xapps.control.__file__).parent / "config-file.json").read_text())
    if rtg_port is not None:
        for port in descriptor.get("messaging", {}).get("ports", []):
            if "route" in str(port.get("name", "")):
                port["port"] = rtg_port
    controls = descriptor["controls"]
    controls["ran"] = {**controls.get("ran", {}), **ran_controls(scenario)}
    # Without the PDP in the box the PEP stays off: an unreachable PDP would deny every control.
    controls.setdefault("pep", {}).update(enabled=False, pdp_public_key=None)
    controls["identity"] = {"key_file": None}
    controls["twin_url"] = twin_url  # its twin sidecar (None: the xApp runs its degraded modes)
    _merge(controls, zero_trust or {})
    _merge(controls, overrides or {})
    path = run_dir / "control-config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(descriptor, indent=1))
    return path


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = json.loads(json.dumps(value, default=dict))  # a plain, JSON-able copy


def twin_policy_type() -> dict[str, Any]:
    """The A1 policy type of the twin sidecar's gate thresholds (``twinric-twin``)."""
    import twin_sidecar

    return json.loads((Path(twin_sidecar.__file__).parent / "policy_type.json").read_text())


def control_policy_type() -> dict[str, Any]:
    """The A1 policy type the control xApp handles (created on the mediator as an operator would)."""
    import xapps.control

    return json.loads((Path(xapps.control.__file__).parent / "policy_type.json").read_text())


def build_services(ports: dict[str, int], redis_url: str, options: StackOptions,
                   run_dir: Path | None = None) -> list[Service]:
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
            "--platform", f"a1mediator={HOST}:{p['a1-rmr']}/{p['a1-rtg']}",
            "--platform", f"e2mgr={HOST}:{p['e2mgr-rmr']}/{p['e2mgr-rtg']}", *log,
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
        # e2mgr's view for xApps (R-NIB, RAN_CONNECTED, its read-only REST) and the answer for what is absent
        Service("e2mgr", [
            py, "-m", "ricplt.e2mgr", "--http-port", str(p["e2mgr-http"]), "--rmr-port", str(p["e2mgr-rmr"]),
            "--rtg-port", str(p["e2mgr-rtg"]), "--redis-url", redis_url, "--src-id", HOST, *log,
        ], ready_port=p["e2mgr-http"], metrics_port=p["e2mgr-http"]),
        Service("absent", [py, "-m", "ricplt.absent", "--http-port", str(p["absent-http"]), *log],
                ready_port=p["absent-http"], metrics_port=p["absent-http"]),
    ]
    e2sim = [py, "-m", "e2sim", "--scenario", options.scenario, "--e2t", f"{HOST}:{p['e2term-e2']}",
             "--transport", "tcp", "--speed", str(options.speed)]
    if options.seed is not None:
        e2sim += ["--seed", str(options.seed)]
    services.append(Service("e2sim", e2sim))
    zero_trust = None
    if run_dir is not None and "pdp" in available_xapps():
        ids = pdp_stack.provision_identities(run_dir, [pdp_stack.CONTROL_NAME])
        e2term = next(s for s in services if s.name == "e2term")
        e2term.argv.extend(pdp_stack.e2term_args(ids, options.allow_ungranted))  # it enforces PDP grants
        services.append(pdp_stack.pdp_service(ports, redis_url, options.log_level, run_dir, ids))
        zero_trust = pdp_stack.control_overrides(ids)
    if run_dir is not None and "control" in available_xapps():
        control = _control_service(ports, redis_url, options, run_dir, zero_trust)
        if "twin-http" in ports:  # one twin sidecar per control xApp, reading the same descriptor
            from twinric.twin_cmd import twin_service

            services.append(twin_service(ports["twin-http"], redis_url, Path(control.env["CONFIG_FILE"]),
                                         run_dir, options.log_level, f"http://{HOST}:{ports['a1-http']}"))
        services.append(control)
    return services


def _control_service(ports: dict[str, int], redis_url: str, options: StackOptions, run_dir: Path,
                     zero_trust: Mapping[str, Any] | None = None) -> Service:
    p = ports
    run_dir.mkdir(parents=True, exist_ok=True)
    # RMRXapp waits for a first table (appmgr pushes the real one after registration); like the
    # xApp's own seed.rt it routes A1 answers and queries, so policies are recovered at start.
    seed = run_dir / "control-seed.rt"
    a1 = f"{HOST}:{p['a1-rmr']}"
    seed.write_text(f"newrt|start\nmse|12040|-1|{HOST}:{p['e2term-rmr']}\nmse|20011|-1|{a1}\n"
                    f"mse|20012|-1|{a1}\nnewrt|end\n")
    env = {
        "CONFIG_FILE": str(control_xapp_config(
            options.scenario, run_dir, options.control_overrides, rtg_port=p["control-rtg"],
            zero_trust=zero_trust,
            twin_url=f"http://{HOST}:{p['twin-http']}" if "twin-http" in p else None)),
        "TWINRIC_RMR_PORT": str(p["control-rmr"]),
        "TWINRIC_HTTP_PORT": str(p["control-http"]),
        "TWINRIC_HTTP_HOST": HOST,
        "TWINRIC_CLIENT_HOST": HOST,
        # Registered endpoints must equal what submgr is told, or rtmgr routes no indications to us.
        "TWINRIC_RMR_ENDPOINT": f"{HOST}:{p['control-rmr']}",
        "TWINRIC_HTTP_ENDPOINT": f"{HOST}:{p['control-http']}",
        "TWINRIC_REDIS_URL": redis_url,
        "TWINRIC_SUBMGR_URL": f"http://{HOST}:{p['submgr-http']}",
        "TWINRIC_APPMGR_URL": f"http://{HOST}:{p['appmgr-http']}",
        "TWINRIC_LOG_LEVEL": options.log_level,
        "RMR_SEED_RT": str(seed),
        "RMR_SRC_ID": HOST,
        "RMR_RTG_SVC": str(p["control-rtg"]),
    }
    return Service("control", [sys.executable, "-m", "xapps.control"], ready_port=p["control-http"],
                   metrics_port=p["control-http"], env=env)


def urls(ports: dict[str, int]) -> dict[str, str]:
    """Where an operator reaches the stack (printed by ``up`` and ``status``)."""
    out = {
        "a1": f"http://{HOST}:{ports['a1-http']}",
        "submgr": f"http://{HOST}:{ports['submgr-http']}",
        "appmgr": f"http://{HOST}:{ports['appmgr-http']}",
        "e2term_e2": f"{HOST}:{ports['e2term-e2']}",
    }
    if "e2mgr-http" in ports:
        out["e2mgr"] = f"http://{HOST}:{ports['e2mgr-http']}"
    if "pdp-http" in ports:
        out["pdp"] = f"http://{HOST}:{ports['pdp-http']}"
    if "twin-http" in ports:
        out["twin"] = f"http://{HOST}:{ports['twin-http']}"
        out["dashboard"] = f"{out['twin']}/dashboard/"  # the twin's live dashboard (a web page)
    return out
