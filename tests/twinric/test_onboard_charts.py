"""twinric's Helm charts rendered by Helm's own engine (helm-python-sdk: Helm v4's Go SDK), the manifests
validated against the Kubernetes schemas (kubernetes-validate) and against the names the RIC relies on."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from ricproto import identity
from twinric.onboard_charts import (
    ChartError,
    RenderedChart,
    check_chart,
    check_platform_names,
    merge_values,
    render,
    validate_schemas,
    values_for,
)
from twinric.onboard_descriptor import load_json

REPO = Path(__file__).resolve().parents[2]
CHARTS = REPO / "charts"


def rendered(chart: str, value_set: str = "ric", **overrides) -> RenderedChart:
    chart_dir = CHARTS / chart
    return render(chart_dir, merge_values(values_for(chart_dir, value_set), overrides))


def one(chart: RenderedChart, kind: str, name: str | None = None) -> dict:
    found = chart.find(kind, name)
    assert len(found) == 1, (kind, name, [m["metadata"]["name"] for m in chart.find(kind)])
    return found[0]


@pytest.mark.parametrize("value_set", ["ric", "single-node"])
@pytest.mark.parametrize("chart", ["twinric-control", "twinric-pdp"])
def test_charts_lint_render_and_validate_clean(chart, value_set):
    result, found = check_chart(CHARTS / chart, value_set)
    assert result is not None
    assert [f for f in found if f.severity == "error"] == [], [str(f) for f in found]
    kinds = sorted(m["kind"] for m in result.manifests)
    want = ["ConfigMap", "ConfigMap", "Deployment", "Service", "Service"]
    if chart == "twinric-control":
        want = sorted([*want, "PersistentVolumeClaim"])
    assert kinds == want


def test_control_chart_mirrors_the_platforms_names():
    chart = rendered("twinric-control")
    fn = "ricxapp-twinric-control"
    rmr = one(chart, "Service", f"service-{fn}-rmr")
    assert [p["name"] for p in rmr["spec"]["ports"]] == ["rmrdata", "rmrroute"]
    assert [p["port"] for p in rmr["spec"]["ports"]] == [4560, 4561]
    http = one(chart, "Service", f"service-{fn}-http")
    assert http["spec"]["ports"][0]["port"] == 8080
    env = one(chart, "ConfigMap", f"configmap-{fn}-appenv")["data"]
    assert env["CONFIG_FILE"] == "/opt/ric/config/config-file.json"
    assert env["RMR_SRC_ID"] == f"service-{fn}-rmr.ricxapp"
    assert env["RMR_RTG_SVC"] == "4561"
    assert env["DBAAS_SERVICE_HOST"] == "service-ricplt-dbaas-tcp.ricplt.svc.cluster.local"
    dep = one(chart, "Deployment", fn)
    pod = dep["spec"]["template"]["spec"]
    assert pod["hostname"] == "twinric-control"
    assert pod["securityContext"]["runAsNonRoot"] is True
    sidecar, xapp = pod["containers"]
    assert (sidecar["name"], xapp["name"]) == ("twin-sidecar", "twinric-control")
    assert xapp["image"] == "registry.twinric.example/twinric:0.1.0"
    assert sidecar["image"] == "registry.twinric.example/twinric-twin:0.1.0"
    assert sidecar["command"] == ["python", "-m", "twinric.onboard_sidecar"]
    assert {p["name"]: p["containerPort"] for p in sidecar["ports"]} == {"twin": 9000}
    assert {p["name"] for p in xapp["ports"]} == {"http", "rmrdata", "rmrroute"}
    for c in (sidecar, xapp):
        refs = [e["configMapRef"]["name"] for e in c["envFrom"]]
        assert refs == [f"configmap-{fn}-appenv", "dbaas-appconfig"]
        assert {"name": "appconfig", "mountPath": "/opt/ric/config", "readOnly": True} in c["volumeMounts"]
        assert c["resources"]["limits"]
    assert xapp["livenessProbe"]["httpGet"] == {"path": "/ric/v1/health/alive", "port": 8080}
    assert xapp["readinessProbe"]["httpGet"] == {"path": "/ric/v1/health/ready", "port": 8080}
    assert sidecar["livenessProbe"]["exec"]["command"][-2:] == ["--role", "twin"]
    mounts = {m["name"]: m["mountPath"] for m in sidecar["volumeMounts"]}
    assert mounts["twin-state"] == "/var/lib/twinric/twin"
    xmounts = {m["name"]: m["mountPath"] for m in xapp["volumeMounts"]}
    assert xmounts["identity"] == "/opt/ric/secrets/twinric-control"
    assert xmounts["public-keys"] == "/opt/ric/keys"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["twin-state"]["persistentVolumeClaim"]["claimName"] == f"{fn}-twin-state"
    assert volumes["identity"]["secret"]["secretName"] == f"{fn}-identity"
    assert volumes["identity"]["secret"]["items"] == [
        {"key": "twinric-control.key", "path": "twinric-control.key"}
    ]
    assert one(chart, "PersistentVolumeClaim")["spec"]["resources"]["requests"]["storage"] == "2Gi"


def test_the_pod_reads_the_repositorys_descriptor():
    """The chart's config/ links to xapps/: what the pod reads is the file `twinric up` runs."""
    for role in ("control", "pdp"):
        chart = rendered(f"twinric-{role}")
        data = one(chart, "ConfigMap", f"configmap-ricxapp-twinric-{role}-appconfig")["data"]
        source = load_json(REPO / "xapps" / role / "config-file.json")
        assert json.loads(data["config-file.json"]) == source
        assert json.loads(data["schema.json"]) == load_json(REPO / "xapps" / role / "controls-schema.json")
        meta = yaml.safe_load((CHARTS / f"twinric-{role}" / "Chart.yaml").read_text())
        assert (meta["name"], meta["version"]) == (source["name"], source["version"])
        policy = load_json(REPO / "xapps" / role / "policy_type.json")
        assert (
            load_json(CHARTS / f"twinric-{role}" / "policy-types" / f"{policy['policy_type_id']}.json")
            == policy
        )


def test_pdp_chart_has_no_sidecar_and_a_writable_decision_log():
    chart = rendered("twinric-pdp")
    pod = one(chart, "Deployment", "ricxapp-twinric-pdp")["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["twinric-pdp"]
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["scratch-decision-log"] == "/var/log/twinric"
    assert mounts["public-keys"] == "/opt/ric/keys/xapps"
    assert mounts["identity"] == "/opt/ric/secrets/twinric-pdp"
    assert not chart.find("PersistentVolumeClaim")


def test_single_node_values_load_images_locally_and_tolerate_a_ricless_lab():
    chart = rendered("twinric-control", "single-node")
    pod = one(chart, "Deployment")["spec"]["template"]["spec"]
    assert {c["imagePullPolicy"] for c in pod["containers"]} == {"Never"}
    assert pod["containers"][1]["envFrom"][1]["configMapRef"]["optional"] is True
    assert one(chart, "PersistentVolumeClaim")["spec"]["resources"]["requests"]["storage"] == "512Mi"


def test_a_region_is_its_own_instance_with_its_own_cells():
    """Horizontal scaling: one release per region, every name and the pod's descriptor follow."""
    cells = [{"nr_cell_id": 16385, "meid": "gnb_001_001_000001", "neighbours": []}]
    chart, found = check_chart(
        CHARTS / "twinric-control", "ric", {"region": "north", "controls": {"ran": {"cells": cells}}}
    )
    assert [f for f in found if f.severity == "error"] == [], [str(f) for f in found]
    fn = "ricxapp-twinric-control-north"
    assert one(chart, "Service", f"service-{fn}-http")
    assert one(chart, "Service", f"service-{fn}-rmr")
    pod = one(chart, "Deployment", fn)["spec"]["template"]["spec"]
    assert pod["hostname"] == "twinric-control-north"
    config = json.loads(one(chart, "ConfigMap", f"configmap-{fn}-appconfig")["data"]["config-file.json"])
    assert config["name"] == config["xapp_name"] == "twinric-control-north"
    assert config["controls"]["ran"]["cells"] == cells
    assert config["controls"]["ran"]["slices"]  # merged, not replaced: the rest of ran stays
    assert config["controls"]["subscription"]["client_host"] == f"service-{fn}-http.ricxapp"
    assert (
        config["controls"]["identity"]["key_file"]
        == "/opt/ric/secrets/twinric-control-north/twinric-control-north.key"
    )
    assert one(chart, "Deployment")["metadata"]["labels"]["twinric.io/region"] == "north"


def test_a_signing_key_given_at_install_becomes_the_mounted_secret(tmp_path):
    key_path, _ = identity.write_identity(tmp_path, "twinric-control")
    chart = rendered("twinric-control", identity={"privateKeyPem": key_path.read_text()})
    secret = one(chart, "Secret", "ricxapp-twinric-control-identity")
    pem = secret["stringData"]["twinric-control.key"]
    assert pem.strip() == key_path.read_text().strip()
    copy_path = tmp_path / "mounted.key"
    copy_path.write_text(pem)
    identity.load_private_key(copy_path)  # what the xApp will read is a usable key
    assert validate_schemas(chart) == []


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"replicaCount": 2}, "scale out by region"),
        ({"region": "North_1"}, "must be a DNS label"),
    ],
)
def test_the_chart_refuses_what_the_platform_cannot_work_with(overrides, says):
    with pytest.raises(ChartError, match=says):
        rendered("twinric-control", **overrides)


def test_the_chart_refuses_another_namespace():
    chart_dir = CHARTS / "twinric-pdp"
    with pytest.raises(ChartError, match="namespace ricxapp"):
        render(chart_dir, merge_values(values_for(chart_dir, "ric")), namespace="default")


def test_kubernetes_schemas_catch_a_broken_manifest():
    chart = rendered("twinric-pdp")
    broken = copy.deepcopy(chart)
    dep = one(broken, "Deployment")
    dep["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8080"
    dep["spec"]["template"]["spec"]["containers"][0]["imagePolicy"] = "Always"
    found = validate_schemas(broken)
    assert len(found) >= 1 and all(f.where == "twinric-pdp: Deployment/ricxapp-twinric-pdp" for f in found)
    assert validate_schemas(chart) == []


def test_platform_checks_catch_a_sidecar_listed_last():
    chart = copy.deepcopy(rendered("twinric-control"))
    one(chart, "Deployment")["spec"]["template"]["spec"]["containers"].reverse()
    messages = [f.message for f in check_platform_names(chart)]
    assert any("are not the descriptor's" in m for m in messages)
    assert any("must carry http and rmrdata" in m for m in messages)


def test_platform_checks_catch_renamed_services_and_hostname():
    chart = copy.deepcopy(rendered("twinric-control"))
    one(chart, "Service", "service-ricxapp-twinric-control-http")["metadata"]["name"] = "twinric-control-http"
    rmr = one(chart, "Service", "service-ricxapp-twinric-control-rmr")
    rmr["spec"]["ports"].reverse()
    one(chart, "Deployment")["spec"]["template"]["spec"]["hostname"] = "control"
    messages = [f.message for f in check_platform_names(chart)]
    assert any("no service-ricxapp-twinric-control-http" in m for m in messages)
    assert any("first port must be rmrdata" in m for m in messages)
    assert any("hostname 'control'" in m for m in messages)


def test_a_values_file_that_is_not_a_mapping_is_a_clear_error(tmp_path):
    bad = tmp_path / "values.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ChartError, match="must be a mapping"):
        merge_values([bad])


def test_a_values_file_is_merged_over_the_charts_values(tmp_path):
    region = tmp_path / "west.yaml"
    region.write_text(
        "region: west\nimage:\n  tag: 0.1.1\nresources:\n  twin-sidecar:\n    limits: {cpu: '4'}\n"
    )
    chart_dir = CHARTS / "twinric-control"
    values = merge_values(values_for(chart_dir, str(region)))
    assert values["image"] == {"registry": "", "tag": "0.1.1", "pullPolicy": "IfNotPresent"}
    chart = render(chart_dir, values)
    pod = one(chart, "Deployment", "ricxapp-twinric-control-west")["spec"]["template"]["spec"]
    assert [c["image"].rsplit(":", 1)[1] for c in pod["containers"]] == ["0.1.1", "0.1.1"]
    assert pod["containers"][0]["resources"]["limits"] == {"cpu": "4", "memory": "4Gi"}  # maps merge by key
    with pytest.raises(ChartError, match="cannot read values"):
        merge_values(values_for(chart_dir, str(tmp_path / "absent.yaml")))
