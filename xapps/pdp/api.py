"""The PDP's REST API (beside the common health/config/metrics endpoints on the xApp's HTTP port).

* ``POST /v1/decide``: one access request (the JSON of ``TWINRIC_ACCESS_REQ``) or ``{"requests":
  [...]}``; answers the JSON of ``TWINRIC_ACCESS_RESP`` (or ``{"responses": [...]}``). Requests must be
  signed like over RMR. ``?dry_run=true`` asks what the policy *would* decide without authenticating
  the subject: logged like any decision, answered with TTL 0 and never with a grant, so an operator can
  test rules without an xApp's key and nothing it returns opens a path to the RAN. A request that is
  not an access request is denied with ``malformed`` (and counted); a body that is not JSON is a 400.
* ``GET /v1/decisions?subject=&since=&limit=``: the decision log, oldest first (``since``: ISO 8601 with
  a time zone, or Unix seconds).
* ``GET /v1/policy``: the zero-trust policy in force (version, thresholds, TTLs, Cedar text and schema).
* ``GET /v1/status``: decisions, decisions/s, deny reasons, policy version, trust subjects, keys.
* ``POST /v1/revoke``: an operator's revocation of a subject (sent to every PEP like the PDP's own).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import redis
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ricproto import access
from xapps.pdp.decision_log import DecisionLog, parse_since
from xapps.pdp.decision_point import PolicyDecisionPoint
from xapps.pdp.revocation_watch import RevocationWatch

MAX_BATCH = 1000


class AccessRequestBody(BaseModel):
    """``TWINRIC_ACCESS_REQ`` as JSON (``ricproto.access``)."""

    request_id: str
    subject: str = Field(examples=["xapp:twinric-control"])
    action: str = Field(examples=["rc.handover"])
    resource: str = Field(examples=["e2node:gnb_001_001_000001/cell:32769"])
    context: dict[str, str | int | float | bool] = {}
    ts: int | None = Field(None, description="Unix ms when signed")
    nonce: str | None = None
    sig: str | None = Field(None, description="base64url Ed25519 signature of the canonical request")


class AccessResponseBody(BaseModel):
    """``TWINRIC_ACCESS_RESP`` as JSON."""

    request_id: str
    decision: str = Field(examples=["PERMIT", "DENY"])
    reason: str
    ttl_s: float
    decision_id: str | None = None
    policy_version: str | None = None
    grant: str | None = None


class RevokeBody(BaseModel):
    subject: str = Field(examples=["xapp:rogue"])
    reason: str = "operator"


def _request_schema() -> dict[str, Any]:
    single = AccessRequestBody.model_json_schema()
    batch = {
        "type": "object",
        "required": ["requests"],
        "properties": {"requests": {"type": "array", "items": single, "maxItems": MAX_BATCH}},
    }
    return {"required": True, "content": {"application/json": {"schema": {"anyOf": [single, batch]}}}}


def _response_json(resp: access.AccessResponse) -> dict[str, Any]:
    return json.loads(access.encode_response(resp))


def pdp_router(
    pdp: PolicyDecisionPoint,
    decisions: DecisionLog,
    revocations: RevocationWatch,
    status: Callable[[], dict[str, Any]],
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["pdp"])

    def one(obj: Any, dry_run: bool, channel: str) -> dict[str, Any]:
        try:
            req = access.decode_request(json.dumps(obj).encode())
        except access.AccessCodecError as exc:
            rid = obj.get("request_id") if isinstance(obj, dict) else None
            rid = rid if isinstance(rid, str) and rid else ""
            return _response_json(pdp.decide_malformed(rid or "-", str(exc), channel))
        return _response_json(pdp.decide_requests([req], channel, authenticate=not dry_run)[0])

    def batch(objs: list[Any], dry_run: bool, channel: str) -> list[dict[str, Any]]:
        good, answers = [], {}
        for i, obj in enumerate(objs):
            try:
                good.append((i, access.decode_request(json.dumps(obj).encode())))
            except access.AccessCodecError:
                answers[i] = one(obj, dry_run, channel)
        for (i, _), resp in zip(
            good, pdp.decide_requests([r for _, r in good], channel, authenticate=not dry_run), strict=True
        ):
            answers[i] = _response_json(resp)
        return [answers[i] for i in range(len(objs))]

    @router.post(
        "/decide",
        openapi_extra={"requestBody": _request_schema()},
        responses={200: {"model": AccessResponseBody}, 400: {"description": "the body is not JSON"}},
    )
    async def decide(request: Request, dry_run: bool = Query(False)) -> JSONResponse:
        """Decide one access request, or a batch of them."""
        raw = await request.body()
        channel = "rest-dry-run" if dry_run else "rest"
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            pdp.metrics.error("malformed_request")
            return JSONResponse({"error": f"body is not JSON: {exc}"}, status_code=400)
        if isinstance(body, dict) and "requests" in body:
            items = body["requests"]
            if not isinstance(items, list) or len(items) > MAX_BATCH:
                pdp.metrics.error("malformed_request")
                return JSONResponse(
                    {"error": f"requests must be a list of at most {MAX_BATCH} access requests"},
                    status_code=400,
                )
            return JSONResponse({"responses": await asyncio.to_thread(batch, items, dry_run, channel)})
        return JSONResponse(await asyncio.to_thread(one, body, dry_run, channel))

    @router.get("/decisions")
    async def decision_log(
        subject: str | None = None,
        since: str | None = Query(None, description="ISO 8601 with time zone, or Unix seconds"),
        limit: int = Query(100, ge=1, le=10_000),
    ) -> JSONResponse:
        """Logged decisions, oldest first."""
        try:
            since_s = parse_since(since) if since else None
        except ValueError as exc:
            return JSONResponse({"error": f"since: {exc}"}, status_code=400)
        try:
            records = await asyncio.to_thread(decisions.query, subject, since_s, limit)
        except redis.RedisError as exc:
            return JSONResponse({"error": f"decision log unavailable: {exc}"}, status_code=503)
        return JSONResponse({"decisions": records})

    @router.get("/policy")
    def policy() -> JSONResponse:
        """The zero-trust policy in force."""
        current = pdp.policy
        if current is None:
            return JSONResponse(
                {"error": "no zero-trust policy in force: every request is denied"}, status_code=404
            )
        return JSONResponse(current.describe())

    @router.get("/status")
    def pdp_status() -> JSONResponse:
        """Decisions, decisions/s, deny reasons, policy version."""
        return JSONResponse(status())

    @router.post("/revoke")
    def revoke(body: RevokeBody) -> JSONResponse:
        """Revoke a subject at every PEP now."""
        rev = revocations.revoke(body.subject, body.reason, "operator")
        return JSONResponse(
            {"revocation_id": rev.revocation_id, "subject": rev.subject, "issued": rev.issued_ms}
        )

    return router
