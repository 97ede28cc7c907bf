"""Fixtures of the PDP tests: identities, trust records in a real Redis, and a decision point built
on them with the shipped default policy."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ricproto import access, identity
from xapps.common.metrics import XappMetrics
from xapps.pdp.decision_log import DecisionLog
from xapps.pdp.decision_point import PolicyDecisionPoint
from xapps.pdp.trust_view import TrustView
from xapps.pdp.zero_trust_policy import default_policy_body, parse_policy

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from pdp_fixtures import CELL, MEID, SUBJECT, XAPP, set_trust  # noqa: E402


@dataclass
class Keys:
    directory: Path
    pdp: identity.Ed25519PrivateKey
    xapp: identity.Ed25519PrivateKey
    ring: identity.KeyRing


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    d = tmp_path / "keys"
    pdp_key, _ = identity.write_identity(tmp_path / "pdp", "twinric-pdp")
    xapp_key, _ = identity.write_identity(d, XAPP)
    return Keys(
        d, identity.load_private_key(pdp_key), identity.load_private_key(xapp_key), identity.KeyRing(d)
    )


@dataclass
class Pdp:
    point: PolicyDecisionPoint
    trust: TrustView
    log: DecisionLog
    keys: Keys
    client: object

    def signed(self, action: str = "rc.handover", resource: str = CELL, rid: str = "r1", **ctx) -> bytes:
        req = access.AccessRequest(rid, SUBJECT, action, resource, {"meid": MEID, **ctx})
        return access.encode_request(access.sign_request(req, self.keys.xapp))

    def ask(self, payload: bytes) -> access.AccessResponse:
        (answer,) = self.point.decide_payloads([payload])
        assert answer is not None
        return access.decode_response(answer)


@pytest.fixture
def pdp(redis_client, keys, tmp_path) -> Iterator[Pdp]:
    metrics = XappMetrics("pdp-test")
    view = TrustView(redis_client, metrics, scan_s=0.2)
    dlog = DecisionLog(redis_client, metrics, file_path=tmp_path / "decisions.jsonl").start()
    point = PolicyDecisionPoint(view, keys.ring, dlog, keys.pdp, metrics)
    point.set_policy(parse_policy(default_policy_body(), "default"))
    set_trust(redis_client, SUBJECT, 0.9)
    set_trust(redis_client, f"e2node:{MEID}", 0.8)
    view.start()
    try:
        yield Pdp(point, view, dlog, keys, redis_client)
    finally:
        view.stop()
        dlog.stop()
