"""submgr + e2term as real processes, a test E2 node, a real xApp-side RMR endpoint and real HTTP servers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from e2node_double import E2NodeDouble
from http_recorder import HttpRecorder
from ricbox_processes import E2TermProcess, SubmgrProcess, metric, start_e2term, start_submgr

from ricplt.submgr.store import SUBSCRIPTIONS_KEY
from ricproto import mtypes
from ricproto.e2ap import (
    CauseRICrequest,
    RICactionType,
    RICsubscriptionDeleteRequest,
    RICsubscriptionRequest,
    RICsubsequentActionType,
    RICtimeToWait,
)
from ricproto.rmr import RmrContext, RmrMessage
from ricproto.subscription_api import SubscriptionResponse
from twinric.ports import free_port
from twinric.processes import wait_until


@dataclass
class Ricbox:
    e2term: E2TermProcess
    submgr: SubmgrProcess
    xapp: RmrContext
    notifications: HttpRecorder
    rtmgr: HttpRecorder

    def body(self, meid: str, **changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ClientEndpoint": {
                "Host": "127.0.0.1",
                "HTTPPort": self.notifications.port,
                "RMRPort": self.xapp.port,
            },
            "Meid": meid,
            "RANFunctionID": 2,
            "E2SubscriptionDirectives": {"E2TimeoutTimerValue": 3, "E2RetryCount": 1},
            "SubscriptionDetails": [
                {
                    "XappEventInstanceId": 21,
                    "EventTriggers": [1, 2, 3],
                    "ActionToBeSetupList": [
                        {
                            "ActionID": 1,
                            "ActionType": "report",
                            "ActionDefinition": [9, 8],
                            "SubsequentAction": {"SubsequentActionType": "continue", "TimeToWait": "w10ms"},
                        }
                    ],
                }
            ],
        }
        body.update(changes)
        return body

    def post(self, body: Any) -> httpx.Response:
        return httpx.post(f"{self.submgr.url}/ric/v1/subscriptions", json=body, timeout=10)

    def expect_rmr(self, mtype: int, timeout: float = 5.0) -> RmrMessage:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.xapp.receive(left)
            if message is not None and message.mtype == mtype:
                return message
        raise AssertionError(f"no RMR {mtype} within {timeout}s")


@pytest.fixture
def ricbox(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[Ricbox]:
    xapp = RmrContext(free_port(), src_id="127.0.0.1", bind_host="127.0.0.1", route_client=False)
    notifications, rtmgr = HttpRecorder(), HttpRecorder(status=201)
    e2term_rmr, submgr_rmr = free_port(), free_port()
    e2term = submgr = None
    box: Ricbox | None = None
    try:
        submgr_ep, xapp_ep = f"127.0.0.1:{submgr_rmr}", f"127.0.0.1:{xapp.port}"
        e2term = start_e2term(
            tmp_path,
            redis_url,
            {
                mtypes.RIC_SUB_RESP: submgr_ep,
                mtypes.RIC_SUB_FAILURE: submgr_ep,
                mtypes.RIC_SUB_DEL_RESP: submgr_ep,
                mtypes.RIC_SUB_DEL_FAILURE: submgr_ep,
                mtypes.RIC_INDICATION: xapp_ep,
            },
            rmr_port=e2term_rmr,
        )
        submgr = start_submgr(
            tmp_path,
            redis_url,
            {
                mtypes.RIC_SUB_REQ: e2term.rmr_endpoint,
                mtypes.RIC_SUB_DEL_REQ: e2term.rmr_endpoint,
            },
            rmr_port=submgr_rmr,
            rtmgr_url=rtmgr.url,
        )
        box = Ricbox(e2term, submgr, xapp, notifications, rtmgr)
        yield box
    finally:
        # A test may replace box.submgr (a restart): stop whichever processes it ended with too.
        for process in {id(p): p for p in (submgr, box.submgr if box else None, e2term) if p}.values():
            process.process.stop()
        xapp.close()
        notifications.close()
        rtmgr.close()


@pytest.fixture
def node() -> Iterator[E2NodeDouble]:
    double = E2NodeDouble()
    yield double
    double.close()


def test_subscription_indication_merge_and_delete(
    ricbox: Ricbox, node: E2NodeDouble, redis_client: redis.Redis
) -> None:
    node.setup(ricbox.e2term.e2_port)
    body = ricbox.body(node.ran_name)
    # the inventory record is written just after the setup response: retry while submgr answers 503
    assert wait_until(lambda: ricbox.post(body).status_code == 201, 5), "node never became connected"
    (note,) = ricbox.notifications.wait_for(1)
    assert note.path == "/ric/v1/subscriptions/response"
    subscription_id = note.body["SubscriptionId"]
    (instance,) = note.body["SubscriptionInstances"]
    number = instance["E2EventInstanceId"]
    assert instance["XappEventInstanceId"] == 21 and 1 <= number <= 65534

    request = node.wait_for(RICsubscriptionRequest)
    assert (request.ricRequestID.ricRequestorID, request.ricRequestID.ricInstanceID) == (21, number)
    assert request.ranFunctionID == 2
    assert request.ricSubscriptionDetails.ricEventTriggerDefinition == bytes([1, 2, 3])
    (action,) = request.ricSubscriptionDetails.ricAction_ToBeSetup_List
    assert (action.ricActionID, action.ricActionType, action.ricActionDefinition) == (
        1,
        RICactionType.report,
        b"\x09\x08",
    )
    assert action.ricSubsequentAction.ricSubsequentActionType is RICsubsequentActionType.continue_
    assert action.ricSubsequentAction.ricTimeToWait is RICtimeToWait.w10ms

    (route,) = ricbox.rtmgr.wait_for(1, method="POST")
    assert route.path == "/ric/v1/handles/xapp-subscription-handle"
    assert route.body == {"address": "127.0.0.1", "port": ricbox.xapp.port, "subscription_id": number}

    pdu = node.indication(instance=number, requestor=21)
    indication = ricbox.expect_rmr(mtypes.RIC_INDICATION)
    assert (indication.sub_id, indication.meid, indication.payload) == (number, node.ran_name, pdu)

    listing = httpx.get(f"{ricbox.submgr.url}/ric/v1/subscriptions").json()
    listed = [(s["SubscriptionId"], s["Meid"], s["Status"]) for s in listing]
    assert listed == [(number, node.ran_name, "active")]
    assert listing[0]["ClientEndpoint"] == [f"127.0.0.1:{ricbox.xapp.port}"]
    assert metric(ricbox.submgr.http_port, "twinric_subscriptions_active") == 1

    merged = ricbox.post(body)  # identical request: same subscription, its own notification
    assert merged.status_code == 201
    assert merged.json() == {"SubscriptionId": subscription_id, "SubscriptionInstances": None}
    second = ricbox.notifications.wait_for(2)[1]
    assert second.body["SubscriptionInstances"][0]["E2EventInstanceId"] == number
    assert len(node.received(RICsubscriptionRequest)) == 1  # merged: nothing new sent to the node

    deleted = httpx.delete(f"{ricbox.submgr.url}/ric/v1/subscriptions/{subscription_id}")
    assert deleted.status_code == 204
    delete = node.wait_for(RICsubscriptionDeleteRequest)
    assert (delete.ricRequestID.ricInstanceID, delete.ranFunctionID) == (number, 2)
    (unroute,) = ricbox.rtmgr.wait_for(1, method="DELETE")
    assert unroute.body == route.body
    assert httpx.get(f"{ricbox.submgr.url}/ric/v1/subscriptions").json() == []
    assert wait_until(lambda: redis_client.scard("twinric:submgr:instances") == 0, 5)
    assert metric(ricbox.submgr.http_port, "twinric_subscriptions_active") == 0
    # deleting it again (or anything unknown) answers 204 as OSC's submgr does: xApps shut down on it
    assert httpx.delete(f"{ricbox.submgr.url}/ric/v1/subscriptions/{subscription_id}").status_code == 204


def test_unknown_node_and_malformed_bodies(ricbox: Ricbox) -> None:
    reply = ricbox.post(ricbox.body("gnb_001_001_0000ff"))
    assert reply.status_code == 503
    assert reply.json() == {"error": "No E2 connection for ranName gnb_001_001_0000ff"}

    not_json = httpx.post(f"{ricbox.submgr.url}/ric/v1/subscriptions", content=b"{nope", timeout=5)
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]
    body = ricbox.body("gnb_001_001_00019b")
    del body["ClientEndpoint"]["RMRPort"]
    body["RANFunctionID"] = 5000
    missing = ricbox.post(body)
    assert missing.status_code == 400
    reason = missing.json()["error"]
    assert "ClientEndpoint.RMRPort: Field required" in reason and "RANFunctionID" in reason
    port = ricbox.submgr.http_port
    assert metric(port, "twinric_errors_total", component="submgr", reason="node-not-connected") == 1
    assert metric(port, "twinric_errors_total", component="submgr", reason="bad-request-json") == 1
    assert metric(port, "twinric_errors_total", component="submgr", reason="bad-request-body") == 1
    assert ricbox.submgr.process.alive()


def test_node_silence_times_out_with_retries(
    ricbox: Ricbox, node: E2NodeDouble, redis_client: redis.Redis
) -> None:
    node.answer_subscriptions = False
    node.setup(ricbox.e2term.e2_port)
    body = ricbox.body(node.ran_name, E2SubscriptionDirectives={"E2TimeoutTimerValue": 1, "E2RetryCount": 1})
    assert wait_until(lambda: ricbox.post(body).status_code == 201, 5)
    (note,) = ricbox.notifications.wait_for(1, timeout=10)
    (instance,) = note.body["SubscriptionInstances"]
    assert instance["E2EventInstanceId"] == 0
    assert instance["TimeoutType"] == "E2-Timeout" and instance["ErrorSource"] == "E2Node"
    requests = node.received(RICsubscriptionRequest)
    assert len(requests) == 2  # E2RetryCount 1: the first try and one retry, same instance id
    assert requests[0].ricRequestID == requests[1].ricRequestID
    # like submgr, it cleans up on the node and frees the id
    node.wait_for(RICsubscriptionDeleteRequest, timeout=5)
    assert wait_until(lambda: redis_client.scard("twinric:submgr:instances") == 0, 5)
    assert (
        metric(ricbox.submgr.http_port, "twinric_errors_total", component="submgr", reason="e2-timeout") == 1
    )


def test_node_refusal_is_notified(ricbox: Ricbox, node: E2NodeDouble) -> None:
    node.subscription_failure = CauseRICrequest.ran_function_id_invalid
    node.setup(ricbox.e2term.e2_port)
    assert wait_until(lambda: ricbox.post(ricbox.body(node.ran_name)).status_code == 201, 5)
    (note,) = ricbox.notifications.wait_for(1)
    (instance,) = note.body["SubscriptionInstances"]
    assert instance["E2EventInstanceId"] == 0 and instance["ErrorSource"] == "E2Node"
    assert "ran_function_id_invalid" in instance["ErrorCause"]
    assert "TimeoutType" not in instance
    # a failed subscription is forgotten: the same request can be tried again once the node accepts it
    assert wait_until(lambda: httpx.get(f"{ricbox.submgr.url}/ric/v1/subscriptions").json() == [], 5)
    node.subscription_failure = None
    retried = ricbox.post(ricbox.body(node.ran_name))
    assert retried.status_code == 201 and retried.json()["SubscriptionId"] != note.body["SubscriptionId"]
    instance = ricbox.notifications.wait_for(2)[1].body["SubscriptionInstances"][0]
    assert instance["E2EventInstanceId"] > 0 and "ErrorCause" not in instance


def test_one_refused_and_one_active_instance_keep_the_subscription(ricbox: Ricbox,
                                                                   node: E2NodeDouble) -> None:
    node.refuse_requestors[22] = CauseRICrequest.action_not_supported  # the node takes only 21
    node.setup(ricbox.e2term.e2_port)
    detail = ricbox.body(node.ran_name)["SubscriptionDetails"][0]
    body = ricbox.body(node.ran_name, SubscriptionDetails=[detail, {**detail, "XappEventInstanceId": 22}])
    assert wait_until(lambda: ricbox.post(body).status_code == 201, 5)
    notes = ricbox.notifications.wait_for(2)
    instances = [n.body["SubscriptionInstances"][0] for n in notes]
    by_xapp_id = {i["XappEventInstanceId"]: i for i in instances}
    active, refused = by_xapp_id[21], by_xapp_id[22]
    assert active["E2EventInstanceId"] > 0 and "ErrorCause" not in active
    assert refused["E2EventInstanceId"] == 0 and refused["ErrorSource"] == "E2Node"
    assert "action_not_supported" in refused["ErrorCause"]
    # the subscription stays: one of its E2 subscriptions is active and delivers indications
    (listed,) = httpx.get(f"{ricbox.submgr.url}/ric/v1/subscriptions").json()
    assert listed["SubscriptionId"] == active["E2EventInstanceId"]  # OSC lists E2 subscriptions
    assert metric(ricbox.submgr.http_port, "twinric_subscriptions_active") == 1
    pdu = node.indication(instance=active["E2EventInstanceId"], requestor=21)
    assert ricbox.expect_rmr(mtypes.RIC_INDICATION).payload == pdu
    # deleting it deletes the active E2 subscription only (the refused one was never set up)
    url = f"{ricbox.submgr.url}/ric/v1/subscriptions/{notes[0].body['SubscriptionId']}"
    assert httpx.delete(url).status_code == 204
    delete = node.wait_for(RICsubscriptionDeleteRequest)
    assert delete.ricRequestID.ricInstanceID == active["E2EventInstanceId"]
    time.sleep(0.5)
    assert len(node.received(RICsubscriptionDeleteRequest)) == 1
    assert metric(ricbox.submgr.http_port, "twinric_subscriptions_active") == 0


def test_reconnected_node_gets_the_same_instance_back(ricbox: Ricbox, node: E2NodeDouble) -> None:
    node.setup(ricbox.e2term.e2_port)
    assert wait_until(lambda: ricbox.post(ricbox.body(node.ran_name)).status_code == 201, 5)
    number = ricbox.notifications.wait_for(1)[0].body["SubscriptionInstances"][0]["E2EventInstanceId"]
    assert number > 0
    node.disconnect()

    again = E2NodeDouble()  # the node restarted: a new association, same identity
    try:
        again.setup(ricbox.e2term.e2_port)
        restored = again.wait_for(RICsubscriptionRequest, timeout=10)
        assert (restored.ricRequestID.ricRequestorID, restored.ricRequestID.ricInstanceID) == (21, number)
        assert restored.ricSubscriptionDetails.ricEventTriggerDefinition == bytes([1, 2, 3])
        pdu = again.indication(instance=number, requestor=21, sn=9)
        indication = ricbox.expect_rmr(mtypes.RIC_INDICATION)
        assert (indication.sub_id, indication.payload) == (number, pdu)
    finally:
        again.close()
    assert len(ricbox.notifications.requests) == 1  # the xApp's id did not change: nothing to tell it


def test_instance_ids_survive_a_submgr_restart(
    ricbox: Ricbox, node: E2NodeDouble, tmp_path: Path, redis_url: str
) -> None:
    node.setup(ricbox.e2term.e2_port)
    assert wait_until(lambda: ricbox.post(ricbox.body(node.ran_name)).status_code == 201, 5)
    first = ricbox.notifications.wait_for(1)[0].body
    ricbox.submgr.process.stop()
    restarted = start_submgr(
        tmp_path,
        redis_url,
        {
            mtypes.RIC_SUB_REQ: ricbox.e2term.rmr_endpoint,
            mtypes.RIC_SUB_DEL_REQ: ricbox.e2term.rmr_endpoint,
        },
        rmr_port=ricbox.submgr.rmr_port,
        name="submgr2",
    )
    ricbox.submgr = restarted
    other = ricbox.body(node.ran_name)
    other["SubscriptionDetails"][0]["XappEventInstanceId"] = 22
    assert ricbox.post(other).status_code == 201
    second = ricbox.notifications.wait_for(2)[1].body
    numbers = {
        first["SubscriptionInstances"][0]["E2EventInstanceId"],
        second["SubscriptionInstances"][0]["E2EventInstanceId"],
    }
    assert len(numbers) == 2 and 0 not in numbers
    listing = httpx.get(f"{restarted.url}/ric/v1/subscriptions").json()
    assert {s["SubscriptionId"] for s in listing} == numbers


def test_concurrent_identical_requests_merge(
    ricbox: Ricbox, node: E2NodeDouble, redis_client: redis.Redis
) -> None:
    node.setup(ricbox.e2term.e2_port)

    def connected() -> bool:
        raw = redis_client.get(f"twinric:e2:node:{node.ran_name}")
        return raw is not None and json.loads(raw)["connected"]

    assert wait_until(connected, 5)
    body = ricbox.body(node.ran_name)

    async def both() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=10) as client:
            url = f"{ricbox.submgr.url}/ric/v1/subscriptions"
            return list(await asyncio.gather(client.post(url, json=body), client.post(url, json=body)))

    first, second = asyncio.run(both())
    assert first.status_code == second.status_code == 201
    assert first.json()["SubscriptionId"] == second.json()["SubscriptionId"]
    notes = [SubscriptionResponse.model_validate(n.body) for n in ricbox.notifications.wait_for(2)]
    assert {n.SubscriptionId for n in notes} == {first.json()["SubscriptionId"]}
    assert len({n.SubscriptionInstances[0].E2EventInstanceId for n in notes}) == 1
    assert len(node.received(RICsubscriptionRequest)) == 1


def test_a_redis_error_answers_500_and_is_counted(ricbox: Ricbox, redis_client: redis.Redis) -> None:
    # A corrupted store: the subscription index is a string, so Redis refuses SMEMBERS (WRONGTYPE).
    redis_client.set(SUBSCRIPTIONS_KEY, "not a set")
    reply = httpx.get(f"{ricbox.submgr.url}/ric/v1/subscriptions", timeout=10)
    assert reply.status_code == 500
    assert reply.json()["error"].startswith("subscription store unavailable: WRONGTYPE")
    port = ricbox.submgr.http_port
    assert metric(port, "twinric_errors_total", component="submgr", reason="dbaas-failed") == 1
    redis_client.delete(SUBSCRIPTIONS_KEY)
    assert httpx.get(f"{ricbox.submgr.url}/ric/v1/subscriptions", timeout=10).json() == []
    assert ricbox.submgr.process.alive()
