"""appmgr's registration REST API (``/ric/v1/register``, ``/ric/v1/deregister``, ``GET /ric/v1/xapps``)
plus the rtmgr handles that feed route generation (subscriptions, RAN-to-E2T association).

Every accepted change is stored in Redis first, then the route distributor regenerates and pushes
the table in the background (rtmgr works asynchronously too); ``GET /ric/v1/routes`` shows the
current table and what each participant acknowledged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ricplt.appmgr.distribution import RouteDistributor
from ricplt.appmgr.metrics import AppmgrMetrics
from ricplt.appmgr.registration import RegistrationError, parse_deregister, parse_register
from ricplt.appmgr.registry import Registry
from ricplt.rest_errors import BadRequest, install_error_handlers, json_body
from ricplt.routes import SubscriptionRoute

log = logging.getLogger("appmgr.rest")


def get_registry(request: Request) -> Registry:
    return request.app.state.registry


def get_distributor(request: Request) -> RouteDistributor:
    return request.app.state.distributor


RegistryDep = Annotated[Registry, Depends(get_registry)]
DistributorDep = Annotated[RouteDistributor, Depends(get_distributor)]
Body = Annotated[Any, Depends(json_body("a JSON document"))]


def _subscription(body: Any) -> SubscriptionRoute:
    if not isinstance(body, dict):
        raise BadRequest("bad_subscription", "body must be {address, port, subscription_id}")
    address, port, sub_id = body.get("address"), body.get("port"), body.get("subscription_id")
    if not isinstance(address, str) or not address or not isinstance(port, int) or not 0 < port < 65536:
        raise BadRequest("bad_subscription", "address must be a host name and port an integer in 1..65535")
    if not isinstance(sub_id, int) or isinstance(sub_id, bool) or sub_id < 0:
        raise BadRequest("bad_subscription", "subscription_id must be a non-negative integer")
    return SubscriptionRoute(sub_id, f"{address}:{port}")


def _associations(body: Any) -> list[tuple[str, list[str] | None]]:
    items = body if isinstance(body, list) else [body]
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("E2TAddress"), str):
            raise BadRequest("bad_association", "each item must be {E2TAddress, ranNamelist}")
        names = item.get("ranNamelist")
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise BadRequest("bad_association", "ranNamelist must be a list of RAN names")
        out.append((item["E2TAddress"], names))
    return out


def xapp_listing(registry: Registry) -> list[dict[str, Any]]:
    apps: dict[str, dict[str, Any]] = {}
    for reg in registry.xapps():
        host, _, port = reg.rmr_endpoint.rpartition(":")
        app = apps.setdefault(
            reg.app_name,
            {"name": reg.app_name, "status": "deployed", "version": reg.version, "instances": []},
        )
        app["instances"].append(
            {
                "name": reg.instance_name,
                "status": "running",
                "ip": host,
                "port": int(port) if port else 0,
                "txMessages": list(reg.tx),
                "rxMessages": list(reg.rx),
                "policies": list(reg.policies),
            }
        )
    return list(apps.values())


def create_app(
    registry: Registry,
    distributor: RouteDistributor,
    metrics: AppmgrMetrics,
    *,
    start_distributor: bool = False,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_distributor:
            distributor.start()
        try:
            yield
        finally:
            if start_distributor:
                distributor.stop()

    app = FastAPI(title="twinric appmgr", lifespan=lifespan)
    app.state.registry = registry
    app.state.distributor = distributor
    app.state.metrics = metrics

    install_error_handlers(app, log)

    @app.get("/ric/v1/health/alive")
    def alive() -> Response:
        return Response(status_code=200)

    @app.get("/ric/v1/health/ready")
    def ready(registry: RegistryDep) -> Response:
        return Response(status_code=200 if registry.healthy() else 503)

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/ric/v1/register", status_code=201)
    def register(body: Body, registry: RegistryDep, distributor: DistributorDep) -> Response:
        try:
            reg = parse_register(body)
        except RegistrationError as exc:
            raise BadRequest(exc.reason, exc.detail) from None
        registry.register(reg)
        metrics.registrations.labels("register").inc()
        log.info(
            "registered %s (rmr %s, routes pushed to %s; tx=%s rx=%s policies=%s)",
            reg.instance_name,
            reg.rmr_endpoint,
            reg.route_endpoint,
            list(reg.tx),
            list(reg.rx),
            list(reg.policies),
        )
        distributor.changed()
        return Response(status_code=201)

    @app.post("/ric/v1/deregister", status_code=204)
    def deregister(body: Body, registry: RegistryDep, distributor: DistributorDep) -> Response:
        try:
            name = parse_deregister(body)
        except RegistrationError as exc:
            raise BadRequest(exc.reason, exc.detail) from None
        if not registry.deregister(name):
            raise HTTPException(404, f"xApp instance {name!r} is not registered")
        metrics.registrations.labels("deregister").inc()
        log.info("deregistered %s", name)
        distributor.changed()
        return Response(status_code=204)

    @app.get("/ric/v1/xapps")
    def xapps(registry: RegistryDep) -> list[dict[str, Any]]:
        return xapp_listing(registry)

    @app.post("/ric/v1/handles/xapp-subscription-handle", status_code=201)
    def add_subscription(body: Body, registry: RegistryDep, distributor: DistributorDep) -> Response:
        registry.add_subscription(_subscription(body))
        # Push before answering, as rtmgr does: submgr sends the E2 subscription request only after
        # this returns, and the node's first indications must find the route already in place.
        distributor.distribute()
        return Response(status_code=201)

    @app.delete("/ric/v1/handles/xapp-subscription-handle", status_code=204)
    def delete_subscription(body: Body, registry: RegistryDep, distributor: DistributorDep) -> Response:
        if not registry.delete_subscription(_subscription(body)):
            raise HTTPException(404, "no such subscription route")
        distributor.changed()
        return Response(status_code=204)

    @app.post("/ric/v1/handles/associate-ran-to-e2tinstance", status_code=201)
    def associate(body: Body, registry: RegistryDep, distributor: DistributorDep) -> Response:
        for e2term, names in _associations(body):
            registry.associate(e2term, names or [])
        distributor.changed()
        return Response(status_code=201)

    @app.post("/ric/v1/handles/dissociate-ran", status_code=201)
    def dissociate(body: Body, registry: RegistryDep, distributor: DistributorDep) -> Response:
        for e2term, names in _associations(body):
            registry.dissociate(e2term, names)
        distributor.changed()
        return Response(status_code=201)

    @app.get("/ric/v1/routes")
    def routes(distributor: DistributorDep) -> dict[str, Any]:
        return distributor.status()

    return app
