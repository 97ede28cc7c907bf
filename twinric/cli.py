"""The ``twinric`` command: parses commands and starts the work in the other packages."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ricproto import mdclog
from twinric.a1_cmd import a1_app
from twinric.bench_cmd import bench_app
from twinric.onboard_cmd import onboard_app
from twinric.pdp_cmd import pdp_app
from twinric.rmr_cmd import rmr_app
from twinric.twin_cmd import twin_app
from twinric.up_cmd import status, up
from twinric.xapp_cmd import xapp_app

app = typer.Typer(
    name="twinric",
    help="Digital-twin-driven xApps for the O-RAN near-RT RIC.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
app.add_typer(a1_app, name="a1")
app.command()(up)
app.command()(status)
app.add_typer(rmr_app, name="rmr")
app.add_typer(xapp_app, name="xapp")
app.add_typer(pdp_app, name="pdp")
app.add_typer(twin_app, name="twin")
app.add_typer(bench_app, name="bench")
app.add_typer(onboard_app, name="onboard")


@app.callback()
def _global_options(
    log_level: Annotated[
        str, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR (mdclog JSON lines on stderr).")
    ] = "INFO",
) -> None:
    try:
        mdclog.configure("twinric", log_level)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-level") from exc


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
) -> None:
    """Report what this machine offers (Python, Redis, SCTP, RMR, torch, ports) and what will be used."""
    from twinric.doctor import run_checks

    report = run_checks()
    if as_json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        _print_doctor_table(report)
    raise typer.Exit(0 if report["ok"] else 1)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def e2sim(ctx: typer.Context) -> None:
    """Run the E2 simulator: twinric e2sim --scenario small --e2t HOST:PORT [--realtime | --speed N]."""
    from e2sim.__main__ import main as e2sim_main

    raise typer.Exit(e2sim_main(list(ctx.args)))


def _mark(ok: bool) -> str:
    return "[green]yes[/green]" if ok else "[red]no[/red]"


def _print_doctor_table(report: dict) -> None:
    table = Table(title="twinric doctor", show_lines=False)
    table.add_column("check")
    table.add_column("ok")
    table.add_column("found")
    table.add_column("will use")
    py = report["python"]
    table.add_row("python", _mark(py["ok"]), f"{py['version']} ({py['executable']})",
                  "virtualenv" if py["in_venv"] else "system interpreter")
    rd = report["redis"]
    found = f"{rd['probed_url']} {'answers' if rd['reachable'] else 'does not answer'}"
    if rd["server_binary"]:
        found += f"; redis-server {rd['server_version']} at {rd['server_binary']}"
    table.add_row("redis", _mark(rd["ok"]), found, rd["will_use"] or "[red]none: install redis-server[/red]")
    sc = report["sctp"]
    table.add_row("kernel SCTP", _mark(sc["kernel_sctp"]), sc["reason"], f"E2 over {sc['e2_transport']}")
    rm = report["rmr"]
    table.add_row("C librmr_si.so", _mark(rm["c_librmr_present"]), rm["c_librmr_error"] or "loads",
                  f"RMR backend: {rm['backend'] or 'none (TWINRIC_RMR=c but no library)'}")
    th = report["torch"]
    table.add_row("torch", _mark(th["ok"]), f"{th.get('version')} {th.get('build', '')}".strip()
                  if th["installed"] else th["error"], f"{th.get('threads', '-')} threads")
    pk = report["packages"]
    missing = [name for name, version in pk["versions"].items() if not version]
    table.add_row("packages", _mark(pk["ok"]), ", ".join(f"{n} {v}" for n, v in pk["versions"].items() if v),
                  "missing: " + ", ".join(missing) if missing else "all present")
    po = report["ports"]
    table.add_row("local ports", _mark(po["ok"]), f"{len(po['plan'])} ports planned",
                  "busy: " + ", ".join(f"{r}:{po['plan'][r]['port']}" for r in po["busy"]) if po["busy"]
                  else "all free")
    console.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
