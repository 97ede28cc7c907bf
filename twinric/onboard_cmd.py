"""``twinric onboard``: check everything an OSC RIC will read, then say exactly what to run.

1. each xApp's descriptor against the onboarder's schema (``dms_cli``'s, with the controls schema in
   place) and the traps the schema lets through (``twinric.onboard_descriptor``);
2. the charts rendered by Helm's engine with the chosen values, the manifests checked against the
   Kubernetes schemas and the names the platform relies on (``twinric.onboard_charts``);
3. the commands: images, identities, rtmgr's message types, ``helm install`` or ``dms_cli
   onboard/install``, the A1 policy types and first policies, and how to see it work.

``twinric onboard keys`` writes the Ed25519 identities the charts mount as secrets.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from twinric.onboard_descriptor import (
    NAMESPACE,
    DescriptorError,
    Finding,
    XappFiles,
    check_xapp,
    errors,
    find_onboarder_schema,
    load_json,
    project_xapps,
    repo_root,
)

onboard_app = typer.Typer(
    help="Onboard twinric's xApps to an O-RAN SC near-RT RIC: check, render, say what to run."
)

PDP = "twinric-pdp"
KONG_PORT = 32080  # the RIC's ingress (Kong) NodePort in ric-dep


@onboard_app.callback(invoke_without_command=True)
def onboard(
    ctx: typer.Context,
    values: Annotated[
        str,
        typer.Option(
            "--values",
            help="ric (values.yaml), single-node (values.yaml + values-single-node.yaml) or a FILE "
            "merged over values.yaml",
        ),
    ] = "ric",
    region: Annotated[
        str,
        typer.Option(
            "--region", help="render the control xApp as one region's instance (twinric-control-REGION)"
        ),
    ] = "",
    ric_host: Annotated[
        str, typer.Option("--ric-host", help="the RIC's ingress host, for the printed A1 and appmgr URLs")
    ] = "RIC_HOST",
    registry: Annotated[
        str,
        typer.Option(
            "--registry", help="image registry for the printed build commands (default: the descriptors')"
        ),
    ] = "",
    out: Annotated[
        Path | None, typer.Option("--out", help="write each chart's rendered manifests to OUT/<chart>.yaml")
    ] = None,
    kubernetes_version: Annotated[
        str, typer.Option("--kubernetes-version", help="validate manifests against this Kubernetes release")
    ] = "1.30.0",
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object: findings and commands")] = False,
) -> None:
    """Validate the descriptors, render and check the charts, print the dms_cli/helm and A1 commands."""
    if ctx.invoked_subcommand:
        return
    try:
        from twinric import onboard_charts
    except ImportError as exc:  # helm-python-sdk / kubernetes-validate: the `onboard` extra
        typer.echo(
            f"error: {exc.name or exc} is missing: pip install 'twinric[onboard]' (./dev installs it)",
            err=True,
        )
        raise typer.Exit(2) from None
    root = repo_root()
    schema_path = find_onboarder_schema(root)
    notes: list[str] = []
    onboarder_schema = None
    if schema_path is None:
        notes.append(
            "the onboarder's schema (xapp-descriptor-schema.json) was not found beside the checkout "
            "(../shared/osc) nor in $TWINRIC_OSC_SCHEMA: schema check skipped, traps checked"
        )
    else:
        onboarder_schema = load_json(schema_path)
    report: dict[str, list[Finding]] = {}
    xapps = project_xapps(root)
    for files in xapps:
        try:
            report[f"descriptor {files.role}"] = check_xapp(files, onboarder_schema, root)
        except DescriptorError as exc:
            report[f"descriptor {files.role}"] = [Finding("error", str(files.config), str(exc))]
    charts = onboard_charts.charts_dir(root)
    for files in xapps:
        chart_dir = charts / f"twinric-{files.role}"
        overrides = {"region": region} if region and files.role == "control" else None
        try:
            with _go_log_muted():  # Helm's Go logger notes every symlink on fd 2; its errors raise
                chart, found = onboard_charts.check_chart(
                    chart_dir, values, overrides, kubernetes_version=kubernetes_version
                )
        except onboard_charts.ChartError as exc:
            chart, found = None, [Finding("error", chart_dir.name, str(exc))]
        report[f"chart {chart_dir.name}"] = found
        if chart is not None and out is not None:
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{chart_dir.name}.yaml").write_text(chart.to_yaml())
    failed = [f for found in report.values() for f in errors(found)]
    commands = onboarding_commands(xapps, values, region, ric_host, registry) if not failed else []
    if as_json:
        print(
            json.dumps(
                {
                    "ok": not failed,
                    "schema": str(schema_path) if schema_path else None,
                    "notes": notes,
                    "findings": {k: [vars(f) for f in v] for k, v in report.items()},
                    "commands": commands,
                },
                indent=2,
            )
        )
    else:
        _print_report(report, notes, schema_path)
        if failed:
            typer.echo(f"\n{len(failed)} error(s): fix them before onboarding.", err=True)
        else:
            typer.echo("\nAll checks passed. To onboard:\n")
            typer.echo("\n".join(commands))
    raise typer.Exit(1 if failed else 0)


@onboard_app.command("keys")
def keys(
    out: Annotated[Path, typer.Option("--out", help="directory for <name>.key (0600) and <name>.pub")] = Path(
        "keys"
    ),
    xapp: Annotated[
        list[str] | None,
        typer.Option("--xapp", help="an xApp that asks the PDP (default: twinric-control); repeatable"),
    ] = None,
) -> None:
    """Write the PDP's and the xApps' Ed25519 identities (kept if present) and print the kubectl commands."""
    from ricproto import identity

    names = [PDP, *(xapp or ["twinric-control"])]
    for name in names:
        identity.write_identity(out, name)
    typer.echo(f"identities in {out}/ (existing ones kept). Into the cluster:")
    typer.echo("\n".join(_key_commands(out, names[1:])))


def _key_commands(keys_dir: Path | str, xapp_names: list[str]) -> list[str]:
    ns = NAMESPACE
    lines = [
        f"kubectl -n {ns} create secret generic {ns}-{name}-identity "
        f"--from-file={name}.key={keys_dir}/{name}.key"
        for name in [PDP, *xapp_names]
    ]
    lines.append(f"kubectl -n {ns} create configmap twinric-pdp-public-key --from-file={keys_dir}/{PDP}.pub")
    lines.append(
        f"kubectl -n {ns} create configmap twinric-xapp-public-keys "
        + " ".join(f"--from-file={keys_dir}/{name}.pub" for name in xapp_names)
    )
    return lines


def onboarding_commands(
    xapps: list[XappFiles], values: str, region: str, ric_host: str, registry: str
) -> list[str]:
    """The commands, in order, for the checked descriptors (names, versions, images, policy types)."""
    descriptors = {f.role: f.descriptor() for f in xapps}
    images: dict[str, str] = {}
    for d in descriptors.values():
        for c in d.get("containers", []):
            img = c["image"]
            target = "twin" if c["name"] == "twin-sidecar" else "xapp"
            images[target] = f"{registry or img['registry']}/{img['name']}:{img['tag']}"
    control_name = descriptors.get("control", {}).get("name", "twinric-control")
    instance = f"{control_name}-{region}" if region else control_name
    values_args = {
        "ric": "",
        "single-node": " -f charts/{chart}/values-single-node.yaml",
    }.get(values, f" -f {values}")
    a1 = f"http://{ric_host}:{KONG_PORT}/a1mediator"
    lines = [
        "# 1. Images, where the RIC's nodes pull from (a single-node cluster: load them into the node)"
    ]
    for target, image in sorted(images.items()):
        extra = (
            " --build-arg PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu"
            if target == "twin"
            else ""
        )
        lines.append(f"docker build --target {target}{extra} -t {image} . && docker push {image}")
    lines += [
        "",
        "# 2. Identities: each xApp's signing key as a secret, the public keys as ConfigMaps",
        "twinric onboard keys --out keys" + (f" --xapp {instance}" if region else ""),
        *_key_commands("keys", [instance]),
        "",
        "# 3. rtmgr routes only the message names in its messagetypes list (ric-dep: helm/rtmgr "
        "templates/config.yaml): add",
        '#    "TWINRIC_ACCESS_REQ=30100", "TWINRIC_ACCESS_RESP=30101", "TWINRIC_ACCESS_REVOKE=30102"',
        "#    and restart rtmgr (or POST the routes to rtmgr's /ric/v1/handles/addrmrroute)",
        "",
        "# 4a. Install with twinric's charts (the sidecar's volume and the keys included; PDP first)",
    ]
    for role in ("pdp", "control"):
        if role not in descriptors:
            continue
        chart = f"twinric-{role}"
        release = instance if role == "control" else descriptors[role]["name"]
        region_arg = f" --set region={region}" if region and role == "control" else ""
        lines.append(
            f"helm install {release} charts/{chart} -n {NAMESPACE}"
            f"{values_args.format(chart=chart)}{region_arg}"
        )
    lines += [
        "",
        "# 4b. Or the platform's way: dms_cli builds its xapp-std chart from the descriptor and a "
        "chartmuseum",
        "#     (that chart mounts no secrets, no volume: the PEP has no key, the twin keeps no checkpoints)",
        f"export CHART_REPO_URL=http://{ric_host}:8090",
    ]
    for role in ("pdp", "control"):
        if role not in descriptors:
            continue
        d = descriptors[role]
        lines.append(
            f"dms_cli onboard --config_file_path=xapps/{role}/config-file.json "
            f"--shcema_file_path=xapps/{role}/controls-schema.json"
        )
        lines.append(
            f"dms_cli install --xapp_chart_name={d['name']} --version={d['version']} --namespace={NAMESPACE}"
        )
    lines += ["", "# 5. A1: the policy types (files in charts/*/policy-types/), then the first policies"]
    for f in sorted(xapps, key=lambda f: f.role != "pdp"):
        for type_id in f.policy_types():
            lines.append(
                f"twinric a1 --url {a1} put-type {type_id} "
                f"charts/twinric-{f.role}/policy-types/{type_id}.json"
            )
            lines.append(
                f"#   = curl -X PUT {a1}/A1-P/v2/policytypes/{type_id} -H 'Content-Type: application/json' "
                f"--data @charts/twinric-{f.role}/policy-types/{type_id}.json"
            )
    lines += [
        "twinric pdp policy default > zero-trust.json",
        f"twinric pdp policy put zero-trust.json --a1-url {a1} --url http://127.0.0.1:8080  "
        f"# the PDP via: kubectl -n {NAMESPACE} port-forward svc/service-{NAMESPACE}-{PDP}-http 8080",
    ]
    if "control" in descriptors:
        defaults = descriptors["control"].get("controls", {}).get("defaults", {})
        type_id = next(iter(next(f for f in xapps if f.role == "control").policy_types()), 21010)
        lines.append(
            f"twinric a1 --url {a1} put-policy {type_id} {instance}-1 --data '{json.dumps(defaults)}'"
        )
    lines += [
        "",
        "# 6. See it work",
        f"kubectl -n {NAMESPACE} get pods,svc -l app.kubernetes.io/part-of=twinric",
        f"curl http://{ric_host}:{KONG_PORT}/appmgr/ric/v1/xapps   # both registered",
        f"twinric a1 --url {a1} status",
        f"kubectl -n {NAMESPACE} port-forward deploy/{NAMESPACE}-{instance} 9000:9000 & "
        "twinric twin fidelity --url http://127.0.0.1:9000",
    ]
    return lines


def _print_report(report: dict[str, list[Finding]], notes: list[str], schema: Path | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    table = Table(title="twinric onboard")
    table.add_column("what")
    table.add_column("errors", justify="right")
    table.add_column("warnings", justify="right")
    for what, found in report.items():
        n_err = len(errors(found))
        table.add_row(
            what,
            f"[red]{n_err}[/red]" if n_err else "0",
            str(sum(1 for f in found if f.severity == "warning")),
        )
    console.print(table)
    console.print(escape(f"onboarder schema: {schema}" if schema else "onboarder schema: not found"))
    for note in notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    for what, found in report.items():
        for f in found:
            colour = "red" if f.severity == "error" else "yellow"
            console.print(
                f"[{colour}]{f.severity}[/{colour}] {escape(f'{what}: {f.where}: {f.message}')}",
                markup=True,
                highlight=False,
            )


@contextmanager
def _go_log_muted() -> Iterator[None]:
    """File descriptor 2 into a scratch file while Helm's engine runs (its INFO lines are noise here)."""
    saved = os.dup(2)
    with tempfile.TemporaryFile() as scratch:
        os.dup2(scratch.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
