"""An xApp descriptor checked as O-RAN SC's onboarder checks it, and for the traps it lets through.

``dms_cli`` validates ``config-file.json`` against its JSON Schema (draft-07) with the xApp's controls
schema put in place of ``properties.controls``; a descriptor that passes can still fail in the RIC.
The traps below are those (``shared/reference/osc.md`` sections 1, 2.4-2.5 and 5-6): registration
reads ``name`` only, the HTTP port must be named ``http``, only the last container gets the config
volume, the env ConfigMaps and the probes, the chart sets no ``CONFIG_FILE``, rtmgr routes only the
message names it knows, an ``rmr`` section hides ``messaging`` from appmgr, and the schema checks only
the first item of ``command``/``args``.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft7Validator

from ricproto import mtypes

CONFIG_FILE = "/opt/ric/config/config-file.json"  # where the platform's chart mounts the descriptor
NAMESPACE = "ricxapp"
SCHEMA_ENV = "TWINRIC_OSC_SCHEMA"  # the onboarder's schema, when not at ../shared/osc beside the checkout
SCHEMA_NAME = "xapp-descriptor-schema.json"
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
REGISTRY = re.compile(
    r"^([A-Za-z0-9.-]+\.[A-Za-z]+|((25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(25[0-5]|2[0-4]\d|[01]?\d\d?))(:\d+)?$"
)
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
OWN_MTYPES_FROM = 30100  # twinric's own message types: unknown to rtmgr until an operator adds them
IMAGE_ROOT = "/app/"  # where the image keeps the repository's files (seed route tables)

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    where: str  # a JSON path in the descriptor, or a manifest's kind/name
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"


@dataclass(frozen=True)
class XappFiles:
    """One xApp's onboarding files, as they lie in the repository."""

    role: str  # "control", "pdp"
    config: Path  # config-file.json
    controls_schema: Path
    policy_type: Path | None

    def descriptor(self) -> dict[str, Any]:
        return load_json(self.config)

    def policy_types(self) -> dict[int, dict[str, Any]]:
        if self.policy_type is None or not self.policy_type.exists():
            return {}
        body = load_json(self.policy_type)
        return {int(body["policy_type_id"]): body}


class DescriptorError(ValueError):
    """A descriptor file that cannot be read as a JSON object."""


def load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise DescriptorError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise DescriptorError(f"{path} must hold a JSON object")
    return data


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def project_xapps(root: Path | None = None) -> list[XappFiles]:
    """The xApps this repository onboards (their descriptors are the ones ``twinric up`` runs)."""
    root = root or repo_root()
    out = []
    for role in ("control", "pdp"):
        base = root / "xapps" / role
        if (base / "config-file.json").exists():
            policy = base / "policy_type.json"
            out.append(
                XappFiles(
                    role,
                    base / "config-file.json",
                    base / "controls-schema.json",
                    policy if policy.exists() else None,
                )
            )
    return out


def find_onboarder_schema(root: Path | None = None) -> Path | None:
    """The onboarder's schema: ``$TWINRIC_OSC_SCHEMA``, else ``../shared/osc/`` beside the checkout."""
    explicit = os.environ.get(SCHEMA_ENV)
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    root = root or repo_root()
    for base in (root.parent / "shared", root / "shared", Path.cwd().parent / "shared"):
        candidate = base / "osc" / SCHEMA_NAME
        if candidate.exists():
            return candidate
    return None


def validate_against_onboarder(
    descriptor: Mapping[str, Any], controls_schema: Mapping[str, Any], onboarder_schema: Mapping[str, Any]
) -> list[Finding]:
    """As ``dms_cli onboard`` does: the controls schema replaces the root's ``properties.controls``."""
    schema = copy.deepcopy(dict(onboarder_schema))
    schema.setdefault("properties", {})["controls"] = dict(controls_schema)
    validator = Draft7Validator(schema)
    return [
        Finding("error", _path(err.absolute_path), f"onboarder schema: {err.message}")
        for err in sorted(validator.iter_errors(descriptor), key=lambda e: list(map(str, e.absolute_path)))
    ]


def validate_controls(descriptor: Mapping[str, Any], controls_schema: Mapping[str, Any]) -> list[Finding]:
    validator = Draft7Validator(dict(controls_schema))
    return [
        Finding("error", _path(["controls", *err.absolute_path]), f"controls schema: {err.message}")
        for err in validator.iter_errors(descriptor.get("controls", {}))
    ]


def known_mtypes() -> dict[str, int]:
    return {k: v for k, v in vars(mtypes).items() if k.isupper() and isinstance(v, int)}


def check_traps(
    descriptor: Mapping[str, Any],
    *,
    policy_types: Mapping[int, Any] | None = None,
    root: Path | None = None,
) -> list[Finding]:
    """What the onboarder's schema lets through but the RIC (or ricxappframe) does not forgive."""
    out: list[Finding] = []

    def error(where: str, message: str) -> None:
        out.append(Finding("error", where, message))

    def warn(where: str, message: str) -> None:
        out.append(Finding("warning", where, message))

    name = descriptor.get("name")
    if not isinstance(name, str) or not name:
        error(
            "name",
            "missing: ricxappframe registers with appmgr under `name` only (xapp_name alone "
            "registers appInstanceName null and is rejected)",
        )
        name = str(descriptor.get("xapp_name") or "")
    elif not DNS_LABEL.match(name):
        error(
            "name",
            f"{name!r} is not a DNS label: it names the Deployment, the pod's hostname and "
            "service-ricxapp-<name>-<port> Services",
        )
    if "xapp_name" in descriptor and descriptor.get("xapp_name") != name:
        error(
            "xapp_name",
            f"{descriptor.get('xapp_name')!r} differs from name {name!r}: the older "
            "onboarder and scripts read xapp_name, registration reads name",
        )
    version = descriptor.get("version")
    if not isinstance(version, str) or not SEMVER.match(version):
        error("version", f"{version!r} is not strict semver (the chart version; '1.0' fails)")
    if isinstance(descriptor.get("metrics"), list):
        error(
            "metrics",
            "an array: the current onboarder types metrics as an object and rejects it; leave it out",
        )
    if "rmr" in descriptor:
        error("rmr", "a legacy rmr section makes appmgr read routing only from it and ignore messaging")

    containers = descriptor.get("containers") or []
    if not isinstance(containers, list) or not containers:
        error("containers", "no containers")
        containers = []
    names = [c.get("name") for c in containers if isinstance(c, dict)]
    if len(set(names)) != len(names):
        error("containers", f"container names repeat: {names}")
    for i, c in enumerate(containers):
        if not isinstance(c, dict):
            error(f"containers[{i}]", "not an object")
            continue
        for key in ("command", "args"):
            value = c.get(key)
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) for v in value)
            ):
                error(
                    f"containers[{i}].{key}",
                    "must be an array of strings (the schema checks only its "
                    "first item; Kubernetes rejects the rest)",
                )
        registry = (c.get("image") or {}).get("registry", "")
        if not isinstance(registry, str) or not REGISTRY.match(registry):
            error(
                f"containers[{i}].image.registry",
                f"{registry!r}: the onboarder wants a host with a dot "
                "or an IPv4 address (localhost:5000 is rejected)",
            )

    ports = (descriptor.get("messaging") or {}).get("ports") or []
    by_name = {p.get("name"): p for p in ports if isinstance(p, dict)}
    for i, p in enumerate(ports):
        if not isinstance(p, dict):
            continue
        if p.get("container") not in names:
            error(
                f"messaging.ports[{i}].container", f"{p.get('container')!r} is none of the containers {names}"
            )
        pname = str(p.get("name", ""))
        if pname != "http" and "http" in pname.lower():
            error(
                f"messaging.ports[{i}].name",
                f"{p.get('name')!r}: the HTTP port must be named exactly "
                "`http` (registration reads SERVICE_RICXAPP_<NAME>_HTTP_PORT)",
            )
    http = by_name.get("http")
    rmrdata = by_name.get("rmrdata")
    rmrroute = by_name.get("rmrroute")
    if http is None:
        error(
            "messaging.ports",
            "no port named `http`: registration finds its endpoint through service-ricxapp-<name>-http",
        )
    if rmrdata is None:
        error(
            "messaging.ports",
            "no port named `rmrdata`: appmgr and rtmgr take the RMR Service's "
            "`rmrdata` port as the xApp's data port",
        )
    if rmrroute is None:
        error("messaging.ports", "no port named `rmrroute`: rtmgr pushes route tables to it (RMR_RTG_SVC)")
    facing = {p.get("container") for p in (http, rmrdata) if p}
    if len(facing) > 1:
        error("messaging.ports", f"http and rmrdata are on different containers {sorted(map(str, facing))}")
    if facing and names and names[-1] not in facing:
        error(
            "containers",
            f"the RIC-facing container {sorted(map(str, facing))[0]!r} must be the last one: "
            "the platform's chart gives only the last container the config volume, the "
            f"appenv/dbaas ConfigMaps and the probes (last is {names[-1]!r})",
        )
    if rmrdata is not None:
        for key in ("txMessages", "rxMessages", "policies"):
            if not isinstance(rmrdata.get(key), list):
                error(
                    f"messaging.ports[rmrdata].{key}",
                    "missing: tx, rx and policies go together (use [] for none)",
                )
        known = known_mtypes()
        own: list[str] = []
        for key in ("txMessages", "rxMessages"):
            for m in rmrdata.get(key) or []:
                if m not in known:
                    error(
                        f"messaging.ports[rmrdata].{key}",
                        f"{m!r} is no RMR message name: rtmgr would write a broken route",
                    )
                elif known[m] >= OWN_MTYPES_FROM and f"{m}={known[m]}" not in own:
                    own.append(f"{m}={known[m]}")
        if own:
            warn(
                "messaging.ports[rmrdata]",
                f"twinric's own message types {', '.join(sorted(own))}: add them "
                "to rtmgr's messagetypes list (or its addrmrroute), or rtmgr "
                "routes none of them",
            )
        for pid in rmrdata.get("policies") or []:
            if policy_types is not None and pid not in policy_types:
                error("messaging.ports[rmrdata].policies", f"A1 policy type {pid} has no policy type file")
        if "A1_POLICY_REQ" in (rmrdata.get("rxMessages") or []) and not rmrdata.get("policies"):
            error(
                "messaging.ports[rmrdata].policies",
                "A1_POLICY_REQ is received but no policy type id is "
                "declared: the A1 mediator routes by type id",
            )

    for probe in ("livenessProbe", "readinessProbe"):
        spec = descriptor.get(probe)
        if not isinstance(spec, dict):
            error(probe, "missing: Kubernetes cannot tell a hung xApp from a working one")
            continue
        get = spec.get("httpGet")
        if isinstance(get, dict):
            if not isinstance(get.get("port"), int):
                error(f"{probe}.httpGet.port", f"{get.get('port')!r} must be an integer")
            elif http is not None and get["port"] != http.get("port"):
                error(f"{probe}.httpGet.port", f"{get['port']} is not the http port {http.get('port')}")

    appenv = descriptor.get("appenv") or {}
    if appenv.get("CONFIG_FILE") != CONFIG_FILE:
        error(
            "appenv.CONFIG_FILE",
            f"must be {CONFIG_FILE}: the chart mounts the descriptor there but sets "
            "no CONFIG_FILE, which ricxappframe reads",
        )
    if rmrroute is not None and str(appenv.get("RMR_RTG_SVC")) != str(rmrroute.get("port")):
        error(
            "appenv.RMR_RTG_SVC",
            f"{appenv.get('RMR_RTG_SVC')!r} is not the rmrroute port {rmrroute.get('port')}",
        )
    seed = appenv.get("RMR_SEED_RT")
    if not seed:
        error(
            "appenv.RMR_SEED_RT",
            "missing: RMRXapp waits for a first route table before it registers, "
            "and registration is what makes rtmgr route to it",
        )
    elif root is not None and str(seed).startswith(IMAGE_ROOT):
        if not (root / str(seed)[len(IMAGE_ROOT) :]).is_file():
            error(
                "appenv.RMR_SEED_RT", f"{seed}: no such file in the repository (the image bakes {IMAGE_ROOT})"
            )

    out.extend(_check_controls(descriptor, name, names, http, rmrdata))
    return out


def _check_controls(
    descriptor: Mapping[str, Any],
    name: str,
    containers: list[Any],
    http: Mapping[str, Any] | None,
    rmrdata: Mapping[str, Any] | None,
) -> list[Finding]:
    """The xApp's own settings that must agree with the rest of the descriptor."""
    out: list[Finding] = []
    ctl = descriptor.get("controls")
    if not isinstance(ctl, dict):
        return out
    if http is not None and "http_port" in ctl and ctl["http_port"] != http.get("port"):
        out.append(
            Finding(
                "error", "controls.http_port", f"{ctl['http_port']} is not the http port {http.get('port')}"
            )
        )
    if rmrdata is not None and "rmr_port" in ctl and ctl["rmr_port"] != rmrdata.get("port"):
        out.append(
            Finding(
                "error",
                "controls.rmr_port",
                f"{ctl['rmr_port']} is not the rmrdata port {rmrdata.get('port')}",
            )
        )
    host = (ctl.get("subscription") or {}).get("client_host")
    want = f"service-{NAMESPACE}-{name}-http.{NAMESPACE}"
    if host is not None and host != want:
        out.append(
            Finding(
                "error",
                "controls.subscription.client_host",
                f"{host!r}: submgr must call back {want!r}, the endpoint appmgr registered, or "
                'rtmgr routes no indications ("xAppEp is nil")',
            )
        )
    key = (ctl.get("identity") or {}).get("key_file")
    want_key = f"/opt/ric/secrets/{name}/{name}.key"
    if key is not None and key != want_key:
        out.append(
            Finding(
                "error",
                "controls.identity.key_file",
                f"{key!r}: the chart mounts the xApp's signing key at {want_key}",
            )
        )
    twin = ctl.get("twin")
    if len(containers) > 1 and isinstance(twin, dict):
        url = str(ctl.get("twin_url") or "")
        want_url = f"http://127.0.0.1:{twin.get('port')}"
        if url.rstrip("/") not in (want_url, want_url.replace("127.0.0.1", "localhost")):
            out.append(
                Finding(
                    "error",
                    "controls.twin_url",
                    f"{url!r}: the sidecar shares the pod's network and listens on {want_url}",
                )
            )
        if twin.get("host") not in (None, "127.0.0.1", "localhost"):
            out.append(
                Finding(
                    "warning",
                    "controls.twin.host",
                    f"{twin.get('host')!r}: beyond localhost the "
                    "sidecar needs TWINRIC_TWIN_TOKEN and the xApp "
                    "sends none",
                )
            )
    return out


def check_xapp(
    files: XappFiles, onboarder_schema: Mapping[str, Any] | None, root: Path | None = None
) -> list[Finding]:
    """Everything ``twinric onboard`` checks of one xApp's descriptor (schema when given, then the traps)."""
    descriptor = files.descriptor()
    controls_schema = load_json(files.controls_schema)
    if onboarder_schema is not None:
        found = validate_against_onboarder(descriptor, controls_schema, onboarder_schema)
    else:
        found = validate_controls(descriptor, controls_schema)
    return found + check_traps(descriptor, policy_types=files.policy_types(), root=root or repo_root())


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text or "(root)"
