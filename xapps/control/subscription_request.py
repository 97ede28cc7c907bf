"""The submgr REST body of the control xApp's KPM subscription to one E2 node."""

from __future__ import annotations

from ricproto.e2sm import kpm
from ricproto.subscription_api import (
    ActionToBeSetup,
    ClientEndpoint,
    SubscriptionDetail,
    SubscriptionParams,
    SubsequentAction,
)
from xapps.control.ran_view import RanInventory

XAPP_EVENT_INSTANCE_ID = 1


def kpm_subscription(
    inventory: RanInventory, meid: str, client_host: str, http_port: int, rmr_port: int
) -> SubscriptionParams:
    """One REPORT subscription per node: the node's cell- and UE-level actions, one trigger period."""
    actions = [
        ActionToBeSetup(
            ActionID=action_id,
            ActionType="report",
            ActionDefinition=list(definition),
            SubsequentAction=SubsequentAction(SubsequentActionType="continue", TimeToWait="zero"),
        )
        for action_id, definition in inventory.action_definitions(meid)
    ]
    return SubscriptionParams(
        ClientEndpoint=ClientEndpoint(Host=client_host, HTTPPort=http_port, RMRPort=rmr_port),
        Meid=meid,
        RANFunctionID=kpm.RAN_FUNCTION_ID,
        SubscriptionDetails=[
            SubscriptionDetail(
                XappEventInstanceId=XAPP_EVENT_INSTANCE_ID,
                EventTriggers=list(inventory.event_trigger()),
                ActionToBeSetupList=actions,
            )
        ],
    )
