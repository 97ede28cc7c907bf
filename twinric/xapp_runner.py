"""Runs an unmodified xApp process against a running box, the way the OSC platform runs it.

What the xApp gets is what the ``xapp-std`` chart and the platform give a pod (osc.md 1.3, 2.5):

* the environment: ``HOSTNAME`` = the xApp's name, ``CONFIG_FILE``/``XAPP_DESCRIPTOR_PATH`` for its
  descriptor, ``RMR_SRC_ID=service-ricxapp-<name>-rmr.ricxapp``, ``RMR_RTG_SVC`` = its route port,
  ``DBAAS_*`` naming the SDL service, and Kubernetes' variables for its own Services
  (``SERVICE_RICXAPP_<NAME>_RMR_PORT=tcp://service-ricxapp-<name>-rmr.ricxapp:4560`` and the rest),
  which is what ricxappframe's ``register()`` reads;
* the platform's service names, resolved to the box inside the process (``ricproto.service_resolver``,
  through the box's service map), and its own pod ports moved to free ports at ``bind()``;
* a seed route table (unless it brings one in ``RMR_SEED_RT``) so RMR is ready at once, as OSC images
  bake in; the real table comes from the box's route manager after registration;
* registration: an xApp that registers itself (ricxappframe's ``register()``) is routed once it has;
  one that has not registered after ``register_after`` seconds is registered from its descriptor's
  messaging ports and rx/tx messages, as appmgr knows a deployed xApp from its chart. When it ends it
  is deregistered and its names leave the map.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ricproto.service_resolver import LISTEN_ENV, MAP_ENV, ServiceMap, format_listen_ports
from twinric.box_service_map import (
    DBAAS_SERVICE,
    XAPP_NAMESPACE,
    XappPort,
    add_xapp,
    map_path,
    remove_xapp,
    xapp_service_name,
)
from twinric.ports import free_port
from twinric.processes import pid_alive

DEFAULT_PORTS: tuple[tuple[str, int], ...] = (("rmrdata", 4560), ("rmrroute", 4561), ("http", 8080))
DEFAULT_REGISTER_AFTER = 15.0  # ricxappframe's own registration gives up after about 10 s
STOP_GRACE = 20.0  # ricxappframe's stop() sleeps 10 s after deregistering


class XappRunError(RuntimeError):
    """A clear reason why the xApp cannot be run (no box, bad descriptor, name taken)."""


@dataclass(frozen=True)
class BoxInfo:
    """What ``xapp run`` needs of the running box (from its run directory)."""

    run_dir: Path
    appmgr_url: str
    redis_url: str

    @classmethod
    def of(cls, run_dir: Path) -> BoxInfo:
        try:
            state = json.loads((run_dir / "state.json").read_text())
        except (OSError, ValueError):
            state = None
        if not isinstance(state, dict) or not map_path(run_dir).exists():
            raise XappRunError(f"no box is running with run directory {run_dir}: start `twinric up` first "
                               "(or run the xApp with `twinric up --xapp ...`)")
        appmgr = state.get("urls", {}).get("appmgr")
        if not appmgr:
            raise XappRunError(f"the box in {run_dir} has no appmgr URL in its state")
        return cls(run_dir, appmgr, str(state.get("redis_url", "")))


def load_descriptor(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise XappRunError(f"cannot read descriptor {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise XappRunError(f"descriptor {path} is not a JSON object")
    return data


def xapp_name(descriptor: Mapping[str, Any], given: str | None) -> str:
    """``--name``, else the descriptor's ``name`` (dms_cli and ricxappframe), else ``xapp_name``."""
    name = given or descriptor.get("name") or descriptor.get("xapp_name")
    if not isinstance(name, str) or not name:
        raise XappRunError("the xApp needs a name: --name NAME, or \"name\" in its descriptor")
    return name


def descriptor_ports(descriptor: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(port name, port) of the descriptor's ``messaging.ports`` (the chart's defaults without one)."""
    messaging = descriptor.get("messaging")
    ports = messaging.get("ports") if isinstance(messaging, dict) else None
    if not ports:
        return list(DEFAULT_PORTS)
    out = []
    for item in ports:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) \
                or not isinstance(item.get("port"), int):
            raise XappRunError(f"messaging.ports items need a name and an integer port, got {item!r}")
        out.append((item["name"], item["port"]))
    return out


def route_port(ports: list[XappPort]) -> XappPort | None:
    return next((p for p in ports if p.is_rmr and "route" in p.name), None)


def data_port(ports: list[XappPort]) -> XappPort | None:
    """The RMR data port: the one named exactly ``rmrdata`` first (the chart lists it first), else any
    non-route rmr port."""
    exact = next((p for p in ports if p.name == "rmrdata"), None)
    return exact or next((p for p in ports if p.is_rmr and "route" not in p.name), None)


def _services_of(xapp: str, service_map: ServiceMap) -> list[str]:
    prefix = f"service-{XAPP_NAMESPACE}-{xapp}-"
    return [name for name in service_map.services
            if name.startswith(prefix) and "-" not in name[len(prefix):]]


def _owner_alive(pid_file: Path) -> bool:
    try:
        return pid_alive(int(pid_file.read_text().strip()))
    except (OSError, ValueError):
        return False


def kubernetes_service_env(xapp: str, ports: list[XappPort]) -> dict[str, str]:
    """The variables Kubernetes gives a pod for each Service of its namespace (here the xApp's own),
    with the Service's DNS name where the cluster would put its ClusterIP."""
    env: dict[str, str] = {}
    services: dict[str, list[XappPort]] = {}
    for port in ports:
        services.setdefault(xapp_service_name(xapp, port.name), []).append(port)
    for service, members in services.items():
        prefix = service.split(".")[0].upper().replace("-", "_")
        first = members[0]
        env[f"{prefix}_SERVICE_HOST"] = service
        env[f"{prefix}_SERVICE_PORT"] = str(first.pod_port)
        env[f"{prefix}_PORT"] = f"tcp://{service}:{first.pod_port}"
        for port in members:
            env[f"{prefix}_SERVICE_PORT_{port.name.upper().replace('-', '_')}"] = str(port.pod_port)
            base = f"{prefix}_PORT_{port.pod_port}_TCP"
            env[base] = f"tcp://{service}:{port.pod_port}"
            env[f"{base}_PROTO"] = "tcp"
            env[f"{base}_PORT"] = str(port.pod_port)
            env[f"{base}_ADDR"] = service
    return env


def seed_route_table() -> str:
    """What an OSC image bakes in: subscription requests to submgr, controls to E2T, A1 answers and
    queries to the A1 mediator, under the platform's service names."""
    submgr, e2term = "service-ricplt-submgr-rmr.ricplt:4560", "service-ricplt-e2term-rmr-alpha.ricplt:38000"
    a1 = "service-ricplt-a1mediator-rmr.ricplt:4562"
    return (f"newrt|start\nmse|12010|-1|{submgr}\nmse|12020|-1|{submgr}\nmse|12040|-1|{e2term}\n"
            f"mse|20011|-1|{a1}\nmse|20012|-1|{a1}\nnewrt|end\n")


def registration_body(xapp: str, descriptor: Mapping[str, Any], ports: list[XappPort]) -> dict[str, Any]:
    """The body ricxappframe's ``register()`` would send for this xApp (``config`` = the descriptor)."""
    data, http = data_port(ports), next((p for p in ports if p.name == "http"), None)
    return {
        "appName": xapp,
        "appVersion": str(descriptor.get("version", "")),
        "configPath": "",
        "appInstanceName": xapp,
        "httpEndpoint": f"{xapp_service_name(xapp, 'http')}:{http.pod_port}" if http else "",
        "rmrEndpoint": f"{xapp_service_name(xapp, data.name)}:{data.pod_port}" if data else "",
        "config": json.dumps(dict(descriptor)),
    }


@dataclass
class XappLaunch:
    """What to run: the command, its descriptor, and how ``xapp run`` treats it."""

    command: list[str]
    name: str
    descriptor: dict[str, Any] = field(default_factory=dict)
    descriptor_path: Path | None = None
    register_after: float = DEFAULT_REGISTER_AFTER
    env: dict[str, str] = field(default_factory=dict)  # --env: wins over everything


class XappRun:
    """One xApp process against the box: environment, names, registration, clean-up."""

    def __init__(self, launch: XappLaunch, box: BoxInfo, say: Callable[[str], None] = print) -> None:
        if not launch.command:
            raise XappRunError("no command: give it after `--`, e.g. `twinric xapp run -- python my_xapp.py`")
        self.launch = launch
        self.box = box
        self.say = say
        self.ports = [XappPort(name, pod, free_port()) for name, pod in descriptor_ports(launch.descriptor)]
        self.registered_by: str | None = None  # "itself" | "descriptor"
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._seed = box.run_dir / f"xapp-{launch.name}-seed.rt"
        self._owner = box.run_dir / f"xapp-{launch.name}.pid"  # which `xapp run` holds the name

    # ---- environment -----------------------------------------------------------------------------

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        launch, name = self.launch, self.launch.name
        env = dict(os.environ if base is None else base)
        explicit = {**env, **launch.env}
        route = route_port(self.ports)
        box_env = {
            "HOSTNAME": name,
            "RMR_SRC_ID": xapp_service_name(name, "rmr"),
            "DBAAS_SERVICE_HOST": DBAAS_SERVICE,
            "DBAAS_SERVICE_PORT": "6379",
            "DBAAS_PORT_6379_TCP_ADDR": DBAAS_SERVICE,
            "DBAAS_PORT_6379_TCP_PORT": "6379",
            MAP_ENV: str(map_path(self.box.run_dir)),
            LISTEN_ENV: format_listen_ports({p.pod_port: p.box_port for p in self.ports}),
            **kubernetes_service_env(name, self.ports),
        }
        if route is not None:
            box_env["RMR_RTG_SVC"] = str(route.pod_port)
        if launch.descriptor_path is not None:
            box_env["CONFIG_FILE"] = str(launch.descriptor_path.resolve())
            box_env["XAPP_DESCRIPTOR_PATH"] = str(launch.descriptor_path.resolve().parent)
        env.update(box_env)
        if "RMR_SEED_RT" not in explicit:
            env["RMR_SEED_RT"] = str(self._seed)
        if "TWINRIC_RMR" not in explicit:
            env["TWINRIC_RMR"] = "python"  # the C library would resolve the names through libc
        env.update(launch.env)
        return env

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> XappRun:
        name = self.launch.name
        if _services_of(name, ServiceMap.load(map_path(self.box.run_dir))):
            if _owner_alive(self._owner):
                raise XappRunError(f"an xApp named {name!r} is already running in this box")
            self.say(f"removing what a previous run of {name} left behind")
            with ServiceMap.editing(map_path(self.box.run_dir)) as service_map:
                for service in _services_of(name, service_map):
                    service_map.remove(service)
        self._owner.write_text(str(os.getpid()))
        self._seed.write_text(seed_route_table())
        add_xapp(self.box.run_dir, name, self.ports)
        self._deregister(quiet=True)  # a stale registration of an earlier run of this name
        try:
            self.process = subprocess.Popen(self.launch.command, env=self.environment())
        except OSError as exc:
            self.cleanup()
            raise XappRunError(f"cannot start {self.launch.command[0]!r}: {exc}") from exc
        self.say(f"started {name} (pid {self.process.pid}): " + ", ".join(
            f"{p.name} {p.pod_port} -> 127.0.0.1:{p.box_port}" for p in self.ports))
        threading.Thread(target=self._registration, name="xapp-registration", daemon=True).start()
        return self

    def wait(self) -> int:
        assert self.process is not None
        try:
            return self.process.wait()
        finally:
            self.cleanup()

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Ask the xApp to stop (SIGTERM) and kill it if it still runs ``grace`` seconds later.

        Safe in a signal handler: it never waits (``wait()`` in the main thread sees the exit)."""
        self._stopping.set()
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)

        def kill_late() -> None:
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                self.say(f"{self.launch.name} did not stop within {grace:.0f} s: killed")
                process.kill()

        threading.Thread(target=kill_late, name="xapp-stop", daemon=True).start()

    def cleanup(self) -> None:
        self._stopping.set()
        self._deregister(quiet=True)
        remove_xapp(self.box.run_dir, self.launch.name, self.ports)
        self._seed.unlink(missing_ok=True)
        self._seed.with_name(self._seed.name + ".stash").unlink(missing_ok=True)  # RMR's copy of its tables
        self._owner.unlink(missing_ok=True)

    # ---- registration ----------------------------------------------------------------------------

    def registered(self) -> bool:
        try:
            listing = httpx.get(f"{self.box.appmgr_url}/ric/v1/xapps", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return False
        return any(i.get("name") == self.launch.name for app in listing for i in app.get("instances", []))

    def _registration(self) -> None:
        started = time.monotonic()
        while not self._stopping.is_set():
            if self.process is not None and self.process.poll() is not None:
                return
            if self.registered():
                self.registered_by = "itself"
                self.say(f"{self.launch.name} registered itself with appmgr after "
                         f"{time.monotonic() - started:.1f} s")
                return
            if time.monotonic() - started >= self.launch.register_after:
                break
            self._stopping.wait(0.5)
        if self._stopping.is_set():
            return
        body = registration_body(self.launch.name, self.launch.descriptor, self.ports)
        try:
            reply = httpx.post(f"{self.box.appmgr_url}/ric/v1/register", json=body, timeout=5)
        except httpx.HTTPError as exc:
            self.say(f"could not register {self.launch.name} from its descriptor: {exc}")
            return
        if reply.status_code in (200, 201):
            self.registered_by = "descriptor"
            self.say(f"{self.launch.name} did not register itself within {self.launch.register_after:.0f} s: "
                     f"registered it from its descriptor")
        else:
            self.say(f"appmgr refused the registration of {self.launch.name} from its descriptor: "
                     f"{reply.status_code} {reply.text}")

    def _deregister(self, quiet: bool = False) -> None:
        body = {"appName": self.launch.name, "appInstanceName": self.launch.name}
        try:
            httpx.post(f"{self.box.appmgr_url}/ric/v1/deregister", json=body, timeout=2)
        except httpx.HTTPError as exc:
            if not quiet:
                self.say(f"could not deregister {self.launch.name}: {exc}")
