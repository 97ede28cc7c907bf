"""Bad REST input of the platform's JSON APIs (A1 mediator, appmgr): the 400 error, the JSON body
dependency and the handlers that count each rejection in the service's ``RestErrorMetrics``.

Answers are ``{"detail": ..., "reason": ...}``: 400 for bad input, 503 while Redis is unreachable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class BadRequest(HTTPException):
    """A 400 whose ``reason`` label is counted in the metrics before it is answered."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(status_code=400, detail=detail)
        self.reason = reason


def json_body(required: str) -> Callable[[Request], Awaitable[Any]]:
    """A FastAPI dependency giving the parsed JSON body; ``required`` names what an empty body lacks
    (e.g. "a JSON object")."""

    async def parsed_body(request: Request) -> Any:
        raw = await request.body()
        if not raw.strip():
            raise BadRequest("empty_body", f"request body is empty; {required} is required")
        try:
            return json.loads(raw, parse_constant=_not_json)
        except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
            raise BadRequest("malformed_json", f"request body is not valid JSON: {exc}") from None

    return parsed_body


def _not_json(name: str) -> Any:
    # Python's json takes NaN and Infinity, which JSON does not have and which cannot be answered back
    raise ValueError(f"{name} is not a JSON value")


def install_error_handlers(app: FastAPI, log: logging.Logger) -> None:
    """Answer and count ``BadRequest``, request validation errors and Redis outages;
    ``app.state.metrics`` must be a ``ricplt.error_metrics.RestErrorMetrics``."""

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest) -> JSONResponse:
        request.app.state.metrics.bad_request(exc.reason)
        log.warning("400 %s %s: %s", request.method, request.url.path, exc.detail)
        return JSONResponse({"detail": exc.detail, "reason": exc.reason}, status_code=400)

    @app.exception_handler(redis.RedisError)
    async def _store_down(request: Request, exc: redis.RedisError) -> JSONResponse:
        # Nothing was accepted: the client may retry once the store is back.
        request.app.state.metrics.failure("store_unavailable")
        log.error("%s %s: Redis unavailable: %s", request.method, request.url.path, exc)
        return JSONResponse(
            {"detail": f"state store unavailable: {exc}", "reason": "store_unavailable"}, status_code=503
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        request.app.state.metrics.bad_request("invalid_request")
        detail = "; ".join(f"{'/'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        log.warning("400 %s %s: %s", request.method, request.url.path, detail)
        return JSONResponse({"detail": detail, "reason": "invalid_request"}, status_code=400)
