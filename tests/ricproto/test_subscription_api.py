from __future__ import annotations

import pytest
from pydantic import ValidationError

from ricproto.subscription_api import SubscriptionParams, SubscriptionResponse

BODY = {
    "ClientEndpoint": {"Host": "service-ricxapp-control-http.ricxapp", "HTTPPort": 8080, "RMRPort": 4560},
    "Meid": "gnb_001_001_00019b",
    "RANFunctionID": 2,
    "E2SubscriptionDirectives": {"E2TimeoutTimerValue": 2, "E2RetryCount": 2, "RMRRoutingNeeded": True},
    "SubscriptionDetails": [
        {
            "XappEventInstanceId": 12345,
            "EventTriggers": [8, 39, 15],
            "ActionToBeSetupList": [
                {
                    "ActionID": 1,
                    "ActionType": "report",
                    "ActionDefinition": [0, 1, 2],
                    "SubsequentAction": {"SubsequentActionType": "continue", "TimeToWait": "w10ms"},
                }
            ],
        }
    ],
}


def test_parses_the_pascal_case_body() -> None:
    params = SubscriptionParams.model_validate(BODY)
    assert params.Meid == "gnb_001_001_00019b"
    assert params.SubscriptionDetails[0].ActionToBeSetupList[0].SubsequentAction.TimeToWait == "w10ms"
    assert params.ClientEndpoint.rmr_endpoint() == "service-ricxapp-control-rmr.ricxapp:4560"
    assert params.ClientEndpoint.notification_url() == (
        "http://service-ricxapp-control-http.ricxapp:8080/ric/v1/subscriptions/response"
    )
    assert SubscriptionParams.model_validate(params.model_dump(exclude_none=True)) == params


def test_snake_case_keys_from_xapp_subscribe_are_rejected() -> None:
    body = dict(BODY)
    body["client_endpoint"] = body.pop("ClientEndpoint")
    with pytest.raises(ValidationError, match="ClientEndpoint"):  # the required field is missing
        SubscriptionParams.model_validate(body)


def test_unknown_fields_are_ignored_as_osc_submgr_does() -> None:
    import copy

    body = copy.deepcopy(BODY)
    body["XappName"] = "third-party"
    body["ClientEndpoint"]["ServiceName"] = "old-style"
    body["SubscriptionDetails"][0]["RequestorId"] = 7
    body["SubscriptionDetails"][0]["ActionToBeSetupList"][0]["Comment"] = "kept out"
    params = SubscriptionParams.model_validate(body)
    assert params == SubscriptionParams.model_validate(BODY)
    assert params.content_key() == SubscriptionParams.model_validate(BODY).content_key()
    assert "XappName" not in params.model_dump()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("RANFunctionID",), 4096),
        (("SubscriptionDetails", 0, "EventTriggers"), [256]),
        (("SubscriptionDetails", 0, "ActionToBeSetupList", 0, "ActionType"), "subscribe"),
        (("SubscriptionDetails", 0, "ActionToBeSetupList", 0, "SubsequentAction", "TimeToWait"), "w3ms"),
        (("E2SubscriptionDirectives", "E2RetryCount"), 11),
    ],
)
def test_out_of_range_values_are_rejected(path, value) -> None:
    import copy

    body = copy.deepcopy(BODY)
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValidationError):
        SubscriptionParams.model_validate(body)


def test_identical_requests_share_a_content_key_regardless_of_subscription_id() -> None:
    a = SubscriptionParams.model_validate(BODY)
    b = SubscriptionParams.model_validate({**BODY, "SubscriptionId": "abc"})
    c = SubscriptionParams.model_validate({**BODY, "RANFunctionID": 3})
    assert a.content_key() == b.content_key()
    assert a.content_key() != c.content_key()


def test_notification_shape() -> None:
    note = SubscriptionResponse.model_validate(
        {
            "SubscriptionId": "7",
            "SubscriptionInstances": [
                {"XappEventInstanceId": 12345, "E2EventInstanceId": 3, "ErrorCause": None}
            ],
        }
    )
    assert note.SubscriptionInstances[0].E2EventInstanceId == 3
