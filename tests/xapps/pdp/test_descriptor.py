"""The PDP's descriptor passes the OSC onboarder schema (with its controls schema) and agrees with the
code: ports, the A1 policy type 21020, message types, the seed routes; the shipped default policy
compiles and a broken one is refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ricproto import mtypes
from ricproto.rmr.route_table import records
from xapps.pdp.zero_trust_policy import (
    PolicyRejected,
    default_policy_body,
    parse_policy,
    policy_type,
    policy_type_id,
)

PDP = Path(__file__).resolve().parents[3] / "xapps" / "pdp"


@pytest.fixture
def descriptor() -> dict:
    return json.loads((PDP / "config-file.json").read_text())


def test_descriptor_passes_the_onboarder_schema(descriptor, shared_dir):
    schema_file = shared_dir / "osc" / "xapp-descriptor-schema.json"
    if not schema_file.exists():
        pytest.skip(f"{schema_file} absent: the OSC onboarder schema is not available here")
    schema = json.loads(schema_file.read_text())
    schema["properties"]["controls"] = json.loads((PDP / "controls-schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(descriptor)
    broken = json.loads(json.dumps(descriptor))
    del broken["controls"]["identity"]["xapp_keys_dir"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_ports_policy_and_message_types(descriptor):
    ports = {p["name"]: p for p in descriptor["messaging"]["ports"]}
    assert [p["name"] for p in descriptor["messaging"]["ports"]][:2] == ["http", "rmrdata"]
    assert ports["rmrdata"]["policies"] == [policy_type_id()] == [21020]
    names = ports["rmrdata"]["txMessages"] + ports["rmrdata"]["rxMessages"]
    assert {mtypes.parse(n) for n in names} >= {
        mtypes.TWINRIC_ACCESS_REQ,
        mtypes.TWINRIC_ACCESS_RESP,
        mtypes.TWINRIC_ACCESS_REVOKE,
    }
    assert descriptor["name"] == descriptor["xapp_name"] == "twinric-pdp"
    assert descriptor["appenv"]["CONFIG_FILE"] == "/opt/ric/config/config-file.json"


def test_policy_type_is_a_valid_a1_type_and_the_default_policy_fits_it():
    body = policy_type()
    assert set(body) == {"name", "description", "policy_type_id", "create_schema"}
    assert body["name"] == "twinric-zero-trust"
    jsonschema.Draft7Validator.check_schema(body["create_schema"])
    jsonschema.Draft7Validator(body["create_schema"]).validate(default_policy_body())
    policy = parse_policy(default_policy_body(), "default")
    assert set(policy.policy_ids.values()) == {
        "rc-controls-by-trusted-xapps",
        "no-handover-of-distrusted-ue",
        "quarantine-distrusted-xapps",
    }
    assert policy.min_trust_milli("cell") == 500 and policy.min_trust_milli("nothing-named") == 500


@pytest.mark.parametrize(
    "change, why",
    [
        ({"cedar_policies": "permit(principal, action, resource"}, "do not parse"),
        ({"cedar_schema": "entity Xapp = {"}, "cedar_schema does not parse"),
        (
            {"cedar_policies": "permit(principal is Xapp, action, resource) when { principal.score > 1 };"},
            "fail validation",
        ),
        ({"trust_thresholds": {"cell": 0.5}}, "default"),
        ({"trust_thresholds": {"default": 1.5}}, "trust_thresholds"),
        ({"surprise": 1}, "Additional properties"),
        ({"cedar_policies": "// nothing\n"}, "no policy"),
    ],
)
def test_invalid_policies_are_refused_with_the_reason(change, why):
    with pytest.raises(PolicyRejected) as err:
        parse_policy({**default_policy_body(), **change}, "bad")
    assert why in err.value.reason


def test_seed_route_table_parses():
    mses = [r for r in records((PDP / "seed.rt").read_text()) if r and r[0] == "mse"]
    assert {int(r[1]) for r in mses} >= {mtypes.A1_POLICY_RESP, mtypes.TWINRIC_ACCESS_REVOKE}
