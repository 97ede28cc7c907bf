"""Which RMR message an uplink E2AP PDU becomes (OSC E2T's choice of mtype and sub_id); pure.

The payload is always the whole PDU as received and the meid the node's RAN name; only the message
type and sub_id depend on the message. E2T sets sub_id = RICrequestID.ricInstanceID for every message
that carries a RIC request id, which is what the routes keyed by subscription (12050, 12041/12042, and
submgr's answers) match on.
"""

from __future__ import annotations

from dataclasses import dataclass

from ricproto import mtypes
from ricproto.e2ap import (
    E2APMessage,
    ErrorIndication,
    RICcontrolAcknowledge,
    RICcontrolFailure,
    RICindication,
    RICsubscriptionDeleteFailure,
    RICsubscriptionDeleteResponse,
    RICsubscriptionFailure,
    RICsubscriptionResponse,
)
from ricproto.rmr.states import SUB_ID_NONE

RELAYED: dict[type, int] = {
    RICindication: mtypes.RIC_INDICATION,
    RICsubscriptionResponse: mtypes.RIC_SUB_RESP,
    RICsubscriptionFailure: mtypes.RIC_SUB_FAILURE,
    RICsubscriptionDeleteResponse: mtypes.RIC_SUB_DEL_RESP,
    RICsubscriptionDeleteFailure: mtypes.RIC_SUB_DEL_FAILURE,
    RICcontrolAcknowledge: mtypes.RIC_CONTROL_ACK,
    RICcontrolFailure: mtypes.RIC_CONTROL_FAILURE,
    ErrorIndication: mtypes.RIC_E2_RIC_ERROR_INDICATION,
}


@dataclass(frozen=True, slots=True)
class UplinkRoute:
    mtype: int
    sub_id: int


def uplink_route(message: E2APMessage) -> UplinkRoute | None:
    """The RMR type and sub_id for a relayed uplink message; None for messages E2T does not relay."""
    mtype = RELAYED.get(type(message))
    if mtype is None:
        return None
    request = getattr(message, "ricRequestID", None)
    sub_id = request.ricInstanceID if request is not None else SUB_ID_NONE
    return UplinkRoute(mtype, sub_id)
