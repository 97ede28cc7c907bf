"""E2AP requests built from the REST body, as OSC submgr builds them (pure functions).

ricRequestorID = the detail's XappEventInstanceId, ricInstanceID = the allocated E2 instance id;
event trigger and action definitions are the E2SM bytes of the body, unchanged.
"""

from __future__ import annotations

from ricproto.e2ap import (
    RICactionToBeSetupItem,
    RICactionType,
    RICrequestID,
    RICsubscriptionDeleteRequest,
    RICsubscriptionDetails,
    RICsubscriptionRequest,
    RICsubsequentAction,
    RICsubsequentActionType,
    RICtimeToWait,
)
from ricproto.subscription_api import ActionToBeSetup, SubscriptionDetail, SubscriptionParams

_SUBSEQUENT = {"continue": RICsubsequentActionType.continue_, "wait": RICsubsequentActionType.wait}


def time_to_wait(name: str) -> RICtimeToWait:
    """RICtimeToWait by the REST name. E2AP v2+ has no ``zero`` (v1 had): its shortest wait is w1ms."""
    return RICtimeToWait.w1ms if name == "zero" else RICtimeToWait[name]


def action_item(action: ActionToBeSetup) -> RICactionToBeSetupItem:
    subsequent = None
    if action.SubsequentAction is not None:
        subsequent = RICsubsequentAction(
            _SUBSEQUENT[action.SubsequentAction.SubsequentActionType],
            time_to_wait(action.SubsequentAction.TimeToWait),
        )
    definition = bytes(action.ActionDefinition) if action.ActionDefinition else None
    return RICactionToBeSetupItem(action.ActionID, RICactionType[action.ActionType], definition, subsequent)


def subscription_request(
    params: SubscriptionParams, detail: SubscriptionDetail, instance: int
) -> RICsubscriptionRequest:
    return RICsubscriptionRequest(
        ricRequestID=RICrequestID(detail.XappEventInstanceId, instance),
        ranFunctionID=params.RANFunctionID,
        ricSubscriptionDetails=RICsubscriptionDetails(
            bytes(detail.EventTriggers), [action_item(a) for a in detail.ActionToBeSetupList]
        ),
    )


def delete_request(requestor: int, instance: int, function: int) -> RICsubscriptionDeleteRequest:
    return RICsubscriptionDeleteRequest(RICrequestID(requestor, instance), function)
