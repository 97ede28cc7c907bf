"""Keeps the route table's MEID map in step with the E2 node inventory (e2mgr's job in OSC).

In an OSC RIC, e2mgr tells rtmgr which E2 termination serves which RAN name
(``associate-ran-to-e2tinstance``), and rtmgr puts that into the ``meid_map`` every RMR process uses to
route ``%meid`` entries (controls, subscription requests). Locally there is no e2mgr: this follower
reads the inventory that e2term keeps in Redis and listens to its events, and makes the same
association calls on the registry.
"""

from __future__ import annotations

import json
import logging
import threading

import redis

from ricplt.appmgr.distribution import RouteDistributor
from ricplt.appmgr.registry import Registry
from ricplt.e2term.inventory import EVENTS_CHANNEL, NODES_KEY, E2NodeRecord, node_key

log = logging.getLogger("appmgr.e2")


class E2NodeAssociations:
    """Follows ``twinric:e2:events``; connected nodes are associated with their e2term, lost ones dropped."""

    def __init__(self, client: redis.Redis, registry: Registry, distributor: RouteDistributor) -> None:
        self.client = client
        self.registry = registry
        self.distributor = distributor
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2-associations", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def sync(self) -> None:
        """Associate every node the inventory says is connected (at start and after a lost connection)."""
        changed = False
        for raw in self.client.smembers(NODES_KEY):
            text = self.client.get(node_key(raw.decode()))
            if text is None:
                continue
            record = E2NodeRecord.from_json(text)
            if record.connected:
                self.registry.associate(record.e2term, [record.ranName])
                changed = True
        if changed:
            self.distributor.changed()

    def apply(self, event: dict) -> bool:
        """Apply one inventory event; False when it is not one we understand (counted by the caller)."""
        name, e2term, kind = event.get("ranName"), event.get("e2term"), event.get("event")
        if not isinstance(name, str) or not isinstance(e2term, str):
            return False
        if kind == "connected":
            self.registry.associate(e2term, [name])
        elif kind == "lost":
            self.registry.dissociate(e2term, [name])
        elif kind != "updated":
            return False
        self.distributor.changed()
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(EVENTS_CHANNEL)
                self.sync()  # after subscribing, so no event between the two is missed
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    try:
                        event = json.loads(message["data"])
                    except (TypeError, ValueError):
                        event = None
                    if not isinstance(event, dict) or not self.apply(event):
                        log.warning("ignored malformed E2 inventory event %r", message.get("data"))
            except (redis.RedisError, OSError) as exc:
                log.warning("E2 inventory follower lost Redis (%s); retrying", exc)
                self._stop.wait(1.0)
            finally:
                pubsub.close()
