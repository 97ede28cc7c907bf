"""e2mgr's read-only REST API over the R-NIB (``/v1/nodeb/states``, ``/v1/nodeb/{ranName}``,
``/v1/e2t/list``, ``/v1/health``), as xApps call it on ``service-ricplt-e2mgr-http.ricplt:3800``.

Bodies are the R-NIB protobufs in protobuf's JSON mapping (lowerCamel names, enum names), as e2mgr
answers. e2mgr's other operations (reset, shutdown, setting up X2 nodes, ...) are not part of the box:
they answer 501 with a body and a log line that say so, and are counted.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import redis
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from google.protobuf.json_format import MessageToDict
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from ricxappframe.entities.rnib import nb_identity_pb2, nodeb_info_pb2

from ricplt.e2mgr import rnib
from ricplt.e2mgr.metrics import E2mgrMetrics
from ricplt.rest_errors import install_error_handlers

log = logging.getLogger("e2mgr.rest")


def get_client(request: Request) -> redis.Redis:
    return request.app.state.client


ClientDep = Annotated[redis.Redis, Depends(get_client)]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errorCode": status, "errorMessage": message}, status_code=status)


def node_states(client: redis.Redis) -> list[dict[str, Any]]:
    out = []
    for group in ("ENB", "GNB"):
        for member in client.smembers(rnib.sdl_key(group)):
            identity = nb_identity_pb2.NbIdentity.FromString(member)
            out.append(MessageToDict(identity))
    return sorted(out, key=lambda n: n.get("inventoryName", ""))


def create_app(client: redis.Redis, metrics: E2mgrMetrics) -> FastAPI:
    app = FastAPI(title="twinric e2mgr (R-NIB view)")
    app.state.client = client
    app.state.metrics = metrics
    install_error_handlers(app, log)

    @app.get("/v1/health")
    def health(client: ClientDep) -> Response:
        return Response(status_code=200 if client.ping() else 503)

    @app.get("/v1/nodeb/states")
    def states(client: ClientDep) -> list[dict[str, Any]]:
        return node_states(client)

    @app.get("/v1/nodeb/{ran_name}")
    def nodeb(ran_name: str, client: ClientDep) -> Response:
        raw = client.get(rnib.sdl_key(rnib.nodeb_name_key(ran_name)))
        if raw is None:
            metrics.bad_request("unknown_nodeb")
            return _error(404, f"#rNibReader.getByKeyAndUnmarshal - entity of type *entities.NodebInfo "
                               f"not found. Key: RAN:{ran_name}")
        return JSONResponse(MessageToDict(nodeb_info_pb2.NodebInfo.FromString(raw)))

    @app.get("/v1/e2t/list")
    def e2t_list(client: ClientDep) -> list[dict[str, Any]]:
        by_e2t: dict[str, list[str]] = {}
        for state in node_states(client):
            raw = client.get(rnib.sdl_key(rnib.nodeb_name_key(state["inventoryName"])))
            if raw is None:
                continue
            info = nodeb_info_pb2.NodebInfo.FromString(raw)
            if info.connection_status == rnib.CONNECTED:
                by_e2t.setdefault(info.associated_e2t_instance_address, []).append(info.ran_name)
        return [{"e2tAddress": e2t, "ranNames": sorted(names)} for e2t, names in sorted(by_e2t.items())]

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def not_in_the_box(path: str, request: Request) -> JSONResponse:
        metrics.failure("not_in_box")
        log.warning("e2mgr %s /%s is not part of twinric's box (only the R-NIB reads are)",
                    request.method, path)
        return _error(501, f"e2mgr's {request.method} /{path} is not part of twinric's box: it offers the "
                           "R-NIB (SDL namespace e2Manager) and GET /v1/nodeb/states, /v1/nodeb/{ranName}, "
                           "/v1/e2t/list, /v1/health")

    return app
