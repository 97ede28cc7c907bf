"""Routes for a subscription's indications: how submgr asks the route manager for them.

In OSC, submgr asks rtmgr to route 12050 (and the control outcomes) with sub_id = the E2 instance to
the xApp's RMR endpoint. ``RtmgrRouteHandles`` does that over rtmgr's REST handle
(``/ric/v1/handles/xapp-subscription-handle``); ``StaticRoutes`` is for deployments whose route
table is static (seed file), where there is nothing to ask.
"""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

log = logging.getLogger("submgr.routes")

HANDLE_PATH = "/ric/v1/handles/xapp-subscription-handle"


class RouteHandleError(Exception):
    """The route manager did not take the request; ``timeout`` tells a timeout from a refusal."""

    def __init__(self, detail: str, timeout: bool = False) -> None:
        self.timeout = timeout
        super().__init__(detail)


class RouteHandles(Protocol):
    async def add(self, host: str, port: int, instance: int) -> None: ...

    async def remove(self, host: str, port: int, instance: int) -> None: ...

    async def close(self) -> None: ...


class StaticRoutes:
    """The route table is static: subscription routes are configured, not requested."""

    async def add(self, host: str, port: int, instance: int) -> None:
        return None

    async def remove(self, host: str, port: int, instance: int) -> None:
        return None

    async def close(self) -> None:
        return None


class RtmgrRouteHandles:
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.url = base_url.rstrip("/") + HANDLE_PATH
        self._client = httpx.AsyncClient(timeout=timeout)

    async def _call(self, method: str, host: str, port: int, instance: int) -> None:
        body = {"address": host, "port": port, "subscription_id": instance}
        try:
            reply = await self._client.request(method, self.url, json=body)
        except httpx.TimeoutException as exc:
            raise RouteHandleError(f"{method} {self.url} timed out: {exc}", timeout=True) from exc
        except httpx.HTTPError as exc:
            raise RouteHandleError(f"{method} {self.url} failed: {type(exc).__name__}: {exc}") from exc
        if reply.status_code >= 300:
            raise RouteHandleError(
                f"{method} {self.url} answered HTTP {reply.status_code}: {reply.text[:200]}"
            )

    async def add(self, host: str, port: int, instance: int) -> None:
        await self._call("POST", host, port, instance)

    async def remove(self, host: str, port: int, instance: int) -> None:
        await self._call("DELETE", host, port, instance)

    async def close(self) -> None:
        await self._client.aclose()
