"""An xApp's registration with appmgr: the body ricxappframe POSTs and the routing it implies.

The body (``osc.md`` section 2.5) is ``{"appName", "appVersion", "configPath", "appInstanceName",
"httpEndpoint", "rmrEndpoint", "config"}`` where ``config`` is the whole descriptor as a JSON *string*
(an object is accepted too). Routing comes from the descriptor's legacy ``rmr`` section when it
exists (appmgr then ignores ``messaging``), else from the union over ``messaging.ports``.
The route-manager port is the port named like ``rmrroute`` in the descriptor (default 4561), on the
host of ``rmrEndpoint``: that is where rtmgr pushes tables.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from ricplt.routes import XappRoutes

DEFAULT_ROUTE_PORT = 4561


class RegistrationError(ValueError):
    """A register/deregister body that cannot be accepted; ``reason`` is a short metric label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class XappRegistration:
    app_name: str
    instance_name: str
    version: str
    http_endpoint: str
    rmr_endpoint: str
    route_endpoint: str | None  # where route tables are pushed; None when the xApp has no RMR
    tx: tuple[str, ...]
    rx: tuple[str, ...]
    policies: tuple[int, ...]
    config: dict[str, Any]

    def routes(self) -> XappRoutes:
        return XappRoutes(self.instance_name, self.rmr_endpoint, self.tx, self.rx, self.policies)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | bytes) -> XappRegistration:
        data = json.loads(text)
        for key in ("tx", "rx", "policies"):
            data[key] = tuple(data[key])
        return cls(**data)


def _string(body: dict[str, Any], key: str, *, required: bool) -> str:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise RegistrationError("missing_field", f"{key} is required")
        return ""
    if not isinstance(value, str):
        raise RegistrationError("bad_field", f"{key} must be a string, got {type(value).__name__}")
    return value


def split_endpoint(text: str, key: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise RegistrationError("bad_endpoint", f"{key} must be host:port, got {text!r}")
    return host, int(port)


def _names(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RegistrationError("bad_descriptor", f"{where} must be a list of message-type names")
    return tuple(value)


def _policies(value: Any, where: str) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise RegistrationError("bad_descriptor", f"{where} must be a list of policy type ids (integers)")
    return tuple(value)


def routing_of(config: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...], int]:
    """(tx, rx, policies, route port) from a descriptor, the way appmgr reads it."""
    route_port = DEFAULT_ROUTE_PORT
    messaging = config.get("messaging")
    ports = messaging.get("ports") if isinstance(messaging, dict) else None
    if ports is not None and not isinstance(ports, list):
        raise RegistrationError("bad_descriptor", "messaging.ports must be a list")
    for port in ports or []:
        if not isinstance(port, dict) or not isinstance(port.get("port"), int):
            continue
        if "route" in str(port.get("name", "")):
            route_port = port["port"]
    rmr = config.get("rmr")
    if isinstance(rmr, dict):
        tx_names = _names(rmr.get("txMessages"), "rmr.txMessages")
        rx_names = _names(rmr.get("rxMessages"), "rmr.rxMessages")
        return tx_names, rx_names, _policies(rmr.get("policies"), "rmr.policies"), route_port
    tx: list[str] = []
    rx: list[str] = []
    policies: list[int] = []
    for i, port in enumerate(ports or []):
        if not isinstance(port, dict):
            raise RegistrationError("bad_descriptor", f"messaging.ports[{i}] must be an object")
        for name in _names(port.get("txMessages"), f"messaging.ports[{i}].txMessages"):
            if name not in tx:
                tx.append(name)
        for name in _names(port.get("rxMessages"), f"messaging.ports[{i}].rxMessages"):
            if name not in rx:
                rx.append(name)
        for pid in _policies(port.get("policies"), f"messaging.ports[{i}].policies"):
            if pid not in policies:
                policies.append(pid)
    return tuple(tx), tuple(rx), tuple(policies), route_port


def parse_register(body: Any) -> XappRegistration:
    """Validate a ``POST /ric/v1/register`` body; raise :class:`RegistrationError` with a reason."""
    if not isinstance(body, dict):
        raise RegistrationError("bad_body", "register body must be a JSON object")
    instance = _string(body, "appInstanceName", required=True)
    app_name = _string(body, "appName", required=False) or instance
    raw_config = body.get("config")
    if isinstance(raw_config, str):
        try:
            config = json.loads(raw_config) if raw_config.strip() else {}
        except json.JSONDecodeError as exc:
            raise RegistrationError("bad_config", f"config is not valid JSON: {exc}") from None
    elif raw_config is None:
        config = {}
    else:
        config = raw_config
    if not isinstance(config, dict):
        raise RegistrationError("bad_config", "config must be a JSON object (the xApp descriptor)")
    tx, rx, policies, route_port = routing_of(config)
    rmr_endpoint = _string(body, "rmrEndpoint", required=bool(tx or rx or policies))
    route_endpoint = None
    if rmr_endpoint:
        host, _ = split_endpoint(rmr_endpoint, "rmrEndpoint")
        route_endpoint = f"{host}:{route_port}"
    http_endpoint = _string(body, "httpEndpoint", required=False)
    if http_endpoint:
        split_endpoint(http_endpoint, "httpEndpoint")
    version = _string(body, "appVersion", required=False) or str(config.get("version", ""))
    return XappRegistration(
        app_name, instance, version, http_endpoint, rmr_endpoint, route_endpoint, tx, rx, policies, config
    )


def parse_deregister(body: Any) -> str:
    """The instance name of a ``POST /ric/v1/deregister`` body."""
    if not isinstance(body, dict):
        raise RegistrationError("bad_body", "deregister body must be a JSON object")
    return _string(body, "appInstanceName", required=True)
