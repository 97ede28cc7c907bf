"""The E2 node inventory in Redis (the local R-NIB): one JSON record per RAN name, plus events.

Contract (read by submgr, the e2sim agent, appmgr and ``twinric status``):

* ``twinric:e2:nodes`` SET of every RAN name ever set up;
* ``twinric:e2:node:<ranName>`` STRING, JSON of ``E2NodeRecord``;
* PUBLISH on ``twinric:e2:events``: ``{"event": "connected"|"lost"|"updated", "ranName", "e2term"}``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import redis.asyncio as aioredis

from ricproto.e2ap import (
    ENB_ID_BITS,
    ENB_ID_CHOICE_BITS,
    GlobalE2nodeEnGnbID,
    GlobalE2nodeGnbID,
    GlobalE2nodeID,
    GlobalE2nodeNgEnbID,
    RANfunctionIDItem,
    RANfunctionItem,
)

NODES_KEY = "twinric:e2:nodes"
NODE_KEY_PREFIX = "twinric:e2:node:"
EVENTS_CHANNEL = "twinric:e2:events"

NodeEvent = Literal["connected", "lost", "updated"]


def node_key(ran_name: str) -> str:
    return NODE_KEY_PREFIX + ran_name


@dataclass(slots=True)
class RanFunctionRecord:
    ranFunctionID: int
    ranFunctionRevision: int
    ranFunctionOID: str
    ranFunctionDefinition: str  # hex, as e2mgr stores it

    @classmethod
    def of(cls, item: RANfunctionItem) -> RanFunctionRecord:
        return cls(
            item.ranFunctionID,
            item.ranFunctionRevision,
            item.ranFunctionOID,
            item.ranFunctionDefinition.hex(),
        )


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    """The GlobalE2node-ID as e2mgr keeps it: node type (``GNB``/``ENB``), its kind (R-NIB ``GnbType`` or
    ``EnbType`` name), PLMN as hex of its three octets, node id as the BIT STRING's binary digits."""

    nodeType: str
    nodeKind: str
    plmnId: str
    nbId: str

    @classmethod
    def of(cls, node: GlobalE2nodeID) -> NodeIdentity:
        if isinstance(node, GlobalE2nodeGnbID):
            gnb = node.global_gNB_ID
            return cls("GNB", "GNB", gnb.plmn_id.hex().upper(), _bits(gnb.gnb_id.value, gnb.gnb_id.length))
        if isinstance(node, GlobalE2nodeEnGnbID):
            en = node.global_en_gNB_ID
            return cls("GNB", "EN_GNB", en.pLMN_Identity.hex().upper(),
                       _bits(en.gNB_ID.value, en.gNB_ID.length))
        if isinstance(node, GlobalE2nodeNgEnbID):
            ng = node.global_ng_eNB_ID
            kind = {0: "MACRO_NG_ENB", 1: "SHORT_MACRO_NG_ENB", 2: "LONG_MACRO_NG_ENB"}[ng.enb_id_kind.value]
            return cls("ENB", kind, ng.plmn_id.hex().upper(),
                       _bits(ng.enb_id, ENB_ID_CHOICE_BITS[ng.enb_id_kind]))
        enb = node.global_eNB_ID
        kinds = {0: "MACRO_ENB", 1: "HOME_ENB", 2: "SHORT_MACRO_ENB", 3: "LONG_MACRO_ENB"}
        return cls("ENB", kinds[enb.eNB_ID_kind.value], enb.pLMN_Identity.hex().upper(),
                   _bits(enb.eNB_ID, ENB_ID_BITS[enb.eNB_ID_kind]))


def _bits(value: int, length: int) -> str:
    return format(value, f"0{length}b")


@dataclass(slots=True)
class E2NodeRecord:
    ranName: str
    connected: bool
    e2term: str
    transport: str
    peer: str
    connectedAt: float
    lostAt: float | None = None
    ranFunctions: list[RanFunctionRecord] = field(default_factory=list)
    identity: NodeIdentity | None = None  # from E2 setup (None in records of older runs)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> E2NodeRecord:
        data: dict[str, Any] = json.loads(text)
        functions = [RanFunctionRecord(**f) for f in data.pop("ranFunctions", [])]
        identity = data.pop("identity", None)
        return cls(**data, ranFunctions=functions, identity=NodeIdentity(**identity) if identity else None)

    def apply_service_update(
        self,
        added: list[RANfunctionItem] | None,
        modified: list[RANfunctionItem] | None,
        deleted: list[RANfunctionIDItem] | None,
    ) -> None:
        """RICserviceUpdate semantics: added and modified replace by id, deleted are removed."""
        by_id = {f.ranFunctionID: f for f in self.ranFunctions}
        for item in [*(added or []), *(modified or [])]:
            by_id[item.ranFunctionID] = RanFunctionRecord.of(item)
        for gone in deleted or []:
            by_id.pop(gone.ranFunctionID, None)
        self.ranFunctions = sorted(by_id.values(), key=lambda f: f.ranFunctionID)


async def read_node(client: aioredis.Redis, ran_name: str) -> E2NodeRecord | None:
    raw = await client.get(node_key(ran_name))
    return E2NodeRecord.from_json(raw) if raw is not None else None


class NodeInventory:
    """Writes the records of the nodes one E2 termination (``e2term`` = its RMR endpoint) serves."""

    def __init__(self, client: aioredis.Redis, e2term: str) -> None:
        self.client = client
        self.e2term = e2term

    async def _publish(self, event: NodeEvent, ran_name: str) -> None:
        message = {"event": event, "ranName": ran_name, "e2term": self.e2term}
        await self.client.publish(EVENTS_CHANNEL, json.dumps(message, separators=(",", ":")))

    async def get(self, ran_name: str) -> E2NodeRecord | None:
        return await read_node(self.client, ran_name)

    async def connected(
        self, ran_name: str, transport: str, peer: str, functions: list[RANfunctionItem],
        node: GlobalE2nodeID | None = None,
    ) -> E2NodeRecord:
        record = E2NodeRecord(
            ranName=ran_name,
            connected=True,
            e2term=self.e2term,
            transport=transport,
            peer=peer,
            connectedAt=time.time(),
            lostAt=None,
            ranFunctions=sorted((RanFunctionRecord.of(f) for f in functions), key=lambda f: f.ranFunctionID),
            identity=NodeIdentity.of(node) if node is not None else None,
        )
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(node_key(ran_name), record.to_json())
            pipe.sadd(NODES_KEY, ran_name)
            await pipe.execute()
        await self._publish("connected", ran_name)
        return record

    async def lost(self, ran_name: str) -> E2NodeRecord | None:
        """Mark the node lost, unless another association (or termination) has taken it over."""
        record = await self.get(ran_name)
        if record is None or not record.connected or record.e2term != self.e2term:
            return record
        record.connected = False
        record.lostAt = time.time()
        await self.client.set(node_key(ran_name), record.to_json())
        await self._publish("lost", ran_name)
        return record

    async def service_updated(
        self,
        ran_name: str,
        added: list[RANfunctionItem] | None,
        modified: list[RANfunctionItem] | None,
        deleted: list[RANfunctionIDItem] | None,
    ) -> E2NodeRecord | None:
        record = await self.get(ran_name)
        if record is None:
            return None
        record.apply_service_update(added, modified, deleted)
        await self.client.set(node_key(ran_name), record.to_json())
        await self._publish("updated", ran_name)
        return record

    async def touched(self, ran_name: str) -> None:
        """The node changed something the record does not hold (configuration, reset): say so."""
        await self._publish("updated", ran_name)

    async def release_stale(self) -> list[str]:
        """At start: nodes recorded as connected to this termination lost it when it stopped."""
        released = []
        for raw_name in await self.client.smembers(NODES_KEY):
            name = raw_name.decode() if isinstance(raw_name, bytes) else raw_name
            record = await self.get(name)
            if record is not None and record.connected and record.e2term == self.e2term:
                await self.lost(name)
                released.append(name)
        return released
