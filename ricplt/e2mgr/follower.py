"""Keeps the R-NIB in step with the E2 inventory that e2term keeps in Redis (e2mgr's job in OSC).

Every node of the inventory is written at start; then each ``connected``/``lost``/``updated`` event of
``twinric:e2:events`` rewrites that node. A node that connects (or reconnects) is announced to the
``on_connected`` callback, which sends RAN_CONNECTED over RMR as e2mgr does.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import redis

from ricplt.e2mgr.metrics import E2mgrMetrics
from ricplt.e2mgr.writer import RnibChange, RnibWriter
from ricplt.e2term.inventory import EVENTS_CHANNEL, NODES_KEY, E2NodeRecord, node_key

log = logging.getLogger("e2mgr.rnib")


class InventoryFollower:
    def __init__(
        self,
        inventory: redis.Redis,
        writer: RnibWriter,
        metrics: E2mgrMetrics,
        on_connected: Callable[[E2NodeRecord], None] | None = None,
    ) -> None:
        self.inventory = inventory
        self.writer = writer
        self.metrics = metrics
        self.on_connected = on_connected
        self._stop = threading.Event()
        self._synced = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2mgr-rnib", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def wait_synced(self, timeout: float) -> bool:
        return self._synced.wait(timeout)

    def sync(self) -> int:
        """Write every node of the inventory; the number written."""
        count = 0
        for raw in self.inventory.smembers(NODES_KEY):
            if self.refresh(raw.decode()) is not None:
                count += 1
        return count

    def refresh(self, ran_name: str) -> RnibChange | None:
        text = self.inventory.get(node_key(ran_name))
        if text is None:
            return None
        record = E2NodeRecord.from_json(text)
        change = self.writer.save(record)
        self.metrics.node_status(ran_name, record.connected)
        if (change.added or change.status_changed) and record.connected:
            log.info("R-NIB: %s connected (via %s)", ran_name, record.e2term)
            if self.on_connected is not None:
                self.on_connected(record)
        elif change.status_changed:
            log.info("R-NIB: %s disconnected", ran_name)
        return change

    def apply(self, event: object) -> bool:
        if not isinstance(event, dict) or not isinstance(event.get("ranName"), str):
            return False
        if event.get("event") not in ("connected", "lost", "updated"):
            return False
        self.refresh(event["ranName"])
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            pubsub = self.inventory.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(EVENTS_CHANNEL)
                written = self.sync()  # after subscribing: no event between the two is lost
                log.info("R-NIB written for %d E2 nodes", written)
                self._synced.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    try:
                        event = json.loads(message["data"])
                    except (TypeError, ValueError):
                        event = None
                    if not self.apply(event):
                        self.metrics.error("malformed_inventory_event")
                        log.warning("ignored malformed E2 inventory event %r", message.get("data"))
            except (redis.RedisError, OSError) as exc:
                self.metrics.error("redis_unavailable")
                log.warning("R-NIB follower lost Redis (%s); retrying", exc)
                self._stop.wait(1.0)
            except Exception:  # a bad record must not stop the follower
                self.metrics.error("rnib_write_failed")
                log.exception("R-NIB update failed; resyncing")
                self._stop.wait(1.0)
            finally:
                pubsub.close()
