"""Registration with appmgr (``POST /ric/v1/register``), which is what makes rtmgr route to the xApp.

The body is the one ricxappframe sends (osc.md 2.5) but built here, because the framework's own
thread gives up after ~10 s, needs the Kubernetes Service env vars, and sends no timeout. This one
retries with back-off until appmgr accepts, works off-cluster (endpoints from config/env), and
deregisters on shutdown.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

import httpx

from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.common.registration")


def appmgr_url(controls: dict[str, Any]) -> str:
    """``TWINRIC_APPMGR_URL``, else ``controls.appmgr_url``, else the OSC in-cluster service."""
    explicit = os.environ.get("TWINRIC_APPMGR_URL") or controls.get("appmgr_url")
    if explicit:
        return str(explicit).rstrip("/")
    plt = os.environ.get("PLT_NAMESPACE", "ricplt")
    return f"http://service-{plt}-appmgr-http.{plt}:8080"


def service_endpoint(config: dict[str, Any], kind: str) -> str | None:
    """The endpoint Kubernetes publishes for ``service-<ns>-<hostname>-<kind>`` (``kind`` http|rmr)."""
    host = os.environ.get("HOSTNAME")
    if not host:
        return None
    ns = str(config.get("APP_NAMESPACE") or "ricxapp")
    key = f"SERVICE_{ns}_{host}_{kind}_PORT".upper().replace("-", "_")
    value = os.environ.get(key)
    return value.split("//", 1)[1] if value and "//" in value else None


@dataclass(frozen=True)
class RegistrationBody:
    app_name: str
    instance_name: str
    version: str
    http_endpoint: str
    rmr_endpoint: str
    config: dict[str, Any]

    def register_json(self) -> dict[str, Any]:
        return {
            "appName": self.app_name,
            "appVersion": self.version,
            "configPath": "",
            "appInstanceName": self.instance_name,
            "httpEndpoint": self.http_endpoint,
            "rmrEndpoint": self.rmr_endpoint,
            "config": json.dumps(self.config),
        }

    def deregister_json(self) -> dict[str, Any]:
        return {"appName": self.app_name, "appInstanceName": self.instance_name}


class AppmgrRegistration:
    def __init__(
        self,
        url: str,
        body: RegistrationBody,
        metrics: XappMetrics,
        *,
        timeout_s: float = 3.0,
        max_backoff_s: float = 10.0,
    ) -> None:
        self.url = url
        self.body = body
        self.metrics = metrics
        self.timeout_s = timeout_s
        self.max_backoff_s = max_backoff_s
        self.registered = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error = ""

    def register_once(self) -> bool:
        try:
            resp = httpx.post(
                f"{self.url}/ric/v1/register", json=self.body.register_json(), timeout=self.timeout_s
            )
        except httpx.HTTPError as exc:
            self.last_error = f"appmgr unreachable: {exc}"
            self.metrics.error("appmgr_unreachable")
            return False
        if resp.status_code not in (200, 201):
            self.last_error = f"appmgr answered {resp.status_code}: {resp.text[:200]}"
            self.metrics.error("appmgr_rejected")
            return False
        self.last_error = ""
        self.registered.set()
        log.info("registered %s with appmgr at %s", self.body.instance_name, self.url)
        return True

    def start(self) -> AppmgrRegistration:
        def run() -> None:
            backoff = 0.5
            while not self._stop.is_set() and not self.register_once():
                log.warning("registration failed (%s); retrying in %.1fs", self.last_error, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

        self._thread = threading.Thread(target=run, name="appmgr-registration", daemon=True)
        self._thread.start()
        return self

    def stop(self, deregister: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 1)
        if deregister and self.registered.is_set():
            try:
                httpx.post(
                    f"{self.url}/ric/v1/deregister", json=self.body.deregister_json(), timeout=self.timeout_s
                )
            except httpx.HTTPError as exc:
                log.warning("deregistration failed: %s", exc)
            self.registered.clear()

    def health(self) -> tuple[bool, str]:
        return (True, "registered") if self.registered.is_set() else (False, self.last_error or "registering")
