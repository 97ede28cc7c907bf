"""A Redis to use: the configured one (``TWINRIC_REDIS_URL``) or a private ``redis-server``.

The private server listens on a free port of 127.0.0.1, keeps its files in a temporary directory,
persists nothing, and is stopped (and its directory removed) by :meth:`PrivateRedis.stop`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import redis

from twinric.ports import free_port
from twinric.processes import ManagedProcess, wait_until

REDIS_URL_ENV = "TWINRIC_REDIS_URL"

INSTALL_HINT = (
    "Redis is needed: set TWINRIC_REDIS_URL=redis://HOST:PORT/0 to use a running server, or install "
    "redis-server so a private one can be started (Debian/Ubuntu: apt-get install redis-server; "
    "macOS: brew install redis)."
)


class RedisUnavailable(RuntimeError):
    """Neither a configured Redis nor a startable redis-server."""


def ping(url: str, timeout: float = 1.0) -> bool:
    """True when a Redis server answers PING at ``url``."""
    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError):
        return False


def redis_server_binary() -> str | None:
    """Path of the ``redis-server`` executable, if installed."""
    return shutil.which(os.environ.get("TWINRIC_REDIS_SERVER", "redis-server"))


def redis_server_version(binary: str) -> str | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for token in out.split():
        if token.startswith("v="):
            return token[2:]
    return out.strip() or None


class PrivateRedis:
    """A ``redis-server`` of our own on a free port, in a temporary directory."""

    def __init__(self, binary: str | None = None, port: int | None = None) -> None:
        found = binary or redis_server_binary()
        if not found:
            raise RedisUnavailable(INSTALL_HINT)
        self.binary = found
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="twinric-redis-"))
        self.process = ManagedProcess(
            "redis-server",
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no"],
            log_path=self.dir / "redis.log",
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> PrivateRedis:
        self.process.start()
        if not wait_until(lambda: ping(self.url, 0.2) or not self.process.alive(), timeout):
            self.stop()
            raise RedisUnavailable(f"redis-server did not answer on port {self.port} within {timeout} s")
        if not self.process.alive():
            tail = self.process.log_tail()
            self.stop()
            raise RedisUnavailable(f"redis-server exited at start:\n{tail}")
        return self

    def stop(self) -> None:
        self.process.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PrivateRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def configured_url() -> str | None:
    return os.environ.get(REDIS_URL_ENV) or None
