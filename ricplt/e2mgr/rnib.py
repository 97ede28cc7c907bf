"""The R-NIB entities e2mgr keeps for an E2 node, built from the E2 inventory record (pure functions).

What ricxappframe's R-NIB helpers read (SDL namespace ``e2Manager``, values raw protobuf bytes):

* ``GNB`` / ``ENB``: sets of ``NbIdentity`` (inventory name, global node id, connection status) —
  ``get_list_gnb_ids``, ``get_list_enb_ids``, ``GetListNodebIds``;
* ``RAN:<inventory name>`` and ``<GNB|ENB>:<plmn id>:<nb id>``: ``NodebInfo`` — ``GetNodeb``,
  ``GetCellList``, ``GetRanFunctionDefinition`` (e2mgr writes NodebInfo under both keys);
* channel ``RAN_CONNECTION_STATUS_CHANGE`` with events ``<name>_CONNECTED`` / ``<name>_DISCONNECTED``,
  and ``RAN_MANIPULATION`` with ``<name>_ADDED`` when e2mgr first saves a node.

As in e2mgr for E2 nodes, a NodebInfo carries the RAN functions of E2 setup (definition as upper-case
hex, as e2mgr's XER decoding gives it) and no served cells (E2 setup does not list them). The protobuf
classes are ricxappframe's, so what is written is what its readers parse.
"""

from __future__ import annotations

from dataclasses import dataclass

from ricxappframe.entities.rnib import (
    enb_pb2,
    gnb_pb2,
    nb_identity_pb2,
    nb_types_pb2,
    nodeb_info_pb2,
    ran_function_pb2,
)

from ricplt.e2term.inventory import E2NodeRecord

NAMESPACE = "e2Manager"
STATE_CHANGE_CHANNEL = "RAN_CONNECTION_STATUS_CHANGE"
MANIPULATION_CHANNEL = "RAN_MANIPULATION"
CONNECTED = nb_identity_pb2.CONNECTED
DISCONNECTED = nb_identity_pb2.DISCONNECTED


def sdl_key(key: str) -> str:
    """The Redis key SDL uses for ``key`` in the e2Manager namespace."""
    return "{" + NAMESPACE + "}," + key


def nodeb_name_key(ran_name: str) -> str:
    return f"RAN:{ran_name}"


def nodeb_id_key(node_type: str, plmn_id: str, nb_id: str) -> str:
    return f"{node_type}:{plmn_id}:{nb_id}"


@dataclass(frozen=True)
class RnibEntries:
    """What one node contributes: keyed values, and the member of its node-type group."""

    values: dict[str, bytes]
    group: str
    member: bytes
    connected: bool


def connection_status(record: E2NodeRecord) -> int:
    return CONNECTED if record.connected else DISCONNECTED


def nb_identity(record: E2NodeRecord) -> nb_identity_pb2.NbIdentity:
    identity = nb_identity_pb2.NbIdentity(inventory_name=record.ranName,
                                          connection_status=connection_status(record))
    if record.identity is not None:
        identity.global_nb_id.plmn_id = record.identity.plmnId
        identity.global_nb_id.nb_id = record.identity.nbId
    return identity


def node_type(record: E2NodeRecord) -> str:
    if record.identity is not None:
        return record.identity.nodeType
    return "ENB" if record.ranName.lower().startswith(("enb", "ng_enb")) else "GNB"


def nodeb_info(record: E2NodeRecord) -> nodeb_info_pb2.NodebInfo:
    host, _, port = record.peer.rpartition(":")
    info = nodeb_info_pb2.NodebInfo(
        ran_name=record.ranName,
        ip=host,
        port=int(port) if port.isdigit() else 0,
        connection_status=connection_status(record),
        node_type=nodeb_info_pb2.Node.Type.Value(node_type(record)),
        associated_e2t_instance_address=record.e2term,
        setup_from_network=True,
    )
    if record.identity is not None:
        info.global_nb_id.plmn_id = record.identity.plmnId
        info.global_nb_id.nb_id = record.identity.nbId
    if node_type(record) == "GNB":
        gnb = gnb_pb2.Gnb(ran_functions=[
            ran_function_pb2.RanFunction(
                ran_function_id=f.ranFunctionID,
                ran_function_definition=f.ranFunctionDefinition.upper(),
                ran_function_revision=f.ranFunctionRevision,
                ran_function_oid=f.ranFunctionOID,
            )
            for f in record.ranFunctions
        ])
        kind = record.identity.nodeKind if record.identity is not None else "GNB"
        if kind in nb_types_pb2.GnbType.keys():
            gnb.gnb_type = nb_types_pb2.GnbType.Value(kind)
        info.gnb.CopyFrom(gnb)
    else:
        enb = enb_pb2.Enb()
        kind = record.identity.nodeKind if record.identity is not None else ""
        if kind in nb_types_pb2.EnbType.keys():
            enb.enb_type = nb_types_pb2.EnbType.Value(kind)
        info.enb.CopyFrom(enb)
    return info


def entries(record: E2NodeRecord) -> RnibEntries:
    data = nodeb_info(record).SerializeToString()
    values = {nodeb_name_key(record.ranName): data}
    if record.identity is not None:
        values[nodeb_id_key(node_type(record), record.identity.plmnId, record.identity.nbId)] = data
    return RnibEntries(values, node_type(record), nb_identity(record).SerializeToString(), record.connected)


def status_event(ran_name: str, connected: bool) -> str:
    return f"{ran_name}_{'CONNECTED' if connected else 'DISCONNECTED'}"
