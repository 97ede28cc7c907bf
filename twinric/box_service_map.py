"""The box's service map: which address serves each OSC Kubernetes service name (see
``ricproto.service_resolver``).

``twinric up`` writes the platform's entries into ``<run dir>/service-map.json`` before it starts
anything; ``twinric xapp run`` adds an xApp's own services while it runs and removes them when it ends.
Every process of the box gets ``TWINRIC_SERVICE_MAP`` pointing at the file, so platform processes
reach xApps under the names xApps register with, and xApps reach the platform under the names they
hard-code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from ricproto.service_resolver import MAP_ENV, ServiceMap

FILE_NAME = "service-map.json"
HOST = "127.0.0.1"
PLATFORM_NAMESPACE = "ricplt"
XAPP_NAMESPACE = "ricxapp"
DBAAS_SERVICE = "service-ricplt-dbaas-tcp.ricplt.svc.cluster.local"  # what ric-dep puts in DBAAS_SERVICE_HOST

# (service name, the port the OSC Service exposes, the box role serving it), after ric-dep's charts.
PLATFORM_SERVICES: tuple[tuple[str, int, str], ...] = (
    ("service-ricplt-appmgr-http.ricplt", 8080, "appmgr-http"),
    ("service-ricplt-rtmgr-http.ricplt", 3800, "appmgr-http"),  # appmgr plays rtmgr in the box
    ("service-ricplt-submgr-http.ricplt", 8088, "submgr-http"),  # headless: the pod's 8088
    ("service-ricplt-submgr-http.ricplt", 3800, "submgr-http"),
    ("service-ricplt-submgr-rmr.ricplt", 4560, "submgr-rmr"),
    ("service-ricplt-e2term-rmr-alpha.ricplt", 38000, "e2term-rmr"),
    ("service-ricplt-e2term-sctp-alpha.ricplt", 36422, "e2term-e2"),
    ("service-ricplt-e2mgr-http.ricplt", 3800, "e2mgr-http"),
    ("service-ricplt-e2mgr-rmr.ricplt", 3801, "e2mgr-rmr"),
    ("service-ricplt-a1mediator-http.ricplt", 10000, "a1-http"),
    ("service-ricplt-a1mediator-rmr.ricplt", 4562, "a1-rmr"),
)
# HTTP services of components the box does not run: answered 501 by ``ricplt.absent``.
ABSENT_HTTP: tuple[tuple[str, int], ...] = (
    ("service-ricplt-alarmmanager-http.ricplt", 8080),
    ("service-ricplt-vespamgr-http.ricplt", 8080),
    ("service-ricplt-o1mediator-http.ricplt", 9001),
    ("service-ricplt-rsm-http.ricplt", 4800),
    ("service-ricplt-xapp-onboarder-http.ricplt", 8888),
)
# Other services of absent components: resolving them fails at once with a message naming the component.
ABSENT_OTHER: Mapping[str, str] = {
    "service-ricplt-alarmmanager-rmr.ricplt": "alarm manager",
    "service-ricplt-vespamgr-rmr.ricplt": "VES manager",
    "service-ricplt-rtmgr-rmr.ricplt": "route manager's RMR port (the box pushes route tables)",
    "service-ricplt-rsm-rmr.ricplt": "resource status manager",
    "service-ricplt-dbaas-tcp-sentinel.ricplt": "dbaas sentinel",
}


def map_path(run_dir: Path) -> Path:
    return run_dir / FILE_NAME


def platform_service_map(ports: Mapping[str, int], redis_url: str) -> ServiceMap:
    """The platform's entries for a stack on ``ports`` (roles of ``twinric.local_stack``)."""
    service_map = ServiceMap()
    for name, port, role in PLATFORM_SERVICES:
        if role in ports:
            service_map.add(name, port, f"{HOST}:{ports[role]}")
    redis = urlparse(redis_url)
    service_map.add(DBAAS_SERVICE, 6379, f"{redis.hostname or HOST}:{redis.port or 6379}")
    if "absent-http" in ports:
        for name, port in ABSENT_HTTP:
            service_map.add(name, port, f"{HOST}:{ports['absent-http']}")
    service_map.absent.update(ABSENT_OTHER)
    return service_map


def write_platform_map(run_dir: Path, ports: Mapping[str, int], redis_url: str) -> Path:
    path = map_path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    platform_service_map(ports, redis_url).save(path)
    return path


def box_environment(run_dir: Path) -> dict[str, str]:
    """What every process of the box gets so that the platform's names resolve in it."""
    return {MAP_ENV: str(map_path(run_dir))}


@dataclass(frozen=True)
class XappPort:
    """One messaging port of an xApp's descriptor: the port its pod would listen on, and the box's."""

    name: str
    pod_port: int
    box_port: int

    @property
    def is_rmr(self) -> bool:
        return "rmr" in self.name


def xapp_service_name(xapp: str, port_name: str) -> str:
    """The chart's Service for a port: every ``*rmr*`` port is in ``-rmr``, others get their own."""
    suffix = "rmr" if "rmr" in port_name else port_name
    return f"service-{XAPP_NAMESPACE}-{xapp}-{suffix}.{XAPP_NAMESPACE}"


def add_xapp(run_dir: Path, xapp: str, ports: list[XappPort]) -> None:
    with ServiceMap.editing(map_path(run_dir)) as service_map:
        for port in ports:
            service_map.add(xapp_service_name(xapp, port.name), port.pod_port, f"{HOST}:{port.box_port}")


def remove_xapp(run_dir: Path, xapp: str, ports: list[XappPort]) -> None:
    path = map_path(run_dir)
    if not path.exists():
        return  # the box is gone, and its map with it
    with ServiceMap.editing(path) as service_map:
        for port in ports:
            service_map.remove(xapp_service_name(xapp, port.name))
