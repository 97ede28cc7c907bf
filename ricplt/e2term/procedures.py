"""The answers the E2 termination gives itself to node-initiated procedures (pure functions).

In an OSC RIC, e2mgr decides E2 Setup and E2T relays; locally there is no e2mgr, so the termination
accepts what e2mgr accepts: every offered RAN function, every component configuration item.
"""

from __future__ import annotations

from ricproto.e2ap import (
    CauseProtocol,
    E2CodecError,
    E2nodeComponentConfigAckItem,
    E2nodeConfigurationUpdate,
    E2nodeConfigurationUpdateAcknowledge,
    E2setupRequest,
    E2setupResponse,
    ErrorIndication,
    GlobalRICID,
    RANfunctionIDItem,
    ResetRequest,
    ResetResponse,
    RICserviceUpdate,
    RICserviceUpdateAcknowledge,
    plmn_to_bytes,
)

RIC_ID_BITS = 20


def global_ric_id(plmn: str, ric_id: int) -> GlobalRICID:
    """GlobalRIC-ID from ``"MCCMNC"`` and the 20-bit ric-ID (e2mgr's defaults: 310411, 0xAACCE)."""
    if not 0 <= ric_id < 1 << RIC_ID_BITS:
        raise ValueError(f"ric-ID is 20 bits, got {ric_id:#x}")
    return GlobalRICID(plmn_to_bytes(plmn), ric_id)


def setup_response(request: E2setupRequest, ric: GlobalRICID) -> E2setupResponse:
    """E2setupResponse accepting every offered RAN function and acknowledging every component item."""
    return E2setupResponse(
        transactionID=request.transactionID,
        globalRICID=ric,
        e2nodeComponentConfigAdditionAck=[
            E2nodeComponentConfigAckItem(item.e2nodeComponentInterfaceType, item.e2nodeComponentID)
            for item in request.e2nodeComponentConfigAddition
        ],
        ranFunctionsAccepted=[
            RANfunctionIDItem(f.ranFunctionID, f.ranFunctionRevision) for f in request.ranFunctionsAdded
        ]
        or None,
    )


def service_update_acknowledge(update: RICserviceUpdate) -> RICserviceUpdateAcknowledge:
    """Accept every added and modified RAN function (deletions need no acceptance)."""
    offered = [*(update.ranFunctionsAdded or []), *(update.ranFunctionsModified or [])]
    return RICserviceUpdateAcknowledge(
        transactionID=update.transactionID,
        ranFunctionsAccepted=[RANfunctionIDItem(f.ranFunctionID, f.ranFunctionRevision) for f in offered]
        or None,
    )


def configuration_update_acknowledge(
    update: E2nodeConfigurationUpdate,
) -> E2nodeConfigurationUpdateAcknowledge:
    """Acknowledge every added, updated and removed component configuration item with success."""

    def acks(items: list | None) -> list[E2nodeComponentConfigAckItem] | None:
        if not items:
            return None
        return [
            E2nodeComponentConfigAckItem(i.e2nodeComponentInterfaceType, i.e2nodeComponentID) for i in items
        ]

    return E2nodeConfigurationUpdateAcknowledge(
        transactionID=update.transactionID,
        e2nodeComponentConfigAdditionAck=acks(update.e2nodeComponentConfigAddition),
        e2nodeComponentConfigUpdateAck=acks(update.e2nodeComponentConfigUpdate),
        e2nodeComponentConfigRemovalAck=acks(update.e2nodeComponentConfigRemoval),
    )


def reset_response(request: ResetRequest) -> ResetResponse:
    return ResetResponse(transactionID=request.transactionID)


def decode_error_cause(error: E2CodecError) -> CauseProtocol:
    """Protocol cause for a PDU that failed to decode.

    A failure at the E2AP-PDU level (framing, CHOICE, open type, unknown procedure) means the bytes are
    not a PDU we can parse: transfer-syntax-error. A failure inside a known message (missing or
    malformed IE) means the PDU parsed but is falsely constructed: abstract-syntax-error.
    """
    if error.message == "E2AP-PDU":
        if error.reason.startswith("unsupported procedure code"):
            return CauseProtocol.abstract_syntax_error_reject  # well formed, but not a procedure we know
        return CauseProtocol.transfer_syntax_error
    return CauseProtocol.abstract_syntax_error_falsely_constructed_message


def error_indication(error: E2CodecError) -> ErrorIndication:
    return ErrorIndication(cause=decode_error_cause(error))
