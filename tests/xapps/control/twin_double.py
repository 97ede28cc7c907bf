"""A twin sidecar stand-in on real HTTP: answers /v1/predict and /v1/plan, records what it was asked."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI

from twinric.ports import free_port, wait_for_port


class TwinDouble:
    def __init__(
        self, max_cells: int, *, plan_action: int = 0, plan_delay_s: float = 0.0, predicted: float = 0.5
    ) -> None:
        self.port = free_port()
        self.plans: list[dict[str, Any]] = []
        self.predictions = 0
        self.plan_action = plan_action
        self.plan_delay_s = plan_delay_s
        self.predicted = predicted
        app = FastAPI()

        @app.post("/v1/predict")
        def predict(body: dict[str, Any]) -> dict[str, Any]:
            self.predictions += 1
            return {"predicted_load": [self.predicted] * max_cells}

        @app.post("/v1/plan")
        def plan(body: dict[str, Any]) -> dict[str, Any]:
            self.plans.append(body)
            time.sleep(self.plan_delay_s)
            return {"action": self.plan_action}

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TwinDouble:
        self.thread.start()
        assert wait_for_port(self.port, timeout=10)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
