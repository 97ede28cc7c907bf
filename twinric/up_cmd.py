"""``twinric up`` (the main job) and ``twinric status``."""

from __future__ import annotations

import json
import logging
import shlex
import signal
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from twinric import pdp_cmd, pdp_stack
from twinric.box_service_map import box_environment, write_platform_map
from twinric.local_stack import (
    PLATFORM_ROLES,
    XAPP_ROLES,
    StackOptions,
    available_xapps,
    build_services,
    control_policy_type,
    ran_controls,
    twin_policy_type,
    urls,
)
from twinric.ports import allocate_ports, port_is_free
from twinric.redis_server import PrivateRedis, RedisUnavailable, configured_url, ping
from twinric.stack import LoopSummary, Service, Stack, StackFailed, default_run_dir, read_status
from twinric.twin_cmd import twin_summary

console = Console(stderr=True)


def up(
    scenario: Annotated[
        str, typer.Option(help="e2sim scenario (small, medium, large, crowd_small, hetnet_medium) or YAML")
    ]
    = "small",
    speed: Annotated[float, typer.Option(help="simulated seconds per wall second")] = 1.0,
    seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
    for_seconds: Annotated[float | None, typer.Option("--for", help="stop after this many seconds")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="no live table; a JSON summary at the end")]
    = False,
    free_ports: Annotated[bool, typer.Option("--free-ports", help="kernel-chosen ports, not the plan")]
    = False,
    run_dir: Annotated[Path | None, typer.Option(help="logs and state (default ~/.cache/twinric/run)")]
    = None,
    log_level: Annotated[str, typer.Option(help="log level of the started processes")] = "INFO",
    xapp: Annotated[list[str] | None, typer.Option(
        "--xapp", help="also run your own xApp: the arguments of `twinric xapp run` as one string, e.g. "
                       "--xapp '--descriptor config-file.json -- python my_xapp.py'; repeatable")] = None,
    allow_ungranted: Annotated[list[str] | None, typer.Option(
        "--allow-ungranted", help="RMR sender pattern (shell-style, host:port) whose RIC controls e2term "
                                  "forwards without a PDP grant, e.g. 'service-ricxapp-my-xapp-rmr*' for "
                                  "your own xApp that does not ask the PDP; repeatable")] = None,
    status_every: Annotated[float, typer.Option(
        help="off a terminal (piped, under a service manager) or with --json: a status line (a JSON line "
             "with --json) on stdout every this many seconds")] = 5.0,
) -> None:
    """Run the closed loop locally: Redis, the RIC platform stand-ins, e2sim and every xApp that exists.

    On a terminal a live table; off one, or with --json, a status line every --status-every seconds.
    """
    run_dir = run_dir or default_run_dir()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    roles = PLATFORM_ROLES + (XAPP_ROLES if available_xapps() else [])
    ports = allocate_ports(roles, free=free_ports)
    busy = [f"{role}:{port}" for role, port in ports.items() if not port_is_free(port)]
    if busy:
        console.print(f"[red]ports in use: {', '.join(busy)}[/red] (another `twinric up`? try --free-ports)")
        raise typer.Exit(2)

    private: PrivateRedis | None = None
    redis_url = configured_url()
    if redis_url and not ping(redis_url):
        console.print(f"[red]TWINRIC_REDIS_URL={redis_url} does not answer[/red]")
        raise typer.Exit(2)
    if not redis_url:
        try:
            private = PrivateRedis().start()
        except RedisUnavailable as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
        redis_url = private.url

    options = StackOptions(scenario=scenario, speed=speed, seed=seed, log_level=log_level,
                           allow_ungranted=tuple(allow_ungranted or ()))
    # Every process resolves the platform's Kubernetes names through the box's service map.
    write_platform_map(run_dir, ports, redis_url)
    services = [replace(s, env={**s.env, **box_environment(run_dir)})
                for s in build_services(ports, redis_url, options, run_dir)]
    stack = Stack(services + xapp_services(xapp or [], run_dir), run_dir)
    if "pdp" in available_xapps():  # the operator's trust defaults, before any PEP asks
        pdp_stack.write_default_trust(redis_url, pdp_stack.default_trust_subjects(ran_controls(scenario)))
    stopping = {"flag": False}

    def request_stop(*_: object) -> None:
        stopping["flag"] = True

    signal.signal(signal.SIGTERM, request_stop)
    summary = LoopSummary()
    rates = {"indications": 0.0, "controls": 0.0}
    exit_code = 0
    try:
        stack.start(extra_state={"urls": urls(ports), "redis_url": redis_url, "scenario": scenario})
        if "control" in stack.processes:
            create_policy_type(urls(ports)["a1"], control_policy_type())
        if "twin" in stack.processes:
            create_policy_type(urls(ports)["a1"], twin_policy_type())
        if "pdp" in stack.processes:
            pdp_stack.put_default_policy(urls(ports)["a1"], urls(ports)["appmgr"])
        # A live table only where someone watches it: off a terminal Rich would print it only at the end.
        interactive = not as_json and console.is_terminal
        if not as_json:
            dashboard = urls(ports).get("dashboard")
            console.print(f"twinric up: logs in {run_dir}; A1 at {urls(ports)['a1']}; "
                          + (f"dashboard at {dashboard}; " if dashboard else "") + "Ctrl-C stops")
        started = time.monotonic()
        last = (time.monotonic(), summary)
        next_status = started + status_every
        with Live(_table(stack, summary, rates), console=console, refresh_per_second=2,
                  transient=False) if interactive else _NoLive() as live:
            while not stopping["flag"]:
                if for_seconds is not None and time.monotonic() - started >= for_seconds:
                    break
                time.sleep(0.5)
                summary = stack.summary()
                now = time.monotonic()
                dt = max(1e-6, now - last[0])
                rates["indications"] = (summary.indications - last[1].indications) / dt
                rates["controls"] = (summary.controls - last[1].controls) / dt
                last = (now, summary)
                if interactive:
                    live.update(_table(stack, summary, rates))
                if not interactive and now >= next_status:
                    next_status = now + status_every
                    print(_status_line(stack, summary, rates, now - started, as_json), flush=True)
                # An xApp of --xapp may end (its exit is in its log); the box keeps running.
                platform_dead = [name for name in stack.dead() if not name.startswith("xapp-")]
                if platform_dead:
                    console.print(f"[red]stopped unexpectedly: {', '.join(platform_dead)}[/red]")
                    exit_code = 1
                    break
        summary = stack.summary()
    except KeyboardInterrupt:
        pass
    except StackFailed as exc:
        console.print(f"[red]{exc}[/red]")
        exit_code = 1
    finally:
        dead = [name for name in stack.dead() if not name.startswith("xapp-")]
        stack.stop()
        if private:
            private.stop()
    if as_json:
        print(json.dumps({**asdict(summary), "dead": dead, "run_dir": str(run_dir)}))
    raise typer.Exit(exit_code)


def xapp_services(specs: list[str], run_dir: Path) -> list[Service]:
    """``twinric xapp run`` for each ``--xapp`` (started last, once the box is up)."""
    return [
        Service(f"xapp-{i}", [sys.executable, "-m", "twinric", "xapp", "run", "--run-dir", str(run_dir),
                              *shlex.split(spec)])
        for i, spec in enumerate(specs, start=1)
    ]


def create_policy_type(a1_url: str, policy_type: dict) -> None:
    """Create an xApp's A1 policy type on the mediator (an operator's step), unless it exists."""
    import httpx

    type_id = policy_type["policy_type_id"]
    url = f"{a1_url}/A1-P/v2/policytypes/{type_id}"
    if httpx.get(url, timeout=5).status_code != 200:
        resp = httpx.put(url, json=policy_type, timeout=5)
        if resp.status_code != 201:
            raise StackFailed(f"A1 policy type {type_id} refused: {resp.status_code} {resp.text}")


class _NoLive:
    def __enter__(self) -> _NoLive:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, *_: object) -> None:
        return None


def _status_line(stack: Stack, summary: LoopSummary, rates: dict[str, float], elapsed: float,
                 as_json: bool) -> str:
    """One progress line: plain text, or a JSON object (``"event": "status"``) with --json."""
    down = [name for name, proc in stack.processes.items() if not proc.alive()]
    if as_json:
        return json.dumps({"event": "status", "elapsed_s": round(elapsed, 1), **asdict(summary),
                           "indications_per_s": round(rates["indications"], 1),
                           "controls_per_s": round(rates["controls"], 1), "down": down})
    return (f"twinric up: {elapsed:.0f}s e2_nodes={summary.e2_nodes} subscriptions={summary.subscriptions} "
            f"indications={summary.indications} ({rates['indications']:.1f}/s) "
            f"controls={summary.controls} ({rates['controls']:.1f}/s) "
            f"a1_policies_enforced={summary.a1_policies_enforced} errors={summary.errors}"
            + (f" down={','.join(down)}" if down else ""))


def _table(stack: Stack, summary: LoopSummary, rates: dict[str, float]) -> Table:
    table = Table(title="twinric up", show_header=True)
    table.add_column("what")
    table.add_column("value", justify="right")
    for name, proc in stack.processes.items():
        if proc.alive():
            state = "[green]up[/green]"
        elif name.startswith("xapp-"):
            state = f"exited ({proc.returncode()})"
        else:
            state = "[red]down[/red]"
        table.add_row(f"process {name}", state)
    table.add_row("E2 nodes connected", str(summary.e2_nodes))
    table.add_row("subscriptions", str(summary.subscriptions))
    table.add_row("indications (/s)", f"{summary.indications} ({rates['indications']:.1f}/s)")
    table.add_row("controls (/s)", f"{summary.controls} ({rates['controls']:.1f}/s)")
    table.add_row("A1 policies enforced", str(summary.a1_policies_enforced))
    pdp = pdp_cmd.pdp_status(stack.extra_state.get("urls", {}).get("pdp"))
    if pdp:
        table.add_row("PDP decisions (/s)", f"{pdp['decisions']} ({pdp['decisions_per_s']:.1f}/s)")
        denies = ", ".join(f"{k} {v}" for k, v in pdp["deny_reasons"].items())
        table.add_row("PDP deny reasons", denies or "-")
        table.add_row("zero-trust policy", str(pdp["policy_version"] or "none (denying)"))
    table.add_row("errors", str(summary.errors))
    return table


def status(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    run_dir: Annotated[Path | None, typer.Option(help="the run directory of the `twinric up` to ask")] = None,
) -> None:
    """The state of a `twinric up` running in another terminal."""
    report = read_status(run_dir or default_run_dir())
    pdp = pdp_cmd.pdp_status(report.get("urls", {}).get("pdp")) if report["running"] else None
    if pdp is not None:
        keys = ("decisions", "decisions_per_s", "deny_reasons", "policy_version")
        report["pdp"] = {k: pdp[k] for k in keys}
    if report["running"]:
        report["twin"] = twin_summary(report.get("urls", {}))  # lag, fidelity, model version
    if as_json:
        print(json.dumps(report))
    else:
        table = Table(title="twinric status")
        table.add_column("what")
        table.add_column("value", justify="right")
        for key, value in report.items():
            table.add_row(key, json.dumps(value) if isinstance(value, dict) else str(value))
        Console().print(table)
    raise typer.Exit(0 if report["running"] else 1)
