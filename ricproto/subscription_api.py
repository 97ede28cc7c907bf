"""The submgr REST API body (OSC xapp-frame ``api/xapp_rest_api.yaml``), as pydantic models.

Field names are PascalCase exactly as submgr expects them; ``ricxappframe.xapp_subscribe`` emits
snake_case names submgr ignores, which is why xApps here use these models instead. The same models
validate requests in the local submgr stand-in, so both sides agree by construction.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Byte = Annotated[int, Field(ge=0, le=255)]

# RICtimeToWait of E2AP, by name.
TimeToWaitName = Literal[
    "zero", "w1ms", "w2ms", "w5ms", "w10ms", "w20ms", "w30ms", "w40ms", "w50ms", "w100ms", "w200ms",
    "w500ms", "w1s", "w2s", "w5s", "w10s", "w20s", "w60s",
]


class _Model(BaseModel):
    # Unknown fields are ignored, as OSC's submgr (go-swagger) ignores them: xApps written against other
    # versions of the API send extra fields, and refusing them breaks those xApps for nothing.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ClientEndpoint(_Model):
    Host: Annotated[str, Field(min_length=1)]
    HTTPPort: Annotated[int, Field(ge=0, le=65535)] | None = None
    RMRPort: Annotated[int, Field(ge=0, le=65535)]

    def rmr_endpoint(self) -> str:
        """submgr's derivation of the xApp's RMR endpoint: every ``http`` in Host becomes ``rmr``."""
        return f"{self.Host.replace('http', 'rmr')}:{self.RMRPort}"

    def notification_url(self) -> str:
        return f"http://{self.Host}:{self.HTTPPort}/ric/v1/subscriptions/response"


class SubsequentAction(_Model):
    SubsequentActionType: Literal["continue", "wait"]
    TimeToWait: TimeToWaitName


# Field names equal to class names (as in the spec) would shadow the types; annotate via aliases.
_SubsequentAction = SubsequentAction


class ActionToBeSetup(_Model):
    ActionID: Annotated[int, Field(ge=0, le=255)]
    ActionType: Literal["report", "insert", "policy"]
    ActionDefinition: list[Byte] | None = None
    SubsequentAction: _SubsequentAction | None = None


class SubscriptionDetail(_Model):
    XappEventInstanceId: Annotated[int, Field(ge=0, le=65535)]
    EventTriggers: Annotated[list[Byte], Field(min_length=1)]
    ActionToBeSetupList: Annotated[list[ActionToBeSetup], Field(min_length=1)]


class E2SubscriptionDirectives(_Model):
    E2TimeoutTimerValue: Annotated[int, Field(ge=1, le=10)] | None = None
    E2RetryCount: Annotated[int, Field(ge=0, le=10)] | None = None
    RMRRoutingNeeded: bool | None = None


_ClientEndpoint = ClientEndpoint
_E2SubscriptionDirectives = E2SubscriptionDirectives


class SubscriptionParams(_Model):
    """``POST /ric/v1/subscriptions`` body: one E2 node (``Meid``), one RAN function."""

    SubscriptionId: str | None = None
    ClientEndpoint: _ClientEndpoint
    Meid: Annotated[str, Field(min_length=1)]
    RANFunctionID: Annotated[int, Field(ge=0, le=4095)]
    E2SubscriptionDirectives: _E2SubscriptionDirectives | None = None
    SubscriptionDetails: Annotated[list[SubscriptionDetail], Field(min_length=1)]

    def content_key(self) -> str:
        """Digest of what the subscription asks for (not who resends it): identical requests merge."""
        body = self.model_dump(exclude={"SubscriptionId"}, exclude_none=True)
        return hashlib.md5(json.dumps(body, sort_keys=True).encode()).hexdigest()


class SubscriptionInstance(_Model):
    XappEventInstanceId: int
    E2EventInstanceId: int
    ErrorCause: str | None = None
    ErrorSource: Literal["SUBMGR", "RTMGR", "DBAAS", "ASN1", "E2Node"] | None = None
    TimeoutType: Literal["E2-Timeout", "RTMGR-Timeout", "DBAAS-Timeout"] | None = None


class SubscriptionResponse(_Model):
    """The 201 answer and, with the E2 instance ids filled in, the asynchronous notification."""

    SubscriptionId: str
    SubscriptionInstances: list[SubscriptionInstance] | None = None
