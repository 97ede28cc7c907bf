"""E2AP information elements (O-RAN E2AP v2/v3 common subset) as typed Python values.

Names follow the specification: classes are the ASN.1 type names without hyphens, fields are the ASN.1
component names. Enumerations keep the spec's item order (their value is the item index; items after the
extension marker come last and are marked in ``ROOT_SIZE``). E2SM payloads are opaque ``bytes``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple


class BitString(NamedTuple):
    """An ASN.1 BIT STRING: ``value`` holds ``length`` bits, most significant bit first."""

    value: int
    length: int


class Criticality(enum.Enum):
    reject = 0
    ignore = 1
    notify = 2


class TriggeringMessage(enum.Enum):
    initiating_message = 0
    successful_outcome = 1
    unsuccessfull_outcome = 2  # sic: the spec spells it so


class TypeOfError(enum.Enum):
    not_understood = 0
    missing = 1



__all__ = [
    "CAUSE_ALTERNATIVES",
    "E2NODE_COMPONENT_ID_ALTERNATIVES",
    "ENB_ID_BITS",
    "ENB_ID_CHOICE_BITS",
    "ROOT_SIZE",
    "BitString",
    "Cause",
    "CauseE2node",
    "CauseMisc",
    "CauseProtocol",
    "CauseRICrequest",
    "CauseRICservice",
    "CauseTransport",
    "Criticality",
    "CriticalityDiagnostics",
    "CriticalityDiagnosticsIEItem",
    "E2nodeComponentConfigAckItem",
    "E2nodeComponentConfigAdditionItem",
    "E2nodeComponentConfigRemovalItem",
    "E2nodeComponentConfiguration",
    "E2nodeComponentConfigurationAck",
    "E2nodeComponentID",
    "E2nodeComponentInterfaceE1",
    "E2nodeComponentInterfaceF1",
    "E2nodeComponentInterfaceNG",
    "E2nodeComponentInterfaceS1",
    "E2nodeComponentInterfaceType",
    "E2nodeComponentInterfaceW1",
    "E2nodeComponentInterfaceX2",
    "E2nodeComponentInterfaceXn",
    "E2nodeTNLassociationRemovalItem",
    "ENBIDChoiceKind",
    "ENBIDKind",
    "GlobalE2nodeEnGnbID",
    "GlobalE2nodeEnbID",
    "GlobalE2nodeGnbID",
    "GlobalE2nodeID",
    "GlobalE2nodeNgEnbID",
    "GlobalENBID",
    "GlobalRICID",
    "GlobalenGNBID",
    "GlobalgNBID",
    "GlobalngeNBID",
    "RANfunctionIDItem",
    "RANfunctionIDcauseItem",
    "RANfunctionItem",
    "RICactionNotAdmittedItem",
    "RICactionToBeSetupItem",
    "RICactionType",
    "RICcontrolAckRequest",
    "RICindicationType",
    "RICrequestID",
    "RICsubscriptionDetails",
    "RICsubscriptionWithCauseItem",
    "RICsubsequentAction",
    "RICsubsequentActionType",
    "RICtimeToWait",
    "TNLinformation",
    "TNLusage",
    "TimeToWait",
    "TriggeringMessage",
    "TypeOfError",
    "UpdateOutcome",
]

# ----------------------------------------------------------------------------------------------- causes


class CauseRICrequest(enum.Enum):
    ran_function_id_invalid = 0
    action_not_supported = 1
    excessive_actions = 2
    duplicate_action = 3
    duplicate_event_trigger = 4
    function_resource_limit = 5
    request_id_unknown = 6
    inconsistent_action_subsequent_action_sequence = 7
    control_message_invalid = 8
    ric_call_process_id_invalid = 9
    control_timer_expired = 10
    control_failed_to_execute = 11
    system_not_ready = 12
    unspecified = 13
    # extension additions (E2AP v3+); a v2 peer decodes them only as "unknown extension"
    ric_subscription_end_time_expired = 14
    ric_subscription_end_time_invalid = 15
    duplicate_ric_request_id = 16
    eventTriggerNotSupported = 17
    requested_information_unavailable = 18
    invalid_information_request = 19


class CauseRICservice(enum.Enum):
    ran_function_not_supported = 0
    excessive_functions = 1
    ric_resource_limit = 2


class CauseE2node(enum.Enum):
    e2node_component_unknown = 0


class CauseTransport(enum.Enum):
    unspecified = 0
    transport_resource_unavailable = 1


class CauseProtocol(enum.Enum):
    transfer_syntax_error = 0
    abstract_syntax_error_reject = 1
    abstract_syntax_error_ignore_and_notify = 2
    message_not_compatible_with_receiver_state = 3
    semantic_error = 4
    abstract_syntax_error_falsely_constructed_message = 5
    unspecified = 6


class CauseMisc(enum.Enum):
    control_processing_overload = 0
    hardware_failure = 1
    om_intervention = 2
    unspecified = 3


# Cause ::= CHOICE { ricRequest, ricService, e2Node, transport, protocol, misc, ... }: the enumeration's
# class says which alternative it is.
Cause = CauseRICrequest | CauseRICservice | CauseE2node | CauseTransport | CauseProtocol | CauseMisc
CAUSE_ALTERNATIVES: tuple[type[enum.Enum], ...] = (
    CauseRICrequest,
    CauseRICservice,
    CauseE2node,
    CauseTransport,
    CauseProtocol,
    CauseMisc,
)

# ------------------------------------------------------------------------------------- other enumerations


class RICactionType(enum.Enum):
    report = 0
    insert = 1
    policy = 2


class RICindicationType(enum.Enum):
    report = 0
    insert = 1


class RICsubsequentActionType(enum.Enum):
    continue_ = 0  # spec name "continue"
    wait = 1


class RICtimeToWait(enum.Enum):
    w1ms = 0
    w2ms = 1
    w5ms = 2
    w10ms = 3
    w20ms = 4
    w30ms = 5
    w40ms = 6
    w50ms = 7
    w100ms = 8
    w200ms = 9
    w500ms = 10
    w1s = 11
    w2s = 12
    w5s = 13
    w10s = 14
    w20s = 15
    w60s = 16


class RICcontrolAckRequest(enum.Enum):
    noAck = 0
    ack = 1


class TimeToWait(enum.Enum):
    v1s = 0
    v2s = 1
    v5s = 2
    v10s = 3
    v20s = 4
    v60s = 5


class E2nodeComponentInterfaceType(enum.Enum):
    ng = 0
    xn = 1
    e1 = 2
    f1 = 3
    w1 = 4
    s1 = 5
    x2 = 6


class UpdateOutcome(enum.Enum):
    """E2nodeComponentConfigurationAck.updateOutcome."""

    success = 0
    failure = 1


class TNLusage(enum.Enum):
    ric_service = 0
    support_function = 1
    both = 2


# Number of root items (before the extension marker) of each extensible enumeration.
ROOT_SIZE: dict[type[enum.Enum], int] = {
    CauseRICrequest: 14,
    CauseRICservice: 3,
    CauseE2node: 1,
    CauseTransport: 2,
    CauseProtocol: 7,
    CauseMisc: 4,
    RICactionType: 3,
    RICindicationType: 2,
    RICsubsequentActionType: 2,
    RICtimeToWait: 17,
    RICcontrolAckRequest: 2,
    TimeToWait: 6,
    E2nodeComponentInterfaceType: 7,
    UpdateOutcome: 2,
    TNLusage: 3,
    TypeOfError: 2,
}

# ------------------------------------------------------------------------------------------ identities


@dataclass(slots=True)
class RICrequestID:
    ricRequestorID: int
    ricInstanceID: int


@dataclass(slots=True)
class GlobalgNBID:
    """GlobalgNB-ID: PLMN (3 BCD octets, see ``plmn``) and gNB-ID of 22..32 bits."""

    plmn_id: bytes
    gnb_id: BitString


@dataclass(slots=True)
class GlobalenGNBID:
    """GlobalenGNB-ID (EN-DC gNB)."""

    pLMN_Identity: bytes
    gNB_ID: BitString


class ENBIDKind(enum.Enum):
    """Alternatives of ENB-ID (macro and home are root; short/long macro are extension additions)."""

    macro_eNB_ID = 0
    home_eNB_ID = 1
    short_Macro_eNB_ID = 2
    long_Macro_eNB_ID = 3


ENB_ID_BITS: dict[ENBIDKind, int] = {
    ENBIDKind.macro_eNB_ID: 20,
    ENBIDKind.home_eNB_ID: 28,
    ENBIDKind.short_Macro_eNB_ID: 18,
    ENBIDKind.long_Macro_eNB_ID: 21,
}


@dataclass(slots=True)
class GlobalENBID:
    pLMN_Identity: bytes
    eNB_ID_kind: ENBIDKind
    eNB_ID: int


class ENBIDChoiceKind(enum.Enum):
    """Alternatives of ENB-ID-Choice (all root)."""

    enb_ID_macro = 0
    enb_ID_shortmacro = 1
    enb_ID_longmacro = 2


ENB_ID_CHOICE_BITS: dict[ENBIDChoiceKind, int] = {
    ENBIDChoiceKind.enb_ID_macro: 20,
    ENBIDChoiceKind.enb_ID_shortmacro: 18,
    ENBIDChoiceKind.enb_ID_longmacro: 21,
}


@dataclass(slots=True)
class GlobalngeNBID:
    plmn_id: bytes
    enb_id_kind: ENBIDChoiceKind
    enb_id: int


@dataclass(slots=True)
class GlobalE2nodeGnbID:
    """GlobalE2node-ID alternative gNB (GlobalE2node-gNB-ID)."""

    global_gNB_ID: GlobalgNBID
    global_en_gNB_ID: GlobalenGNBID | None = None
    gNB_CU_UP_ID: int | None = None
    gNB_DU_ID: int | None = None


@dataclass(slots=True)
class GlobalE2nodeEnGnbID:
    """GlobalE2node-ID alternative en-gNB."""

    global_en_gNB_ID: GlobalenGNBID
    en_gNB_CU_UP_ID: int | None = None
    en_gNB_DU_ID: int | None = None


@dataclass(slots=True)
class GlobalE2nodeNgEnbID:
    """GlobalE2node-ID alternative ng-eNB."""

    global_ng_eNB_ID: GlobalngeNBID
    global_eNB_ID: GlobalENBID | None = None
    ngENB_DU_ID: int | None = None


@dataclass(slots=True)
class GlobalE2nodeEnbID:
    """GlobalE2node-ID alternative eNB."""

    global_eNB_ID: GlobalENBID


GlobalE2nodeID = GlobalE2nodeGnbID | GlobalE2nodeEnGnbID | GlobalE2nodeNgEnbID | GlobalE2nodeEnbID


@dataclass(slots=True)
class GlobalRICID:
    pLMN_Identity: bytes
    ric_ID: int  # BIT STRING (SIZE(20)) as an integer


# ------------------------------------------------------------------------------------- RAN functions


@dataclass(slots=True)
class RANfunctionItem:
    """RANfunction-Item: what an E2 node offers (definition = E2SM RAN function definition bytes)."""

    ranFunctionID: int
    ranFunctionDefinition: bytes
    ranFunctionRevision: int
    ranFunctionOID: str


@dataclass(slots=True)
class RANfunctionIDItem:
    ranFunctionID: int
    ranFunctionRevision: int


@dataclass(slots=True)
class RANfunctionIDcauseItem:
    ranFunctionID: int
    cause: Cause


# --------------------------------------------------------------------------------------- subscriptions


@dataclass(slots=True)
class RICsubsequentAction:
    ricSubsequentActionType: RICsubsequentActionType
    ricTimeToWait: RICtimeToWait


@dataclass(slots=True)
class RICactionToBeSetupItem:
    ricActionID: int
    ricActionType: RICactionType
    ricActionDefinition: bytes | None = None
    ricSubsequentAction: RICsubsequentAction | None = None


@dataclass(slots=True)
class RICsubscriptionDetails:
    ricEventTriggerDefinition: bytes
    ricAction_ToBeSetup_List: list[RICactionToBeSetupItem]


@dataclass(slots=True)
class RICactionNotAdmittedItem:
    ricActionID: int
    cause: Cause


@dataclass(slots=True)
class RICsubscriptionWithCauseItem:
    """RICsubscription-withCause-Item (RICsubscriptionDeleteRequired)."""

    ricRequestID: RICrequestID
    ranFunctionID: int
    cause: Cause


# ------------------------------------------------------------------------------------- diagnostics


@dataclass(slots=True)
class CriticalityDiagnosticsIEItem:
    iECriticality: Criticality
    iE_ID: int
    typeOfError: TypeOfError


@dataclass(slots=True)
class CriticalityDiagnostics:
    procedureCode: int | None = None
    triggeringMessage: TriggeringMessage | None = None
    procedureCriticality: Criticality | None = None
    ricRequestorID: RICrequestID | None = None
    iEsCriticalityDiagnostics: list[CriticalityDiagnosticsIEItem] | None = None


@dataclass(slots=True)
class TNLinformation:
    tnlAddress: BitString
    tnlPort: int | None = None  # BIT STRING (SIZE(16)) as an integer


# ------------------------------------------------------------------------------ E2 node components


@dataclass(slots=True)
class E2nodeComponentInterfaceNG:
    amf_name: str


@dataclass(slots=True)
class E2nodeComponentInterfaceXn:
    global_NG_RAN_Node_ID: GlobalgNBID | GlobalngeNBID


@dataclass(slots=True)
class E2nodeComponentInterfaceE1:
    gNB_CU_UP_ID: int


@dataclass(slots=True)
class E2nodeComponentInterfaceF1:
    gNB_DU_ID: int


@dataclass(slots=True)
class E2nodeComponentInterfaceW1:
    ng_eNB_DU_ID: int


@dataclass(slots=True)
class E2nodeComponentInterfaceS1:
    mme_name: str


@dataclass(slots=True)
class E2nodeComponentInterfaceX2:
    global_eNB_ID: GlobalENBID | None = None
    global_en_gNB_ID: GlobalenGNBID | None = None


# E2nodeComponentID ::= CHOICE, in the spec's alternative order
E2nodeComponentID = (
    E2nodeComponentInterfaceNG
    | E2nodeComponentInterfaceXn
    | E2nodeComponentInterfaceE1
    | E2nodeComponentInterfaceF1
    | E2nodeComponentInterfaceW1
    | E2nodeComponentInterfaceS1
    | E2nodeComponentInterfaceX2
)
E2NODE_COMPONENT_ID_ALTERNATIVES: tuple[type, ...] = (
    E2nodeComponentInterfaceNG,
    E2nodeComponentInterfaceXn,
    E2nodeComponentInterfaceE1,
    E2nodeComponentInterfaceF1,
    E2nodeComponentInterfaceW1,
    E2nodeComponentInterfaceS1,
    E2nodeComponentInterfaceX2,
)


@dataclass(slots=True)
class E2nodeComponentConfiguration:
    e2nodeComponentRequestPart: bytes
    e2nodeComponentResponsePart: bytes


@dataclass(slots=True)
class E2nodeComponentConfigurationAck:
    updateOutcome: UpdateOutcome
    failureCause: Cause | None = None


@dataclass(slots=True)
class E2nodeComponentConfigAdditionItem:
    """Also the shape of E2nodeComponentConfigUpdate-Item."""

    e2nodeComponentInterfaceType: E2nodeComponentInterfaceType
    e2nodeComponentID: E2nodeComponentID
    e2nodeComponentConfiguration: E2nodeComponentConfiguration


@dataclass(slots=True)
class E2nodeComponentConfigRemovalItem:
    e2nodeComponentInterfaceType: E2nodeComponentInterfaceType
    e2nodeComponentID: E2nodeComponentID


@dataclass(slots=True)
class E2nodeComponentConfigAckItem:
    """The shape of E2nodeComponentConfig{Addition,Update,Removal}Ack-Item."""

    e2nodeComponentInterfaceType: E2nodeComponentInterfaceType
    e2nodeComponentID: E2nodeComponentID
    e2nodeComponentConfigurationAck: E2nodeComponentConfigurationAck = field(
        default_factory=lambda: E2nodeComponentConfigurationAck(UpdateOutcome.success)
    )


@dataclass(slots=True)
class E2nodeTNLassociationRemovalItem:
    tnlInformation: TNLinformation
    tnlInformationRIC: TNLinformation
