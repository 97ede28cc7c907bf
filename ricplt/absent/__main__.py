"""Run the responder for platform components the box does not run.

    python -m ricplt.absent --http-port 8099
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from ricplt.absent.app import create_app
from ricplt.process_options import add_log_level_option
from ricproto import mdclog


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ricplt.absent", description=__doc__.splitlines()[0])
    parser.add_argument("--http-host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=8099)
    add_log_level_option(parser)
    args = parser.parse_args(argv)
    mdclog.configure("absent", args.log_level)
    logging.getLogger("absent").info("answering for absent platform components on %s:%s",
                                     args.http_host, args.http_port)
    uvicorn.run(create_app(), host=args.http_host, port=args.http_port, log_level="warning")


if __name__ == "__main__":
    main()
