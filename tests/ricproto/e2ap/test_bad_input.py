"""Malformed PDUs (truncated, mutated, random) raise only E2CodecError, naming the message when known."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ricproto.e2ap import MESSAGE_SPECS, E2CodecError, decode, encode

KNOWN_NAMES = {"E2AP-PDU"} | {spec.name for spec in MESSAGE_SPECS}


def _decode_or_codec_error(data: bytes) -> object | None:
    """Decode; a failure must be an E2CodecError whose message is the PDU or a known message name."""
    try:
        return decode(data)
    except E2CodecError as exc:
        assert exc.message in KNOWN_NAMES
        assert exc.reason
        return None


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_truncated_and_mutated_messages(data: st.DataObject, e2ap_messages: dict) -> None:
    cls = data.draw(st.sampled_from(sorted(e2ap_messages, key=lambda c: c.__name__)))
    encoded = encode(data.draw(e2ap_messages[cls]))
    for cut in range(len(encoded)):  # every proper prefix
        result = _decode_or_codec_error(encoded[:cut])
        assert result is None or type(result) is cls  # a prefix may only ever decode as the same message
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1)))
    for _ in range(30):  # flip 1..3 random bytes
        mutated = bytearray(encoded)
        for _ in range(rng.randint(1, 3)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        _decode_or_codec_error(bytes(mutated))


def test_random_bytes() -> None:
    rng = random.Random(20261122)
    results = [_decode_or_codec_error(rng.randbytes(rng.randint(0, 64))) for _ in range(3000)]
    # Every input either decoded to a known message or was refused with E2CodecError (checked above).
    assert all(r is None or type(r).__name__ in KNOWN_NAMES for r in results)
    assert sum(r is None for r in results) > 2000  # random bytes are almost never a valid PDU


def test_random_bodies_behind_valid_envelopes() -> None:
    """Random containers under every known procedure code: reaches the IE decoders, not just the envelope."""
    rng = random.Random(4)
    decoded = 0
    for _ in range(3000):
        spec = rng.choice(MESSAGE_SPECS)
        ies = []
        for _ in range(rng.randint(0, 4)):
            ie = rng.choice(spec.ies)
            value = rng.randbytes(rng.randint(0, 12))
            ies.append(ie.id.to_bytes(2, "big") + bytes((ie.criticality.value << 6, len(value))) + value)
        body = b"\x00" + len(ies).to_bytes(2, "big") + b"".join(ies)
        header = bytes((spec.kind << 5, spec.procedureCode, spec.criticality.value << 6, len(body)))
        if _decode_or_codec_error(header + body) is not None:
            decoded += 1
    assert decoded < 3000  # most random IE contents are invalid: the decoder must have said so


def test_non_bytes_input() -> None:
    for value in (None, "00", 5, [0, 1]):
        try:
            decode(value)  # type: ignore[arg-type]
        except E2CodecError as exc:
            assert exc.message == "E2AP-PDU"
        else:
            raise AssertionError(f"decode({value!r}) did not fail")


def test_unknown_reject_ie_is_refused_and_unknown_ignore_ie_skipped() -> None:
    from ricproto.e2ap import RICrequestID, RICsubscriptionDeleteRequest

    encoded = encode(RICsubscriptionDeleteRequest(RICrequestID(1, 2), 3))
    body = bytearray(encoded[4:])
    extra = {crit: (999).to_bytes(2, "big") + bytes((crit << 6, 1, 0)) for crit in (0, 1)}
    for crit, expect_ok in ((1, True), (0, False)):
        new_body = bytes(body[:1]) + (3).to_bytes(2, "big") + bytes(body[3:]) + extra[crit]
        pdu = encoded[:3] + bytes((len(new_body),)) + new_body
        if expect_ok:
            assert decode(pdu) == RICsubscriptionDeleteRequest(RICrequestID(1, 2), 3)
        else:
            try:
                decode(pdu)
            except E2CodecError as exc:
                assert "999" in exc.reason
            else:
                raise AssertionError("unknown IE with criticality reject was accepted")
