"""Command-line options every platform process shares (RMR, Redis, log level), and opening RMR from them.

Flag names, defaults and environment fallbacks follow the RMR conventions (``RMR_SEED_RT``,
``RMR_SRC_ID``) so ``twinric up`` and the tests start every component the same way.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the transport is imported only when a process opens it (see open_rmr)
    from ricproto.rmr import RmrContext

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def add_rmr_options(
    parser: argparse.ArgumentParser,
    *,
    rmr_port: int,
    rmr_port_help: str,
    route_table: bool = True,
    src_id_default: str | None = None,
    src_id_help: str = "RMR source name peers reply to (default: $RMR_SRC_ID or the host name)",
) -> None:
    """``--rmr-port`` and ``--src-id``; with ``route_table`` also ``--rtg-port`` and ``--seed-rt``.

    ``src_id_default`` is used when ``$RMR_SRC_ID`` is unset (None: RMR falls back to the host name).
    """
    parser.add_argument("--rmr-port", type=int, default=rmr_port, help=rmr_port_help)
    if route_table:
        parser.add_argument(
            "--rtg-port",
            type=int,
            default=None,
            help="RMR route-manager port to accept route tables on (default: none)",
        )
        parser.add_argument(
            "--seed-rt",
            default=os.environ.get("RMR_SEED_RT"),
            help="seed route table file (default: $RMR_SEED_RT)",
        )
    parser.add_argument("--src-id", default=os.environ.get("RMR_SRC_ID", src_id_default), help=src_id_help)


def add_redis_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("TWINRIC_REDIS_URL", DEFAULT_REDIS_URL),
        help=f"Redis (SDL) URL (default: $TWINRIC_REDIS_URL or {DEFAULT_REDIS_URL})",
    )


def add_log_level_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="INFO", help="mdclog level (default: INFO)")


def open_rmr(args: argparse.Namespace) -> RmrContext:
    """The RMR context the options of ``add_rmr_options`` describe (route-table options when present)."""
    # Imported here so REST, store and codec modules of the platform never need the transport.
    from ricproto.rmr import RmrContext

    return RmrContext(
        args.rmr_port,
        src_id=args.src_id,
        seed_rt=getattr(args, "seed_rt", None),
        rtg_port=getattr(args, "rtg_port", None),
    )
