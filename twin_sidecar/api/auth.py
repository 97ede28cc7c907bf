"""Bearer-token check for everything but ``/health`` (pure ASGI: it costs microseconds per request).

With a token configured every other path needs ``Authorization: Bearer <token>`` or, for a browser
(which cannot add that header to a page load or an EventSource), the cookie ``COOKIE`` holding the token
that ``/dashboard/login`` sets after checking it; without a token (only allowed when bound to localhost,
``TwinSettings.check_safe``) nothing is checked. Refusals are
401 with a ``WWW-Authenticate`` header, counted in ``twinric_twin_http_errors_total``.
"""

from __future__ import annotations

import hmac
import json
from http.cookies import CookieError, SimpleCookie
from typing import Any

from twin_sidecar.metrics import TwinMetrics

OPEN_PREFIXES = ("/health", "/dashboard/login")  # the login checks the token itself
COOKIE = "twinric_twin_token"


def cookie_token(header: bytes) -> str | None:
    """The token in a ``Cookie`` header's ``COOKIE`` (None: absent or unparsable)."""
    if not header:
        return None
    try:
        morsel = SimpleCookie(header.decode("latin-1")).get(COOKIE)
    except CookieError:
        return None
    return None if morsel is None else morsel.value


class BearerAuth:
    def __init__(self, app: Any, token: str | None, metrics: TwinMetrics) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None
        self.token = token.encode() if token else b""
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if self.expected is None or scope["type"] != "http" or scope["path"].startswith(OPEN_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        cookie = cookie_token(headers.get(b"cookie", b""))
        if hmac.compare_digest(headers.get(b"authorization", b""), self.expected) or (
            cookie is not None and hmac.compare_digest(cookie.encode("latin-1"), self.token)
        ):
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
