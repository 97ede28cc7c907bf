"""Run the subscription manager as its own process.

python -m ricplt.submgr --http-port 8088 --rmr-port 4560 --redis-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import logging

import redis.asyncio as aioredis
import uvicorn

from ricplt.process_options import add_log_level_option, add_redis_option, add_rmr_options, open_rmr
from ricplt.submgr.app import create_app
from ricplt.submgr.e2_exchange import E2Exchange
from ricplt.submgr.metrics import SubmgrMetrics
from ricplt.submgr.node_events import follow_node_events
from ricplt.submgr.notifier import Notifier
from ricplt.submgr.route_handles import RouteHandles, RtmgrRouteHandles, StaticRoutes
from ricplt.submgr.service import SubscriptionService
from ricplt.submgr.store import SubscriptionStore
from ricproto import mdclog


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ricplt.submgr", description=__doc__.splitlines()[0])
    parser.add_argument("--http-host", default="127.0.0.1", help="REST API address")
    parser.add_argument("--http-port", type=int, default=8088, help="REST port (OSC submgr: 8088)")
    add_rmr_options(parser, rmr_port=4560, rmr_port_help="RMR data port (OSC submgr: 4560)")
    add_redis_option(parser)
    parser.add_argument(
        "--rtmgr-url",
        default=None,
        help="route manager REST base URL for subscription routes (default: static routes)",
    )
    add_log_level_option(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    mdclog.configure("submgr", args.log_level)
    log = logging.getLogger("submgr")
    for chatty in ("httpx", "httpcore"):  # one line per notification/route request otherwise
        logging.getLogger(chatty).setLevel(max(logging.WARNING, log.getEffectiveLevel()))
    metrics = SubmgrMetrics()
    client = aioredis.Redis.from_url(args.redis_url)
    rmr = open_rmr(args)
    exchange = E2Exchange(rmr, metrics)
    routes: RouteHandles = RtmgrRouteHandles(args.rtmgr_url) if args.rtmgr_url else StaticRoutes()
    notifier = Notifier(metrics)
    service = SubscriptionService(SubscriptionStore(client), client, exchange, notifier, routes, metrics)

    def background() -> list[asyncio.Task]:
        exchange.start(asyncio.get_running_loop())
        return [asyncio.create_task(follow_node_events(client, service.restore_in_background, metrics))]

    app = create_app(service, metrics, background)
    log.info(
        "submgr: REST on %s:%s, RMR on %s, Redis %s, routes %s",
        args.http_host,
        args.http_port,
        args.rmr_port,
        args.redis_url,
        args.rtmgr_url or "static",
    )
    try:
        uvicorn.run(app, host=args.http_host, port=args.http_port, log_level="warning")
    finally:
        exchange.stop()
        rmr.close()


if __name__ == "__main__":
    main()
