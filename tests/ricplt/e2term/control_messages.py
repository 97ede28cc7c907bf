"""Real RIC control requests (E2AP + E2SM-RC octets) and PDP grants for the control-gate tests."""

from __future__ import annotations

import time

from ricproto import access, grant, identity
from ricproto.e2ap import RICcontrolAckRequest, RICcontrolRequest, RICrequestID, encode
from ricproto.e2sm import rc
from ricproto.e2sm.identities import NrCgi, SNssai
from ricproto.e2sm.ueid import UeIdGnbDu

PLMN = bytes.fromhex("00f110")
SUBJECT = "xapp:twinric-control"


def handover(instance: int = 1, ue: int = 5) -> bytes:
    header, message = rc.HandoverControl(UeIdGnbDu(ue), NrCgi(PLMN, 32769)).encode()
    return encode(
        RICcontrolRequest(
            RICrequestID(1, instance),
            rc.RAN_FUNCTION_ID,
            header,
            message,
            ricControlAckRequest=RICcontrolAckRequest.ack,
        )
    )


def slice_quota(instance: int = 2) -> bytes:
    header, message = rc.SliceQuotaControl.single(UeIdGnbDu(0), PLMN, SNssai(1, 1), 10, 90, 0).encode()
    return encode(RICcontrolRequest(RICrequestID(1, instance), rc.RAN_FUNCTION_ID, header, message))


def issue(
    pdp_key, xapp_key, meid: str, action: str = "rc.handover", ttl_ms: int = 10_000, now_ms=None
) -> bytes:
    g = grant.issue_grant(
        pdp_key,
        SUBJECT,
        action,
        meid,
        identity.raw_public_key(xapp_key),
        int(time.time() * 1000) if now_ms is None else now_ms,
        ttl_ms,
    )
    return grant.encode_grant(g)


def revocation(pdp_key, subject: str = SUBJECT) -> bytes:
    rev = access.AccessRevocation("rev-1", subject, "test", int(time.time() * 1000))
    return access.encode_revocation(access.sign_revocation(rev, pdp_key))
