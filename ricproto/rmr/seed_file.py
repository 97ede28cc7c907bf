"""The static route table file (``RMR_SEED_RT``): loaded at start and re-read when it changes."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ricproto.rmr.context import RmrContext

log = logging.getLogger("ricproto.rmr.seed_file")

POLL_INTERVAL = 1.0


class SeedRouteFile:
    """Watches one seed file for a context.

    RMR retries every second until a table loads, then re-reads the file every 60 s; we check the
    file's modification time and size every second and reload as soon as it changes. Once the
    route manager has sent a table, the file no longer overrides it.
    """

    def __init__(self, ctx: RmrContext, path: str, interval: float = POLL_INTERVAL) -> None:
        self.ctx = ctx
        self.path = path
        self.interval = interval
        self._signature: tuple[float, int] | None = None
        self._stop = threading.Event()
        self.load_if_changed()
        self._thread = threading.Thread(target=self._watch, name=f"rmr-seed-{ctx.port}", daemon=True)
        self._thread.start()

    def load_if_changed(self) -> bool:
        """Load the file when it is new or changed; True when a table was applied."""
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            if self._signature is None:
                log.debug("seed route table %s not readable yet: %s", self.path, exc)
            return False
        signature = (stat.st_mtime, stat.st_size)
        if signature == self._signature:
            return False
        try:
            with open(self.path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError as exc:
            log.warning("cannot read seed route table %s: %s", self.path, exc)
            return False
        self._signature = signature
        if self.ctx.routes.from_rtmgr:
            log.info("seed route table %s changed; ignored: the route manager owns the table", self.path)
            return False
        events = self.ctx.load_routes(text)
        for event in events:
            if not event.ok:
                log.warning("seed route table %s rejected: %s", self.path, event.reason)
        return any(e.ok for e in events)

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.load_if_changed()
            except Exception:  # the watcher must survive any bad file
                log.exception("seed route table reload failed")

    def close(self) -> None:
        self._stop.set()
