"""The asynchronous REST notification to the xApp: ``POST <client>/ric/v1/subscriptions/response``."""

from __future__ import annotations

import asyncio
import logging

import httpx

from ricplt.submgr.metrics import SubmgrMetrics
from ricproto.subscription_api import ClientEndpoint, SubscriptionResponse

log = logging.getLogger("submgr.notify")

ATTEMPTS = 3
RETRY_AFTER = 0.5


class Notifier:
    def __init__(self, metrics: SubmgrMetrics, timeout: float = 5.0) -> None:
        self.metrics = metrics
        self._client = httpx.AsyncClient(timeout=timeout)

    async def notify(self, client: ClientEndpoint, response: SubscriptionResponse) -> bool:
        """POST the notification, retrying briefly; failures are counted and logged, never raised."""
        url = client.notification_url()
        body = response.model_dump(mode="json", exclude_none=True)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                reply = await self._client.post(url, json=body)
                if reply.status_code < 300:
                    return True
                detail = f"HTTP {reply.status_code}"
            except httpx.HTTPError as exc:
                detail = f"{type(exc).__name__}: {exc}"
            log.warning(
                "notification of %s to %s failed (attempt %d): %s",
                response.SubscriptionId,
                url,
                attempt,
                detail,
            )
            if attempt < ATTEMPTS:
                await asyncio.sleep(RETRY_AFTER)
        self.metrics.error("notify-failed")
        return False

    async def close(self) -> None:
        await self._client.aclose()
