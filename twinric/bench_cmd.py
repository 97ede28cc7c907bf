"""``twinric bench``: the benchmarks that are commands (they live in the checkout's ``bench/``)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

bench_app = typer.Typer(help="benchmarks of a source checkout (bench/)", no_args_is_help=True)
CHECKOUT = Path(__file__).resolve().parent.parent


def _checkout_on_path() -> None:
    """Benchmarks read simulator internals and are not installed: they run from the checkout."""
    if not (CHECKOUT / "bench" / "loop" / "run.py").is_file():
        typer.echo(
            f"twinric bench needs a source checkout (no bench/ beside {CHECKOUT / 'twinric'})", err=True
        )
        raise typer.Exit(2)
    if str(CHECKOUT) not in sys.path:
        sys.path.insert(0, str(CHECKOUT))


@bench_app.command(
    "loop",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def loop(ctx: typer.Context) -> None:
    """The headline benchmark: no control, heuristic, SB3 DQN, twinric, twinric + MCTS on the same
    scenarios and seeds ([--quick] [--seeds N] [--out DIR] [--scenarios ...] [--seconds S] [--budget N];
    --help for all)."""
    _checkout_on_path()
    from bench.loop.run import main as run_loop

    run_loop(list(ctx.args))
