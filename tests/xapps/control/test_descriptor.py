"""The shipped descriptor passes the OSC onboarder's schema (with our controls schema), and its parts
agree with the code: ports, the A1 policy type, message types and the seed route table."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ricproto import mtypes
from ricproto.rmr.route_table import records
from xapps.control.control_policy import policy_type, policy_type_id
from xapps.control.ran_view import RanInventory

CONTROL = Path(__file__).resolve().parents[3] / "xapps" / "control"


def test_descriptor_passes_the_onboarder_schema(descriptor, shared_dir):
    schema_file = shared_dir / "osc" / "xapp-descriptor-schema.json"
    if not schema_file.exists():
        pytest.skip(f"{schema_file} absent: the OSC onboarder schema is not available here")
    schema = json.loads(schema_file.read_text())
    schema["properties"]["controls"] = json.loads((CONTROL / "controls-schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(descriptor)
    broken = json.loads(json.dumps(descriptor))
    broken["controls"]["ran"]["cells"][0]["nr_cell_id"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_ports_policy_and_message_types(descriptor):
    ports = {p["name"]: p for p in descriptor["messaging"]["ports"]}
    assert [p["name"] for p in descriptor["messaging"]["ports"]][:2] == ["http", "rmrdata"]
    assert (ports["http"]["port"], ports["rmrdata"]["port"], ports["rmrroute"]["port"]) == (8080, 4560, 4561)
    assert ports["rmrdata"]["policies"] == [policy_type_id()]
    for name in ports["rmrdata"]["txMessages"] + ports["rmrdata"]["rxMessages"]:
        mtypes.parse(name)  # every name is a known message type
    assert descriptor["name"] == descriptor["xapp_name"]
    assert descriptor["appenv"]["CONFIG_FILE"] == "/opt/ric/config/config-file.json"
    assert descriptor["livenessProbe"]["httpGet"]["path"] == "ric/v1/health/alive"
    RanInventory.from_config(descriptor["controls"]["ran"])


def test_policy_type_is_a_valid_a1_type():
    body = policy_type()
    assert set(body) == {"name", "description", "policy_type_id", "create_schema"}
    assert body["name"] == "twinric-control"
    jsonschema.Draft7Validator.check_schema(body["create_schema"])


def test_seed_route_table_parses():
    lines = list(records((CONTROL / "seed.rt").read_text()))
    mses = [r for r in lines if r and r[0] == "mse"]
    assert {int(r[1]) for r in mses} >= {
        mtypes.RIC_CONTROL_REQ,
        mtypes.A1_POLICY_RESP,
        mtypes.TWINRIC_ACCESS_REQ,
    }
