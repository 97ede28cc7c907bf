"""The dashboard's routes: the page, its static files, one snapshot, and the live stream.

* ``GET /dashboard/``: the page (plain HTML, SVG and vanilla JS; every file served from this
  package, nothing from elsewhere: the Content-Security-Policy says so to the browser too);
* ``GET /dashboard/static/{name}``: its script and style;
* ``GET /dashboard/v1/snapshot``: every view's data once (``feed.DashboardFeed``);
* ``GET /dashboard/v1/events?interval=``: server-sent events, one ``snapshot`` event per interval
  (default 1 s, on a fixed clock so the rate holds at 1 Hz).

Time travel is the twin's own ``/v1/state/at``, which the page asks directly. The sidecar's token rule
applies to all of it (``api.auth``); as a browser cannot send a bearer header on a page load or an
EventSource, ``GET /dashboard/login`` is a form that posts the token to ``POST /dashboard/login``,
which checks it and sets it as an HttpOnly, same-site cookie that the auth middleware accepts.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, StreamingResponse

from twin_sidecar.api.auth import COOKIE
from twin_sidecar.api.deps import Parts
from twin_sidecar.dashboard.feed import DashboardFeed
from twin_sidecar.parts import TwinParts

STATIC = Path(__file__).parent / "static"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".txt": "text/plain"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

# views of routes other parts of the twin serve once they exist: the page asks them only if they do
OPTIONAL_ROUTES = {"policy": "/v1/policy", "trust": "/v1/trust"}

router = APIRouter(prefix="/dashboard", tags=["dashboard"])
_feeds_lock = threading.Lock()


def feed_of(request: Request, parts: TwinParts) -> DashboardFeed:
    """The app's one feed (made on first use: the dashboard costs nothing until someone opens it)."""
    state = request.app.state
    with _feeds_lock:
        feed = getattr(state, "dashboard_feed", None)
        if feed is None:
            feed = state.dashboard_feed = DashboardFeed(parts)
    return feed


def served_routes(request: Request) -> dict[str, str | None]:
    """Each optional view's route if this app serves it (None: not available yet)."""
    paths = {getattr(r, "path", None) for r in request.app.routes}
    return {name: path if path in paths else None for name, path in OPTIONAL_ROUTES.items()}


@router.get("", include_in_schema=False)
def to_page() -> RedirectResponse:
    return RedirectResponse("/dashboard/", status_code=307)


@router.get("/", response_class=HTMLResponse, summary="The live dashboard (a web page)")
def page() -> HTMLResponse:
    return HTMLResponse((STATIC / "index.html").read_text(), headers={"Content-Security-Policy": CSP})


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form() -> HTMLResponse:
    return HTMLResponse((STATIC / "login.html").read_text(), headers={"Content-Security-Policy": CSP})


@router.post("/login", include_in_schema=False)
async def login(request: Request, parts: Parts) -> RedirectResponse:
    """Check the token a browser posts; on success keep it in a cookie and go to the page."""
    token = parts.settings.token
    if not token:  # localhost without a token: nothing to log in to
        return RedirectResponse("/dashboard/", status_code=303)
    body = (await request.body())[:4096].decode("utf-8", errors="replace")
    given = (parse_qs(body).get("token") or [""])[0]
    if not hmac.compare_digest(given.encode(), token.encode()):
        parts.metrics.http_errors.labels(status="401", route="/dashboard/login").inc()
        parts.metrics.error("http_unauthorized")
        return RedirectResponse("/dashboard/login?failed=1", status_code=303)
    resp = RedirectResponse("/dashboard/", status_code=303)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
    return resp


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> FileResponse:
    path = STATIC / name
    if "/" in name or name.startswith(".") or path.suffix not in MEDIA_TYPES or not path.is_file():
        raise HTTPException(404, f"no dashboard file {name!r}")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": "no-cache"})


@router.get("/v1/snapshot", summary="Every dashboard view's data once (what each live event carries)")
async def snapshot(request: Request, parts: Parts) -> dict:
    snap = await run_in_threadpool(feed_of(request, parts).snapshot)
    return {**snap, "routes": served_routes(request)}


@router.get("/v1/events", summary="Server-sent events: one snapshot per interval")
async def events(
    request: Request,
    parts: Parts,
    interval: float = Query(1.0, ge=0.2, le=10.0, description="seconds between events"),
) -> StreamingResponse:
    feed = feed_of(request, parts)
    routes = served_routes(request)

    async def stream() -> AsyncIterator[str]:
        # An open stream is not a request waiting for its answer: it gives back its hold on the
        # request gate (ingestion and training step aside only for requests in flight) and takes it
        # again on the way out, where the middleware releases it.
        parts.gate.leave()
        try:
            yield f"retry: {int(interval * 2000)}\n\n"
            start = time.monotonic()
            n = 0
            while not await request.is_disconnected():
                data = await run_in_threadpool(feed.event_data, {"routes": routes})
                n += 1
                yield f"id: {n}\nevent: snapshot\ndata: {data}\n\n"
                await asyncio.sleep(max(0.0, start + n * interval - time.monotonic()))
        finally:
            parts.gate.enter()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
