"""A1 policies of type twinric-control: both payload forms, validation errors, delete, the answer."""

from __future__ import annotations

import json

import pytest

from ricproto import a1
from xapps.common.a1_handler import A1PolicyHandler
from xapps.common.metrics import XappMetrics
from xapps.control.control_policy import (
    ControlSettings,
    PolicyRejected,
    policy_type_id,
    settings_from_policy,
)

POLICY = {
    "objective_weights": {"throughput": 1.0, "load_imbalance": 2.0},
    "cell_load_limit": 0.7,
    "exploration": {"kind": "boltzmann", "temperature": 0.5},
    "planner_budget_ms": 20,
    "follow_promoted_policies": False,
}


def test_settings_from_policy():
    s = settings_from_policy(POLICY, "p1")
    assert s.imbalance_weight == 2.0 and s.cell_load_limit == 0.7
    assert (s.exploration.kind, s.exploration.temperature) == ("boltzmann", 0.5)
    assert s.planner_budget_ms == 20 and not s.follow_promoted_policies and s.a1_instance == "p1"


def test_objective_weights_for_the_tail_and_the_sla():
    s = settings_from_policy(
        {"objective_weights": {"embb_p5_throughput": 2.5, "urllc_delay_violations": 4}}, "p"
    )
    assert (s.p5_weight, s.sla_weight) == (2.5, 4.0)
    assert (s.throughput_weight, s.imbalance_weight) == (1.0, 0.5)  # the others keep their defaults
    with pytest.raises(PolicyRejected) as err:
        settings_from_policy({"objective_weights": {"urllc_delay_violations": -1}}, "p")
    assert err.value.reason.startswith("objective_weights/urllc_delay_violations")


def test_empty_policy_keeps_defaults():
    assert settings_from_policy({}, "p") == ControlSettings(a1_instance="p")


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"cell_load_limit": 1.5}, "cell_load_limit"),
        ({"exploration": {"kind": "ucb"}}, "exploration/kind"),
        ({"unknown": 1}, "(root)"),
        ({"planner_budget_ms": 2.5}, "planner_budget_ms"),
    ],
)
def test_invalid_policies_say_where(payload, where):
    with pytest.raises(PolicyRejected) as err:
        settings_from_policy(payload, "p")
    assert err.value.reason.startswith(where)


class Recorder:
    def __init__(self) -> None:
        self.applied: list[tuple[str, dict | None]] = []

    def __call__(self, instance: str, payload: dict | None) -> None:
        if payload is not None:
            settings_from_policy(payload, instance)
        self.applied.append((instance, payload))


def handler() -> tuple[A1PolicyHandler, Recorder, XappMetrics]:
    rec, metrics = Recorder(), XappMetrics("test")
    return A1PolicyHandler(policy_type_id(), "control-1", rec, metrics), rec, metrics


@pytest.mark.parametrize("form", ["go", "object"])
def test_create_in_both_forms_is_ok_with_numeric_type_id(form):
    h, rec, _ = handler()
    req = a1.A1PolicyRequest(a1.A1Operation.CREATE, policy_type_id(), "p1", POLICY)
    answer = h.handle(a1.encode_policy_request(req, form=form))
    body = json.loads(answer)
    assert body == {
        "policy_type_id": policy_type_id(),
        "policy_instance_id": "p1",
        "handler_id": "control-1",
        "status": "OK",
    }
    assert isinstance(body["policy_type_id"], int)
    assert rec.applied == [("p1", POLICY)]


def test_bad_policy_gets_error_status_and_is_counted():
    h, _, metrics = handler()
    req = a1.A1PolicyRequest(a1.A1Operation.CREATE, policy_type_id(), "bad", {"cell_load_limit": 7})
    body = json.loads(h.handle(a1.encode_policy_request(req)))
    assert body["status"] == "ERROR"
    assert "cell_load_limit" in h.last_error["bad"]
    assert metrics.error_count("a1_policy_rejected") == 1
    assert "bad" not in h.instances


def test_delete_answers_deleted_and_tells_the_app():
    h, rec, _ = handler()
    h.handle(a1.encode_policy_request(a1.A1PolicyRequest(a1.A1Operation.CREATE, policy_type_id(), "p1", {})))
    body = json.loads(
        h.handle(
            a1.encode_policy_request(a1.A1PolicyRequest(a1.A1Operation.DELETE, policy_type_id(), "p1", None))
        )
    )
    assert body["status"] == "DELETED" and rec.applied[-1] == ("p1", None) and not h.instances


def test_malformed_request_is_counted_and_unanswered():
    h, _, metrics = handler()
    assert h.handle(b"{not json") is None
    assert metrics.error_count("a1_bad_request") == 1


def test_query_carries_numeric_type_id():
    h, _, _ = handler()
    assert json.loads(h.query()) == {"policy_type_id": policy_type_id()}
