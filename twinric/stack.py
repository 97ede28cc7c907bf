"""A local stack of twinric processes: start in order, wait until ready, watch, scrape, stop.

``twinric up`` builds the list of services; this module only knows how to run and observe them. Each
service may expose Prometheus metrics over HTTP; the loop summary is computed from the shared metric
names in :mod:`ricproto.metric_names`, so the orchestrator never reaches into a component.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from ricproto import metric_names as mn
from twinric.ports import wait_for_port
from twinric.processes import ManagedProcess, pid_alive


@dataclass(frozen=True)
class Service:
    """One process of the stack. ``ready_port`` is polled until it accepts connections."""

    name: str
    argv: list[str]
    ready_port: int | None = None
    metrics_port: int | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class LoopSummary:
    """What ``twinric up --json`` and ``twinric status --json`` report about the loop."""

    e2_nodes: int = 0
    subscriptions: int = 0
    indications: int = 0
    controls: int = 0
    a1_policies_enforced: int = 0
    errors: int = 0


SUMMARY_METRICS = {
    mn.E2_NODES_CONNECTED: "e2_nodes",
    mn.SUBSCRIPTIONS_ACTIVE: "subscriptions",
    mn.E2_INDICATIONS: "indications",
    mn.E2_CONTROLS: "controls",
    mn.A1_POLICIES_ENFORCED: "a1_policies_enforced",
    mn.ERRORS: "errors",
}


def scrape(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> dict[str, float]:
    """Sum every sample of every metric at ``http://host:port/metrics`` by sample name."""
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=timeout) as resp:
        text = resp.read().decode()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + float(sample.value)
    return totals


def summarize(scrapes: Iterable[dict[str, float]]) -> LoopSummary:
    summary = LoopSummary()
    for totals in scrapes:
        for name, attr in SUMMARY_METRICS.items():
            setattr(summary, attr, getattr(summary, attr) + int(totals.get(name, 0)))
    return summary


class StackFailed(RuntimeError):
    pass


class Stack:
    """Runs services in order; writes ``state.json`` in ``run_dir`` for ``twinric status``."""

    def __init__(self, services: list[Service], run_dir: Path) -> None:
        self.services = services
        self.run_dir = run_dir
        self.processes: dict[str, ManagedProcess] = {}
        self.started_at = 0.0
        self.extra_state: dict = {}

    # Generous: a loaded machine can take a minute to import torch and FastAPI; a service that dies
    # while starting is reported at once (wait_for_port stops waiting when its process exits).
    def start(self, ready_timeout: float = 90.0, extra_state: dict | None = None) -> None:
        self.extra_state = dict(extra_state or {})
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.started_at = time.time()
        for svc in self.services:
            proc = ManagedProcess(svc.name, svc.argv, env={**os.environ, **svc.env},
                                  log_path=self.run_dir / f"{svc.name}.log").start()
            self.processes[svc.name] = proc
            if svc.ready_port and not wait_for_port(svc.ready_port, timeout=ready_timeout,
                                                    still_worth_waiting=proc.alive) and proc.alive():
                tail = proc.log_tail()
                self.stop()
                raise StackFailed(
                    f"{svc.name} did not open port {svc.ready_port} in {ready_timeout} s:\n{tail}")
            if not proc.alive():
                tail = proc.log_tail()
                self.stop()
                raise StackFailed(f"{svc.name} exited at start:\n{tail}")
            self.write_state()

    def dead(self) -> list[str]:
        return [name for name, proc in self.processes.items() if not proc.alive()]

    def summary(self) -> LoopSummary:
        return summarize(_scrape_all(self.services))

    def write_state(self) -> None:
        state = {
            **self.extra_state,
            "started_at": self.started_at,
            "services": [
                {**asdict(svc), "pid": self.processes[svc.name].pid} for svc in self.services
                if svc.name in self.processes
            ],
        }
        tmp = self.run_dir / "state.json.tmp"
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.run_dir / "state.json")

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            self.processes[name].stop()
        state = self.run_dir / "state.json"
        state.unlink(missing_ok=True)


def _scrape_all(services: Iterable[Service]) -> list[dict[str, float]]:
    out = []
    for svc in services:
        if svc.metrics_port:
            try:
                out.append(scrape(svc.metrics_port))
            except OSError:
                continue
    return out


def default_run_dir() -> Path:
    return Path(os.environ.get("TWINRIC_RUN_DIR") or Path.home() / ".cache" / "twinric" / "run")


def read_status(run_dir: Path) -> dict:
    """The live status of a stack started by another ``twinric up`` (for ``twinric status``)."""
    path = run_dir / "state.json"
    if not path.exists():
        return {"running": False, "run_dir": str(run_dir)}
    state = json.loads(path.read_text())
    services = [Service(**{k: v for k, v in s.items() if k != "pid"}) for s in state["services"]]
    alive = {s["name"]: pid_alive(s["pid"]) for s in state["services"]}
    return {
        "running": any(alive.values()),
        "run_dir": str(run_dir),
        "urls": state.get("urls", {}),
        "uptime_s": round(time.time() - state["started_at"], 1),
        "services": alive,
        **asdict(summarize(_scrape_all(services))),
    }
