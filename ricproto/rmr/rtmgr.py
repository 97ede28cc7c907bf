"""The route-manager side channel: tables pushed (mtype 20) to a control port, acked with mtype 22.

RMR opens a second context on the control port (``RMR_RTG_SVC`` / ``RMR_CTL_PORT``, 4561 in a
RIC). Route manager sends table records as mtype 20 messages (several records per message, never a
record split across messages); after every ``newrt|end``, ``updatert|end`` and ``meid_map|end`` we
answer by RTS with mtype 22 ``"OK <table-id> \\n"`` or ``"ERR <table-id> <reason>\\n"`` (C acks a
MEID map with its own message after the route table's), and a block forced out by a new
``newrt|start`` or ``meid_map|start`` is refused with ``"table not complete"``. In request mode
(``RMR_RTG_SVC=host:port``) we also ask for a table with mtype 21 until one arrives.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING

from ricproto import mtypes

if TYPE_CHECKING:
    from ricproto.rmr.context import RmrContext

log = logging.getLogger("ricproto.rmr.rtmgr")

DEFAULT_CTL_PORT = 4561
ROUTE_MANAGER_NAME = "routemgr:4561"


def route_manager_mode(rtg_port: int | None) -> tuple[int, str | None] | None:
    """(control port to listen on, route manager to request tables from or None), or None for off.

    An explicit ``rtg_port`` wins; otherwise ``RMR_RTG_SVC`` (``-1`` off, ``<port>`` / ``tcp:<port>``
    push mode, ``<host>:<port>`` request mode) and ``RMR_CTL_PORT``. With neither variable set the
    link is off (RMR itself would listen on 4561; many local processes on one host cannot).
    """
    if rtg_port is not None:
        return (rtg_port, None) if rtg_port >= 0 else None
    svc = os.environ.get("RMR_RTG_SVC", "").strip()
    ctl = os.environ.get("RMR_CTL_PORT", "").strip()
    ctl_port = int(ctl) if ctl.isdigit() else None
    if svc:
        if svc.lstrip("-").isdigit():
            return (int(svc), None) if int(svc) >= 0 else None
        if svc.startswith("tcp:") and svc[4:].isdigit():
            return int(svc[4:]), None
        return (ctl_port if ctl_port is not None else DEFAULT_CTL_PORT), svc
    if ctl_port is not None:
        return ctl_port, ROUTE_MANAGER_NAME
    return None


class RouteManagerLink:
    """Receives route tables for ``ctx`` on its own control context and acknowledges them."""

    def __init__(self, ctx: RmrContext, ctl_port: int, request_from: str | None = None,
                 request_every: float | None = None) -> None:
        from ricproto.rmr.context import RmrContext

        self.ctx = ctx
        self.request_from = request_from
        freq = os.environ.get("RMR_RTREQ_FREQ", "5")
        self.request_every = request_every or min(300.0, max(1.0, float(freq) if freq.isdigit() else 5.0))
        self.control = RmrContext(ctl_port, src_id=ctx.src.rsplit(":", 1)[0], bind_host=None,
                                  route_client=False)
        self.port = self.control.port
        self.tables_received = 0
        stash = os.environ.get("RMR_STASH_RT") or (
            f"{os.environ['RMR_SEED_RT']}.stash" if os.environ.get("RMR_SEED_RT") else "")
        self.stash_path = stash or None
        self._block_text: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"rmr-rtg-{self.port}", daemon=True)
        self._thread.start()
        log.info("route manager link on control port %d%s", self.port,
                 f", requesting tables from {request_from}" if request_from else "")

    def _serve(self) -> None:
        next_request = 0.0
        while not self._stop.is_set():
            if self.request_from and not self.ctx.routes.from_rtmgr and time.monotonic() >= next_request:
                self._request_table()
                next_request = time.monotonic() + self.request_every
            msg = self.control.receive(0.2)
            if msg is None:
                continue
            if msg.mtype != mtypes.RMRRM_TABLE_DATA:
                log.info("control port ignored message type %d from %s", msg.mtype, msg.src)
                continue
            try:
                # C reads the payload as a string: nothing after a NUL is seen
                text = msg.payload.split(b"\0", 1)[0].decode("utf-8", "replace")
                self._block_text.append(text)
                events = self.ctx.load_routes(text, from_rtmgr=True)
            except Exception:  # a bad table must never stop the link
                log.exception("route table from %s could not be applied", msg.src)
                continue
            for event in events:
                if event.kind == "newrt" and event.ok:
                    self._stash()
                if event.kind != "meid_map":
                    self._block_text = []
                self.tables_received += event.ok and event.kind != "meid_map"
                state = self.control.rts(msg, event.ack_payload(), mtypes.RMRRM_TABLE_STATE)
                if state != 0:
                    log.warning("table state ack for %s not delivered (state %d)", event.table_id, state)

    def _stash(self) -> None:
        # RMR saves tables from the route manager (RMR_STASH_RT, else <seed>.stash) for a restart.
        if not self.stash_path:
            return
        try:
            with open(self.stash_path, "w", encoding="utf-8") as fh:
                fh.write("".join(self._block_text))
        except OSError as exc:
            log.warning("cannot stash the route table in %s: %s", self.stash_path, exc)

    def _request_table(self) -> None:
        whid = self.control.wh_open(self.request_from or ROUTE_MANAGER_NAME)
        if whid < 0:
            log.info("route manager %s not reachable; will ask again", self.request_from)
            return
        payload = f"{self.control.src} ts={int(time.time())}\n".encode()
        self.control.wh_send(whid, mtypes.RMRRM_REQ_TABLE, payload)

    def close(self) -> None:
        self._stop.set()
        self.control.close()
