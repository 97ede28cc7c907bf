"""Identities, signed access messages, trust records and RAN grants: round trips on real bytes and a
clear error for every kind of bad input."""

from __future__ import annotations

import json
import stat
from dataclasses import replace

import pytest

from ricproto import access, grant, identity, trust


def test_identity_files_keyring_and_bad_keys(tmp_path):
    private, public = identity.write_identity(tmp_path, "xapp-a")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert identity.write_identity(tmp_path, "xapp-a") == (private, public)  # kept, not regenerated
    key = identity.load_private_key(private)
    assert identity.raw_public_key(identity.load_public_key(public)) == identity.raw_public_key(key)
    (tmp_path / "junk.pub").write_text("not a key")
    ring = identity.KeyRing(tmp_path)
    assert ring.names() == ["xapp-a"] and "junk.pub" in ring.errors
    assert ring.raw("xapp-a") == identity.raw_public_key(key)
    with pytest.raises(identity.IdentityError):
        identity.load_private_key(public)
    with pytest.raises(identity.IdentityError):
        identity.write_identity(tmp_path, "../escape")
    with pytest.raises(identity.IdentityError):
        identity.b64decode("not base64!")


def test_signed_request_round_trip_canonical_form_and_tampering():
    key = identity.generate_key()
    req = access.sign_request(
        access.AccessRequest("r1", "xapp:a", "rc.handover", "e2node:g/cell:1", {"x": 1.5, "b": True}),
        key,
        now_ms=1_700_000_000_000,
        nonce="ab12",
    )
    wire = json.loads(access.encode_request(req))
    assert (wire["ts"], wire["nonce"]) == (1_700_000_000_000, "ab12") and wire["sig"]
    back = access.decode_request(access.encode_request(req))
    assert back == req and access.verify_request(back, key.public_key())
    # the canonical bytes: domain tag, sorted keys, no whitespace, every field but the signature
    assert access.canonical_request(req) == (
        b'twinric-access-request-v1\n{"action":"rc.handover","context":{"b":true,"x":1.5},"nonce":"ab12",'
        b'"request_id":"r1","resource":"e2node:g/cell:1","subject":"xapp:a","ts":1700000000000}'
    )
    for field, value in (("action", "rc.slice_quota"), ("ts_ms", 1), ("nonce", "cd"), ("context", {})):
        assert not access.verify_request(replace(req, **{field: value}), key.public_key())
    assert not access.verify_request(req, identity.generate_key().public_key())
    assert not access.verify_request(replace(req, signature="!!"), key.public_key())


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"ts": -1}, "ts"),
        ({"ts": "now"}, "ts"),
        ({"nonce": 5}, "nonce"),
        ({"nonce": "x" * 65}, "nonce"),
        ({"sig": 1}, "sig"),
    ],
)
def test_bad_signature_fields_name_the_field(patch, field):
    body = {"request_id": "r", "subject": "xapp:a", "action": "a", "resource": "r", **patch}
    with pytest.raises(access.AccessCodecError) as err:
        access.decode_request(json.dumps(body).encode())
    assert err.value.field == field


def test_revocations_round_trip_and_verify():
    key = identity.generate_key()
    rev = access.sign_revocation(access.AccessRevocation("v1", "e2node:g", "trust fell", 123), key)
    back = access.decode_revocation(access.encode_revocation(rev))
    assert back == rev and access.verify_revocation(back, key.public_key())
    assert not access.verify_revocation(replace(back, subject="xapp:x"), key.public_key())
    with pytest.raises(access.AccessCodecError):
        access.decode_revocation(b'{"revocation_id":"v","subject":"s","issued":-5}')
    assert access.revocation_covers("e2node:g", "xapp:a", "e2node:g/cell:1")
    assert access.revocation_covers("xapp:a", "xapp:a", "e2node:h/cell:1")
    assert access.revocation_covers("ue:5", "xapp:a", "e2node:h/ue:5") and not access.revocation_covers(
        "ue:5", "xapp:a", "e2node:h/ue:55"
    )
    assert not access.revocation_covers("e2node:g", "xapp:a", "e2node:gg/cell:1")
    assert access.salvage_request_id(b'{"request_id":"q","subject":3}') == "q"
    assert access.salvage_request_id(b"[1]") is None


def test_trust_records_round_trip_and_staleness():
    rec = trust.make_record(
        "e2node:gnb_1", 0.75, "twin", explanation="kpm ok", ttl_s=30, ts="2026-01-01T00:00:00+00:00"
    )
    assert trust.decode_record(trust.encode_record(rec)) == rec
    assert trust.key("e2node:gnb_1") == "{twinric-trust},e2node:gnb_1"
    assert trust.subject_of_key(b"{twinric-trust},xapp:a") == "xapp:a"
    t0 = rec.timestamp
    assert not rec.stale(t0 + 29, max_age_s=1) and rec.stale(t0 + 31, max_age_s=1000)  # its own ttl wins
    plain = trust.make_record("xapp:a", 1.0, "op", ts="2026-01-01T00:00:00+00:00")
    assert plain.stale(t0 + 61, 60) and not plain.stale(t0 + 59, 60)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"subject": "router:x", "score": 0.5, "ts": "2026-01-01T00:00:00+00:00", "source": "s"}, "subject"),
        ({"subject": "xapp:a", "score": 1.5, "ts": "2026-01-01T00:00:00+00:00", "source": "s"}, "score"),
        ({"subject": "xapp:a", "score": True, "ts": "2026-01-01T00:00:00+00:00", "source": "s"}, "score"),
        ({"subject": "xapp:a", "score": 0.5, "ts": "2026-01-01T00:00:00", "source": "s"}, "ts"),
        ({"subject": "xapp:a", "score": 0.5, "ts": "yesterday", "source": "s"}, "ts"),
        ({"subject": "xapp:a", "score": 0.5, "ts": "2026-01-01T00:00:00+00:00", "source": ""}, "source"),
        (
            {"subject": "xapp:a", "score": 0.5, "ts": "2026-01-01T00:00:00Z", "source": "s", "ttl_s": -1},
            "ttl_s",
        ),
    ],
)
def test_bad_trust_records_name_the_field(body, field):
    with pytest.raises(trust.TrustRecordError) as err:
        trust.decode_record(json.dumps(body))
    assert err.value.field == field
    with pytest.raises(trust.TrustRecordError):
        trust.decode_record(b"\xff")


def test_grants_round_trip_verify_and_bind_the_proof_to_the_payload():
    pdp, xapp = identity.generate_key(), identity.generate_key()
    g = grant.issue_grant(pdp, "xapp:a", "rc.handover", "gnb_1", identity.raw_public_key(xapp), 1000, 5000)
    raw = grant.encode_grant(g)
    assert raw[:4] == b"TWG1" and grant.decode_grant(raw) == g and grant.verify_grant(g, pdp.public_key())
    assert g.valid_at(1000) and g.valid_at(5999) and not g.valid_at(6000) and not g.valid_at(0, skew_ms=10)
    assert not grant.verify_grant(replace(g, meid="gnb_2"), pdp.public_key())
    assert not grant.verify_grant(g, xapp.public_key())
    trace = grant.control_trace(raw, b"pdu", xapp)
    got, proof = grant.split_trace(trace)
    assert got == raw and grant.verify_proof(g, proof, b"pdu") and not grant.verify_proof(g, proof, b"pdu2")


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda b: b"XXXX" + b[4:], "magic"),
        (lambda b: b[:30], "length"),
        (lambda b: b[:-1], "signature"),
        (lambda b: b[:70] + b"\xff" + b[71:], "subject"),  # inside the subject text
    ],
)
def test_bad_grants_name_the_field(mutate, field):
    pdp, xapp = identity.generate_key(), identity.generate_key()
    raw = grant.encode_grant(
        grant.issue_grant(pdp, "xapp:a", "rc.handover", "gnb_1", identity.raw_public_key(xapp), 1000, 5000)
    )
    with pytest.raises(grant.GrantError) as err:
        grant.decode_grant(mutate(raw))
    assert err.value.field == field
    with pytest.raises(grant.GrantError):
        grant.split_trace(b"\x00\x10short")
