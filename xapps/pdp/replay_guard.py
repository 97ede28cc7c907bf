"""Replay protection of signed access requests: a timestamp window and the nonces seen within it.

A request is accepted once: its ``ts`` must lie within ``window_ms`` of the PDP's clock (so a nonce
need only be remembered that long), and its (subject, nonce) must not have been seen in that window.
Memory is bounded by the window and by ``max_entries`` (past it, the oldest are forgotten early, and
requests older than what is still remembered are refused as stale).
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class ReplayGuard:
    def __init__(self, window_ms: int = 30_000, max_entries: int = 1_000_000) -> None:
        self.window_ms = window_ms
        self.max_entries = max_entries
        self._seen: OrderedDict[tuple[str, str], int] = OrderedDict()  # arrival order, value = ts
        self._floor_ms = 0  # requests stamped before this are refused (their nonces may be forgotten)
        self._lock = threading.Lock()

    def check(self, subject: str, nonce: str, ts_ms: int, now_ms: int) -> str | None:
        """None when fresh (and now remembered); else ``stale_request`` or ``replayed``."""
        if abs(now_ms - ts_ms) > self.window_ms or ts_ms < self._floor_ms:
            return "stale_request"
        key = (subject, nonce)
        with self._lock:
            if key in self._seen:
                return "replayed"
            self._seen[key] = ts_ms
            self._prune(now_ms)
        return None

    def _prune(self, now_ms: int) -> None:
        horizon = now_ms - 2 * self.window_ms  # arrival order is about ts order: a little slack
        while self._seen:
            ts = next(iter(self._seen.values()))
            over = len(self._seen) > self.max_entries
            if ts >= horizon and not over:
                break
            self._seen.popitem(last=False)
            if over:  # forgotten inside its window: refuse everything stamped as early
                self._floor_ms = max(self._floor_ms, ts + 1)

    def __len__(self) -> int:
        return len(self._seen)
