"""The MEID map follows the E2 node inventory that e2term keeps in Redis."""

from __future__ import annotations

import json

from ricplt.appmgr.e2_associations import E2NodeAssociations
from ricplt.e2term.inventory import EVENTS_CHANNEL, NODES_KEY, E2NodeRecord, node_key
from twinric.processes import wait_until

E2TERM = "127.0.0.1:38000"


def _store(client, name: str, connected: bool) -> None:
    record = E2NodeRecord(name, connected, E2TERM, "tcp", "127.0.0.1:5555", 1.0)
    client.sadd(NODES_KEY, name)
    client.set(node_key(name), record.to_json())


def test_connected_nodes_are_mapped_and_lost_ones_dropped(appmgr, redis_client) -> None:
    _store(redis_client, "gnb_001_001_000001", connected=True)
    _store(redis_client, "gnb_001_001_000002", connected=False)
    follower = E2NodeAssociations(redis_client, appmgr.registry, appmgr.distributor)
    follower.start()
    try:
        # Initial sync: only the connected node.
        assert wait_until(lambda: appmgr.registry.meids() == {E2TERM: ["gnb_001_001_000001"]}, 5)
        assert wait_until(
            lambda: (
                (push := appmgr.pusher.last_to("127.0.0.1:4601")) is not None
                and "gnb_001_001_000001" in push.text
            ),
            5,
        )

        _store(redis_client, "gnb_001_001_000002", connected=True)
        redis_client.publish(
            EVENTS_CHANNEL,
            json.dumps({"event": "connected", "ranName": "gnb_001_001_000002", "e2term": E2TERM}),
        )
        assert wait_until(
            lambda: (
                sorted(appmgr.registry.meids().get(E2TERM, []))
                == ["gnb_001_001_000001", "gnb_001_001_000002"]
            ),
            5,
        )
        assert wait_until(lambda: "gnb_001_001_000002" in appmgr.pusher.last_to("127.0.0.1:4601").text, 5)

        redis_client.publish(EVENTS_CHANNEL, b"not json")  # ignored, follower keeps going
        redis_client.publish(
            EVENTS_CHANNEL, json.dumps({"event": "lost", "ranName": "gnb_001_001_000001", "e2term": E2TERM})
        )
        assert wait_until(lambda: appmgr.registry.meids().get(E2TERM) == ["gnb_001_001_000002"], 5)
    finally:
        follower.stop()


def test_apply_rejects_events_it_does_not_understand(appmgr, redis_client) -> None:
    follower = E2NodeAssociations(redis_client, appmgr.registry, appmgr.distributor)
    assert not follower.apply({"event": "connected"})
    assert not follower.apply({"event": "exploded", "ranName": "x", "e2term": E2TERM})
    assert follower.apply({"event": "connected", "ranName": "x", "e2term": E2TERM})
    assert appmgr.registry.meids() == {E2TERM: ["x"]}
