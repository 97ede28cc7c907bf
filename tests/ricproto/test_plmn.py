"""BCD PLMN identity (`ricproto.plmn`), shared by E2AP and the E2 service models."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ricproto import e2ap
from ricproto.e2error import E2CodecError
from ricproto.e2sm import identities
from ricproto.plmn import plmn_from_bytes, plmn_to_bytes


@pytest.mark.parametrize(
    ("plmn", "octets"),
    [
        ("00101", b"\x00\xf1\x10"),
        ("310411", b"\x13\x10\x14"),
        ("310410", b"\x13\x00\x14"),
        ("99999", b"\x99\xf9\x99"),
        ("001001", b"\x00\x11\x00"),
    ],
)
def test_bcd_examples(plmn: str, octets: bytes) -> None:
    assert plmn_to_bytes(plmn) == octets
    assert plmn_from_bytes(octets) == plmn


@given(st.text("0123456789", min_size=5, max_size=6))
def test_bcd_round_trip(plmn: str) -> None:
    assert plmn_from_bytes(plmn_to_bytes(plmn)) == plmn


@pytest.mark.parametrize("bad", ["0010", "0010100", "00a01", "", "٠٠١٠١", b"00101"])
def test_rejects_bad_text(bad: str) -> None:
    with pytest.raises(E2CodecError, match="PLMN"):
        plmn_to_bytes(bad)


@pytest.mark.parametrize("bad", [b"\x00\xf1", b"\xa0\xf1\x10", b"\x00\xe1\x10", b"\x00\x1f\x01"])
def test_rejects_bad_octets(bad: bytes) -> None:
    # b"\x00\x1f\x01" is kpimon-go's literal PLMN: not BCD
    with pytest.raises(E2CodecError, match="PLMN"):
        plmn_from_bytes(bad)


def test_errors_are_value_errors() -> None:
    # callers of the E2AP names catch ValueError
    with pytest.raises(ValueError, match="PLMN"):
        e2ap.plmn_to_bytes("1")


def test_package_names_are_this_implementation() -> None:
    assert (e2ap.plmn_to_bytes, e2ap.plmn_from_bytes) == (plmn_to_bytes, plmn_from_bytes)
    assert (identities.plmn_from_digits, identities.plmn_digits) == (plmn_to_bytes, plmn_from_bytes)
