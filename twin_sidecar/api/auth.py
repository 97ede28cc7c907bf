"""Bearer-token check for everything but ``/health`` (pure ASGI: it costs microseconds per request).

With a token configured every other path needs ``Authorization: Bearer <token>``; without one (only
allowed when bound to localhost, ``TwinSettings.check_safe``) nothing is checked. Refusals are
401 with a ``WWW-Authenticate`` header, counted in ``twinric_twin_http_errors_total``.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from twin_sidecar.metrics import TwinMetrics

OPEN_PREFIXES = ("/health",)


class BearerAuth:
    def __init__(self, app: Any, token: str | None, metrics: TwinMetrics) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if self.expected is None or scope["type"] != "http" or scope["path"].startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        if hmac.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        self.metrics.http_errors.labels(status="401", route=scope["path"]).inc()
        self.metrics.error("http_unauthorized")
        body = json.dumps({"detail": "a valid bearer token is required"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"www-authenticate", b"Bearer"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
