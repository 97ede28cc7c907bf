"""The R-NIB the box keeps for xApps: written from E2 inventory records into real Redis, read back the
way ricxappframe reads it (ricsdl's SDL, e2Manager namespace, protobuf entities), with e2mgr's events."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest
import redis
from ricxappframe.entities.rnib.nb_identity_pb2 import NbIdentity
from ricxappframe.entities.rnib.nodeb_info_pb2 import NodebInfo
from ricxappframe.xapp_sdl import SDLWrapper

from ricplt.e2mgr import rnib
from ricplt.e2mgr.__main__ import ran_connected_payload, sdl_client
from ricplt.e2mgr.app import create_app
from ricplt.e2mgr.follower import InventoryFollower
from ricplt.e2mgr.metrics import E2mgrMetrics
from ricplt.e2mgr.writer import RnibWriter
from ricplt.e2term.inventory import (
    EVENTS_CHANNEL,
    NODES_KEY,
    E2NodeRecord,
    NodeIdentity,
    RanFunctionRecord,
    node_key,
)
from ricproto import e2ap
from twinric.processes import wait_until

KPM_OID = "1.3.6.1.4.1.53148.1.3.2.2"


def record(name: str = "gnb_001_001_00019b", connected: bool = True, kind: str = "GNB") -> E2NodeRecord:
    node_type = "ENB" if kind.endswith("ENB") else "GNB"
    return E2NodeRecord(
        ranName=name,
        connected=connected,
        e2term="127.0.0.1:38000",
        transport="tcp",
        peer="127.0.0.1:50123",
        connectedAt=1.0,
        lostAt=None if connected else 2.0,
        ranFunctions=[
            RanFunctionRecord(2, 1, KPM_OID, "0a0b"),
            RanFunctionRecord(3, 1, "1.3.6.1.4.1.53148.1.1.2.3", "ff"),
        ],
        identity=NodeIdentity(node_type, kind, "00F110", "0000000000000110011011"),
    )


@pytest.fixture
def sdl_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = sdl_client(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def sdl(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> SDLWrapper:
    """ricxappframe's SDL, configured the way the box configures an xApp (DBAAS_* variables)."""
    url = urlparse(redis_url)
    monkeypatch.setenv("DBAAS_SERVICE_HOST", url.hostname or "127.0.0.1")
    monkeypatch.setenv("DBAAS_SERVICE_PORT", str(url.port))
    return SDLWrapper(use_fake_sdl=False)


def events(client: redis.Redis, *channels: str) -> redis.client.PubSub:
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(*(rnib.sdl_key(c) for c in channels))
    pubsub.get_message(timeout=1)
    return pubsub


def drain(pubsub: redis.client.PubSub, seconds: float = 0.5) -> list[tuple[str, str]]:
    out = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message is not None:
            out.append((message["channel"].decode(), message["data"].decode()))
    return out


def test_a_node_reads_back_through_ricxappframes_sdl(sdl_redis: redis.Redis, sdl: SDLWrapper) -> None:
    RnibWriter(sdl_redis).save(record())
    # what get_list_gnb_ids / GetNodeb / GetRanFunctionDefinition do
    members = sdl.get_members(rnib.NAMESPACE, "GNB", usemsgpack=False)
    identities = [NbIdentity.FromString(m) for m in members]
    assert [
        (i.inventory_name, i.global_nb_id.plmn_id, i.global_nb_id.nb_id, i.connection_status)
        for i in identities
    ] == [("gnb_001_001_00019b", "00F110", "0000000000000110011011", rnib.CONNECTED)]
    info = NodebInfo.FromString(sdl.get(rnib.NAMESPACE, "RAN:gnb_001_001_00019b", usemsgpack=False))
    assert info.ran_name == "gnb_001_001_00019b" and info.connection_status == rnib.CONNECTED
    assert info.node_type == 2 and info.gnb.gnb_type == 1 and info.setup_from_network  # GNB, GnbType GNB
    assert (info.ip, info.port, info.associated_e2t_instance_address) == (
        "127.0.0.1",
        50123,
        "127.0.0.1:38000",
    )
    assert [
        (f.ran_function_id, f.ran_function_oid, f.ran_function_definition) for f in info.gnb.ran_functions
    ] == [(2, KPM_OID, "0A0B"), (3, "1.3.6.1.4.1.53148.1.1.2.3", "FF")]
    assert list(info.gnb.served_nr_cells) == []  # E2 setup names no cells; e2mgr stores none
    # e2mgr stores the NodebInfo under the global node id key too
    by_id = sdl.get(rnib.NAMESPACE, "GNB:00F110:0000000000000110011011", usemsgpack=False)
    assert NodebInfo.FromString(by_id) == info


def test_events_say_added_connected_and_disconnected_once(sdl_redis: redis.Redis) -> None:
    writer = RnibWriter(sdl_redis)
    pubsub = events(sdl_redis, rnib.STATE_CHANGE_CHANNEL, rnib.MANIPULATION_CHANNEL)
    first = writer.save(record())
    again = writer.save(record())
    lost = writer.save(record(connected=False))
    assert (first.added, first.status_changed, again.added, again.status_changed) == (
        True,
        False,
        False,
        False,
    )
    assert lost.status_changed and not lost.connected
    assert drain(pubsub) == [
        ("{e2Manager},RAN_MANIPULATION", "gnb_001_001_00019b_ADDED"),
        ("{e2Manager},RAN_CONNECTION_STATUS_CHANGE", "gnb_001_001_00019b_CONNECTED"),
        ("{e2Manager},RAN_CONNECTION_STATUS_CHANGE", "gnb_001_001_00019b_DISCONNECTED"),
    ]
    members = [NbIdentity.FromString(m) for m in sdl_redis.smembers(rnib.sdl_key("GNB"))]
    assert [(m.inventory_name, m.connection_status) for m in members] == [
        ("gnb_001_001_00019b", rnib.DISCONNECTED)
    ]


def test_enb_nodes_go_to_the_enb_group(sdl_redis: redis.Redis) -> None:
    RnibWriter(sdl_redis).save(record("ng_enB_macro_001_001_0019b0", kind="MACRO_NG_ENB"))
    assert sdl_redis.scard(rnib.sdl_key("GNB")) == 0 and sdl_redis.scard(rnib.sdl_key("ENB")) == 1
    info = NodebInfo.FromString(sdl_redis.get(rnib.sdl_key("RAN:ng_enB_macro_001_001_0019b0")))
    assert info.node_type == 1 and info.enb.enb_type == 5  # ENB, MACRO_NG_ENB


def test_node_identity_from_e2_setup() -> None:
    gnb = e2ap.GlobalE2nodeGnbID(e2ap.GlobalgNBID(e2ap.plmn_to_bytes("00101"), e2ap.BitString(0x19B, 22)))
    assert NodeIdentity.of(gnb) == NodeIdentity("GNB", "GNB", "00F110", "0000000000000110011011")
    enb = e2ap.GlobalE2nodeEnbID(
        e2ap.GlobalENBID(e2ap.plmn_to_bytes("310410"), e2ap.ENBIDKind.home_eNB_ID, 5)
    )
    assert NodeIdentity.of(enb) == NodeIdentity("ENB", "HOME_ENB", "130014", format(5, "028b"))
    old = json.loads(record().to_json())
    old.pop("identity")  # a record written before the identity was kept
    assert E2NodeRecord.from_json(json.dumps(old)).identity is None
    assert E2NodeRecord.from_json(record().to_json()) == record()


def test_follower_writes_from_inventory_events_and_announces_connections(
    redis_url: str, sdl_redis: redis.Redis
) -> None:
    inventory = redis.Redis.from_url(redis_url)
    inventory.delete(NODES_KEY)
    announced: list[str] = []
    metrics = E2mgrMetrics()
    done = threading.Event()

    def on_connected(node: E2NodeRecord) -> None:
        announced.append(node.ranName)
        done.set()

    follower = InventoryFollower(inventory, RnibWriter(sdl_redis), metrics, on_connected)
    follower.start()
    try:
        assert follower.wait_synced(5)
        node = record("gnb_001_001_000042")
        inventory.set(node_key(node.ranName), node.to_json())
        inventory.sadd(NODES_KEY, node.ranName)
        inventory.publish(
            EVENTS_CHANNEL, json.dumps({"event": "connected", "ranName": node.ranName, "e2term": "x"})
        )
        assert done.wait(5) and announced == ["gnb_001_001_000042"]
        inventory.publish(EVENTS_CHANNEL, b"{not json")
        assert wait_until(
            lambda: metrics.errors.labels("e2mgr", "malformed_inventory_event")._value.get() == 1, 5
        )
        assert sdl_redis.exists(rnib.sdl_key("RAN:gnb_001_001_000042"))
    finally:
        follower.stop()
        inventory.close()
    assert json.loads(ran_connected_payload(record())) == {"nodeType": 2, "messageDirection": 2}


def test_e2mgr_rest_reads_the_rnib(sdl_redis: redis.Redis, serve_app) -> None:
    writer = RnibWriter(sdl_redis)
    writer.save(record("gnb_001_001_000001"))
    writer.save(record("gnb_001_001_000002", connected=False))
    metrics = E2mgrMetrics()
    with serve_app(create_app(sdl_redis, metrics)) as server:
        states = httpx.get(f"{server.url}/v1/nodeb/states").json()
        assert [(s["inventoryName"], s["connectionStatus"], s["globalNbId"]["plmnId"]) for s in states] == [
            ("gnb_001_001_000001", "CONNECTED", "00F110"),
            ("gnb_001_001_000002", "DISCONNECTED", "00F110"),
        ]
        nodeb = httpx.get(f"{server.url}/v1/nodeb/gnb_001_001_000001").json()
        assert nodeb["ranName"] == "gnb_001_001_000001" and nodeb["nodeType"] == "GNB"
        assert nodeb["gnb"]["ranFunctions"][0]["ranFunctionOid"] == KPM_OID
        missing = httpx.get(f"{server.url}/v1/nodeb/nope")
        assert missing.status_code == 404 and "RAN:nope" in missing.json()["errorMessage"]
        assert httpx.get(f"{server.url}/v1/e2t/list").json() == [
            {"e2tAddress": "127.0.0.1:38000", "ranNames": ["gnb_001_001_000001"]}
        ]
        assert httpx.get(f"{server.url}/v1/health").status_code == 200
        reset = httpx.put(f"{server.url}/v1/nodeb/gnb_001_001_000001/reset")
        assert reset.status_code == 501 and "not part of twinric's box" in reset.json()["errorMessage"]
        text = httpx.get(f"{server.url}/metrics").text
        assert 'twinric_errors_total{component="e2mgr",reason="not_in_box"} 1.0' in text
        assert 'twinric_e2mgr_bad_requests_total{reason="unknown_nodeb"} 1.0' in text
