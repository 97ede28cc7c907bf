"""The xApp descriptors as O-RAN SC's onboarder validates them, the traps it lets through, and the one
source of truth the local stack and the charts share."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from twin_sidecar.settings import TwinSettings
from twinric.local_stack import control_xapp_config
from twinric.onboard_descriptor import (
    XappFiles,
    check_traps,
    check_xapp,
    errors,
    find_onboarder_schema,
    load_json,
    project_xapps,
    validate_against_onboarder,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def xapps() -> dict[str, XappFiles]:
    found = {f.role: f for f in project_xapps(REPO)}
    assert set(found) == {"control", "pdp"}
    return found


@pytest.fixture(scope="module")
def onboarder_schema(shared_dir: Path) -> dict[str, Any]:
    path = shared_dir / "osc" / "xapp-descriptor-schema.json"
    if not path.exists():
        pytest.skip(f"{path} is absent: the onboarder's schema is kept outside the tree")
    return json.loads(path.read_text())


def control() -> dict[str, Any]:
    return load_json(REPO / "xapps" / "control" / "config-file.json")


def test_project_descriptors_pass_the_onboarders_schema(xapps, onboarder_schema):
    for files in xapps.values():
        found = validate_against_onboarder(
            files.descriptor(), load_json(files.controls_schema), onboarder_schema
        )
        assert found == [], [str(f) for f in found]


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.update(metrics=[{"objectName": "x"}]), "metrics"),
        (lambda d: d.update(version="1.0"), "version"),
        (
            lambda d: d["containers"][0].update(command="python -m twinric.onboard_sidecar"),
            "containers[0].command",
        ),
        (
            lambda d: d["containers"][1]["image"].update(registry="localhost:5000"),
            "containers[1].image.registry",
        ),
        (lambda d: d["livenessProbe"]["httpGet"].update(port="8080"), "livenessProbe"),
        (lambda d: d["messaging"]["ports"][1].pop("policies"), "messaging.ports[1]"),
        (lambda d: d["controls"]["ran"].pop("cells"), "controls.ran"),
    ],
)
def test_the_onboarders_schema_rejects_what_dms_cli_rejects(onboarder_schema, mutate, where):
    """The schema check is the onboarder's own: each of these is a known dms_cli rejection."""
    descriptor = control()
    mutate(descriptor)
    schema = load_json(REPO / "xapps" / "control" / "controls-schema.json")
    found = validate_against_onboarder(descriptor, schema, onboarder_schema)
    assert any(f.where.startswith(where) for f in found), [str(f) for f in found]


def test_controls_without_a_controls_schema_fail_as_in_dms_cli(onboarder_schema):
    """The root's placeholder requires __empty_control_section__: a controls schema must be passed."""
    validator = Draft7Validator(onboarder_schema)
    assert any("__empty_control_section__" in e.message for e in validator.iter_errors(control()))


def test_project_descriptors_have_no_trap(xapps):
    for files in xapps.values():
        found = check_traps(files.descriptor(), policy_types=files.policy_types(), root=REPO)
        assert errors(found) == [], [str(f) for f in found]
        # twinric's own message types are named in a warning: rtmgr must be told about them
        assert any("TWINRIC_ACCESS_REQ=30100" in f.message for f in found if f.severity == "warning")


def test_check_xapp_without_the_onboarders_schema_still_checks_controls(xapps, tmp_path):
    files = xapps["control"]
    broken = files.descriptor()
    broken["controls"]["ran"]["plmn"] = "x"
    path = tmp_path / "config-file.json"
    path.write_text(json.dumps(broken))
    found = check_xapp(XappFiles("control", path, files.controls_schema, files.policy_type), None, REPO)
    assert [f.where for f in errors(found)] == ["controls.ran.plmn"]


def _swap_containers(d: dict[str, Any]) -> None:
    d["containers"].reverse()


TRAPS = [
    (lambda d: d.pop("name"), "name", "registers with appmgr under `name` only"),
    (lambda d: d.update(name="Twinric_Control", xapp_name="Twinric_Control"), "name", "not a DNS label"),
    (lambda d: d.update(xapp_name="control"), "xapp_name", "differs from name"),
    (lambda d: d.update(metrics=[]), "metrics", "an array"),
    (lambda d: d.update(rmr={"protPort": "tcp:4560"}), "rmr", "ignore messaging"),
    (lambda d: d["containers"][0].update(command=["python", 7]), "containers[0].command", "array of strings"),
    (
        lambda d: d["containers"][0]["image"].update(registry="kind-registry:5000"),
        "containers[0].image.registry",
        "a dot",
    ),
    (_swap_containers, "containers", "must be the last one"),
    (
        lambda d: d["messaging"]["ports"][0].update(name="http-api"),
        "messaging.ports[0].name",
        "exactly `http`",
    ),
    (lambda d: d["messaging"]["ports"][1].update(name="data"), "messaging.ports", "no port named `rmrdata`"),
    (lambda d: d["messaging"]["ports"].pop(2), "messaging.ports", "no port named `rmrroute`"),
    (
        lambda d: d["messaging"]["ports"][0].update(container="elsewhere"),
        "messaging.ports[0].container",
        "none of the containers",
    ),
    (
        lambda d: d["messaging"]["ports"][1].pop("policies"),
        "messaging.ports[rmrdata].policies",
        "go together",
    ),
    (
        lambda d: d["messaging"]["ports"][1]["txMessages"].append("RIC_CONTROL_REQUEST"),
        "messaging.ports[rmrdata].txMessages",
        "no RMR message name",
    ),
    (
        lambda d: d["messaging"]["ports"][1].update(policies=[21011]),
        "messaging.ports[rmrdata].policies",
        "no policy type file",
    ),
    (
        lambda d: d["messaging"]["ports"][1].update(policies=[]),
        "messaging.ports[rmrdata].policies",
        "routes by type id",
    ),
    (
        lambda d: d["readinessProbe"]["httpGet"].update(port=8081),
        "readinessProbe.httpGet.port",
        "not the http port",
    ),
    (lambda d: d.pop("livenessProbe"), "livenessProbe", "missing"),
    (lambda d: d["appenv"].pop("CONFIG_FILE"), "appenv.CONFIG_FILE", "sets no CONFIG_FILE"),
    (lambda d: d["appenv"].update(RMR_RTG_SVC="4562"), "appenv.RMR_RTG_SVC", "not the rmrroute port"),
    (lambda d: d["appenv"].pop("RMR_SEED_RT"), "appenv.RMR_SEED_RT", "waits for a first route table"),
    (
        lambda d: d["appenv"].update(RMR_SEED_RT="/app/xapps/control/missing.rt"),
        "appenv.RMR_SEED_RT",
        "no such file",
    ),
    (lambda d: d["controls"].update(http_port=8081), "controls.http_port", "not the http port"),
    (
        lambda d: d["controls"]["subscription"].update(client_host="service-ricxapp-control-http.ricxapp"),
        "controls.subscription.client_host",
        "xAppEp is nil",
    ),
    (
        lambda d: d["controls"]["identity"].update(key_file="/keys/control.key"),
        "controls.identity.key_file",
        "mounts the xApp's signing key",
    ),
    (lambda d: d["controls"].update(twin_url="http://127.0.0.1:9001"), "controls.twin_url", "listens on"),
]


@pytest.mark.parametrize(("mutate", "where", "says"), TRAPS, ids=[f"{t[1]}:{t[2]}" for t in TRAPS])
def test_each_trap_is_an_error_that_says_why(xapps, mutate, where, says):
    descriptor = copy.deepcopy(control())
    mutate(descriptor)
    found = errors(check_traps(descriptor, policy_types=xapps["control"].policy_types(), root=REPO))
    hits = [f for f in found if f.where == where]
    assert hits, [str(f) for f in found]
    assert any(says in f.message for f in hits), [str(f) for f in hits]


def test_a_sidecar_bound_beyond_localhost_is_a_warning():
    descriptor = control()
    descriptor["controls"]["twin"]["host"] = "0.0.0.0"
    found = check_traps(descriptor)
    assert [f.where for f in found if f.severity == "warning" and "TOKEN" in f.message] == [
        "controls.twin.host"
    ]


def test_sidecar_first_and_the_ric_facing_container_last():
    names = [c["name"] for c in control()["containers"]]
    assert names == ["twin-sidecar", "twinric-control"]
    ports = {p["name"]: p["container"] for p in control()["messaging"]["ports"]}
    assert set(ports.values()) == {"twinric-control"}


def test_the_local_stack_runs_the_same_descriptor(tmp_path):
    """One source of truth: `twinric up` changes only controls (this run's RAN, keys, twin URL) and the
    rmrroute port it listens on; containers, ports, probes and appenv are the file's."""
    path = control_xapp_config("small", tmp_path, rtg_port=45611, twin_url="http://127.0.0.1:45612")
    local = json.loads(path.read_text())
    onboard = control()
    for key in ("name", "xapp_name", "version", "containers", "livenessProbe", "readinessProbe", "appenv"):
        assert local[key] == onboard[key], key
    local_ports = {p["name"]: p for p in local["messaging"]["ports"]}
    for p in onboard["messaging"]["ports"]:
        if p["name"] != "rmrroute":
            assert local_ports[p["name"]] == p
    assert local_ports["rmrroute"]["port"] == 45611
    # the sidecar reads the same descriptor: its settings in the pod are the descriptor's controls.twin
    settings = TwinSettings.from_descriptor(onboard, env={})
    assert f"http://{settings.host}:{settings.port}" == onboard["controls"]["twin_url"]
    assert str(settings.state_dir) == onboard["controls"]["twin"]["state_dir"]


def test_the_printed_first_policy_is_valid_for_its_type():
    """`twinric onboard` PUTs controls.defaults as the control xApp's first A1 policy."""
    policy_type = load_json(REPO / "xapps" / "control" / "policy_type.json")
    body = control()["controls"]["defaults"]
    assert list(Draft7Validator(policy_type["create_schema"]).iter_errors(body)) == []


def test_schema_location_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TWINRIC_OSC_SCHEMA", str(tmp_path / "absent.json"))
    assert find_onboarder_schema(REPO) is None
    schema = tmp_path / "schema.json"
    schema.write_text("{}")
    monkeypatch.setenv("TWINRIC_OSC_SCHEMA", str(schema))
    assert find_onboarder_schema(REPO) == schema
