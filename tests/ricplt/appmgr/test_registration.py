"""Parsing of appmgr register/deregister bodies and of the descriptor's routing (pure logic)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from ricplt.appmgr.registration import RegistrationError, parse_deregister, parse_register

DESCRIPTOR = {
    "name": "control",
    "version": "1.0.0",
    "containers": [
        {"name": "control", "image": {"registry": "nexus3.o-ran-sc.org:10002", "name": "c", "tag": "1"}}
    ],
    "messaging": {
        "ports": [
            {"name": "http", "container": "control", "port": 8080},
            {
                "name": "rmrdata",
                "container": "control",
                "port": 4560,
                "txMessages": ["RIC_SUB_REQ", "RIC_CONTROL_REQ"],
                "rxMessages": ["RIC_INDICATION", "A1_POLICY_REQ"],
                "policies": [20008],
            },
            {
                "name": "rmrroute",
                "container": "control",
                "port": 4571,
                "txMessages": [],
                "rxMessages": [],
                "policies": [],
            },
        ]
    },
}


def body(**overrides) -> dict:
    base = {
        "appName": "control-0",
        "appVersion": "1.0.0",
        "configPath": "",
        "appInstanceName": "control",
        "httpEndpoint": "127.0.0.1:8080",
        "rmrEndpoint": "127.0.0.1:4570",
        "config": json.dumps(DESCRIPTOR),
    }
    base.update(overrides)
    return base


def test_ricxappframe_body_with_config_string() -> None:
    reg = parse_register(body())
    assert reg.instance_name == "control" and reg.app_name == "control-0" and reg.version == "1.0.0"
    assert reg.tx == ("RIC_SUB_REQ", "RIC_CONTROL_REQ")
    assert reg.rx == ("RIC_INDICATION", "A1_POLICY_REQ")
    assert reg.policies == (20008,)
    assert reg.rmr_endpoint == "127.0.0.1:4570"
    assert reg.route_endpoint == "127.0.0.1:4571"  # host of rmrEndpoint, port named rmrroute
    routes = reg.routes()
    assert routes.endpoint == "127.0.0.1:4570" and routes.policies == (20008,)


def test_config_object_and_default_route_port() -> None:
    descriptor = {
        "name": "x",
        "messaging": {
            "ports": [
                {
                    "name": "rmrdata",
                    "container": "x",
                    "port": 4560,
                    "txMessages": ["RIC_SUB_REQ"],
                    "rxMessages": [],
                    "policies": [],
                }
            ]
        },
    }
    reg = parse_register(body(config=descriptor, rmrEndpoint="10.0.0.5:4560"))
    assert reg.route_endpoint == "10.0.0.5:4561"


def test_legacy_rmr_section_wins_over_messaging() -> None:
    descriptor = {
        **DESCRIPTOR,
        "rmr": {
            "protPort": "tcp:4560",
            "txMessages": ["RIC_SUB_REQ"],
            "rxMessages": ["RIC_SUB_RESP"],
            "policies": [1, 2],
        },
    }
    reg = parse_register(body(config=json.dumps(descriptor)))
    assert (reg.tx, reg.rx, reg.policies) == (("RIC_SUB_REQ",), ("RIC_SUB_RESP",), (1, 2))


def test_union_over_ports_without_duplicates() -> None:
    descriptor = {
        "messaging": {
            "ports": [
                {"name": "a", "port": 1, "txMessages": ["X1", "X2"], "rxMessages": [], "policies": [3]},
                {"name": "b", "port": 2, "txMessages": ["X2"], "rxMessages": ["Y"], "policies": [3, 4]},
            ]
        }
    }
    reg = parse_register(body(config=descriptor))
    assert (reg.tx, reg.rx, reg.policies) == (("X1", "X2"), ("Y",), (3, 4))


def test_registration_round_trips_through_json() -> None:
    reg = parse_register(body())
    assert type(reg).from_json(reg.to_json()) == reg


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"appInstanceName": None}, "missing_field"),  # ricxappframe with xapp_name only sends null
        ({"appInstanceName": 5}, "bad_field"),
        ({"config": "{nope"}, "bad_config"),
        ({"config": "[1]"}, "bad_config"),
        ({"rmrEndpoint": ""}, "missing_field"),  # the descriptor routes messages, so RMR is needed
        ({"rmrEndpoint": "no-port"}, "bad_endpoint"),
        ({"rmrEndpoint": "host:99999"}, "bad_endpoint"),
        ({"httpEndpoint": "x"}, "bad_endpoint"),
        (
            {
                "config": json.dumps(
                    {"messaging": {"ports": [{"name": "r", "port": 1, "policies": ["20008"]}]}}
                )
            },
            "bad_descriptor",
        ),
        (
            {
                "config": json.dumps(
                    {"messaging": {"ports": [{"name": "r", "port": 1, "txMessages": "RIC_SUB_REQ"}]}}
                )
            },
            "bad_descriptor",
        ),
    ],
)
def test_bad_bodies_are_rejected_with_a_reason(overrides: dict, reason: str) -> None:
    with pytest.raises(RegistrationError) as info:
        parse_register(body(**overrides))
    assert info.value.reason == reason and info.value.detail


def test_non_object_body() -> None:
    with pytest.raises(RegistrationError, match="JSON object"):
        parse_register([1, 2])


def test_xapp_without_messaging_needs_no_rmr_endpoint() -> None:
    reg = parse_register(body(config=json.dumps({"name": "web"}), rmrEndpoint=""))
    assert reg.route_endpoint is None and reg.tx == () and not reg.routes().uses_rmr


def test_deregister() -> None:
    assert parse_deregister({"appName": "a", "appInstanceName": "control"}) == "control"
    with pytest.raises(RegistrationError):
        parse_deregister({"appName": "a"})


def test_test_descriptor_is_valid_for_the_osc_onboarder(shared_dir) -> None:
    """Cross-check: the descriptor used here passes the dms_cli root schema (ports with tx/rx/policies)."""
    schema = json.loads((shared_dir / "osc" / "xapp-descriptor-schema.json").read_text())
    errors = [error.message for error in jsonschema.Draft7Validator(schema).iter_errors(DESCRIPTOR)]
    assert errors == []
