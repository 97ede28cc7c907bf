"""appmgr Registry on a real Redis: E2 node ownership, subscriptions, registrations."""

from __future__ import annotations

import redis

from ricplt.appmgr.registration import parse_register
from ricplt.appmgr.registry import Registry
from ricplt.routes import SubscriptionRoute


def test_a_node_belongs_to_one_e2term_at_a_time(redis_client: redis.Redis) -> None:
    reg = Registry(redis_client)
    reg.associate("e2t-a:38000", ["gnb1", "gnb2"])
    reg.associate("e2t-b:38000", ["gnb2", "gnb3"])  # gnb2 reconnected through another termination
    assert reg.meids() == {"e2t-a:38000": ["gnb1"], "e2t-b:38000": ["gnb2", "gnb3"]}
    reg.dissociate("e2t-b:38000", ["gnb3"])
    assert reg.meids() == {"e2t-a:38000": ["gnb1"], "e2t-b:38000": ["gnb2"]}
    reg.dissociate("e2t-a:38000", None)
    reg.dissociate("e2t-b:38000", ["gnb2"])
    assert reg.meids() == {}


def test_subscriptions_and_registrations_persist_in_redis(redis_url: str, redis_client: redis.Redis) -> None:
    reg = Registry(redis_client)
    assert reg.add_subscription(SubscriptionRoute(3, "x:1"))
    assert not reg.add_subscription(SubscriptionRoute(3, "x:1"))
    reg.register(parse_register({"appInstanceName": "web", "config": "{}"}))
    again = Registry.from_url(redis_url)  # a restarted appmgr sees the same state
    assert again.subscriptions() == [SubscriptionRoute(3, "x:1")]
    assert [x.instance_name for x in again.xapps()] == ["web"]
    assert again.delete_subscription(SubscriptionRoute(3, "x:1")) and again.subscriptions() == []
    assert again.deregister("web") and not again.deregister("web")
