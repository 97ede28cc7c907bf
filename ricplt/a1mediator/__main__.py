"""Run the A1 mediator as its own process.

    python -m ricplt.a1mediator --http-port 10000 --rmr-port 4562 --redis-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from ricplt.a1mediator.app import create_app
from ricplt.a1mediator.metrics import A1Metrics
from ricplt.a1mediator.notifier import StatusNotifier
from ricplt.a1mediator.southbound import A1Southbound
from ricplt.a1mediator.store import A1Store
from ricplt.process_options import add_log_level_option, add_redis_option, add_rmr_options, open_rmr
from ricproto import mdclog


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ricplt.a1mediator", description=__doc__.splitlines()[0])
    parser.add_argument("--http-host", default="127.0.0.1", help="REST API address")
    parser.add_argument("--http-port", type=int, default=10000, help="A1-P REST port (OSC: 10000)")
    add_rmr_options(parser, rmr_port=4562, rmr_port_help="RMR data port (OSC: 4562)")
    add_redis_option(parser)
    add_log_level_option(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    mdclog.configure("a1mediator", args.log_level)
    log = logging.getLogger("a1mediator")
    store = A1Store.from_url(args.redis_url)
    metrics = A1Metrics(store.count_enforced)
    notifier = StatusNotifier(metrics)
    rmr = open_rmr(args)
    southbound = A1Southbound(rmr, store, metrics, notifier)
    app = create_app(store, southbound, metrics, start_receiver=True)
    log.info("A1 mediator: REST on %s:%s, RMR on %s, Redis %s", args.http_host, args.http_port,
             args.rmr_port, args.redis_url)
    try:
        uvicorn.run(app, host=args.http_host, port=args.http_port, log_level="warning")
    finally:
        notifier.close()
        rmr.close()


if __name__ == "__main__":
    main()
