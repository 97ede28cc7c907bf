"""E2AP-PDU codec: ``encode(message) -> bytes`` and ``decode(bytes) -> message`` (APER, v2/v3 common subset).

The PDU envelope (CHOICE initiating/successful/unsuccessful, procedure code, criticality, open type) and
the ProtocolIE-Container (count, then id / criticality / open-type value per IE) are octet-aligned, so they
are assembled and parsed directly as bytes; each IE value is encoded by its type's codec in ``ie_codec``.
IE ids are resolved per message type (the v2.00 spec reuses ids 50/51 in another message). IEs are written
in the order of the spec's object set with the spec's criticality. On decode, unknown IEs with criticality
ignore/notify are skipped and an unknown IE with criticality reject is an error, as E2AP requires.

Decoding is liberal in what the spec leaves to the sender and strict about the encoding: the
criticalities, IE order and unknown IEs received are kept (``message.received``, `ReceivedItems`) and
written back on encode, so a decoded message re-encodes to its own bytes; octets left over after the
PDU, after the IE container or after any IE value are refused, naming their offset.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from ricproto.aper import AperError, AperReader, AperWriter
from ricproto.e2ap import ie_codec as ies_aper
from ricproto.e2ap.ie_codec import (
    ID_E2nodeComponentConfigAddition_Item,
    ID_E2nodeComponentConfigAdditionAck_Item,
    ID_E2nodeComponentConfigRemoval_Item,
    ID_E2nodeComponentConfigRemovalAck_Item,
    ID_E2nodeComponentConfigUpdate_Item,
    ID_E2nodeComponentConfigUpdateAck_Item,
    ID_E2nodeTNLassociationRemoval_Item,
    ID_RANfunction_Item,
    ID_RANfunctionID_Item,
    ID_RANfunctionIEcause_Item,
    ID_RICaction_Admitted_Item,
    ID_RICaction_NotAdmitted_Item,
    ID_RICsubscription_withCause_Item,
    ID_RICsubscription_withCause_Item_v200,
    check_complete,
)
from ricproto.e2ap.ies import Criticality, RICcontrolAckRequest, RICindicationType, RICrequestID, TimeToWait
from ricproto.e2ap.messages import (
    E2APMessage,
    E2nodeConfigurationUpdate,
    E2nodeConfigurationUpdateAcknowledge,
    E2nodeConfigurationUpdateFailure,
    E2setupFailure,
    E2setupRequest,
    E2setupResponse,
    ErrorIndication,
    ResetRequest,
    ResetResponse,
    RICcontrolAcknowledge,
    RICcontrolFailure,
    RICcontrolRequest,
    RICindication,
    RICserviceQuery,
    RICserviceUpdate,
    RICserviceUpdateAcknowledge,
    RICserviceUpdateFailure,
    RICsubscriptionDeleteFailure,
    RICsubscriptionDeleteRequest,
    RICsubscriptionDeleteRequired,
    RICsubscriptionDeleteResponse,
    RICsubscriptionFailure,
    RICsubscriptionRequest,
    RICsubscriptionResponse,
)
from ricproto.e2ap.received_form import ReceivedForm, ReceivedIE
from ricproto.e2error import E2CodecError


class MessageKind(enum.IntEnum):
    """E2AP-PDU ::= CHOICE { initiatingMessage, successfulOutcome, unsuccessfulOutcome, ... }."""

    initiatingMessage = 0
    successfulOutcome = 1
    unsuccessfulOutcome = 2


_PDU = "E2AP-PDU"
_ENCODE_ERRORS = (AperError, TypeError, ValueError, AttributeError, KeyError, OverflowError)
_DECODE_ERRORS = (AperError, ValueError, IndexError, KeyError, TypeError, OverflowError)

# ----------------------------------------------------------------------------- IE value codecs (bytes)


@dataclass(frozen=True, slots=True)
class IEType:
    """How one IE value type becomes the content of the IE's open type, and back."""

    name: str
    to_bytes: Callable[[Any], bytes]
    from_bytes: Callable[[bytes], Any]


def _structured(
    name: str, put: Callable[[AperWriter, Any], None], get: Callable[[AperReader], Any]
) -> IEType:
    def to_bytes(value: Any) -> bytes:
        w = AperWriter()
        put(w, value)
        return w.to_bytes()

    def from_bytes(data: bytes) -> Any:
        reader = AperReader(data)
        value = get(reader)
        check_complete(reader, data)
        return value

    return IEType(name, to_bytes, from_bytes)


def _length_prefix(n: int) -> bytes:
    if n < 128:
        return bytes((n,))
    return (0x8000 | n).to_bytes(2, "big")


def _open_type(data: bytes) -> bytes:
    """Length determinant + content; content of 16K or more is fragmented by the writer."""
    n = len(data)
    if n < 16384:
        return _length_prefix(n) + data
    w = AperWriter()
    w.open_type(data)
    return w.to_bytes()


def _read_open_type(data: bytes, pos: int) -> tuple[bytes, int]:
    """Open-type content starting at octet ``pos``; returns (content, position after it)."""
    if pos >= len(data):
        raise AperError(f"truncated: length determinant expected at octet {pos}")
    first = data[pos]
    if first < 0x80:
        n = first
        pos += 1
    elif first < 0xC0:
        if pos + 2 > len(data):
            raise AperError("truncated: two-octet length determinant")
        n = ((first & 0x3F) << 8) | data[pos + 1]
        pos += 2
    else:
        reader = AperReader(data[pos:])
        content = reader.octet_string()
        return content, pos + reader.octets_consumed
    end = pos + n
    if end > len(data):
        raise AperError(f"truncated: open type of {n} octets at octet {pos}, only {len(data) - pos} left")
    return data[pos:end], end


def _octet_string_to_bytes(value: bytes) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise AperError(f"OCTET STRING must be bytes, got {type(value).__name__}")
    return _open_type(bytes(value))


def _octet_string_from_bytes(data: bytes) -> bytes:
    content, end = _read_open_type(data, 0)
    if end != len(data):
        raise AperError(f"{len(data) - end} trailing octets after the OCTET STRING, at offset {end} "
                        f"of {len(data)}")
    return content


def _uint_type(name: str, ub: int, size: int) -> IEType:
    """INTEGER (0..ub) whose APER form is exactly ``size`` aligned octets (ub = 255 or 4095 or 65535)."""

    def to_bytes(value: int) -> bytes:
        if not isinstance(value, int) or value < 0 or value > ub:
            raise AperError(f"{name} must be an integer in 0..{ub}, got {value!r}")
        return value.to_bytes(size, "big")

    def from_bytes(data: bytes) -> int:
        if len(data) < size:
            raise AperError(f"truncated {name}")
        if len(data) > size:
            raise AperError(f"{len(data) - size} trailing octets after the value, at offset {size} "
                            f"of {len(data)}")
        value = int.from_bytes(data, "big")
        if value > ub:
            raise AperError(f"{name} {value} outside 0..{ub}")
        return value

    return IEType(name, to_bytes, from_bytes)


def _ric_request_id_to_bytes(value: RICrequestID) -> bytes:
    if not isinstance(value, RICrequestID):
        raise AperError(f"RICrequestID expected, got {type(value).__name__}")
    requestor, instance = value.ricRequestorID, value.ricInstanceID
    if not (0 <= requestor <= 65535 and 0 <= instance <= 65535):
        raise AperError(f"ricRequestorID/ricInstanceID outside 0..65535: {requestor}, {instance}")
    return b"\x00" + requestor.to_bytes(2, "big") + instance.to_bytes(2, "big")


def _ric_request_id_from_bytes(data: bytes) -> RICrequestID:
    if len(data) == 5 and not data[0] & 0x80:
        return RICrequestID(int.from_bytes(data[1:3], "big"), int.from_bytes(data[3:5], "big"))
    reader = AperReader(data)
    value = ies_aper.get_RICrequestID(reader)
    check_complete(reader, data)
    return value


def _enum_type(cls: type[enum.Enum]) -> IEType:
    def put(w: AperWriter, value: enum.Enum) -> None:
        if not isinstance(value, cls):
            raise AperError(f"{cls.__name__} expected, got {value!r}")
        ies_aper.put_enum(w, value)

    return _structured(cls.__name__, put, lambda r: ies_aper.get_enum(r, cls))


def _list_type(name: str, lb: int, ub: int, item_id: int, criticality: Criticality,
               put_item: Callable[[AperWriter, Any], None], get_item: Callable[[AperReader], Any]) -> IEType:
    return _structured(
        name,
        lambda w, items: ies_aper.put_item_list(w, items, lb, ub, item_id, criticality, put_item),
        lambda r: ies_aper.get_item_list(r, lb, ub, item_id, get_item),
    )


OCTET_STRING = IEType("OCTET STRING", _octet_string_to_bytes, _octet_string_from_bytes)
RAN_FUNCTION_ID = _uint_type("RANfunctionID", 4095, 2)
RIC_ACTION_ID = _uint_type("RICactionID", 255, 1)
RIC_INDICATION_SN = _uint_type("RICindicationSN", 65535, 2)
RIC_REQUEST_ID = IEType("RICrequestID", _ric_request_id_to_bytes, _ric_request_id_from_bytes)
TRANSACTION_ID = _structured("TransactionID", ies_aper.put_TransactionID, ies_aper.get_TransactionID)
CAUSE = _structured("Cause", ies_aper.put_Cause, ies_aper.get_Cause)
CRITICALITY_DIAGNOSTICS = _structured(
    "CriticalityDiagnostics", ies_aper.put_CriticalityDiagnostics, ies_aper.get_CriticalityDiagnostics
)
GLOBAL_E2NODE_ID = _structured("GlobalE2node-ID", ies_aper.put_GlobalE2nodeID, ies_aper.get_GlobalE2nodeID)
GLOBAL_RIC_ID = _structured("GlobalRIC-ID", ies_aper.put_GlobalRICID, ies_aper.get_GlobalRICID)
TNL_INFORMATION = _structured("TNLinformation", ies_aper.put_TNLinformation, ies_aper.get_TNLinformation)
SUBSCRIPTION_DETAILS = _structured(
    "RICsubscriptionDetails", ies_aper.put_RICsubscriptionDetails, ies_aper.get_RICsubscriptionDetails
)
TIME_TO_WAIT = _enum_type(TimeToWait)
RIC_INDICATION_TYPE = _enum_type(RICindicationType)
RIC_CONTROL_ACK_REQUEST = _enum_type(RICcontrolAckRequest)

_reject, _ignore = Criticality.reject, Criticality.ignore
RAN_FUNCTIONS_LIST = _list_type("RANfunctions-List", 1, 256, ID_RANfunction_Item, _ignore,
                                ies_aper.put_RANfunctionItem, ies_aper.get_RANfunctionItem)
RAN_FUNCTIONS_ID_LIST = _list_type("RANfunctionsID-List", 1, 256, ID_RANfunctionID_Item, _ignore,
                                   ies_aper.put_RANfunctionIDItem, ies_aper.get_RANfunctionIDItem)
RAN_FUNCTIONS_ID_CAUSE_LIST = _list_type(
    "RANfunctionsIDcause-List", 1, 256, ID_RANfunctionIEcause_Item, _ignore,
    ies_aper.put_RANfunctionIDcauseItem, ies_aper.get_RANfunctionIDcauseItem)
ACTIONS_ADMITTED = _list_type("RICaction-Admitted-List", 1, 16, ID_RICaction_Admitted_Item, _ignore,
                              ies_aper.put_RICactionAdmittedItem, ies_aper.get_RICactionAdmittedItem)
ACTIONS_NOT_ADMITTED = _list_type(
    "RICaction-NotAdmitted-List", 0, 16, ID_RICaction_NotAdmitted_Item, _ignore,
    ies_aper.put_RICactionNotAdmittedItem, ies_aper.get_RICactionNotAdmittedItem)
CONFIG_ADDITION_LIST = _list_type(
    "E2nodeComponentConfigAddition-List", 1, 1024, ID_E2nodeComponentConfigAddition_Item, _reject,
    ies_aper.put_E2nodeComponentConfigAdditionItem, ies_aper.get_E2nodeComponentConfigAdditionItem)
CONFIG_UPDATE_LIST = _list_type(
    "E2nodeComponentConfigUpdate-List", 1, 1024, ID_E2nodeComponentConfigUpdate_Item, _reject,
    ies_aper.put_E2nodeComponentConfigAdditionItem, ies_aper.get_E2nodeComponentConfigAdditionItem)
CONFIG_REMOVAL_LIST = _list_type(
    "E2nodeComponentConfigRemoval-List", 1, 1024, ID_E2nodeComponentConfigRemoval_Item, _reject,
    ies_aper.put_E2nodeComponentConfigRemovalItem, ies_aper.get_E2nodeComponentConfigRemovalItem)
CONFIG_ADDITION_ACK_LIST = _list_type(
    "E2nodeComponentConfigAdditionAck-List", 1, 1024, ID_E2nodeComponentConfigAdditionAck_Item, _reject,
    ies_aper.put_E2nodeComponentConfigAckItem, ies_aper.get_E2nodeComponentConfigAckItem)
CONFIG_UPDATE_ACK_LIST = _list_type(
    "E2nodeComponentConfigUpdateAck-List", 1, 1024, ID_E2nodeComponentConfigUpdateAck_Item, _reject,
    ies_aper.put_E2nodeComponentConfigAckItem, ies_aper.get_E2nodeComponentConfigAckItem)
CONFIG_REMOVAL_ACK_LIST = _list_type(
    "E2nodeComponentConfigRemovalAck-List", 1, 1024, ID_E2nodeComponentConfigRemovalAck_Item, _reject,
    ies_aper.put_E2nodeComponentConfigAckItem, ies_aper.get_E2nodeComponentConfigAckItem)
SUBSCRIPTIONS_WITH_CAUSE = _list_type(
    "RICsubscription-List-withCause", 1, 1024, ID_RICsubscription_withCause_Item, _ignore,
    ies_aper.put_RICsubscriptionWithCauseItem, ies_aper.get_RICsubscriptionWithCauseItem)
# E2AP v02.00 (OSC submgr, kpimon-go): item id 51 and maxofRICrequestID = 4294967295 (another length form)
SUBSCRIPTIONS_WITH_CAUSE_V200 = _list_type(
    "RICsubscription-List-withCause", 1,
    # Every bound of 64K or more encodes alike and a list of 2**32 items cannot be built: not mutated.
    4294967295,  # pragma: no mutate
    ID_RICsubscription_withCause_Item_v200, _ignore,
    ies_aper.put_RICsubscriptionWithCauseItem, ies_aper.get_RICsubscriptionWithCauseItem)
TNL_ASSOCIATION_REMOVAL_LIST = _list_type(
    "E2nodeTNLassociationRemoval-List", 1, 32, ID_E2nodeTNLassociationRemoval_Item, _reject,
    ies_aper.put_E2nodeTNLassociationRemovalItem, ies_aper.get_E2nodeTNLassociationRemovalItem)

# -------------------------------------------------------------------------------------- message table


@dataclass(frozen=True, slots=True)
class IE:
    """One entry of a message's protocol-IE object set."""

    field: str
    id: int
    criticality: Criticality
    mandatory: bool
    type: IEType
    # the IE's id and value type in an older spec version, accepted on decode only
    alt_id: int | None = None
    alt_type: IEType | None = None


@dataclass(frozen=True)
class MessageSpec:
    cls: type
    procedureCode: int
    kind: MessageKind
    criticality: Criticality
    ies: tuple[IE, ...]

    @property
    def name(self) -> str:
        return self.cls.__name__


def _ie(name: str, ie_id: int, criticality: Criticality, mandatory: bool, ie_type: IEType) -> IE:
    return IE(name, ie_id, criticality, mandatory, ie_type)


M, O = True, False  # noqa: E741 - presence mandatory / optional, as in the spec's tables
R, I = Criticality.reject, Criticality.ignore  # noqa: E741
_init, _succ, _fail = MessageKind(0), MessageKind(1), MessageKind(2)

# Common IEs (id-… values of E2AP-Constants)
REQ_ID = _ie("ricRequestID", 29, R, M, RIC_REQUEST_ID)
FUNC_ID = _ie("ranFunctionID", 5, R, M, RAN_FUNCTION_ID)
TRANS_ID = _ie("transactionID", 49, R, M, TRANSACTION_ID)
CRIT_DIAG = _ie("criticalityDiagnostics", 2, I, O, CRITICALITY_DIAGNOSTICS)

MESSAGE_SPECS: tuple[MessageSpec, ...] = (
    MessageSpec(E2setupRequest, 1, _init, R, (
        TRANS_ID,
        _ie("globalE2nodeID", 3, R, M, GLOBAL_E2NODE_ID),
        _ie("ranFunctionsAdded", 10, R, M, RAN_FUNCTIONS_LIST),
        _ie("e2nodeComponentConfigAddition", 50, R, M, CONFIG_ADDITION_LIST),
    )),
    MessageSpec(E2setupResponse, 1, _succ, R, (
        TRANS_ID,
        _ie("globalRICID", 4, R, M, GLOBAL_RIC_ID),
        _ie("ranFunctionsAccepted", 9, R, O, RAN_FUNCTIONS_ID_LIST),
        _ie("ranFunctionsRejected", 13, R, O, RAN_FUNCTIONS_ID_CAUSE_LIST),
        _ie("e2nodeComponentConfigAdditionAck", 52, R, M, CONFIG_ADDITION_ACK_LIST),
    )),
    MessageSpec(E2setupFailure, 1, _fail, R, (
        TRANS_ID,
        _ie("cause", 1, I, M, CAUSE),
        _ie("timeToWait", 31, I, O, TIME_TO_WAIT),
        CRIT_DIAG,
        _ie("tnlInformation", 48, I, O, TNL_INFORMATION),
    )),
    MessageSpec(RICsubscriptionRequest, 8, _init, R, (
        REQ_ID, FUNC_ID,
        _ie("ricSubscriptionDetails", 30, R, M, SUBSCRIPTION_DETAILS),
    )),
    MessageSpec(RICsubscriptionResponse, 8, _succ, R, (
        REQ_ID, FUNC_ID,
        _ie("ricActionsAdmitted", 17, R, M, ACTIONS_ADMITTED),
        _ie("ricActionsNotAdmitted", 18, R, O, ACTIONS_NOT_ADMITTED),
    )),
    MessageSpec(RICsubscriptionFailure, 8, _fail, R, (
        REQ_ID, FUNC_ID,
        _ie("cause", 1, R, M, CAUSE),
        CRIT_DIAG,
    )),
    MessageSpec(RICsubscriptionDeleteRequest, 9, _init, R, (REQ_ID, FUNC_ID)),
    MessageSpec(RICsubscriptionDeleteResponse, 9, _succ, R, (REQ_ID, FUNC_ID)),
    MessageSpec(RICsubscriptionDeleteFailure, 9, _fail, R, (
        REQ_ID, FUNC_ID,
        _ie("cause", 1, I, M, CAUSE),
        CRIT_DIAG,
    )),
    # v3 ids 60/61 (as E2T master); E2AP v02.00 used 50/51, which clash with E2nodeComponentConfigAddition
    MessageSpec(RICsubscriptionDeleteRequired, 12, _init, I, (
        IE("ricSubscriptionToBeRemoved", 60, I, M, SUBSCRIPTIONS_WITH_CAUSE,
           alt_id=50, alt_type=SUBSCRIPTIONS_WITH_CAUSE_V200),
    )),
    MessageSpec(RICindication, 5, _init, I, (
        REQ_ID, FUNC_ID,
        _ie("ricActionID", 15, R, M, RIC_ACTION_ID),
        _ie("ricIndicationSN", 27, R, O, RIC_INDICATION_SN),
        _ie("ricIndicationType", 28, R, M, RIC_INDICATION_TYPE),
        _ie("ricIndicationHeader", 25, R, M, OCTET_STRING),
        _ie("ricIndicationMessage", 26, R, M, OCTET_STRING),
        _ie("ricCallProcessID", 20, R, O, OCTET_STRING),
    )),
    MessageSpec(RICcontrolRequest, 4, _init, R, (
        REQ_ID, FUNC_ID,
        _ie("ricCallProcessID", 20, R, O, OCTET_STRING),
        _ie("ricControlHeader", 22, R, M, OCTET_STRING),
        _ie("ricControlMessage", 23, R, M, OCTET_STRING),
        _ie("ricControlAckRequest", 21, R, O, RIC_CONTROL_ACK_REQUEST),
    )),
    MessageSpec(RICcontrolAcknowledge, 4, _succ, R, (
        REQ_ID, FUNC_ID,
        _ie("ricCallProcessID", 20, R, O, OCTET_STRING),
        _ie("ricControlOutcome", 32, R, O, OCTET_STRING),
    )),
    MessageSpec(RICcontrolFailure, 4, _fail, R, (
        REQ_ID, FUNC_ID,
        _ie("ricCallProcessID", 20, R, O, OCTET_STRING),
        _ie("cause", 1, I, M, CAUSE),
        _ie("ricControlOutcome", 32, R, O, OCTET_STRING),
    )),
    MessageSpec(ErrorIndication, 2, _init, I, (
        _ie("transactionID", 49, R, O, TRANSACTION_ID),
        _ie("ricRequestID", 29, R, O, RIC_REQUEST_ID),
        _ie("ranFunctionID", 5, R, O, RAN_FUNCTION_ID),
        _ie("cause", 1, I, O, CAUSE),
        CRIT_DIAG,
    )),
    MessageSpec(ResetRequest, 3, _init, R, (TRANS_ID, _ie("cause", 1, I, M, CAUSE))),
    MessageSpec(ResetResponse, 3, _succ, R, (TRANS_ID, CRIT_DIAG)),
    MessageSpec(RICserviceUpdate, 7, _init, R, (
        TRANS_ID,
        _ie("ranFunctionsAdded", 10, R, O, RAN_FUNCTIONS_LIST),
        _ie("ranFunctionsModified", 12, R, O, RAN_FUNCTIONS_LIST),
        _ie("ranFunctionsDeleted", 11, R, O, RAN_FUNCTIONS_ID_LIST),
    )),
    MessageSpec(RICserviceUpdateAcknowledge, 7, _succ, R, (
        TRANS_ID,
        _ie("ranFunctionsAccepted", 9, R, O, RAN_FUNCTIONS_ID_LIST),
        _ie("ranFunctionsRejected", 13, R, O, RAN_FUNCTIONS_ID_CAUSE_LIST),
    )),
    MessageSpec(RICserviceUpdateFailure, 7, _fail, R, (
        TRANS_ID,
        _ie("cause", 1, R, M, CAUSE),
        _ie("timeToWait", 31, I, O, TIME_TO_WAIT),
        CRIT_DIAG,
    )),
    MessageSpec(RICserviceQuery, 6, _init, I, (
        TRANS_ID,
        _ie("ranFunctionsAccepted", 9, R, O, RAN_FUNCTIONS_ID_LIST),
    )),
    MessageSpec(E2nodeConfigurationUpdate, 10, _init, R, (
        TRANS_ID,
        _ie("globalE2nodeID", 3, R, O, GLOBAL_E2NODE_ID),
        _ie("e2nodeComponentConfigAddition", 50, R, O, CONFIG_ADDITION_LIST),
        _ie("e2nodeComponentConfigUpdate", 33, R, O, CONFIG_UPDATE_LIST),
        _ie("e2nodeComponentConfigRemoval", 54, R, O, CONFIG_REMOVAL_LIST),
        _ie("e2nodeTNLassociationRemoval", 58, R, O, TNL_ASSOCIATION_REMOVAL_LIST),
    )),
    MessageSpec(E2nodeConfigurationUpdateAcknowledge, 10, _succ, R, (
        TRANS_ID,
        _ie("e2nodeComponentConfigAdditionAck", 52, R, O, CONFIG_ADDITION_ACK_LIST),
        _ie("e2nodeComponentConfigUpdateAck", 35, R, O, CONFIG_UPDATE_ACK_LIST),
        _ie("e2nodeComponentConfigRemovalAck", 56, R, O, CONFIG_REMOVAL_ACK_LIST),
    )),
    MessageSpec(E2nodeConfigurationUpdateFailure, 10, _fail, R, (
        TRANS_ID,
        _ie("cause", 1, I, M, CAUSE),
        _ie("timeToWait", 31, I, O, TIME_TO_WAIT),
        CRIT_DIAG,
    )),
)

_BY_CLASS: dict[type, MessageSpec] = {spec.cls: spec for spec in MESSAGE_SPECS}
_BY_PROCEDURE: dict[tuple[int, int], MessageSpec] = {(s.procedureCode, s.kind): s for s in MESSAGE_SPECS}
_IES_BY_ID: dict[type, dict[int, IE]] = {
    s.cls: {**{ie.alt_id: ie for ie in s.ies if ie.alt_id is not None}, **{ie.id: ie for ie in s.ies}}
    for s in MESSAGE_SPECS
}
# Each IE's id and criticality octets as a fresh message writes them, in the order of the spec's IEs.
_IE_HEADERS: dict[type, tuple[bytes, ...]] = {
    s.cls: tuple(ie.id.to_bytes(2, "big") + bytes((ie.criticality.value << 6,)) for ie in s.ies)
    for s in MESSAGE_SPECS
}


def _check_table() -> None:
    # Every dataclass field has exactly one IE and vice versa: a mismatch is a programming error.
    for spec in MESSAGE_SPECS:
        names = {f.name for f in fields(spec.cls)} - {"received"}
        if names != {ie.field for ie in spec.ies}:
            raise RuntimeError(f"E2AP table and dataclass disagree for {spec.name}")


_check_table()

# --------------------------------------------------------------------------------------------- API


def spec_of(message_class: type) -> MessageSpec:
    """The procedure code, message kind, criticality and IE table of an E2AP message class."""
    try:
        return _BY_CLASS[message_class]
    except KeyError:
        raise E2CodecError(getattr(message_class, "__name__", str(message_class)),
                           "not an E2AP message class") from None


_CRITICALITIES = tuple(Criticality)  # by value: indexing is much cheaper than Criticality(value)
_CRITICALITY_OCTET = tuple(bytes((c.value << 6,)) for c in Criticality)


def encode(message: E2APMessage) -> bytes:
    """E2AP-PDU bytes (APER) of ``message``; raises ``E2CodecError`` naming the message and field."""
    spec = _BY_CLASS.get(type(message))
    if spec is None:
        raise E2CodecError(type(message).__name__, "not an E2AP message")
    present: list[tuple[IE, Any, bytes]] = []
    for ie, header in zip(spec.ies, _IE_HEADERS[spec.cls], strict=True):
        value = getattr(message, ie.field)
        if value is None:
            if ie.mandatory:
                raise E2CodecError(spec.name, "mandatory IE is missing", ie.field)
            continue
        present.append((ie, value, header))
    form: ReceivedForm | None = getattr(message, "received", None)
    if form is not None:
        by_id = _IES_BY_ID[spec.cls]
        if {by_id[i].id for i in form.known_ids() if i in by_id} == {ie.id for ie, _, _ in present}:
            # a decoded message (fields not added or removed since): as received
            return _encode_as_received(spec, message, form, by_id)
    # id (aligned 16 bits), criticality (2 bits, then padding before the open type's length)
    parts = [header + _open_type(_ie_bytes(spec, ie, ie.type, value)) for ie, value, header in present]
    return _envelope(spec, spec.criticality, parts)


def _encode_as_received(spec: MessageSpec, message: E2APMessage, form: ReceivedForm,
                        by_id: dict[int, IE]) -> bytes:
    parts: list[bytes] = []
    for ie_id, ie_criticality, raw in form.ies:
        ie = by_id.get(ie_id)
        if raw is not None or ie is None:
            content = raw or b""
        else:
            ie_type = ie.alt_type if ie_id == ie.alt_id and ie.alt_type is not None else ie.type
            content = _ie_bytes(spec, ie, ie_type, getattr(message, ie.field))
        header = ie_id.to_bytes(2, "big") + _CRITICALITY_OCTET[ie_criticality.value]
        parts.append(header + _open_type(content))
    return _envelope(spec, form.criticality, parts)


def _ie_bytes(spec: MessageSpec, ie: IE, ie_type: IEType, value: Any) -> bytes:
    try:
        return ie_type.to_bytes(value)
    except E2CodecError:
        raise
    except _ENCODE_ERRORS as exc:
        raise E2CodecError(spec.name, f"{ie_type.name}: {exc}", ie.field) from None


def _envelope(spec: MessageSpec, criticality: Criticality, parts: list[bytes]) -> bytes:
    container = b"\x00" + len(parts).to_bytes(2, "big") + b"".join(parts)
    # E2AP-PDU: extension bit 0, 2-bit CHOICE index, padding; procedureCode octet; criticality; open type
    return bytes((spec.kind << 5, spec.procedureCode, criticality.value << 6)) + _open_type(container)


def decode(data: bytes) -> E2APMessage:
    """The E2AP message in ``data`` (one APER E2AP-PDU), as its dataclass; raises only ``E2CodecError``.

    Octets after the PDU are an error (named with their offset): a frame holds one PDU."""
    message, end, total = _decode_first(data)
    if end != total:
        raise E2CodecError(_PDU, f"{total - end} trailing octets after the PDU, at offset {end} of {total}")
    return message


def decode_prefix(data: bytes) -> tuple[E2APMessage, int]:
    """The first E2AP-PDU in ``data`` and the octets it took, ignoring what follows it.

    For callers that hand over a buffer larger than the PDU, as asn1c's ``aper_decode`` takes them
    (C APIs pass a buffer and its size, not the PDU's length); framed transports use ``decode``."""
    message, end, _ = _decode_first(data)
    return message, end


def _decode_first(data: bytes) -> tuple[E2APMessage, int, int]:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise E2CodecError(_PDU, f"needs bytes, got {type(data).__name__}")
    data = bytes(data)
    try:
        if len(data) < 4:
            raise AperError(f"truncated: {len(data)} octets")
        first = data[0]
        if first & 0x80:
            raise AperError("E2AP-PDU extension alternative not supported")
        kind = (first >> 5) & 3
        if kind == 3:
            raise AperError("E2AP-PDU CHOICE index 3 does not exist")
        procedure = data[1]
        if data[2] >> 6 == 3:
            raise AperError("criticality 3 does not exist")
        body, end = _read_open_type(data, 3)
    except AperError as exc:
        raise E2CodecError(_PDU, str(exc)) from None
    spec = _BY_PROCEDURE.get((procedure, kind))
    if spec is None:
        raise E2CodecError(_PDU, f"unsupported procedure code {procedure} ({MessageKind(kind).name})")
    return _decode_container(spec, body, end - len(body), _CRITICALITIES[data[2] >> 6]), end, len(data)


def _decode_container(spec: MessageSpec, body: bytes, at: int, criticality: Criticality) -> Any:
    """The message in ``body`` (which starts at offset ``at`` of the PDU, for error messages)."""
    by_id = _IES_BY_ID[spec.cls]
    values: dict[str, Any] = {}
    received: list[ReceivedIE] = []
    try:
        if len(body) < 3:
            raise AperError(f"truncated protocol-IE container ({len(body)} octets)")
        count = int.from_bytes(body[1:3], "big")
        pos = 3
        for index in range(count):
            if pos + 3 > len(body):
                raise AperError(f"truncated: IE {index} of {count} header at offset {at + pos}")
            ie_id = int.from_bytes(body[pos : pos + 2], "big")
            ie_criticality = body[pos + 2] >> 6
            if ie_criticality == 3:
                raise AperError(f"IE {ie_id}: criticality 3 does not exist")
            start = pos + 3
            content, pos = _read_open_type(body, start)
            ie = by_id.get(ie_id)
            if ie is None:
                if ie_criticality == Criticality.reject.value:
                    raise AperError(f"unknown IE id {ie_id} with criticality reject")
                # ignore / notify: not ours to read, but kept so the message re-encodes as received
                received.append(ReceivedIE(ie_id, _CRITICALITIES[ie_criticality], content))
                continue
            if ie.field in values:
                raise E2CodecError(spec.name, f"IE id {ie_id} appears twice", ie.field)
            ie_type = ie.alt_type if ie_id == ie.alt_id and ie.alt_type is not None else ie.type
            try:
                values[ie.field] = ie_type.from_bytes(content)
            except E2CodecError:
                raise
            except _DECODE_ERRORS as exc:
                where = f" (the value starts at offset {at + pos - len(content)} of the PDU)"
                raise E2CodecError(spec.name, f"{ie_type.name}: {exc}{where}", ie.field) from None
            received.append(ReceivedIE(ie_id, _CRITICALITIES[ie_criticality]))
        if body[0] & 0x80:  # the message SEQUENCE's extension additions, after the container
            reader = AperReader(body[pos:])
            reader.skip_extensions()
            pos += reader.octets_consumed
        if pos != len(body):
            raise AperError(f"{len(body) - pos} trailing octets after the protocol IEs, at offset {at + pos} "
                            "of the PDU")
    except AperError as exc:
        raise E2CodecError(spec.name, str(exc)) from None
    for ie in spec.ies:
        if ie.mandatory and ie.field not in values:
            raise E2CodecError(spec.name, f"mandatory IE (id {ie.id}) is missing", ie.field)
    return spec.cls(**values, received=ReceivedForm(criticality, tuple(received)))
