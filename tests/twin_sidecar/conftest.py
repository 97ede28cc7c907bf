"""Fixtures of the twin sidecar tests: the shipped RAN, record scripts, a twin on real HTTP.

The helpers beside this file (``twin_records``, ``twin_harness``, ``known_mdp``) are importable by name.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import torch  # noqa: E402
from twin_harness import TwinServer, twin_settings  # noqa: E402
from twin_records import RanScript, ran_config  # noqa: E402

# The networks here are small: one intra-op thread is faster than two fighting over a shared 2-core box.
torch.set_num_threads(1)


@pytest.fixture
def cfg():
    return ran_config()


@pytest.fixture
def script(cfg) -> RanScript:
    return RanScript(cfg)


@pytest.fixture
def twin_server(redis_url, redis_client, tmp_path) -> Iterator[Any]:
    started: list[TwinServer] = []

    def start(**overrides: Any) -> TwinServer:
        train = overrides.pop("train", False)
        server = TwinServer(twin_settings(redis_url, tmp_path / "state", **overrides), train=train).start()
        started.append(server)
        return server

    yield start
    for s in started:
        s.stop()
