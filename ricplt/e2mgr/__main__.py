"""Run the E2 manager stand-in: the R-NIB kept from the E2 inventory, RAN_CONNECTED over RMR, REST.

    python -m ricplt.e2mgr --http-port 3800 --rmr-port 3801 --rtg-port 4561 --redis-url redis://...

In OSC, e2mgr handles E2 setup and writes the R-NIB; here e2term answers E2 setup and keeps the E2
inventory, and this process turns that inventory into e2mgr's R-NIB (SDL database 0, where ricsdl looks)
and sends RAN_CONNECTED (1200, meid = RAN name) to the xApps that declare it, when a node connects.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading

import redis
import uvicorn

from ricplt.e2mgr.app import create_app
from ricplt.e2mgr.follower import InventoryFollower
from ricplt.e2mgr.metrics import E2mgrMetrics
from ricplt.e2mgr.rnib import nodeb_info_pb2
from ricplt.e2mgr.writer import RnibWriter
from ricplt.e2term.inventory import E2NodeRecord
from ricplt.process_options import add_log_level_option, add_redis_option, add_rmr_options, open_rmr
from ricplt.rmr_receiver import receive_until_stopped
from ricproto import mdclog, mtypes
from ricproto.rmr import RmrContext, RmrMessage
from ricproto.rmr.states import RMR_ERR_NOENDPT, RMR_OK

RIC_TO_RAN = 2  # e2mgr's MessageDirection of the RAN_CONNECTED payload


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ricplt.e2mgr", description=__doc__.splitlines()[0])
    parser.add_argument("--http-host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=3800, help="REST port (OSC e2mgr: 3800)")
    add_rmr_options(parser, rmr_port=3801, rmr_port_help="RMR data port (OSC e2mgr: 3801)")
    add_redis_option(parser)
    add_log_level_option(parser)
    return parser.parse_args(argv)


def sdl_client(url: str) -> redis.Redis:
    """The Redis of ``url`` in database 0: ricsdl (and so every xApp) reads SDL there."""
    return redis.Redis.from_url(url, db=0)


def ran_connected_payload(record: E2NodeRecord) -> bytes:
    node_type = nodeb_info_pb2.Node.Type.Value(record.identity.nodeType if record.identity else "GNB")
    return json.dumps({"nodeType": node_type, "messageDirection": RIC_TO_RAN}).encode()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    mdclog.configure("e2mgr", args.log_level)
    log = logging.getLogger("e2mgr")
    metrics = E2mgrMetrics()
    inventory = redis.Redis.from_url(args.redis_url)
    sdl = sdl_client(args.redis_url)
    rmr = open_rmr(args)

    def announce(record: E2NodeRecord) -> None:
        state = rmr.send(mtypes.RAN_CONNECTED, ran_connected_payload(record), meid=record.ranName)
        if state == RMR_OK:
            log.info("RAN_CONNECTED sent for %s", record.ranName)
        elif state == RMR_ERR_NOENDPT:
            log.debug("RAN_CONNECTED for %s: no xApp declares it", record.ranName)
        else:
            metrics.error("rmr_send_failed")
            log.warning("RAN_CONNECTED for %s not sent: RMR state %d", record.ranName, state)

    follower = InventoryFollower(inventory, RnibWriter(sdl), metrics, announce)
    stopping = threading.Event()
    handler = _handler(rmr, metrics, log)
    receiver = threading.Thread(target=receive_until_stopped, args=(rmr, stopping, handler),
                                name="e2mgr-rmr-rx", daemon=True)
    receiver.start()
    follower.start()
    log.info("e2mgr stand-in: REST on %s:%s, RMR %s, R-NIB in %s db 0", args.http_host, args.http_port,
             rmr.src, args.redis_url)
    try:
        uvicorn.run(create_app(sdl, metrics), host=args.http_host, port=args.http_port, log_level="warning")
    finally:
        stopping.set()
        follower.stop()
        rmr.close()


def _handler(rmr: RmrContext, metrics: E2mgrMetrics, log: logging.Logger):
    def handle(message: RmrMessage) -> None:
        if message.mtype == mtypes.RIC_HEALTH_CHECK_REQ:
            rmr.rts(message, b"OK\n", mtypes.RIC_HEALTH_CHECK_RESP)
            return
        metrics.error("unexpected_rmr_mtype")
        log.warning("RMR message type %d is not handled by the box's e2mgr: dropped", message.mtype)

    return handle


if __name__ == "__main__":
    main()
