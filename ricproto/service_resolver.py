"""The O-RAN SC platform's Kubernetes service names, answered inside the process by the box.

In an OSC RIC an xApp reaches the platform under names that its code and ricxappframe hard-code
(``service-ricplt-appmgr-http.ricplt:8080``, the submgr, e2mgr and A1 services, SDL through
``DBAAS_SERVICE_HOST``); cluster DNS and kube-proxy turn (name, port) into a pod's address. On one machine
every component listens on 127.0.0.1 with a port of its own, and /etc/hosts needs root and cannot map
ports. So the box does both jobs in the process: a *service map* (JSON, written by ``twinric up`` and
extended by ``twinric xapp run``) gives each service a cluster IP of its own (``127.77.x.y``) and says
which address serves each of its ports; :func:`install` wraps ``socket.getaddrinfo``/``gethostbyname``
(names to cluster IPs) and ``socket.connect`` (cluster IP and port to the box address), so every Python
client (requests, urllib3, httpx sync and async, redis, our RMR) connects there unchanged. A name in the
RIC's namespaces that the box does not run fails at once with a resolver error naming the component,
and a log line, rather than a DNS timeout.

The xApp's own pod ports are the other half: a pod has its own network, so an xApp binds 4560, 4561 and
8080 as its descriptor says. In the box those may be taken, so ``TWINRIC_LISTEN_PORTS`` (set by
``twinric xapp run``, e.g. ``4560:41001,4561:41002``) moves them at ``bind()``, and the service map sends
``service-ricxapp-<name>-rmr.ricxapp:4560`` to 127.0.0.1:41001.

Both are off unless their environment variable is set (``ricproto.rmr.import_hook`` calls
:func:`install_from_environment` at interpreter start). Only Python code is covered: a C library
resolves names through libc (see the README on non-Python xApps).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAP_ENV = "TWINRIC_SERVICE_MAP"
LISTEN_ENV = "TWINRIC_LISTEN_PORTS"
RIC_NAMESPACES = ("ricplt", "ricxapp")
_CLUSTER_SUFFIXES = (".svc.cluster.local", ".svc")
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "127.0.0.1", "::1", "localhost"})

log = logging.getLogger("twinric.box")


class UnknownService(OSError):
    """A RIC service name (or port) the box does not serve; ``component`` names what was asked for."""

    def __init__(self, component: str, detail: str) -> None:
        super().__init__(detail)
        self.component = component
        self.detail = detail


def normalize(host: str) -> str:
    """``Service-RICPLT-appmgr-http.ricplt.svc.cluster.local.`` -> ``service-ricplt-appmgr-http.ricplt``."""
    name = host.strip().rstrip(".").lower()
    for suffix in _CLUSTER_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def is_ric_name(name: str) -> bool:
    """A name in the RIC's Kubernetes namespaces (what the box answers for, or refuses)."""
    return name.rpartition(".")[2] in RIC_NAMESPACES


CLUSTER_NET = "127.77."  # the box's "ClusterIPs": loopback addresses nothing listens on


@dataclass
class Service:
    """One service: its cluster IP (what the name resolves to) and ``{port: "host:port"}`` behind it."""

    ip: str
    ports: dict[int, str] = field(default_factory=dict)


@dataclass
class ServiceMap:
    """(service name, port) -> box address, and RIC services the box knows it does not run.

    Like a Kubernetes Service, a name resolves to a cluster IP of its own (``127.77.x.y``) and the port
    the client asked for; connecting to that (IP, port) reaches the box address (kube-proxy's job).
    Keeping the asked-for port through resolution matters: some clients (anyio, so httpx's async
    client) take only the host from ``getaddrinfo`` and connect to the port they were given.
    ``absent`` maps a name to the platform component it belongs to, used to word the error.
    """

    services: dict[str, Service] = field(default_factory=dict)
    absent: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, port: int, address: str) -> None:
        key = normalize(name)
        service = self.services.get(key)
        if service is None:
            service = self.services[key] = Service(self._free_ip())
        service.ports[int(port)] = address

    def remove(self, name: str) -> None:
        self.services.pop(normalize(name), None)

    def _free_ip(self) -> str:
        used = {s.ip for s in self.services.values()}
        for n in range(1, 1 << 16):
            ip = f"{CLUSTER_NET}{n >> 8}.{n & 0xFF}"
            if ip not in used and n & 0xFF not in (0, 255):
                return ip
        raise RuntimeError("no cluster IP left")

    def resolve(self, host: str, port: int | None) -> str | None:
        """The cluster IP ``host`` resolves to; None when it is not a RIC name (resolve it normally).

        Raises :class:`UnknownService` for a RIC name, or a port of a known name, the box does not serve.
        """
        name = normalize(host)
        service = self.services.get(name)
        if service is None:
            if name in self.absent:
                component = self.absent[name]
                raise UnknownService(component,
                                     f"{host} is OSC's {component}, which twinric's box does not run")
            if is_ric_name(name):
                raise UnknownService(name, f"{host} is not a service of twinric's box "
                                           f"(it serves {', '.join(sorted(self.services)) or 'nothing yet'})")
            return None
        if port is not None and int(port) not in service.ports:
            raise UnknownService(name, f"{host} has no port {port} in twinric's box "
                                       f"(it serves {', '.join(str(p) for p in sorted(service.ports))})")
        return service.ip

    def translate(self, ip: str, port: int) -> tuple[str, int] | None:
        """The box address behind cluster IP ``ip`` and ``port``; None when ``ip`` is no cluster IP.

        Raises ``ConnectionRefusedError`` for a port the service does not expose (as kube-proxy rejects).
        """
        for name, service in self.services.items():
            if service.ip == ip:
                address = service.ports.get(int(port))
                if address is None:
                    raise ConnectionRefusedError(f"twinric box: {name} ({ip}) has no port {port}")
                target_host, _, target_port = address.rpartition(":")
                return target_host, int(target_port)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "services": {
                name: {"ip": service.ip, "ports": {str(p): a for p, a in sorted(service.ports.items())}}
                for name, service in sorted(self.services.items())
            },
            "absent": dict(sorted(self.absent.items())),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServiceMap:
        services = {
            normalize(name): Service(str(entry["ip"]), {int(p): str(a) for p, a in entry["ports"].items()})
            for name, entry in (data.get("services") or {}).items()
        }
        absent = {normalize(n): str(c) for n, c in (data.get("absent") or {}).items()}
        return cls(services, absent)

    @classmethod
    def load(cls, path: str | Path) -> ServiceMap:
        return cls.from_json(json.loads(Path(path).read_text()))

    def save(self, path: str | Path) -> None:
        """Write atomically (readers in other processes never see half a file)."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1))
        tmp.replace(path)

    @classmethod
    @contextlib.contextmanager
    def editing(cls, path: str | Path) -> Iterator[ServiceMap]:
        """Read-modify-write under a lock file, so concurrent ``twinric xapp run`` never lose an entry."""
        path = Path(path)
        with open(path.with_name(path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                service_map = cls.load(path) if path.exists() else cls()
                yield service_map
                service_map.save(path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def parse_listen_ports(text: str) -> dict[int, int]:
    """``"4560:41001,8080:41003"`` -> ``{4560: 41001, 8080: 41003}`` (pod port -> box port)."""
    out: dict[int, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        pod, sep, box = item.partition(":")
        if not sep or not pod.isdigit() or not box.isdigit():
            raise ValueError(f"{LISTEN_ENV} items must be POD_PORT:BOX_PORT, got {item!r}")
        out[int(pod)] = int(box)
    return out


def format_listen_ports(ports: dict[int, int]) -> str:
    return ",".join(f"{pod}:{box}" for pod, box in sorted(ports.items()))


class ServiceResolver:
    """The service map of a file, re-read when the file changes (``twinric xapp run`` adds xApps)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._map = ServiceMap()
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._reported: set[str] = set()

    def current(self) -> ServiceMap:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            return self._map  # not written yet, or gone with its box: keep the last one
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._map, self._stamp = ServiceMap.load(self.path), stamp
                except (OSError, ValueError) as exc:
                    log.warning("twinric box: cannot read service map %s: %s", self.path, exc)
            return self._map

    def resolve(self, host: Any, port: Any) -> str | None:
        """The cluster IP for a getaddrinfo-style (host, port); None to resolve normally."""
        if isinstance(host, bytes):
            host = host.decode(errors="replace")
        if not isinstance(host, str) or not host or host[0].isdigit() or ":" in host or host == "localhost":
            return None  # IP literals and localhost never need the map
        number: int | None
        if port is None:
            number = None
        elif isinstance(port, int):
            number = port
        else:
            text = port.decode(errors="replace") if isinstance(port, bytes) else str(port)
            number = int(text) if text.isdigit() else None  # a service name ("http"): no port to check
        try:
            return self.current().resolve(host, number)
        except UnknownService as exc:
            if exc.component not in self._reported:
                self._reported.add(exc.component)
                log.error("twinric box: %s", exc.detail)
            raise

    def translate(self, address: Any) -> Any:
        """A socket address to connect to: a cluster IP's (ip, port) becomes the box address."""
        if (isinstance(address, tuple) and len(address) >= 2 and isinstance(address[0], str)
                and address[0].startswith(CLUSTER_NET)):
            target = self.current().translate(address[0], address[1])
            if target is not None:
                return target
        return address


_installed: dict[str, Any] = {}


def install(map_path: str | Path | None = None, listen_ports: dict[int, int] | None = None) -> None:
    """Wrap ``socket`` name resolution (with ``map_path``) and ``bind`` (with ``listen_ports``).

    Idempotent; the wrappers call the original functions for everything that is not the box's.
    """
    if map_path is not None and "resolver" not in _installed:
        resolver = ServiceResolver(map_path)
        _installed["resolver"] = resolver
        real_getaddrinfo = socket.getaddrinfo
        real_gethostbyname = socket.gethostbyname
        real_gethostbyname_ex = socket.gethostbyname_ex

        def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,
                        flags: int = 0) -> list:
            ip = _resolve_or_raise(resolver, host, port)
            return real_getaddrinfo(host if ip is None else ip, port, family, type, proto, flags)

        def gethostbyname(host: str) -> str:
            ip = _resolve_or_raise(resolver, host, None)
            return real_gethostbyname(host) if ip is None else ip

        def gethostbyname_ex(host: str) -> tuple[str, list[str], list[str]]:
            ip = _resolve_or_raise(resolver, host, None)
            return real_gethostbyname_ex(host) if ip is None else (host, [], [ip])

        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex

        def connect(self: socket.socket, address: Any) -> None:
            real_connect(self, resolver.translate(address))

        def connect_ex(self: socket.socket, address: Any) -> int:
            try:
                target = resolver.translate(address)
            except ConnectionRefusedError:
                return errno.ECONNREFUSED
            return real_connect_ex(self, target)

        socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
        socket.gethostbyname = gethostbyname  # type: ignore[assignment]
        socket.gethostbyname_ex = gethostbyname_ex  # type: ignore[assignment]
        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    if listen_ports and "listen" not in _installed:
        moved = _installed["listen"] = dict(listen_ports)
        pod_port_of = {box: pod for pod, box in moved.items()}
        real_bind: Callable[..., None] = socket.socket.bind
        real_getsockname: Callable[..., Any] = socket.socket.getsockname

        def bind(self: socket.socket, address: Any) -> None:
            if (self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)
                    and len(address) >= 2 and address[0] in _WILDCARD_HOSTS and address[1] in moved):
                address = (address[0], moved[address[1]], *address[2:])
            real_bind(self, address)

        def getsockname(self: socket.socket) -> Any:
            # Inside its pod a process sees the port it bound: RMR builds its own name from it.
            address = real_getsockname(self)
            if isinstance(address, tuple) and len(address) >= 2 and address[1] in pod_port_of:
                return (address[0], pod_port_of[address[1]], *address[2:])
            return address

        socket.socket.bind = bind  # type: ignore[method-assign]
        socket.socket.getsockname = getsockname  # type: ignore[method-assign]


def _resolve_or_raise(resolver: ServiceResolver, host: Any, port: Any) -> str | None:
    try:
        return resolver.resolve(host, port)
    except UnknownService as exc:
        raise socket.gaierror(socket.EAI_NONAME, f"twinric box: {exc.detail}") from None


def install_from_environment() -> None:
    """Install what ``TWINRIC_SERVICE_MAP`` / ``TWINRIC_LISTEN_PORTS`` ask for (the import hook's call)."""
    path = os.environ.get(MAP_ENV) or None
    try:
        listen = parse_listen_ports(os.environ.get(LISTEN_ENV, ""))
    except ValueError as exc:
        log.error("twinric box: %s", exc)
        listen = {}
    install(path, listen)
