"""Shared test harness: a real Redis for the session, free ports, clean subprocesses."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from twinric.ports import free_port
from twinric.redis_server import INSTALL_HINT, PrivateRedis, RedisUnavailable, ping

REPO = Path(__file__).resolve().parent.parent


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    # A run stopped with SIGTERM (a CI timeout, `timeout`) unwinds like Ctrl-C: fixtures stop the
    # processes they started instead of leaving them running.
    signal.signal(signal.SIGTERM, _interrupt)
    # ricxappframe's generated R-NIB protobuf modules use a deprecated descriptor API: noise, not ours.
    config.addinivalue_line("filterwarnings", "ignore:Call to deprecated create function:DeprecationWarning")


SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis: ``TWINRIC_REDIS_URL`` if set, else a private redis-server on a free port.

    Fails (never skips) when neither is possible, with a message that says how to install Redis.
    """
    configured = os.environ.get("TWINRIC_REDIS_URL")
    if configured:
        if not ping(configured):
            pytest.fail(f"TWINRIC_REDIS_URL={configured} does not answer PING. {INSTALL_HINT}")
        yield configured
        return
    try:
        server = PrivateRedis().start()
    except RedisUnavailable as exc:
        pytest.fail(str(exc))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on the session Redis, with the database emptied before the test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    return free_port()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout; tests that cross-check against it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(
            f"{SHARED} is absent: this cross-check reads upstream files kept outside the tree "
            "(ASN.1 modules, OpenAPI and descriptor schemas); tests/vectors covers the wire vectors"
        )
    return SHARED


@pytest.fixture(scope="session")
def python_exe() -> str:
    return sys.executable
