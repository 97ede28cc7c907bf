"""Follow the E2 node inventory events (``twinric:e2:events``) and restore subscriptions on reconnect."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import redis.asyncio as aioredis

from ricplt.e2term.inventory import EVENTS_CHANNEL
from ricplt.submgr.metrics import SubmgrMetrics

log = logging.getLogger("submgr.events")

RECONNECT_AFTER = 1.0


async def follow_node_events(
    client: aioredis.Redis,
    on_connected: Callable[[str], None],
    metrics: SubmgrMetrics,
    subscribed: asyncio.Event | None = None,
) -> None:
    """Call ``on_connected(ranName)`` on every ``connected`` event until cancelled; survives Redis outages."""
    while True:
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(EVENTS_CHANNEL)
            if subscribed is not None:
                subscribed.set()
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                try:
                    event = json.loads(message["data"])
                    kind, ran_name = event["event"], event["ranName"]
                except (ValueError, KeyError, TypeError) as exc:
                    metrics.error("malformed-node-event")
                    log.warning("malformed node event %r: %s", message.get("data"), exc)
                    continue
                if kind == "connected":
                    log.info("E2 node %s (re)connected: restoring its subscriptions", ran_name)
                    on_connected(ran_name)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis went away: keep trying, the restore is what keeps xApps fed
            metrics.error("node-events-failed")
            log.error("node event subscription failed: %s; retrying in %ss", exc, RECONNECT_AFTER)
            await asyncio.sleep(RECONNECT_AFTER)
        finally:
            try:
                await pubsub.reset()
            except Exception as exc:  # the connection may already be gone
                log.debug("pubsub reset: %s", exc)
