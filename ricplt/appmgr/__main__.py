"""Run appmgr (registration) with rtmgr-style route distribution as its own process.

    python -m ricplt.appmgr --http-port 8089 --rmr-port 4561 --redis-url redis://127.0.0.1:6379/0 \
        --platform a1mediator=127.0.0.1:4562/4563 --platform submgr=127.0.0.1:4560/4564
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from ricplt.appmgr.app import create_app
from ricplt.appmgr.distribution import PlatformComponent, RmrRoutePusher, RouteDistributor
from ricplt.appmgr.e2_associations import E2NodeAssociations
from ricplt.appmgr.metrics import AppmgrMetrics
from ricplt.appmgr.registry import Registry
from ricplt.process_options import add_log_level_option, add_redis_option, add_rmr_options, open_rmr
from ricproto import mdclog


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ricplt.appmgr", description=__doc__.splitlines()[0])
    parser.add_argument("--http-host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=8080, help="REST port (OSC appmgr: 8080)")
    add_rmr_options(
        parser,
        rmr_port=4561,
        rmr_port_help="RMR port of the route distributor (acks of pushed tables come back here)",
        route_table=False,  # appmgr sends route tables, it does not accept them
        src_id_default="127.0.0.1",
        src_id_help="RMR source name route-manager acks are returned to (default 127.0.0.1)",
    )
    add_redis_option(parser)
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        type=PlatformComponent.parse,
        metavar="ROLE=HOST:PORT[/ROUTEPORT]",
        help="a platform component (submgr, e2term, e2mgr, a1mediator); repeatable",
    )
    parser.add_argument("--ack-timeout", type=float, default=2.0, help="seconds to wait for a table ack")
    parser.add_argument("--retry-interval", type=float, default=1.0, help="seconds between re-pushes")
    parser.add_argument(
        "--no-follow-e2",
        action="store_true",
        help="do not follow the E2 node inventory in Redis for the MEID map (e2mgr's role locally)",
    )
    add_log_level_option(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    mdclog.configure("appmgr", args.log_level)
    log = logging.getLogger("appmgr")
    registry = Registry.from_url(args.redis_url)
    metrics = AppmgrMetrics(lambda: len(registry.xapps()))
    ctx = open_rmr(args)
    distributor = RouteDistributor(
        registry,
        args.platform,
        RmrRoutePusher(ctx),
        metrics,
        ack_timeout=args.ack_timeout,
        retry_interval=args.retry_interval,
    )
    app = create_app(registry, distributor, metrics, start_distributor=True)
    log.info(
        "appmgr: REST on %s:%s, route distribution from RMR port %s, platform %s",
        args.http_host,
        args.http_port,
        args.rmr_port,
        [f"{c.role}={c.rmr_endpoint}" for c in args.platform],
    )
    follower = None
    if not args.no_follow_e2:
        follower = E2NodeAssociations(registry.client, registry, distributor)
        follower.start()
    try:
        uvicorn.run(app, host=args.http_host, port=args.http_port, log_level="warning")
    finally:
        if follower:
            follower.stop()
        ctx.close()


if __name__ == "__main__":
    main()
