"""APER encoders and decoders of the E2AP IE value types (``put_<Type>(w, value)`` / ``get_<Type>(r)``).

Each pair follows one ASN.1 type of E2AP-IEs / E2AP-PDU-Contents (v2 and v3.01 encode these identically).
SEQUENCEs with an extension marker write a 0 extension bit; on decode, extension additions sent by a newer
peer are skipped. Lists of ``ProtocolIE-SingleContainer`` carry each item as an IE (id, criticality,
open type) with the id of the list's item object set.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

from ricproto.aper import AperError, AperReader, AperWriter
from ricproto.e2ap.ies import (
    CAUSE_ALTERNATIVES,
    E2NODE_COMPONENT_ID_ALTERNATIVES,
    ENB_ID_BITS,
    ENB_ID_CHOICE_BITS,
    ROOT_SIZE,
    BitString,
    Cause,
    Criticality,
    CriticalityDiagnostics,
    CriticalityDiagnosticsIEItem,
    E2nodeComponentConfigAckItem,
    E2nodeComponentConfigAdditionItem,
    E2nodeComponentConfigRemovalItem,
    E2nodeComponentConfiguration,
    E2nodeComponentConfigurationAck,
    E2nodeComponentID,
    E2nodeComponentInterfaceE1,
    E2nodeComponentInterfaceF1,
    E2nodeComponentInterfaceNG,
    E2nodeComponentInterfaceS1,
    E2nodeComponentInterfaceType,
    E2nodeComponentInterfaceW1,
    E2nodeComponentInterfaceX2,
    E2nodeComponentInterfaceXn,
    E2nodeTNLassociationRemovalItem,
    ENBIDChoiceKind,
    ENBIDKind,
    GlobalE2nodeEnbID,
    GlobalE2nodeEnGnbID,
    GlobalE2nodeGnbID,
    GlobalE2nodeID,
    GlobalE2nodeNgEnbID,
    GlobalENBID,
    GlobalenGNBID,
    GlobalgNBID,
    GlobalngeNBID,
    GlobalRICID,
    RANfunctionIDcauseItem,
    RANfunctionIDItem,
    RANfunctionItem,
    RICactionNotAdmittedItem,
    RICactionToBeSetupItem,
    RICactionType,
    RICrequestID,
    RICsubscriptionDetails,
    RICsubscriptionWithCauseItem,
    RICsubsequentAction,
    RICsubsequentActionType,
    RICtimeToWait,
    TNLinformation,
    TriggeringMessage,
    TypeOfError,
    UpdateOutcome,
)
from ricproto.e2ap.received_form import ReceivedItems

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

MAX_48BIT_ID = 68719476735  # GNB-CU-UP-ID, GNB-DU-ID, NGENB-DU-ID ::= INTEGER (0..68719476735)

_MEMBERS: dict[type[enum.Enum], tuple[enum.Enum, ...]] = {cls: tuple(cls) for cls in ROOT_SIZE}
_CAUSE_INDEX: dict[type[enum.Enum], int] = {cls: i for i, cls in enumerate(CAUSE_ALTERNATIVES)}
_COMPONENT_INDEX: dict[type, int] = {cls: i for i, cls in enumerate(E2NODE_COMPONENT_ID_ALTERNATIVES)}


def _check_type(value: Any, cls: type | tuple[type, ...], what: str) -> None:
    if not isinstance(value, cls):
        raise AperError(f"{what} must be {getattr(cls, '__name__', cls)}, got {type(value).__name__}")


# ------------------------------------------------------------------------------------- enumerations


def put_enum(w: AperWriter, item: enum.Enum) -> None:
    """An extensible ENUMERATED (all E2AP ones except Criticality and TriggeringMessage)."""
    root = ROOT_SIZE.get(type(item))
    if root is None:
        raise AperError(f"not an E2AP enumeration: {item!r}")
    index = item.value
    if index < root:
        w.bits(0, 1)
        w.constrained(index, 0, root - 1)
    else:
        w.bits(1, 1)
        w.small(index - root)


def get_enum(r: AperReader, cls: type[E]) -> E:
    root = ROOT_SIZE[cls]
    index = root + r.small() if r.bits(1) else r.constrained(0, root - 1)
    members = _MEMBERS[cls]
    if index >= len(members):
        raise AperError(f"unknown {cls.__name__} value (extension index {index - root})")
    return members[index]  # type: ignore[return-value]


def put_criticality(w: AperWriter, item: Criticality) -> None:
    _check_type(item, Criticality, "criticality")
    w.bits(item.value, 2)


_CRITICALITIES = tuple(Criticality)  # by value: indexing is much cheaper than Criticality(value)


def get_criticality(r: AperReader) -> Criticality:
    value = r.bits(2)
    if value > 2:
        raise AperError(f"criticality {value} outside 0..2")
    return _CRITICALITIES[value]


# -------------------------------------------------------------------------------------------- Cause


def put_Cause(w: AperWriter, cause: Cause) -> None:
    index = _CAUSE_INDEX.get(type(cause))
    if index is None:
        raise AperError(f"Cause must be one of the Cause* enumerations, got {cause!r}")
    w.bits(0, 1)
    w.constrained(index, 0, 5)
    put_enum(w, cause)


def get_Cause(r: AperReader) -> Cause:
    if r.bits(1):
        raise AperError("unknown Cause alternative (extension)")
    return get_enum(r, CAUSE_ALTERNATIVES[r.constrained(0, 5)])  # type: ignore[return-value]


# ----------------------------------------------------------------------------------- small sequences


def put_RICrequestID(w: AperWriter, v: RICrequestID) -> None:
    _check_type(v, RICrequestID, "RICrequestID")
    w.bits(0, 1)
    w.constrained(v.ricRequestorID, 0, 65535)
    w.constrained(v.ricInstanceID, 0, 65535)


def get_RICrequestID(r: AperReader) -> RICrequestID:
    ext = r.bits(1)
    v = RICrequestID(r.constrained(0, 65535), r.constrained(0, 65535))
    if ext:
        r.skip_extensions()
    return v


def put_TransactionID(w: AperWriter, v: int) -> None:
    w.bits(0, 1)
    w.constrained(v, 0, 255)


def get_TransactionID(r: AperReader) -> int:
    if r.bits(1):
        return r.unconstrained_int()
    return r.constrained(0, 255)


def put_plmn(w: AperWriter, plmn: bytes) -> None:
    _check_type(plmn, bytes, "PLMN-Identity")
    w.fixed_octets(plmn, 3)


def _put_bits(w: AperWriter, v: BitString, lb: int, ub: int) -> None:
    _check_type(v, BitString, "BIT STRING")
    w.bit_string(v.value, v.length, lb, ub)


def _get_bits(r: AperReader, lb: int, ub: int) -> BitString:
    return BitString(*r.bit_string(lb, ub))


# ------------------------------------------------------------------------------- node identities


def _put_gnb_id_choice(w: AperWriter, v: BitString) -> None:
    # GNB-ID-Choice / ENGNB-ID ::= CHOICE { gnb-ID BIT STRING (SIZE(22..32)), ... }
    w.bits(0, 1)
    _put_bits(w, v, 22, 32)


def _get_gnb_id_choice(r: AperReader) -> BitString:
    if r.bits(1):
        raise AperError("unknown gNB-ID alternative (extension)")
    return _get_bits(r, 22, 32)


def put_GlobalgNBID(w: AperWriter, v: GlobalgNBID) -> None:
    _check_type(v, GlobalgNBID, "GlobalgNB-ID")
    w.bits(0, 1)
    put_plmn(w, v.plmn_id)
    _put_gnb_id_choice(w, v.gnb_id)


def get_GlobalgNBID(r: AperReader) -> GlobalgNBID:
    ext = r.bits(1)
    v = GlobalgNBID(r.fixed_octets(3), _get_gnb_id_choice(r))
    if ext:
        r.skip_extensions()
    return v


def put_GlobalenGNBID(w: AperWriter, v: GlobalenGNBID) -> None:
    _check_type(v, GlobalenGNBID, "GlobalenGNB-ID")
    w.bits(0, 1)
    put_plmn(w, v.pLMN_Identity)
    _put_gnb_id_choice(w, v.gNB_ID)


def get_GlobalenGNBID(r: AperReader) -> GlobalenGNBID:
    ext = r.bits(1)
    v = GlobalenGNBID(r.fixed_octets(3), _get_gnb_id_choice(r))
    if ext:
        r.skip_extensions()
    return v


def _put_enb_id(w: AperWriter, kind: ENBIDKind, value: int) -> None:
    # ENB-ID ::= CHOICE { macro, home, ..., short-Macro, long-Macro }: the last two are extension additions
    _check_type(kind, ENBIDKind, "eNB-ID kind")
    nbits = ENB_ID_BITS[kind]
    if kind.value < 2:
        w.bits(0, 1)
        w.bits(kind.value, 1)
        w.bit_string(value, nbits, nbits, nbits)
    else:
        w.bits(1, 1)
        w.small(kind.value - 2)
        inner = AperWriter()
        inner.bit_string(value, nbits, nbits, nbits)
        w.open_type(inner.to_bytes())


def _get_enb_id(r: AperReader) -> tuple[ENBIDKind, int]:
    if r.bits(1):
        index = r.small()
        if index > 1:
            raise AperError(f"unknown ENB-ID extension alternative {index}")
        kind = ENBIDKind(2 + index)
        inner = AperReader(r.open_type())
        nbits = ENB_ID_BITS[kind]
        return kind, inner.bit_string(nbits, nbits)[0]
    kind = ENBIDKind(r.bits(1))
    nbits = ENB_ID_BITS[kind]
    return kind, r.bit_string(nbits, nbits)[0]


def put_GlobalENBID(w: AperWriter, v: GlobalENBID) -> None:
    _check_type(v, GlobalENBID, "GlobalENB-ID")
    w.bits(0, 1)
    put_plmn(w, v.pLMN_Identity)
    _put_enb_id(w, v.eNB_ID_kind, v.eNB_ID)


def get_GlobalENBID(r: AperReader) -> GlobalENBID:
    ext = r.bits(1)
    plmn = r.fixed_octets(3)
    kind, value = _get_enb_id(r)
    if ext:
        r.skip_extensions()
    return GlobalENBID(plmn, kind, value)


def put_GlobalngeNBID(w: AperWriter, v: GlobalngeNBID) -> None:
    _check_type(v, GlobalngeNBID, "GlobalngeNB-ID")
    _check_type(v.enb_id_kind, ENBIDChoiceKind, "enb-id kind")
    w.bits(0, 1)
    put_plmn(w, v.plmn_id)
    w.bits(0, 1)  # ENB-ID-Choice extension bit
    w.constrained(v.enb_id_kind.value, 0, 2)
    nbits = ENB_ID_CHOICE_BITS[v.enb_id_kind]
    w.bit_string(v.enb_id, nbits, nbits, nbits)


def get_GlobalngeNBID(r: AperReader) -> GlobalngeNBID:
    ext = r.bits(1)
    plmn = r.fixed_octets(3)
    if r.bits(1):
        raise AperError("unknown ENB-ID-Choice alternative (extension)")
    kind = ENBIDChoiceKind(r.constrained(0, 2))
    nbits = ENB_ID_CHOICE_BITS[kind]
    value = r.bit_string(nbits, nbits)[0]
    if ext:
        r.skip_extensions()
    return GlobalngeNBID(plmn, kind, value)


def _put_optional_id(w: AperWriter, v: int | None) -> None:
    if v is not None:
        w.constrained(v, 0, MAX_48BIT_ID)


def put_GlobalE2nodeID(w: AperWriter, v: GlobalE2nodeID) -> None:
    w.bits(0, 1)
    if isinstance(v, GlobalE2nodeGnbID):
        w.bits(0, 2)
        w.bits(0, 1)
        w.bits(v.global_en_gNB_ID is not None, 1)
        w.bits(v.gNB_CU_UP_ID is not None, 1)
        w.bits(v.gNB_DU_ID is not None, 1)
        put_GlobalgNBID(w, v.global_gNB_ID)
        if v.global_en_gNB_ID is not None:
            put_GlobalenGNBID(w, v.global_en_gNB_ID)
        _put_optional_id(w, v.gNB_CU_UP_ID)
        _put_optional_id(w, v.gNB_DU_ID)
    elif isinstance(v, GlobalE2nodeEnGnbID):
        w.bits(1, 2)
        w.bits(0, 1)
        w.bits(v.en_gNB_CU_UP_ID is not None, 1)
        w.bits(v.en_gNB_DU_ID is not None, 1)
        put_GlobalenGNBID(w, v.global_en_gNB_ID)
        _put_optional_id(w, v.en_gNB_CU_UP_ID)
        _put_optional_id(w, v.en_gNB_DU_ID)
    elif isinstance(v, GlobalE2nodeNgEnbID):
        w.bits(2, 2)
        w.bits(0, 1)
        w.bits(v.global_eNB_ID is not None, 1)
        w.bits(v.ngENB_DU_ID is not None, 1)
        put_GlobalngeNBID(w, v.global_ng_eNB_ID)
        if v.global_eNB_ID is not None:
            put_GlobalENBID(w, v.global_eNB_ID)
        _put_optional_id(w, v.ngENB_DU_ID)
    elif isinstance(v, GlobalE2nodeEnbID):
        w.bits(3, 2)
        w.bits(0, 1)
        put_GlobalENBID(w, v.global_eNB_ID)
    else:
        raise AperError(f"GlobalE2node-ID must be one of the GlobalE2node*ID classes, got {type(v).__name__}")


def get_GlobalE2nodeID(r: AperReader) -> GlobalE2nodeID:
    if r.bits(1):
        raise AperError("unknown GlobalE2node-ID alternative (extension)")
    index = r.bits(2)
    ext = r.bits(1)
    v: GlobalE2nodeID
    if index == 0:
        has_en, has_cu, has_du = r.bits(1), r.bits(1), r.bits(1)
        gnb = get_GlobalgNBID(r)
        en = get_GlobalenGNBID(r) if has_en else None
        cu = r.constrained(0, MAX_48BIT_ID) if has_cu else None
        du = r.constrained(0, MAX_48BIT_ID) if has_du else None
        v = GlobalE2nodeGnbID(gnb, en, cu, du)
    elif index == 1:
        has_cu, has_du = r.bits(1), r.bits(1)
        en = get_GlobalenGNBID(r)
        cu = r.constrained(0, MAX_48BIT_ID) if has_cu else None
        du = r.constrained(0, MAX_48BIT_ID) if has_du else None
        v = GlobalE2nodeEnGnbID(en, cu, du)
    elif index == 2:
        has_enb, has_du = r.bits(1), r.bits(1)
        ng = get_GlobalngeNBID(r)
        enb = get_GlobalENBID(r) if has_enb else None
        du = r.constrained(0, MAX_48BIT_ID) if has_du else None
        v = GlobalE2nodeNgEnbID(ng, enb, du)
    else:
        v = GlobalE2nodeEnbID(get_GlobalENBID(r))
    if ext:
        r.skip_extensions()
    return v


def put_GlobalRICID(w: AperWriter, v: GlobalRICID) -> None:
    _check_type(v, GlobalRICID, "GlobalRIC-ID")
    w.bits(0, 1)
    put_plmn(w, v.pLMN_Identity)
    w.bit_string(v.ric_ID, 20, 20, 20)


def get_GlobalRICID(r: AperReader) -> GlobalRICID:
    ext = r.bits(1)
    v = GlobalRICID(r.fixed_octets(3), r.bit_string(20, 20)[0])
    if ext:
        r.skip_extensions()
    return v


# ------------------------------------------------------------------------------------ RAN functions


def put_RANfunctionItem(w: AperWriter, v: RANfunctionItem) -> None:
    _check_type(v, RANfunctionItem, "RANfunction-Item")
    w.bits(0, 1)
    w.constrained(v.ranFunctionID, 0, 4095)
    w.octet_string(v.ranFunctionDefinition)
    w.constrained(v.ranFunctionRevision, 0, 4095)
    w.printable(v.ranFunctionOID, 1, 1000)


def get_RANfunctionItem(r: AperReader) -> RANfunctionItem:
    ext = r.bits(1)
    v = RANfunctionItem(
        r.constrained(0, 4095), r.octet_string(), r.constrained(0, 4095), r.printable(1, 1000)
    )
    if ext:
        r.skip_extensions()
    return v


def put_RANfunctionIDItem(w: AperWriter, v: RANfunctionIDItem) -> None:
    _check_type(v, RANfunctionIDItem, "RANfunctionID-Item")
    w.bits(0, 1)
    w.constrained(v.ranFunctionID, 0, 4095)
    w.constrained(v.ranFunctionRevision, 0, 4095)


def get_RANfunctionIDItem(r: AperReader) -> RANfunctionIDItem:
    ext = r.bits(1)
    v = RANfunctionIDItem(r.constrained(0, 4095), r.constrained(0, 4095))
    if ext:
        r.skip_extensions()
    return v


def put_RANfunctionIDcauseItem(w: AperWriter, v: RANfunctionIDcauseItem) -> None:
    _check_type(v, RANfunctionIDcauseItem, "RANfunctionIDcause-Item")
    w.bits(0, 1)
    w.constrained(v.ranFunctionID, 0, 4095)
    put_Cause(w, v.cause)


def get_RANfunctionIDcauseItem(r: AperReader) -> RANfunctionIDcauseItem:
    ext = r.bits(1)
    v = RANfunctionIDcauseItem(r.constrained(0, 4095), get_Cause(r))
    if ext:
        r.skip_extensions()
    return v


# ------------------------------------------------------------------------------------ subscriptions


def put_RICsubsequentAction(w: AperWriter, v: RICsubsequentAction) -> None:
    _check_type(v, RICsubsequentAction, "RICsubsequentAction")
    _check_type(v.ricSubsequentActionType, RICsubsequentActionType, "ricSubsequentActionType")
    _check_type(v.ricTimeToWait, RICtimeToWait, "ricTimeToWait")
    w.bits(0, 1)
    put_enum(w, v.ricSubsequentActionType)
    put_enum(w, v.ricTimeToWait)


def get_RICsubsequentAction(r: AperReader) -> RICsubsequentAction:
    ext = r.bits(1)
    v = RICsubsequentAction(get_enum(r, RICsubsequentActionType), get_enum(r, RICtimeToWait))
    if ext:
        r.skip_extensions()
    return v


def put_RICactionToBeSetupItem(w: AperWriter, v: RICactionToBeSetupItem) -> None:
    _check_type(v, RICactionToBeSetupItem, "RICaction-ToBeSetup-Item")
    _check_type(v.ricActionType, RICactionType, "ricActionType")
    w.bits(0, 1)
    w.bits(v.ricActionDefinition is not None, 1)
    w.bits(v.ricSubsequentAction is not None, 1)
    w.constrained(v.ricActionID, 0, 255)
    put_enum(w, v.ricActionType)
    if v.ricActionDefinition is not None:
        w.octet_string(v.ricActionDefinition)
    if v.ricSubsequentAction is not None:
        put_RICsubsequentAction(w, v.ricSubsequentAction)


def get_RICactionToBeSetupItem(r: AperReader) -> RICactionToBeSetupItem:
    # v3 adds ricActionExecutionOrder as an extension addition: skipped (not in the v2 common subset)
    ext, has_def, has_sub = r.bits(1), r.bits(1), r.bits(1)
    action_id = r.constrained(0, 255)
    action_type = get_enum(r, RICactionType)
    definition = r.octet_string() if has_def else None
    subsequent = get_RICsubsequentAction(r) if has_sub else None
    if ext:
        r.skip_extensions()
    return RICactionToBeSetupItem(action_id, action_type, definition, subsequent)


def put_RICsubscriptionDetails(w: AperWriter, v: RICsubscriptionDetails) -> None:
    _check_type(v, RICsubscriptionDetails, "RICsubscriptionDetails")
    w.bits(0, 1)
    w.octet_string(v.ricEventTriggerDefinition)
    put_item_list(w, v.ricAction_ToBeSetup_List, 1, 16, ID_RICaction_ToBeSetup_Item, Criticality.ignore,
                  put_RICactionToBeSetupItem)


def get_RICsubscriptionDetails(r: AperReader) -> RICsubscriptionDetails:
    ext = r.bits(1)
    trigger = r.octet_string()
    actions = get_item_list(r, 1, 16, ID_RICaction_ToBeSetup_Item, get_RICactionToBeSetupItem)
    if ext:
        r.skip_extensions()
    return RICsubscriptionDetails(trigger, actions)


def put_RICactionAdmittedItem(w: AperWriter, action_id: int) -> None:
    w.bits(0, 1)
    w.constrained(action_id, 0, 255)


def get_RICactionAdmittedItem(r: AperReader) -> int:
    ext = r.bits(1)
    action_id = r.constrained(0, 255)
    if ext:
        r.skip_extensions()
    return action_id


def put_RICactionNotAdmittedItem(w: AperWriter, v: RICactionNotAdmittedItem) -> None:
    _check_type(v, RICactionNotAdmittedItem, "RICaction-NotAdmitted-Item")
    w.bits(0, 1)
    w.constrained(v.ricActionID, 0, 255)
    put_Cause(w, v.cause)


def get_RICactionNotAdmittedItem(r: AperReader) -> RICactionNotAdmittedItem:
    ext = r.bits(1)
    v = RICactionNotAdmittedItem(r.constrained(0, 255), get_Cause(r))
    if ext:
        r.skip_extensions()
    return v


def put_RICsubscriptionWithCauseItem(w: AperWriter, v: RICsubscriptionWithCauseItem) -> None:
    _check_type(v, RICsubscriptionWithCauseItem, "RICsubscription-withCause-Item")
    w.bits(0, 1)
    put_RICrequestID(w, v.ricRequestID)
    w.constrained(v.ranFunctionID, 0, 4095)
    put_Cause(w, v.cause)


def get_RICsubscriptionWithCauseItem(r: AperReader) -> RICsubscriptionWithCauseItem:
    ext = r.bits(1)
    v = RICsubscriptionWithCauseItem(get_RICrequestID(r), r.constrained(0, 4095), get_Cause(r))
    if ext:
        r.skip_extensions()
    return v


# -------------------------------------------------------------------------------------- diagnostics


def put_CriticalityDiagnostics(w: AperWriter, v: CriticalityDiagnostics) -> None:
    _check_type(v, CriticalityDiagnostics, "CriticalityDiagnostics")
    w.bits(0, 1)
    for part in (v.procedureCode, v.triggeringMessage, v.procedureCriticality, v.ricRequestorID,
                 v.iEsCriticalityDiagnostics):
        w.bits(part is not None, 1)
    if v.procedureCode is not None:
        w.constrained(v.procedureCode, 0, 255)
    if v.triggeringMessage is not None:
        _check_type(v.triggeringMessage, TriggeringMessage, "triggeringMessage")
        w.bits(v.triggeringMessage.value, 2)
    if v.procedureCriticality is not None:
        put_criticality(w, v.procedureCriticality)
    if v.ricRequestorID is not None:
        put_RICrequestID(w, v.ricRequestorID)
    if v.iEsCriticalityDiagnostics is not None:
        items = v.iEsCriticalityDiagnostics
        w.constrained(len(items), 1, 256)
        for item in items:
            _check_type(item, CriticalityDiagnosticsIEItem, "CriticalityDiagnostics-IE-Item")
            _check_type(item.typeOfError, TypeOfError, "typeOfError")
            w.bits(0, 1)
            put_criticality(w, item.iECriticality)
            w.constrained(item.iE_ID, 0, 65535)
            put_enum(w, item.typeOfError)


def get_CriticalityDiagnostics(r: AperReader) -> CriticalityDiagnostics:
    ext = r.bits(1)
    present = [r.bits(1) for _ in range(5)]
    v = CriticalityDiagnostics()
    if present[0]:
        v.procedureCode = r.constrained(0, 255)
    if present[1]:
        value = r.bits(2)
        if value > 2:
            raise AperError(f"triggeringMessage {value} outside 0..2")
        v.triggeringMessage = TriggeringMessage(value)
    if present[2]:
        v.procedureCriticality = get_criticality(r)
    if present[3]:
        v.ricRequestorID = get_RICrequestID(r)
    if present[4]:
        items = []
        for _ in range(r.constrained(1, 256)):
            item_ext = r.bits(1)
            item = CriticalityDiagnosticsIEItem(get_criticality(r), r.constrained(0, 65535),
                                                get_enum(r, TypeOfError))
            if item_ext:
                r.skip_extensions()
            items.append(item)
        v.iEsCriticalityDiagnostics = items
    if ext:
        r.skip_extensions()
    return v


def put_TNLinformation(w: AperWriter, v: TNLinformation) -> None:
    _check_type(v, TNLinformation, "TNLinformation")
    _check_type(v.tnlAddress, BitString, "tnlAddress")
    w.bits(0, 1)
    w.bits(v.tnlPort is not None, 1)
    w.bit_string(v.tnlAddress.value, v.tnlAddress.length, 1, 160, extensible=True)
    if v.tnlPort is not None:
        w.bit_string(v.tnlPort, 16, 16, 16)


def get_TNLinformation(r: AperReader) -> TNLinformation:
    ext, has_port = r.bits(1), r.bits(1)
    address = BitString(*r.bit_string(1, 160, extensible=True))
    port = r.bit_string(16, 16)[0] if has_port else None
    if ext:
        r.skip_extensions()
    return TNLinformation(address, port)


# -------------------------------------------------------------------------------- E2 node components


def _put_GlobalNGRANNodeID(w: AperWriter, v: GlobalgNBID | GlobalngeNBID) -> None:
    w.bits(0, 1)
    if isinstance(v, GlobalgNBID):
        w.bits(0, 1)
        put_GlobalgNBID(w, v)
    else:
        w.bits(1, 1)
        put_GlobalngeNBID(w, v)


def _get_GlobalNGRANNodeID(r: AperReader) -> GlobalgNBID | GlobalngeNBID:
    if r.bits(1):
        raise AperError("unknown GlobalNG-RANNode-ID alternative (extension)")
    return get_GlobalngeNBID(r) if r.bits(1) else get_GlobalgNBID(r)


def put_E2nodeComponentID(w: AperWriter, v: E2nodeComponentID) -> None:
    index = _COMPONENT_INDEX.get(type(v))
    if index is None:
        raise AperError(f"E2nodeComponentID must be an E2nodeComponentInterface*, got {type(v).__name__}")
    w.bits(0, 1)  # CHOICE extension bit
    w.constrained(index, 0, 6)
    if isinstance(v, E2nodeComponentInterfaceX2):
        w.bits(0, 1)
        w.bits(v.global_eNB_ID is not None, 1)
        w.bits(v.global_en_gNB_ID is not None, 1)
        if v.global_eNB_ID is not None:
            put_GlobalENBID(w, v.global_eNB_ID)
        if v.global_en_gNB_ID is not None:
            put_GlobalenGNBID(w, v.global_en_gNB_ID)
        return
    w.bits(0, 1)  # the alternative's SEQUENCE extension bit
    if isinstance(v, E2nodeComponentInterfaceNG):
        w.printable(v.amf_name, 1, 150)
    elif isinstance(v, E2nodeComponentInterfaceXn):
        _put_GlobalNGRANNodeID(w, v.global_NG_RAN_Node_ID)
    elif isinstance(v, E2nodeComponentInterfaceE1):
        w.constrained(v.gNB_CU_UP_ID, 0, MAX_48BIT_ID)
    elif isinstance(v, E2nodeComponentInterfaceF1):
        w.constrained(v.gNB_DU_ID, 0, MAX_48BIT_ID)
    elif isinstance(v, E2nodeComponentInterfaceW1):
        w.constrained(v.ng_eNB_DU_ID, 0, MAX_48BIT_ID)
    elif isinstance(v, E2nodeComponentInterfaceS1):
        w.printable(v.mme_name, 1, 150)


def get_E2nodeComponentID(r: AperReader) -> E2nodeComponentID:
    if r.bits(1):
        raise AperError("unknown E2nodeComponentID alternative (extension)")
    index = r.constrained(0, 6)
    ext = r.bits(1)
    v: E2nodeComponentID
    if index == 0:
        v = E2nodeComponentInterfaceNG(r.printable(1, 150))
    elif index == 1:
        v = E2nodeComponentInterfaceXn(_get_GlobalNGRANNodeID(r))
    elif index == 2:
        v = E2nodeComponentInterfaceE1(r.constrained(0, MAX_48BIT_ID))
    elif index == 3:
        v = E2nodeComponentInterfaceF1(r.constrained(0, MAX_48BIT_ID))
    elif index == 4:
        v = E2nodeComponentInterfaceW1(r.constrained(0, MAX_48BIT_ID))
    elif index == 5:
        v = E2nodeComponentInterfaceS1(r.printable(1, 150))
    else:
        has_enb, has_en = r.bits(1), r.bits(1)
        enb = get_GlobalENBID(r) if has_enb else None
        en = get_GlobalenGNBID(r) if has_en else None
        v = E2nodeComponentInterfaceX2(enb, en)
    if ext:
        r.skip_extensions()
    return v


def _put_interface_type(w: AperWriter, v: E2nodeComponentInterfaceType) -> None:
    _check_type(v, E2nodeComponentInterfaceType, "e2nodeComponentInterfaceType")
    put_enum(w, v)


def put_E2nodeComponentConfigAdditionItem(w: AperWriter, v: E2nodeComponentConfigAdditionItem) -> None:
    _check_type(v, E2nodeComponentConfigAdditionItem, "E2nodeComponentConfigAddition-Item")
    _check_type(v.e2nodeComponentConfiguration, E2nodeComponentConfiguration, "e2nodeComponentConfiguration")
    w.bits(0, 1)
    _put_interface_type(w, v.e2nodeComponentInterfaceType)
    put_E2nodeComponentID(w, v.e2nodeComponentID)
    w.bits(0, 1)
    w.octet_string(v.e2nodeComponentConfiguration.e2nodeComponentRequestPart)
    w.octet_string(v.e2nodeComponentConfiguration.e2nodeComponentResponsePart)


def get_E2nodeComponentConfigAdditionItem(r: AperReader) -> E2nodeComponentConfigAdditionItem:
    ext = r.bits(1)
    kind = get_enum(r, E2nodeComponentInterfaceType)
    component = get_E2nodeComponentID(r)
    conf_ext = r.bits(1)
    conf = E2nodeComponentConfiguration(r.octet_string(), r.octet_string())
    if conf_ext:
        r.skip_extensions()
    if ext:
        r.skip_extensions()
    return E2nodeComponentConfigAdditionItem(kind, component, conf)


def put_E2nodeComponentConfigRemovalItem(w: AperWriter, v: E2nodeComponentConfigRemovalItem) -> None:
    _check_type(v, E2nodeComponentConfigRemovalItem, "E2nodeComponentConfigRemoval-Item")
    w.bits(0, 1)
    _put_interface_type(w, v.e2nodeComponentInterfaceType)
    put_E2nodeComponentID(w, v.e2nodeComponentID)


def get_E2nodeComponentConfigRemovalItem(r: AperReader) -> E2nodeComponentConfigRemovalItem:
    ext = r.bits(1)
    v = E2nodeComponentConfigRemovalItem(get_enum(r, E2nodeComponentInterfaceType), get_E2nodeComponentID(r))
    if ext:
        r.skip_extensions()
    return v


def put_E2nodeComponentConfigAckItem(w: AperWriter, v: E2nodeComponentConfigAckItem) -> None:
    _check_type(v, E2nodeComponentConfigAckItem, "E2nodeComponentConfig*Ack-Item")
    ack = v.e2nodeComponentConfigurationAck
    _check_type(ack, E2nodeComponentConfigurationAck, "e2nodeComponentConfigurationAck")
    _check_type(ack.updateOutcome, UpdateOutcome, "updateOutcome")
    w.bits(0, 1)
    _put_interface_type(w, v.e2nodeComponentInterfaceType)
    put_E2nodeComponentID(w, v.e2nodeComponentID)
    w.bits(0, 1)
    w.bits(ack.failureCause is not None, 1)
    put_enum(w, ack.updateOutcome)
    if ack.failureCause is not None:
        put_Cause(w, ack.failureCause)


def get_E2nodeComponentConfigAckItem(r: AperReader) -> E2nodeComponentConfigAckItem:
    ext = r.bits(1)
    kind = get_enum(r, E2nodeComponentInterfaceType)
    component = get_E2nodeComponentID(r)
    ack_ext, has_cause = r.bits(1), r.bits(1)
    ack = E2nodeComponentConfigurationAck(get_enum(r, UpdateOutcome), get_Cause(r) if has_cause else None)
    if ack_ext:
        r.skip_extensions()
    if ext:
        r.skip_extensions()
    return E2nodeComponentConfigAckItem(kind, component, ack)


def put_E2nodeTNLassociationRemovalItem(w: AperWriter, v: E2nodeTNLassociationRemovalItem) -> None:
    _check_type(v, E2nodeTNLassociationRemovalItem, "E2nodeTNLassociationRemoval-Item")
    w.bits(0, 1)
    put_TNLinformation(w, v.tnlInformation)
    put_TNLinformation(w, v.tnlInformationRIC)


def get_E2nodeTNLassociationRemovalItem(r: AperReader) -> E2nodeTNLassociationRemovalItem:
    ext = r.bits(1)
    v = E2nodeTNLassociationRemovalItem(get_TNLinformation(r), get_TNLinformation(r))
    if ext:
        r.skip_extensions()
    return v


# ------------------------------------------------------------------- lists of single-IE containers

ID_RANfunction_Item = 8
ID_RANfunctionID_Item = 6
ID_RANfunctionIEcause_Item = 7
ID_RICaction_Admitted_Item = 14
ID_RICaction_NotAdmitted_Item = 16
ID_RICaction_ToBeSetup_Item = 19
ID_E2nodeComponentConfigUpdate_Item = 34
ID_E2nodeComponentConfigUpdateAck_Item = 36
ID_E2nodeComponentConfigAddition_Item = 51
ID_E2nodeComponentConfigAdditionAck_Item = 53
ID_E2nodeComponentConfigRemoval_Item = 55
ID_E2nodeComponentConfigRemovalAck_Item = 57
ID_E2nodeTNLassociationRemoval_Item = 59
ID_RICsubscription_withCause_Item = 61
ID_RICsubscription_withCause_Item_v200 = 51  # E2AP v02.00 reused 51 here (the 50/51 id clash)


def put_item_list(w: AperWriter, items: list[T], lb: int, ub: int, ie_id: int, criticality: Criticality,
                  put_item: Callable[[AperWriter, T], None]) -> None:
    """SEQUENCE (SIZE(lb..ub)) OF ProtocolIE-SingleContainer: each item is (id, criticality, open type).

    Items decoded from a peer keep the criticality they came with (`ReceivedItems`).
    """
    _check_type(items, list, "list")
    received = getattr(items, "criticalities", ())
    criticalities = received if len(received) == len(items) else (criticality,) * len(items)
    if ub < 65536:
        w.constrained(len(items), lb, ub)
    elif lb <= len(items) <= ub:  # an upper bound of 64K or more: a plain length determinant (X.691 11.9.4.2)
        w.length(len(items))
    else:
        raise AperError(f"{len(items)} items outside {lb}..{ub}")
    for item, item_criticality in zip(items, criticalities, strict=True):
        w.constrained(ie_id, 0, 65535)
        w.bits(item_criticality.value, 2)
        inner = AperWriter()
        put_item(inner, item)
        w.open_type(inner.to_bytes())


def get_item_list(
    r: AperReader,
    lb: int,
    ub: int,
    ie_id: int,
    get_item: Callable[[AperReader], T],
) -> list[T]:
    items: list[T] = []
    criticalities: list[Criticality] = []
    if ub < 65536:
        count = r.constrained(lb, ub)
    else:
        count = r.length()
        if count < lb:
            raise AperError(f"{count} items, at least {lb} needed")
    for i in range(count):
        got = r.constrained(0, 65535)
        criticalities.append(get_criticality(r))
        data = r.open_type()
        if got != ie_id:
            raise AperError(f"item {i}: IE id {got}, expected {ie_id}")
        try:
            inner = AperReader(data)
            items.append(get_item(inner))
            check_complete(inner, data)
        except AperError as exc:
            raise AperError(f"item {i}: {exc}") from None
    return ReceivedItems.of(items, criticalities)


def check_complete(r: AperReader, data: bytes) -> None:
    """``r`` read all of ``data``: a complete encoding (X.691 11.1, at least one octet) and nothing after."""
    used = max(1, r.octets_consumed)
    if used < len(data):
        extra = len(data) - used
        raise AperError(f"{extra} trailing octet{'s' if extra > 1 else ''} after the value, at offset {used} "
                        f"of {len(data)}")
