"""Subscriptions and E2 instance ids in Redis, so both survive a submgr restart.

Keys:

* ``twinric:submgr:subscriptions`` SET of SubscriptionIds;
* ``twinric:submgr:subscription:<id>`` STRING, JSON of ``SubscriptionRecord``;
* ``twinric:submgr:content:<md5>`` STRING, the SubscriptionId of a request content (merging);
* ``twinric:submgr:instances`` SET of allocated E2 instance ids, ``twinric:submgr:instance-cursor`` the
  allocation counter (ids are handed out round-robin over 1..65534, skipping those in use).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import redis.asyncio as aioredis

from ricproto.subscription_api import SubscriptionInstance, SubscriptionParams

PREFIX = "twinric:submgr:"
SUBSCRIPTIONS_KEY = PREFIX + "subscriptions"
INSTANCES_KEY = PREFIX + "instances"
CURSOR_KEY = PREFIX + "instance-cursor"
FIRST_INSTANCE, LAST_INSTANCE = 1, 65534

InstanceState = Literal["pending", "active", "failed"]


class NoFreeInstance(RuntimeError):
    pass


def subscription_key(subscription_id: str) -> str:
    return PREFIX + "subscription:" + subscription_id


def content_key(digest: str) -> str:
    return PREFIX + "content:" + digest


@dataclass(slots=True)  # pragma: no mutate  (slots only save memory: no behaviour depends on them)
class E2Instance:
    """One E2 subscription: a SubscriptionDetail of the REST request and its E2 instance id."""

    XappEventInstanceId: int
    E2EventInstanceId: int
    state: InstanceState = "pending"
    ErrorCause: str | None = None
    ErrorSource: str | None = None
    TimeoutType: str | None = None

    def fail(self, cause: str, source: str, timeout_type: str | None = None) -> None:
        self.state = "failed"
        self.ErrorCause, self.ErrorSource, self.TimeoutType = cause, source, timeout_type

    def notification(self) -> SubscriptionInstance:
        """What the xApp is told: the instance id when admitted, 0 and the error otherwise."""
        if self.state == "active":
            return SubscriptionInstance(
                XappEventInstanceId=self.XappEventInstanceId, E2EventInstanceId=self.E2EventInstanceId
            )
        return SubscriptionInstance(
            XappEventInstanceId=self.XappEventInstanceId,
            E2EventInstanceId=0,
            ErrorCause=self.ErrorCause,
            ErrorSource=self.ErrorSource,
            TimeoutType=self.TimeoutType,  # type: ignore[arg-type]
        )


@dataclass(slots=True)  # pragma: no mutate  (slots only save memory: no behaviour depends on them)
class SubscriptionRecord:
    SubscriptionId: str
    contentKey: str
    params: dict[str, Any]  # the REST body as accepted (JSON form)
    instances: list[E2Instance] = field(default_factory=list)
    createdAt: float = 0.0  # pragma: no mutate  (the service always sets it; the default is never read)

    @property
    def request(self) -> SubscriptionParams:
        return SubscriptionParams.model_validate(self.params)

    @property
    def meid(self) -> str:
        return str(self.params["Meid"])

    @property
    def status(self) -> str:
        states = {i.state for i in self.instances}
        if len(states) == 1:
            return states.pop()
        return "pending" if "pending" in states else "partial"

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> SubscriptionRecord:
        data = json.loads(text)
        instances = [E2Instance(**i) for i in data.pop("instances", [])]
        return cls(**data, instances=instances)

    def listing(self) -> list[dict[str, Any]]:
        """The GET /ric/v1/subscriptions entries: one ``SubscriptionData`` per E2 subscription that has
        not failed, as OSC's submgr lists them (``SubscriptionId`` is the integer E2 instance id,
        ``ClientEndpoint`` the xApp's RMR endpoint), plus ``Status`` of the instance."""
        endpoint = self.request.ClientEndpoint.rmr_endpoint()
        return [
            {
                "SubscriptionId": i.E2EventInstanceId,
                "Meid": self.meid,
                "ClientEndpoint": [endpoint],
                "Status": i.state,
            }
            for i in self.instances
            if i.state != "failed"
        ]


class SubscriptionStore:
    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    # ---- E2 instance ids -----------------------------------------------------------------------

    async def allocate_instance(self) -> int:
        span = LAST_INSTANCE - FIRST_INSTANCE + 1
        if await self.client.scard(INSTANCES_KEY) >= span:
            raise NoFreeInstance("all 65534 E2 instance ids are in use")
        for _ in range(span):
            candidate = (await self.client.incr(CURSOR_KEY) - 1) % span + FIRST_INSTANCE
            if await self.client.sadd(INSTANCES_KEY, candidate):  # atomic: two submgrs never share an id
                return candidate
        raise NoFreeInstance("no free E2 instance id found")

    async def release_instance(self, instance: int) -> None:
        await self.client.srem(INSTANCES_KEY, instance)

    # ---- subscriptions -------------------------------------------------------------------------

    async def claim_content(self, digest: str, subscription_id: str) -> str | None:
        """Claim a request content for ``subscription_id``; returns the id that already holds it, if any."""
        if await self.client.set(content_key(digest), subscription_id, nx=True):
            return None
        holder = await self.client.get(content_key(digest))
        if holder is None:  # released in between: try once more
            return await self.claim_content(digest, subscription_id)
        return holder.decode()

    async def set_content(self, digest: str, subscription_id: str) -> None:
        await self.client.set(content_key(digest), subscription_id)

    async def drop_content(self, digest: str) -> None:
        await self.client.delete(content_key(digest))

    async def save(self, record: SubscriptionRecord) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(subscription_key(record.SubscriptionId), record.to_json())
            pipe.sadd(SUBSCRIPTIONS_KEY, record.SubscriptionId)
            await pipe.execute()

    async def update(self, record: SubscriptionRecord) -> bool:
        """Save ``record`` only if it still exists (it may have been deleted meanwhile)."""
        saved = await self.client.set(subscription_key(record.SubscriptionId), record.to_json(), xx=True)
        return bool(saved)

    async def get(self, subscription_id: str) -> SubscriptionRecord | None:
        raw = await self.client.get(subscription_key(subscription_id))
        return SubscriptionRecord.from_json(raw) if raw is not None else None

    async def exists(self, subscription_id: str) -> bool:
        return bool(await self.client.exists(subscription_key(subscription_id)))

    async def all(self) -> list[SubscriptionRecord]:
        ids = sorted(m.decode() for m in await self.client.smembers(SUBSCRIPTIONS_KEY))
        records = []
        for subscription_id in ids:
            record = await self.get(subscription_id)
            if record is not None:
                records.append(record)
        return records

    async def remove(self, record: SubscriptionRecord) -> None:
        """Forget the subscription (its instance ids are released separately, after the E2 delete)."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(subscription_key(record.SubscriptionId))
            pipe.srem(SUBSCRIPTIONS_KEY, record.SubscriptionId)
            await pipe.execute()
        # the content key only if it still names this subscription
        holder = await self.client.get(content_key(record.contentKey))
        if holder is not None and holder.decode() == record.SubscriptionId:
            await self.client.delete(content_key(record.contentKey))

    async def count_active(self) -> int:
        return sum(1 for r in await self.all() for i in r.instances if i.state == "active")
