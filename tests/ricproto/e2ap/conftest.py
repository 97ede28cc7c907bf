"""Hypothesis strategies for every E2AP message type (round-trip, cross-check and bad-input tests)."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from ricproto.e2ap import (
    CAUSE_ALTERNATIVES,
    ENB_ID_BITS,
    ENB_ID_CHOICE_BITS,
    MESSAGE_SPECS,
    BitString,
    Criticality,
    CriticalityDiagnostics,
    CriticalityDiagnosticsIEItem,
    E2nodeComponentConfigAckItem,
    E2nodeComponentConfigAdditionItem,
    E2nodeComponentConfigRemovalItem,
    E2nodeComponentConfiguration,
    E2nodeComponentConfigurationAck,
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
    RICcontrolAckRequest,
    RICindicationType,
    RICrequestID,
    RICsubscriptionDetails,
    RICsubscriptionWithCauseItem,
    RICsubsequentAction,
    RICsubsequentActionType,
    RICtimeToWait,
    TimeToWait,
    TNLinformation,
    TriggeringMessage,
    TypeOfError,
    UpdateOutcome,
)
from ricproto.e2ap.ies import Cause

PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


def bit_string(lb: int, ub: int) -> st.SearchStrategy[BitString]:
    return st.integers(lb, ub).flatmap(lambda n: st.integers(0, 2**n - 1).map(lambda v: BitString(v, n)))


u8 = st.integers(0, 255)
u12 = st.integers(0, 4095)
u16 = st.integers(0, 65535)
u36 = st.integers(0, 2**36 - 1)
octets = st.binary(max_size=48)
plmn = st.binary(min_size=3, max_size=3)


def printable(lb: int, ub: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=PRINTABLE, min_size=lb, max_size=ub)


def causes(v2_only: bool = False) -> st.SearchStrategy[Cause]:
    from ricproto.e2ap import ROOT_SIZE

    members = [m for cls in CAUSE_ALTERNATIVES for m in cls if not v2_only or m.value < ROOT_SIZE[cls]]
    return st.sampled_from(members)


def _enb_id(kind: ENBIDKind) -> st.SearchStrategy[GlobalENBID]:
    return st.builds(GlobalENBID, plmn, st.just(kind), st.integers(0, 2 ** ENB_ID_BITS[kind] - 1))


def _ng_enb_id(kind: ENBIDChoiceKind) -> st.SearchStrategy[GlobalngeNBID]:
    return st.builds(GlobalngeNBID, plmn, st.just(kind), st.integers(0, 2 ** ENB_ID_CHOICE_BITS[kind] - 1))


def message_strategies(v2_only: bool = False) -> dict[type, st.SearchStrategy]:
    """One strategy per message class; ``v2_only`` keeps to values an E2AP v2 peer knows."""
    cause = causes(v2_only)
    request_id = st.builds(RICrequestID, u16, u16)
    gnb = st.builds(GlobalgNBID, plmn, bit_string(22, 32))
    en_gnb = st.builds(GlobalenGNBID, plmn, bit_string(22, 32))
    enb = st.sampled_from(ENBIDKind).flatmap(_enb_id)
    ng_enb = st.sampled_from(ENBIDChoiceKind).flatmap(_ng_enb_id)
    node = st.one_of(
        st.builds(GlobalE2nodeGnbID, gnb, optional(en_gnb), optional(u36), optional(u36)),
        st.builds(GlobalE2nodeEnGnbID, en_gnb, optional(u36), optional(u36)),
        st.builds(GlobalE2nodeNgEnbID, ng_enb, optional(enb), optional(u36)),
        st.builds(GlobalE2nodeEnbID, enb),
    )
    ran_function = st.builds(RANfunctionItem, u12, st.binary(max_size=300), u12, printable(1, 60))
    ran_function_id = st.builds(RANfunctionIDItem, u12, u12)
    ran_function_cause = st.builds(RANfunctionIDcauseItem, u12, cause)
    subsequent = st.builds(
        RICsubsequentAction, st.sampled_from(RICsubsequentActionType), st.sampled_from(RICtimeToWait)
    )
    action = st.builds(
        RICactionToBeSetupItem, u8, st.sampled_from(RICactionType), optional(octets), optional(subsequent)
    )
    details = st.builds(RICsubscriptionDetails, octets, st.lists(action, min_size=1, max_size=4))
    diag_item = st.builds(
        CriticalityDiagnosticsIEItem, st.sampled_from(Criticality), u16, st.sampled_from(TypeOfError)
    )
    diagnostics = st.builds(
        CriticalityDiagnostics,
        optional(u8),
        optional(st.sampled_from(TriggeringMessage)),
        optional(st.sampled_from(Criticality)),
        optional(request_id),
        optional(st.lists(diag_item, min_size=1, max_size=3)),
    )
    tnl = st.builds(TNLinformation, bit_string(1, 160), optional(u16))
    component = st.one_of(
        st.builds(E2nodeComponentInterfaceNG, printable(1, 150)),
        st.builds(E2nodeComponentInterfaceXn, gnb | ng_enb),
        st.builds(E2nodeComponentInterfaceE1, u36),
        st.builds(E2nodeComponentInterfaceF1, u36),
        st.builds(E2nodeComponentInterfaceW1, u36),
        st.builds(E2nodeComponentInterfaceS1, printable(1, 150)),
        st.builds(E2nodeComponentInterfaceX2, optional(enb), optional(en_gnb)),
    )
    interface = st.sampled_from(E2nodeComponentInterfaceType)
    addition = st.builds(
        E2nodeComponentConfigAdditionItem,
        interface,
        component,
        st.builds(E2nodeComponentConfiguration, octets, octets),
    )
    removal = st.builds(E2nodeComponentConfigRemovalItem, interface, component)
    ack = st.builds(
        E2nodeComponentConfigAckItem,
        interface,
        component,
        st.builds(E2nodeComponentConfigurationAck, st.sampled_from(UpdateOutcome), optional(cause)),
    )
    tnl_removal = st.builds(E2nodeTNLassociationRemovalItem, tnl, tnl)

    def some(item: st.SearchStrategy, lb: int = 1) -> st.SearchStrategy[list]:
        return st.lists(item, min_size=lb, max_size=3)

    by_type = {
        "RICrequestID": request_id,
        "RANfunctionID": u12,
        "RICactionID": u8,
        "RICindicationSN": u16,
        "TransactionID": u8,
        "OCTET STRING": octets,
        "Cause": cause,
        "CriticalityDiagnostics": diagnostics,
        "GlobalE2node-ID": node,
        "GlobalRIC-ID": st.builds(GlobalRICID, plmn, st.integers(0, 2**20 - 1)),
        "TNLinformation": tnl,
        "RICsubscriptionDetails": details,
        "TimeToWait": st.sampled_from(TimeToWait),
        "RICindicationType": st.sampled_from(RICindicationType),
        "RICcontrolAckRequest": st.sampled_from(RICcontrolAckRequest),
        "RANfunctions-List": some(ran_function),
        "RANfunctionsID-List": some(ran_function_id),
        "RANfunctionsIDcause-List": some(ran_function_cause),
        "RICaction-Admitted-List": some(u8),
        "RICaction-NotAdmitted-List": some(st.builds(RICactionNotAdmittedItem, u8, cause), lb=0),
        "E2nodeComponentConfigAddition-List": some(addition),
        "E2nodeComponentConfigUpdate-List": some(addition),
        "E2nodeComponentConfigRemoval-List": some(removal),
        "E2nodeComponentConfigAdditionAck-List": some(ack),
        "E2nodeComponentConfigUpdateAck-List": some(ack),
        "E2nodeComponentConfigRemovalAck-List": some(ack),
        "E2nodeTNLassociationRemoval-List": some(tnl_removal),
        "RICsubscription-List-withCause": some(
            st.builds(RICsubscriptionWithCauseItem, request_id, u12, cause)
        ),
    }
    strategies = {}
    for spec in MESSAGE_SPECS:
        kwargs = {
            ie.field: by_type[ie.type.name] if ie.mandatory else optional(by_type[ie.type.name])
            for ie in spec.ies
        }
        strategies[spec.cls] = st.builds(spec.cls, **kwargs)
    return strategies


@pytest.fixture(scope="session")
def e2ap_messages() -> dict[type, st.SearchStrategy]:
    """Strategy per E2AP message class (all values of E2AP v3.01)."""
    return message_strategies()


@pytest.fixture(scope="session")
def e2ap_v2_messages() -> dict[type, st.SearchStrategy]:
    """Strategy per E2AP message class, restricted to values E2AP v2 knows (no v3 cause additions)."""
    return message_strategies(v2_only=True)
