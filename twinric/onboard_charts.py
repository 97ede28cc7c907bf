"""twinric's Helm charts rendered with a real Helm engine and their manifests checked.

The engine is Helm's own Go SDK (``helm-python-sdk``: libhelm_c over Helm v4, loaded with ctypes),
so no ``helm`` binary and no network are needed. Each manifest is validated against the Kubernetes
schemas (``kubernetes-validate``), and the whole set against the names the RIC platform relies on:
``service-ricxapp-<name>-http`` and ``-rmr`` (``rmrdata`` first), hostname = name, the appenv and
appconfig ConfigMaps, ``dbaas-appconfig``, the RIC-facing container last; the descriptor the pod
will read is checked again for the traps (a region's override can break what the file got right).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from twinric.onboard_descriptor import NAMESPACE, Finding, check_traps

VALUE_SETS = {"ric": "values.yaml", "single-node": "values-single-node.yaml"}
KUBERNETES_VERSION = "1.30.0"  # the oldest release the manifests must hold for (RIC clusters lag)
LINT_WARNING = 2  # helm lint severities: 0 unknown, 1 info, 2 warning, 3 error
LINT_ERROR = 3


class ChartError(RuntimeError):
    """A chart Helm cannot load or render (the message is Helm's)."""


@dataclass
class RenderedChart:
    chart: str
    release: str
    namespace: str
    manifests: list[dict[str, Any]] = field(default_factory=list)

    def find(self, kind: str, name: str | None = None) -> list[dict[str, Any]]:
        return [
            m
            for m in self.manifests
            if m.get("kind") == kind and (name is None or m.get("metadata", {}).get("name") == name)
        ]

    def to_yaml(self) -> str:
        return "".join("---\n" + yaml.safe_dump(m, sort_keys=False) for m in self.manifests)


def charts_dir(root: Path | None = None) -> Path:
    from twinric.onboard_descriptor import repo_root

    return (root or repo_root()) / "charts"


def values_for(chart_dir: Path, value_set: str) -> list[Path]:
    """The values files of a named set ("ric", "single-node") or one file path, in the order Helm merges."""
    if value_set in VALUE_SETS:
        files = [chart_dir / "values.yaml"]
        if value_set != "ric":
            files.append(chart_dir / VALUE_SETS[value_set])
        return files
    return [chart_dir / "values.yaml", Path(value_set)]


def merge_values(files: Sequence[Path], overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Values as ``helm install -f A -f B --set ...`` merges them (maps key by key, the rest replaced)."""
    merged: dict[str, Any] = {}
    for path in files:
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ChartError(f"cannot read values {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ChartError(f"values {path} must be a mapping")
        _merge(merged, data)
    _merge(merged, dict(overrides or {}))
    return merged


def render(
    chart_dir: Path, values: Mapping[str, Any], release: str | None = None, namespace: str = NAMESPACE
) -> RenderedChart:
    """``helm template`` in process: every manifest the chart would install, parsed."""
    import helm_python as helm

    try:
        with helm.Chart.load(str(chart_dir)) as chart:
            name = chart.name
            rendered = chart.render(dict(values), name=release or name, namespace=namespace)
    except helm.HelmError as exc:
        raise ChartError(f"{chart_dir.name}: {exc}") from None
    out = RenderedChart(chart=name, release=release or name, namespace=namespace)
    for path in sorted(rendered):
        if not path.endswith((".yaml", ".yml")):
            continue  # NOTES.txt and the like
        for doc in yaml.safe_load_all(rendered[path]):
            if doc:
                out.manifests.append(doc)
    return out


def lint(chart_dir: Path, values: Mapping[str, Any], namespace: str = NAMESPACE) -> list[Finding]:
    """Helm's own lint of the chart with these values (errors and warnings; info dropped)."""
    import helm_python as helm

    report = helm.lint(str(chart_dir), dict(values), namespace=namespace)
    found = [
        Finding("error", f"helm lint {chart_dir.name}", str(text)) for text in report.get("errors") or []
    ]
    for message in report.get("messages") or []:
        severity = int(message.get("severity", 0))
        if severity >= LINT_WARNING:
            found.append(
                Finding(
                    "error" if severity >= LINT_ERROR else "warning",
                    f"helm lint {chart_dir.name}: {message.get('path', '')}",
                    str(message.get("error", "")),
                )
            )
    return found


def validate_schemas(chart: RenderedChart, kubernetes_version: str = KUBERNETES_VERSION) -> list[Finding]:
    """Each manifest against the Kubernetes OpenAPI schemas of that release (strict: no unknown fields)."""
    import kubernetes_validate

    found = []
    for m in chart.manifests:
        where = f"{chart.chart}: {m.get('kind')}/{m.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(m, kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in getattr(exc, "path", []) or [])
            found.append(
                Finding(
                    "error",
                    where,
                    f"Kubernetes {kubernetes_version} schema: {path + ': ' if path else ''}{exc.message}",
                )
            )
        except kubernetes_validate.SchemaNotFoundError as exc:
            found.append(Finding("error", where, f"no Kubernetes schema: {exc}"))
    return found


def check_platform_names(chart: RenderedChart) -> list[Finding]:
    """What appmgr, rtmgr, submgr and ricxappframe rely on, in the rendered manifests."""
    found: list[Finding] = []

    def error(where: str, message: str) -> None:
        found.append(Finding("error", f"{chart.chart}: {where}", message))

    configs = [m for m in chart.find("ConfigMap") if m["metadata"]["name"].endswith("-appconfig")]
    if len(configs) != 1:
        error("ConfigMap", f"expected one *-appconfig ConfigMap, found {len(configs)}")
        return found
    try:
        descriptor = json.loads(configs[0].get("data", {}).get("config-file.json", ""))
    except ValueError as exc:
        error(f"ConfigMap/{configs[0]['metadata']['name']}", f"config-file.json is not JSON: {exc}")
        return found
    name = descriptor.get("name", "")
    fn = f"{chart.namespace}-{name}"
    # Errors only: the file's warnings were reported with the descriptor itself.
    found.extend(
        Finding(f.severity, f"{chart.chart}: rendered config-file.json {f.where}", f.message)
        for f in check_traps(descriptor)
        if f.severity == "error"
    )
    if configs[0]["metadata"]["name"] != f"configmap-{fn}-appconfig":
        error("ConfigMap", f"{configs[0]['metadata']['name']} is not configmap-{fn}-appconfig")
    if not chart.find("ConfigMap", f"configmap-{fn}-appenv"):
        error("ConfigMap", f"no configmap-{fn}-appenv")
    else:
        env = chart.find("ConfigMap", f"configmap-{fn}-appenv")[0].get("data", {})
        if env.get("RMR_SRC_ID") != f"service-{fn}-rmr.{chart.namespace}":
            error("appenv", f"RMR_SRC_ID {env.get('RMR_SRC_ID')!r} is not service-{fn}-rmr.{chart.namespace}")
    http = chart.find("Service", f"service-{fn}-http")
    if not http:
        error(
            "Service",
            f"no service-{fn}-http (registration reads SERVICE_{fn.upper().replace('-', '_')}_HTTP_PORT)",
        )
    rmr = chart.find("Service", f"service-{fn}-rmr")
    if not rmr:
        error("Service", f"no service-{fn}-rmr")
    elif rmr[0]["spec"]["ports"][0].get("name") != "rmrdata":
        error(f"Service/service-{fn}-rmr", "its first port must be rmrdata (appmgr/rtmgr take the first)")
    deployments = chart.find("Deployment")
    if len(deployments) != 1:
        error("Deployment", f"expected one Deployment, found {len(deployments)}")
        return found
    dep = deployments[0]
    pod = dep["spec"]["template"]["spec"]
    if dep["metadata"]["name"] != fn:
        error("Deployment", f"{dep['metadata']['name']} is not {fn}")
    if pod.get("hostname") != name:
        error("Deployment", f"hostname {pod.get('hostname')!r} is not the xApp's name {name!r}")
    containers = pod.get("containers", [])
    want = [c["name"] for c in descriptor.get("containers", [])]
    if [c["name"] for c in containers] != want:
        error("Deployment", f"containers {[c['name'] for c in containers]} are not the descriptor's {want}")
    if containers:
        last = containers[-1]
        refs = [e.get("configMapRef", {}).get("name") for e in last.get("envFrom", [])]
        for ref in (f"configmap-{fn}-appenv", "dbaas-appconfig"):
            if ref not in refs:
                error(f"Deployment/{last['name']}", f"no envFrom {ref}")
        ports = {p["name"] for p in last.get("ports", [])}
        if not {"http", "rmrdata"} <= ports:
            error(
                f"Deployment/{last['name']}",
                f"the last container must carry http and rmrdata, has {sorted(ports)}",
            )
        mounts = {v.get("mountPath") for v in last.get("volumeMounts", [])}
        if "/opt/ric/config" not in mounts:
            error(f"Deployment/{last['name']}", "the descriptor is not mounted at /opt/ric/config")
        for probe in ("livenessProbe", "readinessProbe"):
            for c in containers:
                if probe not in c:
                    error(f"Deployment/{c['name']}", f"no {probe}")
    return found


def check_chart(
    chart_dir: Path,
    value_set: str = "ric",
    overrides: Mapping[str, Any] | None = None,
    release: str | None = None,
    kubernetes_version: str = KUBERNETES_VERSION,
) -> tuple[RenderedChart | None, list[Finding]]:
    """Lint, render, validate: the chart as ``twinric onboard`` checks it."""
    try:
        values = merge_values(values_for(chart_dir, value_set), overrides)
        found = lint(chart_dir, values)
        chart = render(chart_dir, values, release)
    except ChartError as exc:
        return None, [Finding("error", chart_dir.name, str(exc))]
    found += validate_schemas(chart, kubernetes_version)
    found += check_platform_names(chart)
    return chart, found


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> None:
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
