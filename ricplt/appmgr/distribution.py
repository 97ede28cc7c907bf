"""Route distribution as rtmgr does it: regenerate the table on every change, push it to every RMR
participant's route-manager port (mtype 20, RMRRM_TABLE_DATA) and wait for its acks (mtype 22,
``"OK <table-id>"``): RMR acknowledges every block of the push with its own message, the route table
and then the MEID map, and a push is delivered only when every block was accepted. Targets that did
not ack are retried until they do, so an xApp whose route port opens after it registered still gets
its table. A table that RMR could not parse as meant (`RouteLimitError`) is never pushed: the error
is logged, counted and shown in the status, and the targets keep the last table they accepted.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from ricplt.appmgr.metrics import AppmgrMetrics
from ricplt.appmgr.registry import Registry
from ricplt.routes import PlatformEndpoints, RouteLimitError, RouteTable, generate_route_table
from ricproto import mtypes

log = logging.getLogger("appmgr.routes")

CHUNK_BYTES = 4096  # several whole records per RMR message, never a record split across two


@dataclass(frozen=True)
class PlatformComponent:
    """One platform process: its role (submgr, e2term, e2mgr, a1mediator), RMR data and route endpoints."""

    role: str
    rmr_endpoint: str
    route_endpoint: str | None = None

    @classmethod
    def parse(cls, text: str) -> PlatformComponent:
        """``role=host:dataport[/routeport]``, e.g. ``a1mediator=127.0.0.1:4562/4563``."""
        role, sep, rest = text.partition("=")
        endpoint, _, route_port = rest.partition("/")
        host, colon, port = endpoint.rpartition(":")
        ports_ok = port.isdigit() and (not route_port or route_port.isdigit())
        if not sep or role not in ROLES or not colon or not ports_ok:
            raise ValueError(
                f"platform component must be ROLE=HOST:PORT[/ROUTEPORT] with ROLE one of "
                f"{', '.join(ROLES)}; got {text!r}"
            )
        return cls(role, endpoint, f"{host}:{route_port}" if route_port else None)


ROLES = ("submgr", "e2term", "e2mgr", "a1mediator")


def platform_endpoints(components: list[PlatformComponent]) -> PlatformEndpoints:
    def one(role: str) -> str | None:
        return next((c.rmr_endpoint for c in components if c.role == role), None)

    return PlatformEndpoints(
        submgr=one("submgr"),
        e2mgr=one("e2mgr"),
        a1mediator=one("a1mediator"),
        e2term=tuple(c.rmr_endpoint for c in components if c.role == "e2term"),
    )


@dataclass(frozen=True)
class PushOutcome:
    ok: bool
    detail: str


class RoutePusher(Protocol):
    def push(self, endpoint: str, table_id: str, chunks: list[bytes], timeout: float,
             blocks: tuple[str, ...] = ("newrt",)) -> PushOutcome: ...


def chunk_table(text: str, limit: int = CHUNK_BYTES) -> list[bytes]:
    chunks: list[bytes] = []
    current = b""
    for line in text.splitlines(keepends=True):
        data = line.encode()
        if current and len(current) + len(data) > limit:
            chunks.append(current)
            current = b""
        current += data
    if current:
        chunks.append(current)
    return chunks


_BLOCK_NAMES = {"newrt": "route table", "meid_map": "MEID map"}


class RmrRoutePusher:
    """Pushes over an RMR context of our own, the way rtmgr's RMR client does.

    Each target gets a wormhole (a direct connection, no routing) to its route-manager port; the
    ack comes back by RTS to our source name, so ``ctx`` must be reachable under it.
    """

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        self._wormholes: dict[str, int] = {}

    def push(self, endpoint: str, table_id: str, chunks: list[bytes], timeout: float,
             blocks: tuple[str, ...] = ("newrt",)) -> PushOutcome:
        """Send ``chunks`` and wait for one ack per block (in order); every one must say OK."""
        with self._lock:
            whid = self._wormholes.get(endpoint)
            if whid is None or self.ctx.wh_state(whid) != 0:
                whid = self.ctx.wh_open(endpoint)
                if whid < 0:
                    self._wormholes.pop(endpoint, None)
                    return PushOutcome(False, f"cannot connect to route port {endpoint}")
                self._wormholes[endpoint] = whid
            for chunk in chunks:
                state = self.ctx.wh_send(whid, mtypes.RMRRM_TABLE_DATA, chunk)
                if state != 0:
                    self.ctx.wh_close(whid)
                    self._wormholes.pop(endpoint, None)
                    return PushOutcome(False, f"send to {endpoint} failed: RMR state {state}")
            deadline = time.monotonic() + timeout
            acked = 0
            while (remaining := deadline - time.monotonic()) > 0:
                msg = self.ctx.receive(remaining)
                if msg is None or msg.mtype != mtypes.RMRRM_TABLE_STATE:
                    continue
                # C writes "OK|ERR <id> <reason>\n" and sends the string's NUL too
                words = msg.payload.split(b"\0", 1)[0].decode(errors="replace").split()
                if len(words) < 2 or words[1] != table_id:
                    continue  # an ack of an earlier table
                block = blocks[acked] if acked < len(blocks) else "extra block"
                if words[0] != "OK":
                    return PushOutcome(False, f"{endpoint} refused the {_BLOCK_NAMES.get(block, block)} of "
                                              f"table {table_id}: {' '.join(words[2:]) or words[0]}")
                acked += 1
                if acked == len(blocks):
                    return PushOutcome(True, "OK")
            missing = ", ".join(_BLOCK_NAMES.get(b, b) for b in blocks[acked:])
            return PushOutcome(False, f"no ack from {endpoint} within {timeout} s for the {missing}")


@dataclass
class TargetState:
    endpoint: str
    ok: bool = False
    table_id: str = ""
    detail: str = "not pushed yet"
    at: float = 0.0


class RouteDistributor:
    def __init__(
        self,
        registry: Registry,
        platform: list[PlatformComponent],
        pusher: RoutePusher,
        metrics: AppmgrMetrics,
        *,
        ack_timeout: float = 2.0,
        retry_interval: float = 1.0,
    ) -> None:
        self.registry = registry
        self.platform = platform
        self.pusher = pusher
        self.metrics = metrics
        self.ack_timeout = ack_timeout
        self.retry_interval = retry_interval
        self.generation = 0
        self.table: RouteTable | None = None
        self.error = ""  # why the current registrations cannot be routed (empty when they can)
        self.targets: dict[str, TargetState] = {}
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def build(self) -> RouteTable:
        self.generation += 1
        return generate_route_table(
            [x.routes() for x in self.registry.xapps()],
            platform_endpoints(self.platform),
            self.registry.subscriptions(),
            self.registry.meids(),
            table_id=f"appmgr-{self.generation}",
        )

    def target_endpoints(self) -> dict[str, str]:
        """Name -> route endpoint of everyone who gets the table."""
        out = {f"{c.role}@{c.rmr_endpoint}": c.route_endpoint for c in self.platform if c.route_endpoint}
        out.update({x.instance_name: x.route_endpoint for x in self.registry.xapps() if x.route_endpoint})
        return out

    def distribute(self, only_failed: bool = False) -> None:
        """Regenerate (unless only retrying) and push; safe to call from any thread."""
        with self._lock:
            if not only_failed or self.table is None:
                try:
                    built = self.build()
                except RouteLimitError as exc:
                    # Pushing it would leave RMR with routes nobody meant: keep the last good table.
                    self.error = str(exc)
                    self.metrics.failure("route_limit")
                    log.error("route table not distributed: %s", exc)
                    return
                self.error = ""
                self.table = built
                for warning in self.table.warnings:
                    log.warning("route generation: %s", warning)
            table = self.table
            chunks = chunk_table(table.text())
            blocks = tuple(table.blocks())
            wanted = self.target_endpoints()
            self.targets = {name: self.targets.get(name, TargetState(ep)) for name, ep in wanted.items()}
            for name, state in self.targets.items():
                state.endpoint = wanted[name]
                if only_failed and state.ok and state.table_id == table.table_id:
                    continue
                outcome = self.pusher.push(state.endpoint, table.table_id, chunks, self.ack_timeout,
                                           blocks=blocks)
                state.ok, state.detail, state.at = outcome.ok, outcome.detail, time.time()
                state.table_id = table.table_id if outcome.ok else state.table_id
                self.metrics.route_pushes.labels("ok" if outcome.ok else "failed").inc()
                if outcome.ok:
                    log.info("route table %s pushed to %s (%s)", table.table_id, name, state.endpoint)
                elif not only_failed:
                    log.warning(
                        "route table %s not delivered to %s: %s", table.table_id, name, outcome.detail
                    )

    def changed(self) -> None:
        """Registrations changed: regenerate and push from the worker thread."""
        self._changed.set()

    def status(self) -> dict[str, Any]:
        table = self.table
        return {
            "error": self.error,
            "table_id": table.table_id if table else None,
            "table": table.text() if table else "",
            "warnings": table.warnings if table else [],
            "targets": {n: vars(s).copy() for n, s in self.targets.items()},
        }

    def start(self) -> None:
        self._changed.set()  # the platform gets its table at start, before any xApp registers
        self._thread = threading.Thread(target=self._run, name="appmgr-routes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._changed.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            triggered = self._changed.wait(self.retry_interval)
            if self._stop.is_set():
                return
            self._changed.clear()
            try:
                if triggered:
                    self.distribute()
                elif any(
                    not s.ok or (self.table and s.table_id != self.table.table_id)
                    for s in self.targets.values()
                ):
                    self.distribute(only_failed=True)
            except Exception:  # Redis briefly away, etc.: keep the worker alive and retry
                self.metrics.failure("route_distribution_error")
                log.exception("route distribution failed")
