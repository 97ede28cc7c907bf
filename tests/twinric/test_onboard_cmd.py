"""`twinric onboard`: every check run, the exact commands printed only when all pass; `onboard keys`."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

import twinric.onboard_cmd as onboard_cmd
from ricproto import identity
from twinric.cli import app
from twinric.onboard_descriptor import XappFiles, project_xapps

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["onboard", *args])


def test_onboard_checks_everything_and_prints_the_commands(shared_dir):
    result = invoke("--json", "--ric-host", "10.0.0.5")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert report["ok"] is True
    assert report["schema"].endswith("xapp-descriptor-schema.json")
    assert set(report["findings"]) == {
        "descriptor control",
        "descriptor pdp",
        "chart twinric-control",
        "chart twinric-pdp",
    }
    assert all(f["severity"] != "error" for found in report["findings"].values() for f in found)
    commands = "\n".join(report["commands"])
    # dms_cli's own (misspelled) flag, the chartmuseum it needs, and the install
    assert "export CHART_REPO_URL=http://10.0.0.5:8090" in commands
    assert (
        "dms_cli onboard --config_file_path=xapps/control/config-file.json "
        "--shcema_file_path=xapps/control/controls-schema.json"
    ) in commands
    assert "dms_cli install --xapp_chart_name=twinric-control --version=0.1.0 --namespace=ricxapp" in commands
    assert "helm install twinric-control charts/twinric-control -n ricxapp" in commands
    # A1: both policy types from their files, through the RIC's ingress
    for type_id, role in ((21010, "control"), (21020, "pdp")):
        assert (
            f"twinric a1 --url http://10.0.0.5:32080/a1mediator put-type {type_id} "
            f"charts/twinric-{role}/policy-types/{type_id}.json"
        ) in commands
        assert (REPO / "charts" / f"twinric-{role}" / "policy-types" / f"{type_id}.json").is_file()
    assert commands.index("put-type 21020") < commands.index("put-type 21010")  # PDP first
    assert "TWINRIC_ACCESS_REQ=30100" in commands
    assert "docker build --target xapp -t registry.twinric.example/twinric:0.1.0" in commands
    assert "docker build --target twin" in commands


def test_single_node_region_and_rendered_manifests(tmp_path):
    result = invoke(
        "--values", "single-node", "--region", "east", "--out", str(tmp_path), "--registry", "10.0.0.9:5000"
    )
    assert result.exit_code == 0, result.output
    assert "All checks passed" in result.stdout
    assert "messaging.ports[rmrdata]" in result.stdout  # paths printed as they are, not as markup
    assert (
        "helm install twinric-control-east charts/twinric-control -n ricxapp "
        "-f charts/twinric-control/values-single-node.yaml --set region=east"
    ) in result.stdout
    assert "10.0.0.9:5000/twinric-twin:0.1.0" in result.stdout
    docs = [d for d in yaml.safe_load_all((tmp_path / "twinric-control.yaml").read_text()) if d]
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("Deployment", "ricxapp-twinric-control-east") in names
    assert ("Service", "service-ricxapp-twinric-control-east-http") in names
    assert (tmp_path / "twinric-pdp.yaml").is_file()


def test_a_trap_fails_onboarding_and_prints_no_commands(tmp_path, monkeypatch):
    xapps = project_xapps(REPO)
    control = next(f for f in xapps if f.role == "control")
    broken = control.descriptor()
    broken["containers"].reverse()  # the sidecar last: it would get the config, env and probes
    path = tmp_path / "config-file.json"
    path.write_text(json.dumps(broken))
    patched = [
        XappFiles("control", path, control.controls_schema, control.policy_type),
        *(f for f in xapps if f.role != "control"),
    ]
    monkeypatch.setattr(onboard_cmd, "project_xapps", lambda root=None: patched)
    result = invoke("--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert report["ok"] is False and report["commands"] == []
    wheres = [f["where"] for f in report["findings"]["descriptor control"] if f["severity"] == "error"]
    assert "containers" in wheres


def test_without_the_onboarders_schema_the_traps_still_run(monkeypatch, tmp_path):
    monkeypatch.setenv("TWINRIC_OSC_SCHEMA", str(tmp_path / "absent.json"))
    result = invoke("--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert report["schema"] is None
    assert any("schema check skipped" in n for n in report["notes"])


def test_onboard_keys_writes_identities_and_the_kubectl_commands(tmp_path):
    out = tmp_path / "keys"
    result = runner.invoke(app, ["onboard", "keys", "--out", str(out), "--xapp", "twinric-control-east"])
    assert result.exit_code == 0, result.output
    for name in ("twinric-pdp", "twinric-control-east"):
        identity.load_private_key(out / f"{name}.key")
        identity.load_public_key(out / f"{name}.pub")
        assert oct((out / f"{name}.key").stat().st_mode & 0o777) == "0o600"
    assert (
        f"kubectl -n ricxapp create secret generic ricxapp-twinric-control-east-identity "
        f"--from-file=twinric-control-east.key={out}/twinric-control-east.key"
    ) in result.stdout
    assert f"create configmap twinric-pdp-public-key --from-file={out}/twinric-pdp.pub" in result.stdout
    before = (out / "twinric-pdp.key").read_bytes()
    runner.invoke(app, ["onboard", "keys", "--out", str(out)])
    assert (out / "twinric-pdp.key").read_bytes() == before  # kept, never overwritten
