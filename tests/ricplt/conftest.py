"""Fixtures shared by the ricplt service tests: serving a real ASGI app over HTTP in-process."""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn

from twinric.ports import free_port


class ServerThread:
    """uvicorn serving ``app`` on a free port of 127.0.0.1 in a daemon thread."""

    def __init__(self, app) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve_app() -> type[ServerThread]:
    """``with serve_app(app) as server:`` runs any ASGI app on real HTTP (``server.url``)."""
    return ServerThread
