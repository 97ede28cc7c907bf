"""The A1 policy type ``twinric-twin`` (21030): the gate's and the rollback watch's thresholds.

The schema (``policy_type.json`` beside this file, what an operator PUTs to the A1 mediator as the
type) is the single source of truth: an instance is validated against it, then laid over the
sidecar's own settings (``controls.twin.policy.gate`` / ``.rollback``) and checked once more by the
gate's pydantic models.

The sidecar reads the instances from the A1 mediator's northbound A1-P v2 API (a second container of
the xApp's pod has no RMR endpoint of its own for the mediator to route A1_POLICY_REQ to): every
``poll_s`` it lists the type's instances and fetches them. As in the xApp, the instance created or
changed last is in force; when it is deleted the newest remaining one is, and without any the
settings are. A rejected instance is counted, logged and shown (``rejected``); the thresholds in
force stay.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from twin_sidecar.gate import GateSettings, RollbackSettings
from twin_sidecar.metrics import TwinMetrics

log = logging.getLogger("twin_sidecar.a1")
POLICY_TYPE_FILE = Path(__file__).with_name("policy_type.json")
A1_BASE = "/A1-P/v2"


class TwinPolicyRejected(ValueError):
    """An instance that does not satisfy the twinric-twin schema or does not fit the gate."""


@cache
def policy_type() -> dict[str, Any]:
    return json.loads(POLICY_TYPE_FILE.read_text())


def policy_type_id() -> int:
    return int(policy_type()["policy_type_id"])


@cache
def _validator() -> jsonschema.Draft7Validator:
    schema = policy_type()["create_schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


@dataclass(frozen=True)
class Thresholds:
    gate: GateSettings
    rollback: RollbackSettings
    candidate_every_s: float | None
    instance: str  # "" = the sidecar's settings


def thresholds_from_policy(
    payload: Any, instance: str, gate_base: dict[str, Any], rollback_base: dict[str, Any]
) -> Thresholds:
    """Validate an instance and lay it over the settings' gate and rollback values."""
    errors = sorted(_validator().iter_errors(payload), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise TwinPolicyRejected(f"{where}: {first.message}")
    try:
        gate = GateSettings.model_validate({**gate_base, **payload.get("promotion_gate", {})})
        rollback = RollbackSettings.model_validate({**rollback_base, **payload.get("rollback", {})})
    except ValueError as exc:
        raise TwinPolicyRejected(str(exc)) from None
    every = payload.get("candidate_every_s")
    return Thresholds(gate, rollback, None if every is None else float(every), instance)


class A1TwinPolicySource:
    """Polls the A1 mediator for ``twinric-twin`` instances and hands the one in force to ``apply``."""

    def __init__(
        self,
        url: str,
        gate_base: dict[str, Any],
        rollback_base: dict[str, Any],
        apply: Callable[[Thresholds], None],
        metrics: TwinMetrics,
        poll_s: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.gate_base, self.rollback_base = gate_base, rollback_base
        self.apply = apply
        self.metrics = metrics
        self.poll_s = poll_s
        self.instances: dict[str, Any] = {}  # instance id -> payload, in the order they were seen
        self.in_force = ""  # instance id ("" = settings)
        self.rejected: dict[str, str] = {}  # instance id -> reason
        self.reachable: bool | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _types_url(self) -> str:
        return f"{self.url}{A1_BASE}/policytypes/{policy_type_id()}/policies"

    def fetch(self, client: httpx.Client) -> dict[str, Any] | None:
        """The type's instances now (None when the mediator cannot be asked or lacks the type)."""
        try:
            resp = client.get(self._types_url())
            if resp.status_code == 404:  # type not created (yet): no policy of it
                return {}
            resp.raise_for_status()
            found: dict[str, Any] = {}
            for pid in resp.json():
                r = client.get(f"{self._types_url()}/{pid}")
                if r.status_code == 200:
                    found[str(pid)] = r.json()
            return found
        except (httpx.HTTPError, ValueError) as exc:
            if self.reachable is not False:
                log.warning("A1 mediator %s not readable: %s", self.url, exc)
            self.metrics.error("a1_unreachable")
            self.reachable = False
            return None

    def poll(self, client: httpx.Client) -> bool:
        """One poll; True when the thresholds in force changed."""
        found = self.fetch(client)
        if found is None:
            return False
        self.reachable = True
        changed = [pid for pid, body in found.items() if self.instances.get(pid) != body]
        gone = [pid for pid in self.instances if pid not in found]
        if not changed and not gone:
            return False
        for pid in gone:
            self.instances.pop(pid)
            self.rejected.pop(pid, None)
        for pid in changed:  # changed ones move to the end: the last one changed is in force
            self.instances.pop(pid, None)
            self.instances[pid] = found[pid]
        for pid in reversed(list(self.instances)):
            try:
                thresholds = thresholds_from_policy(
                    self.instances[pid], pid, self.gate_base, self.rollback_base
                )
                self.apply(thresholds)
            except ValueError as exc:
                if pid in changed and self.rejected.get(pid) != str(exc):
                    self.metrics.error("a1_policy_rejected")
                    log.error("twinric-twin policy %s rejected: %s", pid, exc)
                self.rejected[pid] = str(exc)
                continue
            self.rejected.pop(pid, None)
            self.in_force = pid
            return True
        if self.in_force or gone:  # nothing valid left: back to the settings
            self.apply(
                Thresholds(
                    GateSettings.model_validate(self.gate_base),
                    RollbackSettings.model_validate(self.rollback_base),
                    None,
                    "",
                )
            )
            self.in_force = ""
            return True
        return False

    def start(self) -> A1TwinPolicySource:
        self._thread = threading.Thread(target=self._run, name="twin-a1", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        # httpx logs every request at INFO: a poll every few seconds would drown the sidecar's log
        logging.getLogger("httpx").setLevel(logging.WARNING)
        with httpx.Client(timeout=5) as client:
            while True:
                try:
                    self.poll(client)
                except Exception:  # never expected: keep polling, say so
                    self.metrics.error("a1_poll_failed")
                    log.exception("A1 poll failed")
                if self._stop.wait(self.poll_s):
                    return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def status(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "policy_type_id": policy_type_id(),
            "reachable": self.reachable,
            "instances": list(self.instances),
            "in_force": self.in_force or None,
            "rejected": dict(self.rejected),
        }
