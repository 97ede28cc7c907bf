"""The control gate on real E2AP/E2SM-RC octets and real grants: one refusal reason per way to fail."""

from __future__ import annotations

import time

import pytest
from control_messages import SUBJECT, handover, issue, revocation, slice_quota

from ricplt.e2term.control_gate import ControlGate, GateMode
from ricproto import grant, identity, mtypes
from ricproto.rmr import RmrMessage

MEID = "gnb_001_001_000001"


@pytest.fixture
def keys():
    return identity.generate_key(), identity.generate_key()  # the PDP's, the xApp's


def control(payload: bytes, trace: bytes = b"", meid: str = MEID, src: str = "127.0.0.1:4570") -> RmrMessage:
    return RmrMessage(mtypes.RIC_CONTROL_REQ, payload, meid=meid, src=src, trace=trace)


def gate(pdp_key, mode=GateMode.ENFORCE, **kw) -> ControlGate:
    return ControlGate(mode, pdp_key.public_key(), **kw)


def test_a_control_with_a_valid_grant_and_proof_passes_once(keys):
    pdp, xapp = keys
    g, payload = gate(pdp), handover()
    trace = grant.control_trace(issue(pdp, xapp, MEID), payload, xapp)
    verdict = g.check(control(payload, trace))
    assert verdict.forward and verdict.code == "granted" and verdict.subject == SUBJECT
    again = g.check(control(payload, trace))
    assert not again.forward and again.code == "replayed_control"
    other = handover(instance=2)  # the same grant, a new control with its own proof
    assert g.check(control(other, grant.control_trace(issue(pdp, xapp, MEID), other, xapp))).forward


@pytest.mark.parametrize(
    "case, code",
    [
        ("none", "no_grant"),
        ("garbage", "malformed_grant"),
        ("forged", "bad_grant_signature"),
        ("expired", "grant_expired"),
        ("other_node", "grant_wrong_node"),
        ("other_action", "grant_wrong_action"),
        ("stolen", "bad_proof"),
        ("proof_of_other_payload", "bad_proof"),
    ],
)
def test_each_way_to_fail_has_its_reason(keys, case, code):
    pdp, xapp = keys
    payload = handover()
    mallory = identity.generate_key()
    raw = {
        "forged": lambda: issue(mallory, xapp, MEID),
        "expired": lambda: issue(pdp, xapp, MEID, ttl_ms=1000, now_ms=int(time.time() * 1000) - 60_000),
        "other_node": lambda: issue(pdp, xapp, "gnb_001_001_000002"),
        "other_action": lambda: issue(pdp, xapp, MEID, action="rc.slice_quota"),
    }.get(case, lambda: issue(pdp, xapp, MEID))()
    trace = {
        "none": b"",
        "garbage": b"\x00\x03abc" + bytes(64),
        "stolen": grant.control_trace(
            raw, payload, mallory
        ),  # a grant copied off the wire, signed by another
        "proof_of_other_payload": grant.control_trace(raw, handover(instance=9), xapp),
    }.get(case, grant.control_trace(raw, payload, xapp) if case not in ("none", "garbage") else b"")
    verdict = gate(pdp).check(control(payload, trace))
    assert not verdict.forward and verdict.code == code, verdict
    assert verdict.request is not None and verdict.request.ricRequestID.ricInstanceID == 1  # to answer with


def test_slice_quota_needs_a_slice_quota_grant(keys):
    pdp, xapp = keys
    payload = slice_quota()
    ok = grant.control_trace(issue(pdp, xapp, MEID, action="rc.slice_quota"), payload, xapp)
    assert gate(pdp).check(control(payload, ok)).forward
    wrong = grant.control_trace(issue(pdp, xapp, MEID), payload, xapp)
    assert gate(pdp).check(control(payload, wrong)).code == "grant_wrong_action"


def test_revocation_refuses_earlier_grants_and_forged_revocations_are_ignored(keys):
    pdp, xapp = keys
    g = gate(pdp)
    old = issue(pdp, xapp, MEID, now_ms=int(time.time() * 1000) - 10)
    assert g.revoke(revocation(identity.generate_key()))[0] is False  # not the PDP's signature
    assert g.check(control(handover(1), grant.control_trace(old, handover(1), xapp))).forward
    assert g.revoke(revocation(pdp)) == (True, SUBJECT)
    assert g.check(control(handover(2), grant.control_trace(old, handover(2), xapp))).code == "grant_revoked"
    time.sleep(0.002)
    new = issue(pdp, xapp, MEID)
    assert g.check(control(handover(3), grant.control_trace(new, handover(3), xapp))).forward
    assert g.revoke(revocation(pdp, f"e2node:{MEID}"))[0]  # the node itself is revoked
    assert g.check(control(handover(4), grant.control_trace(new, handover(4), xapp))).code == "grant_revoked"
    assert g.revoke(b"{not json")[0] is False


def test_operator_allowed_senders_audit_mode_and_off(keys):
    pdp, _ = keys
    allowing = gate(pdp, allow_ungranted=["127.0.0.1:46*"])
    assert allowing.check(control(handover(), src="127.0.0.1:4650")).code == "allowed_ungranted"
    assert not allowing.check(control(handover(), src="127.0.0.1:4570")).forward
    audit = gate(pdp, GateMode.AUDIT).check(control(handover()))
    assert audit.forward and audit.code == "no_grant" and "audit only" in audit.detail
    assert ControlGate(GateMode.OFF, None).check(control(b"anything")).forward
    with pytest.raises(ValueError):
        ControlGate(GateMode.ENFORCE, None)


def test_a_control_that_does_not_decode_is_refused_without_a_request(keys):
    verdict = gate(keys[0]).check(control(b"\x00\x01junk"))
    assert not verdict.forward and verdict.code == "malformed_control" and verdict.request is None
