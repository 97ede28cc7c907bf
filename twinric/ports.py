"""Free-port discovery and the local port plan of RIC-in-a-box.

In an OSC RIC every component has its own pod IP and the standard ports; on one machine they all
share 127.0.0.1, so the local plan gives each role its own port.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable

# role -> TCP port on 127.0.0.1 used by `twinric up` (OSC's own port where it does not collide).
LOCAL_PORT_PLAN: dict[str, int] = {
    "e2term-e2": 36422,  # E2 setup from nodes (SCTP in a RIC, length-framed TCP here)
    "e2term-rmr": 38000,
    "e2term-rtg": 38001,
    "e2term-metrics": 38080,
    "submgr-rmr": 4560,
    "submgr-rtg": 4564,
    "submgr-http": 8088,
    "a1-rmr": 4562,
    "a1-rtg": 4563,
    "a1-http": 10000,
    "appmgr-rmr": 4561,
    "appmgr-http": 8089,
    "e2mgr-http": 3800,
    "e2mgr-rmr": 3801,
    "e2mgr-rtg": 3802,
    "absent-http": 8099,  # answers for platform components the box does not run
    "control-rmr": 4570,
    "control-rtg": 4571,
    "control-http": 8080,
    "pdp-rmr": 4580,
    "pdp-rtg": 4581,
    "pdp-http": 8081,
    "twin-http": 8090,
}


EPHEMERAL_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"
FREE_PORT_FLOOR = 10_000  # below: the ports of well-known services and of the local plan


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for the local port of outgoing connections (Linux default 32768-60999)."""
    try:
        low, high = (int(v) for v in open(EPHEMERAL_RANGE_FILE).read().split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now, outside the ephemeral range.

    A port the kernel hands out for ``bind(0)`` comes from the ephemeral range, which outgoing
    connections use too: between choosing it and listening on it, any process's connect() may take
    it as its local port (seen with a dozen components starting at once). Ports below that range are
    only ever taken by someone who asks for them."""
    low, high = ephemeral_range()
    candidates = [(first, last) for first, last in ((FREE_PORT_FLOOR, low - 1), (high + 1, 65535))
                  if first <= last]
    rng = random.SystemRandom()
    for _ in range(200):
        first, last = rng.choice(candidates) if candidates else (1024, 65535)
        port = rng.randint(first, last)
        if port not in LOCAL_PORT_PLAN.values() and port_is_free(port, host):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # an exotic range: let the kernel pick
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a listening socket could be bound to ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def allocate_ports(roles: list[str] | None = None, free: bool = False) -> dict[str, int]:
    """Ports for the local stack: the plan, or (``free=True``) kernel-chosen free ports per role."""
    roles = roles or list(LOCAL_PORT_PLAN)
    if not free:
        return {role: LOCAL_PORT_PLAN[role] for role in roles}
    chosen: dict[str, int] = {}
    while len(chosen) < len(roles):
        port = free_port()
        if port not in chosen.values():
            chosen[roles[len(chosen)]] = port
    return chosen


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 10.0,
                  still_worth_waiting: Callable[[], bool] | None = None) -> bool:
    """Poll until something accepts TCP connections on ``host:port``; False on timeout, or as soon as
    ``still_worth_waiting`` says no (the process that should listen has exited)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if still_worth_waiting is not None and not still_worth_waiting():
            return False
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False
