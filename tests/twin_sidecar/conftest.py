"""Fixtures of the twin sidecar tests: the shipped RAN, record scripts, a twin on real HTTP."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from records import RanScript, descriptor, ran_config  # noqa: E402

from twin_sidecar.app import build_parts, create_app  # noqa: E402
from twin_sidecar.parts import TwinParts  # noqa: E402
from twin_sidecar.settings import TwinSettings  # noqa: E402
from twinric.ports import free_port, wait_for_port  # noqa: E402

SMALL_TRAINING = {"hidden": 32, "batch_size": 32, "min_samples": 40, "updates_per_version": 10, "duty": 1.0}


@pytest.fixture
def cfg():
    return ran_config()


@pytest.fixture
def script(cfg) -> RanScript:
    return RanScript(cfg)


def twin_settings(redis_url: str, state_dir: Path, **overrides: Any) -> TwinSettings:
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "xapp_instance": "control-t",
        "state_dir": state_dir,
        "checkpoint_interval_s": 0.2,
        "port": free_port(),
        "training": SMALL_TRAINING,
    }
    values.update(overrides)
    return TwinSettings.from_descriptor(descriptor(), env={}, **values)


class TwinServer:
    """The sidecar app on real HTTP (uvicorn in a thread), its parts reachable for assertions."""

    def __init__(self, settings: TwinSettings, *, train: bool = False) -> None:
        self.settings = settings
        self.parts: TwinParts = build_parts(settings, train=train)
        self.app = create_app(self.parts)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host=settings.host, port=settings.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    def start(self) -> TwinServer:
        self.thread.start()
        assert wait_for_port(self.settings.port, timeout=20)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


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
