"""The twin sidecar in tests: settings over a test Redis, and the app on real HTTP (uvicorn thread)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import uvicorn
from twin_records import descriptor

from twin_sidecar.app import build_parts, create_app
from twin_sidecar.parts import TwinParts
from twin_sidecar.settings import TwinSettings
from twinric.ports import free_port, wait_for_port

SMALL_TRAINING = {"hidden": 32, "batch_size": 32, "min_samples": 40, "updates_per_version": 10, "duty": 1.0}


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
