"""The stack's start: a service that dies while starting is reported at once, with its log."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from twinric.ports import free_port, wait_for_port
from twinric.stack import Service, Stack, StackFailed


def test_wait_for_port_stops_when_not_worth_waiting() -> None:
    started = time.monotonic()
    assert not wait_for_port(free_port(), timeout=30, still_worth_waiting=lambda: False)
    assert time.monotonic() - started < 5


def test_a_service_that_dies_at_start_fails_the_stack_at_once(tmp_path: Path) -> None:
    dying = Service("dying", [sys.executable, "-c", "import sys; print('bad config'); sys.exit(3)"],
                    ready_port=free_port())
    stack = Stack([dying], tmp_path / "run")
    started = time.monotonic()
    with pytest.raises(StackFailed, match=r"(?s)dying exited at start.*bad config"):
        stack.start(ready_timeout=60)
    assert time.monotonic() - started < 20  # not the whole ready timeout
