"""Run the E2 simulator against an E2 termination: ``python -m e2sim --scenario small --e2t HOST:PORT``."""

from __future__ import annotations

import argparse
import asyncio
import sys

from e2sim.agent import AgentConfig, E2Agent
from e2sim.ran.model import RanModel
from e2sim.scenario import ScenarioError, load_scenario
from ricproto import mdclog
from ricproto.e2transport import SctpUnavailable, choose_transport


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="e2sim", description=__doc__)
    parser.add_argument(
        "--scenario", default="small", help="small, medium, large, crowd_small, hetnet_medium or a YAML file"
    )
    parser.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    parser.add_argument("--e2t", required=True, metavar="HOST:PORT", help="E2 termination address")
    parser.add_argument(
        "--transport",
        choices=("auto", "sctp", "tcp"),
        default="auto",
        help="auto = SCTP when the kernel has it, else length-framed TCP",
    )
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--realtime", action="store_true", help="simulated time runs at wall-clock speed")
    pace.add_argument("--speed", type=float, default=None, help="N simulated seconds per wall second")
    parser.add_argument("--duration", type=float, default=None, help="stop after this many simulated seconds")
    args = parser.parse_args(argv)
    mdclog.configure("e2sim", "INFO")
    host, _, port = args.e2t.rpartition(":")
    if not host or not port.isdigit():
        parser.error("--e2t must be HOST:PORT")
    try:
        transport = choose_transport(args.transport)
        scenario = load_scenario(args.scenario, seed=args.seed)
    except (SctpUnavailable, ScenarioError) as exc:
        print(f"e2sim: {exc}", file=sys.stderr)
        return 2
    speed = 1.0 if args.realtime else args.speed
    agent = E2Agent(RanModel(scenario), AgentConfig(host, int(port), transport, speed=speed))
    try:
        asyncio.run(agent.run(until_sim_s=args.duration))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
