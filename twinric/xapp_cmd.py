"""``twinric xapp run``: run an unmodified xApp process against the running box (see ``xapp_runner``)."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from twinric.stack import default_run_dir
from twinric.xapp_runner import (
    DEFAULT_REGISTER_AFTER,
    BoxInfo,
    XappLaunch,
    XappRun,
    XappRunError,
    load_descriptor,
)
from twinric.xapp_runner import xapp_name as resolve_name

xapp_app = typer.Typer(help="Run your own xApp against the box (`twinric up` must be running).",
                       no_args_is_help=True)
console = Console(stderr=True, highlight=False)


def _say(message: str) -> None:
    console.print(f"[bold]twinric xapp run:[/bold] {message}")


def _env_pairs(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"--env takes KEY=VALUE, got {item!r}", param_hint="--env")
        out[key] = value
    return out


@xapp_app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(
    ctx: typer.Context,
    descriptor: Annotated[Path | None, typer.Option(
        "--descriptor", help="the xApp's descriptor (config-file.json): name, messaging ports, rx/tx",
        exists=True, dir_okay=False)] = None,
    name: Annotated[str | None, typer.Option(help="the xApp's name (default: its descriptor's name)")] = None,
    register_after: Annotated[float, typer.Option(
        help="seconds to wait for the xApp to register itself before registering it from its descriptor")]
    = DEFAULT_REGISTER_AFTER,
    env: Annotated[list[str] | None, typer.Option(
        "--env", help="KEY=VALUE for the xApp's environment (wins over the box's); repeatable")] = None,
    run_dir: Annotated[Path | None, typer.Option(help="run directory of the `twinric up` to join")] = None,
) -> None:
    """Run COMMAND (after `--`) as an xApp of the box: xapp run --descriptor config-file.json -- CMD."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    command = list(ctx.args)
    if command and command[0] == "--":
        command = command[1:]
    try:
        spec = load_descriptor(descriptor)
        launch = XappLaunch(command, resolve_name(spec, name), spec, descriptor, register_after,
                            _env_pairs(env or []))
        xapp = XappRun(launch, BoxInfo.of(run_dir or default_run_dir()), say=_say).start()
    except XappRunError as exc:
        _say(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc

    def stop(signum: int, _frame: object) -> None:
        _say(f"stopping {launch.name} ({signal.Signals(signum).name})")
        xapp.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = xapp.wait()
    _say(f"{launch.name} exited with code {code}"
         + (f" (registered {'by itself' if xapp.registered_by == 'itself' else 'from its descriptor'})"
            if xapp.registered_by else " (never registered)"))
    raise typer.Exit(code if code >= 0 else 128 - code)
