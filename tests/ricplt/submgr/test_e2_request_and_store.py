"""Pure request building, and the Redis store (real Redis): instance ids, merging keys, records."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio as aioredis

from ricplt.submgr.e2_request import delete_request, subscription_request
from ricplt.submgr.service import directives
from ricplt.submgr.store import CURSOR_KEY, E2Instance, NoFreeInstance, SubscriptionRecord, SubscriptionStore
from ricproto.e2ap import RICactionType, RICsubsequentActionType, RICtimeToWait, decode, encode
from ricproto.subscription_api import SubscriptionParams

BODY = {
    "ClientEndpoint": {"Host": "service-ricxapp-ctl-http.ricxapp", "HTTPPort": 8080, "RMRPort": 4560},
    "Meid": "gnb_001_001_00019b",
    "RANFunctionID": 3,
    "SubscriptionDetails": [
        {
            "XappEventInstanceId": 7,
            "EventTriggers": [0x10, 0x20],
            "ActionToBeSetupList": [
                {"ActionID": 4, "ActionType": "insert"},
                {
                    "ActionID": 5,
                    "ActionType": "report",
                    "ActionDefinition": [1],
                    "SubsequentAction": {"SubsequentActionType": "wait", "TimeToWait": "zero"},
                },
            ],
        }
    ],
}


def test_subscription_request_from_rest_body() -> None:
    params = SubscriptionParams.model_validate(BODY)
    request = subscription_request(params, params.SubscriptionDetails[0], 812)
    assert decode(encode(request)) == request
    assert (request.ricRequestID.ricRequestorID, request.ricRequestID.ricInstanceID) == (7, 812)
    assert request.ranFunctionID == 3
    assert request.ricSubscriptionDetails.ricEventTriggerDefinition == b"\x10\x20"
    first, second = request.ricSubscriptionDetails.ricAction_ToBeSetup_List
    assert (first.ricActionID, first.ricActionType, first.ricActionDefinition, first.ricSubsequentAction) == (
        4,
        RICactionType.insert,
        None,
        None,
    )
    assert second.ricActionDefinition == b"\x01"
    assert second.ricSubsequentAction.ricSubsequentActionType is RICsubsequentActionType.wait
    assert second.ricSubsequentAction.ricTimeToWait is RICtimeToWait.w1ms  # v2 has no "zero"
    delete = delete_request(7, 812, 3)
    assert decode(encode(delete)) == delete


def test_directives_default_to_submgr_values() -> None:
    params = SubscriptionParams.model_validate(BODY)
    assert directives(params) == (2.0, 2)
    given = SubscriptionParams.model_validate(
        {**BODY, "E2SubscriptionDirectives": {"E2TimeoutTimerValue": 5, "E2RetryCount": 0}}
    )
    assert directives(given) == (5.0, 0)


def test_rmr_endpoint_derivation_used_for_routes() -> None:
    params = SubscriptionParams.model_validate(BODY)
    assert params.ClientEndpoint.rmr_endpoint() == "service-ricxapp-ctl-rmr.ricxapp:4560"


def test_instance_ids_wrap_and_skip_ids_in_use(redis_url: str, redis_client: redis.Redis) -> None:
    async def scenario() -> list[int]:
        client = aioredis.Redis.from_url(redis_url)
        store = SubscriptionStore(client)
        try:
            await client.set(CURSOR_KEY, 65532)  # next candidates: 65533, 65534, then 1
            await client.sadd("twinric:submgr:instances", 65534, 1)
            got = [await store.allocate_instance() for _ in range(2)]
            await store.release_instance(got[0])
            return got
        finally:
            await client.close()

    assert asyncio.run(scenario()) == [65533, 2]
    assert redis_client.smembers("twinric:submgr:instances") == {b"65534", b"1", b"2"}


def test_allocation_fails_when_every_id_is_taken(redis_url: str, redis_client: redis.Redis) -> None:
    redis_client.sadd("twinric:submgr:instances", *range(1, 65535))

    async def scenario() -> None:
        client = aioredis.Redis.from_url(redis_url)
        try:
            await SubscriptionStore(client).allocate_instance()
        finally:
            await client.close()

    with pytest.raises(NoFreeInstance):
        asyncio.run(scenario())


def test_record_round_trip_claims_and_listing(redis_url: str, redis_client: redis.Redis) -> None:
    params = SubscriptionParams.model_validate(BODY)
    record = SubscriptionRecord(
        "abc",
        params.content_key(),
        params.model_dump(mode="json", exclude_none=True),
        [E2Instance(7, 812)],
        1.0,
    )

    async def scenario() -> tuple:
        client = aioredis.Redis.from_url(redis_url)
        store = SubscriptionStore(client)
        try:
            first = await store.claim_content(record.contentKey, "abc")
            second = await store.claim_content(record.contentKey, "other")
            await store.save(record)
            record.instances[0].state = "active"
            updated = await store.update(record)
            loaded = await store.get("abc")
            active = await store.count_active()
            await store.remove(record)
            gone_update = await store.update(record)
            third = await store.claim_content(record.contentKey, "new")
            return first, second, updated, loaded, active, gone_update, third, await store.all()
        finally:
            await client.close()

    first, second, updated, loaded, active, gone_update, third, remaining = asyncio.run(scenario())
    assert (first, second, third) == (None, "abc", None)
    assert updated and loaded == record and active == 1
    assert not gone_update and remaining == []
    assert loaded.request == params
    assert loaded.listing() == [
        {
            "SubscriptionId": 812,
            "Meid": "gnb_001_001_00019b",
            "ClientEndpoint": ["service-ricxapp-ctl-rmr.ricxapp:4560"],
            "Status": "active",
        }
    ]


def test_failed_instance_notifies_zero_and_the_error() -> None:
    instance = E2Instance(7, 812)
    instance.fail("no answer", "E2Node", "E2-Timeout")
    note = instance.notification()
    assert (note.E2EventInstanceId, note.ErrorCause, note.ErrorSource, note.TimeoutType) == (
        0,
        "no answer",
        "E2Node",
        "E2-Timeout",
    )
