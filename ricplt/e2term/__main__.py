"""Run the E2 termination as its own process.

python -m ricplt.e2term --e2-port 36422 --rmr-port 38000 --metrics-port 8088 --redis-url redis://...
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

import redis.asyncio as aioredis
from prometheus_client import start_http_server

from ricplt.e2term.control_gate import ControlGate, GateMode
from ricplt.e2term.inventory import NodeInventory
from ricplt.e2term.metrics import E2TermMetrics
from ricplt.e2term.procedures import global_ric_id
from ricplt.e2term.termination import E2Termination
from ricplt.process_options import add_log_level_option, add_redis_option, add_rmr_options, open_rmr
from ricproto import identity, mdclog
from ricproto.e2transport import E2TransportError, choose_transport


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ricplt.e2term", description=__doc__.splitlines()[0])
    parser.add_argument("--e2-host", default="0.0.0.0", help="address E2 nodes connect to")
    parser.add_argument("--e2-port", type=int, default=36422, help="E2 port (OSC E2T: 36422)")
    parser.add_argument(
        "--transport",
        choices=("auto", "sctp", "tcp"),
        default="auto",
        help="SCTP (kernel support needed), length-framed TCP, or SCTP when available",
    )
    add_rmr_options(parser, rmr_port=38000, rmr_port_help="RMR data port (OSC E2T: 38000)")
    parser.add_argument("--metrics-port", type=int, default=8088, help="Prometheus /metrics port")
    add_redis_option(parser)
    parser.add_argument("--plmn", default="310411", help="GlobalRIC-ID PLMN, MCC+MNC (e2mgr default 310411)")
    parser.add_argument(
        "--ric-id",
        type=lambda text: int(text, 0),
        default=0xAACCE,
        help="GlobalRIC-ID ric-ID, 20 bits (e2mgr default 0xAACCE)",
    )
    parser.add_argument(
        "--control-grants",
        choices=[m.value for m in GateMode],
        default=os.environ.get("TWINRIC_E2TERM_CONTROL_GRANTS", "off"),
        help="forward RIC controls only with a zero-trust PDP grant (enforce), check but forward (audit), "
        "or forward everything (off, the OSC E2T behaviour); default $TWINRIC_E2TERM_CONTROL_GRANTS or off",
    )
    parser.add_argument(
        "--pdp-public-key",
        default=os.environ.get("TWINRIC_PDP_PUBLIC_KEY"),
        help="the PDP's Ed25519 public key (PEM) grants and revocations are verified with",
    )
    parser.add_argument(
        "--allow-ungranted",
        action="append",
        default=[p for p in os.environ.get("TWINRIC_E2TERM_ALLOW_UNGRANTED", "").split(",") if p],
        metavar="SRC_PATTERN",
        help="RMR sender (src host:port, shell pattern) whose controls pass without a grant, e.g. a "
        "third-party xApp; repeatable (also $TWINRIC_E2TERM_ALLOW_UNGRANTED, comma-separated)",
    )
    add_log_level_option(parser)
    return parser.parse_args(argv)


def control_gate(args: argparse.Namespace) -> ControlGate:
    mode = GateMode(args.control_grants)
    key = identity.load_public_key(args.pdp_public_key) if args.pdp_public_key else None
    if mode is not GateMode.OFF and key is None:
        raise ValueError(f"--control-grants {mode} needs --pdp-public-key")
    return ControlGate(mode, key, args.allow_ungranted)


async def run(args: argparse.Namespace) -> None:
    log = logging.getLogger("e2term")
    transport = choose_transport(args.transport)
    gate = control_gate(args)
    ric = global_ric_id(args.plmn, args.ric_id)
    metrics = E2TermMetrics()
    start_http_server(args.metrics_port)
    client = aioredis.Redis.from_url(args.redis_url)
    rmr = open_rmr(args)
    termination = E2Termination(rmr, NodeInventory(client, rmr.src), metrics, ric, transport, gate)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await termination.start(args.e2_host, args.e2_port)
        log.info(
            "e2term ready: metrics on :%s, Redis %s, control grants %s%s",
            args.metrics_port, args.redis_url, gate.mode,
            f" (ungranted allowed from {', '.join(gate.allow_ungranted)})" if gate.allow_ungranted else "",
        )
        await stop.wait()
    finally:
        await termination.stop()
        rmr.close()
        await client.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    mdclog.configure("e2term", args.log_level)
    try:
        asyncio.run(run(args))
    except (E2TransportError, ValueError, OSError, identity.IdentityError) as exc:
        logging.getLogger("e2term").critical("e2term cannot start: %s", exc)
        print(f"e2term: cannot start: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
