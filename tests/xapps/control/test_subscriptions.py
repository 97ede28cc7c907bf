"""KPM subscriptions from the xApp process: one PascalCase request per node to submgr's REST API,
ids kept in Redis, the notification endpoint, and re-subscription when a node reconnects (RMR
RAN_CONNECTED). submgr is played by a recording REST server on real HTTP."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from platform_peer import PlatformPeer
from xapp_process import start_control_xapp

from ricproto import mtypes
from ricproto.subscription_api import SubscriptionParams
from twinric.ports import free_port, wait_for_port
from twinric.processes import wait_until

pytestmark = pytest.mark.slow
INSTANCE = "control-subs"


class SubmgrRecorder:
    def __init__(self) -> None:
        self.port = free_port()
        self.posts: list[dict[str, Any]] = []
        app = FastAPI()

        @app.post("/ric/v1/subscriptions")
        async def subscribe(request: Request) -> Response:
            body = await request.json()
            SubscriptionParams.model_validate(body)  # what submgr would accept
            self.posts.append(body)
            sub_id = body.get("SubscriptionId") or f"sub-{body['Meid']}"
            return Response(
                json.dumps({"SubscriptionId": sub_id}), status_code=201, media_type="application/json"
            )

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        threading.Thread(target=self.server.run, daemon=True).start()
        assert wait_for_port(self.port, timeout=10)

    def stop(self) -> None:
        self.server.should_exit = True


def test_subscribe_notify_and_resubscribe(tmp_path, redis_url, redis_client, inventory):
    submgr = SubmgrRecorder()
    peer = PlatformPeer(tmp_path)
    xapp = None
    try:
        xapp = start_control_xapp(
            tmp_path,
            redis_url,
            [],
            instance=INSTANCE,
            controls={"submgr_url": f"http://127.0.0.1:{submgr.port}"},
        )
        nodes = sorted(inventory.nodes)
        assert wait_until(lambda: len(submgr.posts) >= len(nodes), 10)
        first = {p["Meid"]: p for p in submgr.posts}
        assert sorted(first) == nodes
        body = first[nodes[0]]
        assert body["ClientEndpoint"] == {
            "Host": "127.0.0.1",
            "HTTPPort": xapp.http_port,
            "RMRPort": xapp.rmr_port,
        }
        assert body["RANFunctionID"] == 2 and "SubscriptionId" not in body

        # The xApp stores each id after submgr's 201, so the last one may land just after the POST.
        def stored() -> set[str]:
            return {k.decode() for k in redis_client.hgetall(f"twinric:subscriptions:{INSTANCE}")}

        assert wait_until(lambda: stored() == set(nodes), 5), stored()
        assert not xapp.ready()["checks"]["subscriptions"]["ok"]  # no E2 instance ids yet

        for n, meid in enumerate(nodes, start=1):  # submgr's asynchronous notifications
            note = {
                "SubscriptionId": f"sub-{meid}",
                "SubscriptionInstances": [{"XappEventInstanceId": 1, "E2EventInstanceId": 100 + n}],
            }
            r = httpx.post(f"{xapp.url}/ric/v1/subscriptions/response", json=note, timeout=5)
            assert r.status_code == 200
        assert wait_until(lambda: xapp.ready()["checks"]["subscriptions"]["ok"], 5)
        record = json.loads(redis_client.hget(f"twinric:subscriptions:{INSTANCE}", nodes[0]))
        assert record["SubscriptionId"] == f"sub-{nodes[0]}" and record["instances"] == {"1": 101}

        # the node reconnects: its subscription is re-sent with the stored id
        peer.rt.write_text(
            f"newrt|start\nmse|{mtypes.RAN_CONNECTED}|-1|127.0.0.1:{xapp.rmr_port}\nnewrt|end\n"
        )
        peer.ctx.load_routes(peer.rt.read_text())
        count = len(submgr.posts)
        assert peer.ctx.send(mtypes.RAN_CONNECTED, b"", meid=nodes[2]) == 0
        assert wait_until(lambda: len(submgr.posts) > count, 10)
        again = submgr.posts[-1]
        assert again["Meid"] == nodes[2] and again["SubscriptionId"] == f"sub-{nodes[2]}"
    finally:
        if xapp is not None:
            xapp.process.stop()
        peer.close()
        submgr.stop()
