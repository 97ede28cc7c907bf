"""E2AP messages (the v2/v3 common subset) as dataclasses; one field per protocol IE.

Field names are the IE names of the spec in lowerCamel (``id-RICrequestID`` -> ``ricRequestID``); optional
IEs default to ``None``. ``codec.encode``/``codec.decode`` turn them into E2AP-PDU bytes and back.

``received`` (not an IE; never compared) is set by ``decode``: how the peer wrote what the spec leaves to
the sender (criticalities, IE order, IEs we do not know), so a decoded message re-encodes to its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ricproto.e2ap.ies import (
    Cause,
    CriticalityDiagnostics,
    E2nodeComponentConfigAckItem,
    E2nodeComponentConfigAdditionItem,
    E2nodeComponentConfigRemovalItem,
    E2nodeTNLassociationRemovalItem,
    GlobalE2nodeID,
    GlobalRICID,
    RANfunctionIDcauseItem,
    RANfunctionIDItem,
    RANfunctionItem,
    RICactionNotAdmittedItem,
    RICcontrolAckRequest,
    RICindicationType,
    RICrequestID,
    RICsubscriptionDetails,
    RICsubscriptionWithCauseItem,
    TimeToWait,
    TNLinformation,
)
from ricproto.e2ap.received_form import ReceivedForm

__all__ = [
    "E2APMessage",
    "E2nodeConfigurationUpdate",
    "E2nodeConfigurationUpdateAcknowledge",
    "E2nodeConfigurationUpdateFailure",
    "E2setupFailure",
    "E2setupRequest",
    "E2setupResponse",
    "ErrorIndication",
    "RICcontrolAcknowledge",
    "RICcontrolFailure",
    "RICcontrolRequest",
    "RICindication",
    "RICserviceQuery",
    "RICserviceUpdate",
    "RICserviceUpdateAcknowledge",
    "RICserviceUpdateFailure",
    "RICsubscriptionDeleteFailure",
    "RICsubscriptionDeleteRequest",
    "RICsubscriptionDeleteRequired",
    "RICsubscriptionDeleteResponse",
    "RICsubscriptionFailure",
    "RICsubscriptionRequest",
    "RICsubscriptionResponse",
    "ResetRequest",
    "ResetResponse",
]

# ------------------------------------------------------------------------------------------ E2 setup


@dataclass(slots=True)
class E2setupRequest:
    transactionID: int
    globalE2nodeID: GlobalE2nodeID
    ranFunctionsAdded: list[RANfunctionItem]
    e2nodeComponentConfigAddition: list[E2nodeComponentConfigAdditionItem]
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class E2setupResponse:
    transactionID: int
    globalRICID: GlobalRICID
    e2nodeComponentConfigAdditionAck: list[E2nodeComponentConfigAckItem]
    ranFunctionsAccepted: list[RANfunctionIDItem] | None = None
    ranFunctionsRejected: list[RANfunctionIDcauseItem] | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class E2setupFailure:
    transactionID: int
    cause: Cause
    timeToWait: TimeToWait | None = None
    criticalityDiagnostics: CriticalityDiagnostics | None = None
    tnlInformation: TNLinformation | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


# ------------------------------------------------------------------------------------ subscription


@dataclass(slots=True)
class RICsubscriptionRequest:
    ricRequestID: RICrequestID
    ranFunctionID: int
    ricSubscriptionDetails: RICsubscriptionDetails
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RICsubscriptionResponse:
    ricRequestID: RICrequestID
    ranFunctionID: int
    ricActionsAdmitted: list[int]  # RICaction-Admitted-Item carries only the ricActionID
    ricActionsNotAdmitted: list[RICactionNotAdmittedItem] | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RICsubscriptionFailure:
    ricRequestID: RICrequestID
    ranFunctionID: int
    cause: Cause
    criticalityDiagnostics: CriticalityDiagnostics | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RICsubscriptionDeleteRequest:
    ricRequestID: RICrequestID
    ranFunctionID: int
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RICsubscriptionDeleteResponse:
    ricRequestID: RICrequestID
    ranFunctionID: int
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RICsubscriptionDeleteFailure:
    ricRequestID: RICrequestID
    ranFunctionID: int
    cause: Cause
    criticalityDiagnostics: CriticalityDiagnostics | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RICsubscriptionDeleteRequired:
    """E2 node -> RIC: subscriptions the node has to remove (decoded from both id numberings, see codec)."""

    ricSubscriptionToBeRemoved: list[RICsubscriptionWithCauseItem]
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


# ---------------------------------------------------------------------------------------- indication


@dataclass(slots=True)
class RICindication:
    ricRequestID: RICrequestID
    ranFunctionID: int
    ricActionID: int
    ricIndicationType: RICindicationType
    ricIndicationHeader: bytes
    ricIndicationMessage: bytes
    ricIndicationSN: int | None = None
    ricCallProcessID: bytes | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


# ------------------------------------------------------------------------------------------- control


@dataclass(slots=True)
class RICcontrolRequest:
    ricRequestID: RICrequestID
    ranFunctionID: int
    ricControlHeader: bytes
    ricControlMessage: bytes
    ricCallProcessID: bytes | None = None
    ricControlAckRequest: RICcontrolAckRequest | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RICcontrolAcknowledge:
    ricRequestID: RICrequestID
    ranFunctionID: int
    ricCallProcessID: bytes | None = None
    ricControlOutcome: bytes | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RICcontrolFailure:
    ricRequestID: RICrequestID
    ranFunctionID: int
    cause: Cause
    ricCallProcessID: bytes | None = None
    ricControlOutcome: bytes | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


# ------------------------------------------------------------------------------- global procedures


@dataclass(slots=True)
class ErrorIndication:
    transactionID: int | None = None
    ricRequestID: RICrequestID | None = None
    ranFunctionID: int | None = None
    cause: Cause | None = None
    criticalityDiagnostics: CriticalityDiagnostics | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class ResetRequest:
    transactionID: int
    cause: Cause
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class ResetResponse:
    transactionID: int
    criticalityDiagnostics: CriticalityDiagnostics | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RICserviceUpdate:
    transactionID: int
    ranFunctionsAdded: list[RANfunctionItem] | None = None
    ranFunctionsModified: list[RANfunctionItem] | None = None
    ranFunctionsDeleted: list[RANfunctionIDItem] | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RICserviceUpdateAcknowledge:
    transactionID: int
    ranFunctionsAccepted: list[RANfunctionIDItem] | None = None
    ranFunctionsRejected: list[RANfunctionIDcauseItem] | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RICserviceUpdateFailure:
    transactionID: int
    cause: Cause
    timeToWait: TimeToWait | None = None
    criticalityDiagnostics: CriticalityDiagnostics | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RICserviceQuery:
    transactionID: int
    ranFunctionsAccepted: list[RANfunctionIDItem] | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class E2nodeConfigurationUpdate:
    transactionID: int
    globalE2nodeID: GlobalE2nodeID | None = None
    e2nodeComponentConfigAddition: list[E2nodeComponentConfigAdditionItem] | None = None
    e2nodeComponentConfigUpdate: list[E2nodeComponentConfigAdditionItem] | None = None  # same item shape
    e2nodeComponentConfigRemoval: list[E2nodeComponentConfigRemovalItem] | None = None
    e2nodeTNLassociationRemoval: list[E2nodeTNLassociationRemovalItem] | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class E2nodeConfigurationUpdateAcknowledge:
    transactionID: int
    e2nodeComponentConfigAdditionAck: list[E2nodeComponentConfigAckItem] | None = None
    e2nodeComponentConfigUpdateAck: list[E2nodeComponentConfigAckItem] | None = None
    e2nodeComponentConfigRemovalAck: list[E2nodeComponentConfigAckItem] | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class E2nodeConfigurationUpdateFailure:
    transactionID: int
    cause: Cause
    timeToWait: TimeToWait | None = None
    criticalityDiagnostics: CriticalityDiagnostics | None = None
    received: ReceivedForm | None = field(default=None, compare=False, repr=False)


E2APMessage = (
    E2setupRequest
    | E2setupResponse
    | E2setupFailure
    | RICsubscriptionRequest
    | RICsubscriptionResponse
    | RICsubscriptionFailure
    | RICsubscriptionDeleteRequest
    | RICsubscriptionDeleteResponse
    | RICsubscriptionDeleteFailure
    | RICsubscriptionDeleteRequired
    | RICindication
    | RICcontrolRequest
    | RICcontrolAcknowledge
    | RICcontrolFailure
    | ErrorIndication
    | ResetRequest
    | ResetResponse
    | RICserviceUpdate
    | RICserviceUpdateAcknowledge
    | RICserviceUpdateFailure
    | RICserviceQuery
    | E2nodeConfigurationUpdate
    | E2nodeConfigurationUpdateAcknowledge
    | E2nodeConfigurationUpdateFailure
)
