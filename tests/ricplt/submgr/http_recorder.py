"""A real HTTP server (stdlib, own thread, free port) that records every request's method, path and JSON."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twinric.ports import free_port


@dataclass
class Recorded:
    method: str
    path: str
    body: Any


class HttpRecorder:
    def __init__(self, status: int = 200, first: tuple[int, ...] = ()) -> None:
        self.status = status
        self.first = list(first)  # statuses answered in turn before ``status``
        self.requests: list[Recorded] = []
        self._cond = threading.Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                with recorder._cond:
                    recorder.requests.append(Recorded(self.command, self.path, body))
                    recorder._cond.notify_all()
                    status = recorder.first.pop(0) if recorder.first else recorder.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_DELETE = do_PUT = _record

            def log_message(self, *_args: object) -> None:
                return None

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_for(self, count: int, timeout: float = 10.0, method: str | None = None) -> list[Recorded]:
        """The first ``count`` requests (of ``method``, if given), waiting up to ``timeout`` s for them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [r for r in self.requests if method is None or r.method == method]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(found)} of {count} requests within {timeout}s: {self.requests}"
                    )
                self._cond.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
