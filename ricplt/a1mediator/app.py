"""The A1 mediator's northbound REST API: O-RAN SC A1-P v2 (``/A1-P/v2/...``, status codes as upstream).

The store, the RMR side and the metrics are injected (``create_app``) and reached through FastAPI
dependencies, so tests can run the app on a real Redis with any RMR port behind it.

Conformance to the upstream OpenAPI (``a1-swagger.yaml``, A1 2.1.0) and to the Go mediator: policy
type ids are ASCII decimal integers in 1..2147483647 (anything else is a 400, never a 500); a policy
type needs ``name``, ``description``, ``policy_type_id`` and ``create_schema`` and nothing else;
``notificationDestination`` is any string, as the spec types it (a destination that cannot be
reached is counted when the status is posted, like upstream); ``POST /data-delivery`` takes
``{"job": "<id>", "payload": "<text>"}`` and sends ``{"ei_job_id", "payload"}`` as
A1_EI_DATA_DELIVERY (20017) over RMR, 200 whether or not a route exists, as the Go mediator does.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import jsonschema
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ricplt.a1mediator.metrics import A1Metrics
from ricplt.a1mediator.southbound import A1Southbound, enforce_status
from ricplt.a1mediator.store import A1Store
from ricplt.rest_errors import BadRequest, install_error_handlers, json_body
from ricproto import a1

log = logging.getLogger("a1mediator.rest")

BASE = "/A1-P/v2"
TYPE_KEYS_REQUIRED = frozenset({"name", "description", "policy_type_id", "create_schema"})
TYPE_KEYS_ALLOWED = TYPE_KEYS_REQUIRED


def get_store(request: Request) -> A1Store:
    return request.app.state.store


def get_southbound(request: Request) -> A1Southbound:
    return request.app.state.southbound


def get_metrics(request: Request) -> A1Metrics:
    return request.app.state.metrics


def policy_type_id_param(policy_type_id: str) -> int:
    # ASCII digits only: str.isdigit() also takes "¹" or "٣", which int() then refuses
    if not (policy_type_id.isascii() and policy_type_id.isdigit()) or not (
            1 <= int(policy_type_id) <= a1.MAX_POLICY_TYPE_ID):
        detail = f"policy_type_id must be an integer in 1..{a1.MAX_POLICY_TYPE_ID}, got {policy_type_id!r}"
        raise BadRequest("bad_policy_type_id", detail)
    return int(policy_type_id)


Store = Annotated[A1Store, Depends(get_store)]
Southbound = Annotated[A1Southbound, Depends(get_southbound)]
Metrics = Annotated[A1Metrics, Depends(get_metrics)]
TypeId = Annotated[int, Depends(policy_type_id_param)]
Body = Annotated[Any, Depends(json_body("a JSON object"))]


def _validate_type_body(type_id: int, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("bad_policy_type", "policy type must be a JSON object")
    missing = sorted(TYPE_KEYS_REQUIRED - body.keys())
    if missing:
        raise BadRequest("bad_policy_type", f"policy type lacks required keys: {', '.join(missing)}")
    extra = sorted(body.keys() - TYPE_KEYS_ALLOWED)
    if extra:
        raise BadRequest("bad_policy_type", f"policy type has unknown keys: {', '.join(extra)}")
    if body["policy_type_id"] != type_id or isinstance(body["policy_type_id"], bool):
        detail = f"policy_type_id in the body ({body['policy_type_id']!r}) must equal the path ({type_id})"
        raise BadRequest("bad_policy_type", detail)
    for key in ("name", "description"):
        if key in body and not isinstance(body[key], str):
            raise BadRequest("bad_policy_type", f"{key} must be a string")
    schema = body["create_schema"]
    if not isinstance(schema, dict):
        raise BadRequest("bad_create_schema", "create_schema must be a JSON object (a draft-07 JSON Schema)")
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        detail = f"create_schema is not a valid draft-07 schema: {exc.message}"
        raise BadRequest("bad_create_schema", detail) from None
    try:  # a schema that cannot be applied (an unresolvable $ref...) would fail every instance later
        list(jsonschema.Draft7Validator(schema).iter_errors({}))
    except Exception as exc:
        raise BadRequest("bad_create_schema", f"create_schema cannot be applied: {exc}") from None
    return body


def _validate_instance(schema: dict[str, Any], body: Any) -> None:
    validator = jsonschema.Draft7Validator(schema)
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    except Exception as exc:  # the stored schema cannot judge this body: the body is refused, not the server
        raise BadRequest("schema_violation", f"policy instance cannot be validated: {exc}") from None
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        detail = f"policy instance violates create_schema at {where}: {error.message}"
        raise BadRequest("schema_violation", detail)


def _data_delivery_body(body: Any) -> tuple[str, str]:
    """(job id, payload text) of a data delivery; 404 without a job id, as the spec documents."""
    if not isinstance(body, dict):
        raise BadRequest("bad_data_delivery", "data delivery must be a JSON object {\"job\", \"payload\"}")
    job = body.get("job")
    if not isinstance(job, str) or not job:
        raise HTTPException(404, "no job id defined for this data delivery")
    payload = body.get("payload")
    if not isinstance(payload, str):
        raise BadRequest("bad_data_delivery", "payload must be a string (the data, as text)")
    return job, payload


def create_app(
    store: A1Store, southbound: A1Southbound, metrics: A1Metrics, *, start_receiver: bool = False
) -> FastAPI:
    """The A1 mediator app; with ``start_receiver`` the RMR receive loop runs for the app's lifetime."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_receiver:
            southbound.start()
        try:
            yield
        finally:
            if start_receiver:
                southbound.stop()

    app = FastAPI(title="twinric A1 mediator", version="2", lifespan=lifespan)
    app.state.store = store
    app.state.southbound = southbound
    app.state.metrics = metrics

    install_error_handlers(app, log)

    @app.get(f"{BASE}/healthcheck")
    def healthcheck(store: Store) -> Response:
        return Response(status_code=200 if store.healthy() else 503)

    @app.get("/metrics")
    def prometheus(metrics: Metrics) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get(f"{BASE}/policytypes")
    def list_types(store: Store) -> list[int]:
        return store.list_types()

    @app.get(f"{BASE}/policytypes/{{policy_type_id}}")
    def get_type(type_id: TypeId, store: Store) -> dict[str, Any]:
        body = store.get_type(type_id)
        if body is None:
            raise HTTPException(404, f"policy type {type_id} not found")
        return body

    @app.put(f"{BASE}/policytypes/{{policy_type_id}}", status_code=201)
    def put_type(type_id: TypeId, body: Body, store: Store) -> Response:
        checked = _validate_type_body(type_id, body)
        if not store.create_type(type_id, checked):
            raise BadRequest(
                "policy_type_exists", f"policy type {type_id} already exists (delete it first to replace it)"
            )
        log.info("policy type %s created", type_id)
        return Response(status_code=201)

    @app.delete(f"{BASE}/policytypes/{{policy_type_id}}", status_code=204)
    def delete_type(type_id: TypeId, store: Store) -> Response:
        if store.get_type(type_id) is None:
            raise HTTPException(404, f"policy type {type_id} not found")
        if store.list_instances(type_id):
            raise BadRequest("policy_type_in_use", f"policy type {type_id} still has instances")
        store.delete_type(type_id)
        log.info("policy type %s deleted", type_id)
        return Response(status_code=204)

    @app.get(f"{BASE}/policytypes/{{policy_type_id}}/policies")
    def list_instances(type_id: TypeId, store: Store) -> list[str]:
        if store.get_type(type_id) is None:
            raise HTTPException(404, f"policy type {type_id} not found")
        return store.list_instances(type_id)

    @app.get(f"{BASE}/policytypes/{{policy_type_id}}/policies/{{policy_instance_id}}")
    def get_instance(type_id: TypeId, policy_instance_id: str, store: Store) -> Any:
        body = store.get_instance(type_id, policy_instance_id)
        if body is None:
            raise HTTPException(404, f"policy instance {type_id}/{policy_instance_id} not found")
        return body

    @app.put(f"{BASE}/policytypes/{{policy_type_id}}/policies/{{policy_instance_id}}", status_code=202)
    def put_instance(
        type_id: TypeId,
        policy_instance_id: str,
        body: Body,
        store: Store,
        southbound: Southbound,
        notification_destination: Annotated[str | None, Query(alias="notificationDestination")] = None,
    ) -> Response:
        policy_type = store.get_type(type_id)
        if policy_type is None:
            raise HTTPException(404, f"policy type {type_id} not found")
        _validate_instance(policy_type["create_schema"], body)
        if not isinstance(body, dict):  # the RMR payload carries an object (osc.md 3.2)
            raise BadRequest("bad_policy_instance", "a policy instance must be a JSON object")
        existed = store.put_instance(type_id, policy_instance_id, body)
        if notification_destination is not None:
            store.set_notification_destination(type_id, policy_instance_id, notification_destination)
        operation = a1.A1Operation.UPDATE if existed else a1.A1Operation.CREATE
        log.info("policy instance %s/%s accepted (%s)", type_id, policy_instance_id, operation)
        southbound.send_request(a1.A1PolicyRequest(operation, type_id, policy_instance_id, body))
        return Response(status_code=202)

    @app.delete(f"{BASE}/policytypes/{{policy_type_id}}/policies/{{policy_instance_id}}", status_code=202)
    def delete_instance(
        type_id: TypeId,
        policy_instance_id: str,
        store: Store,
        southbound: Southbound,
    ) -> Response:
        if not store.mark_deleted(type_id, policy_instance_id):
            raise HTTPException(404, f"policy instance {type_id}/{policy_instance_id} not found")
        log.info("policy instance %s/%s deleted", type_id, policy_instance_id)
        southbound.send_request(a1.A1PolicyRequest(a1.A1Operation.DELETE, type_id, policy_instance_id, None))
        return Response(status_code=202)

    @app.post("/data-delivery", status_code=200)
    def data_delivery(body: Body, southbound: Southbound) -> Response:
        job, payload = _data_delivery_body(body)
        southbound.send_data_delivery(job, payload)
        return Response(status_code=200)

    @app.get(f"{BASE}/policytypes/{{policy_type_id}}/policies/{{policy_instance_id}}/status")
    def instance_status(type_id: TypeId, policy_instance_id: str, store: Store) -> dict[str, str]:
        if store.get_instance(type_id, policy_instance_id) is None:
            raise HTTPException(404, f"policy instance {type_id}/{policy_instance_id} not found")
        return enforce_status(store.get_handler_status(type_id, policy_instance_id))

    return app
