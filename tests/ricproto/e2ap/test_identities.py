"""BCD PLMN helpers and the E2T RAN name derived from GlobalE2node-ID."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ricproto.e2ap import (
    BitString,
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
    plmn_from_bytes,
    plmn_to_bytes,
    ran_name,
)


@pytest.mark.parametrize(
    ("plmn", "octets"),
    [
        ("00101", b"\x00\xf1\x10"),
        ("310411", b"\x13\x10\x14"),
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


@pytest.mark.parametrize("bad", ["0010", "0010100", "00a01", "", "٠٠١٠١"])
def test_bcd_rejects_bad_text(bad: str) -> None:
    with pytest.raises(ValueError, match="PLMN"):
        plmn_to_bytes(bad)


@pytest.mark.parametrize("bad", [b"\x00\xf1", b"\xa0\xf1\x10", b"\x00\xe1\x10"])
def test_bcd_rejects_bad_octets(bad: bytes) -> None:
    with pytest.raises(ValueError, match="PLMN"):
        plmn_from_bytes(bad)


GNB_00101 = GlobalgNBID(plmn_to_bytes("00101"), BitString(0x19B, 22))


@pytest.mark.parametrize(
    ("node", "name"),
    [
        # examples of the reference (e2.md §2.2), computed by OSC E2T's rule
        (GlobalE2nodeGnbID(GNB_00101), "gnb_001_001_00019b"),
        (GlobalE2nodeGnbID(GNB_00101, gNB_DU_ID=0), "gnbd_001_001_00019b_0"),
        (GlobalE2nodeGnbID(GlobalgNBID(b"747", BitString(0xB5C67788 >> 3, 29))), "gnb_734_373_16b8cef1"),
        (GlobalE2nodeGnbID(GNB_00101, gNB_CU_UP_ID=0x1F), "gnbc_001_001_00019b_1f"),
        (
            GlobalE2nodeEnGnbID(GlobalenGNBID(plmn_to_bytes("00101"), BitString(5, 22))),
            "en_gnb_001_001_000005",
        ),
        (
            GlobalE2nodeNgEnbID(GlobalngeNBID(plmn_to_bytes("00101"), ENBIDChoiceKind.enb_ID_macro, 0xABCDE)),
            "ng_enB_macro_001_001_0abcde",
        ),
        (
            GlobalE2nodeEnbID(GlobalENBID(plmn_to_bytes("00101"), ENBIDKind.home_eNB_ID, 0x1234567)),
            "enB_home_001_001_01234567",
        ),
    ],
)
def test_ran_name(node: object, name: str) -> None:
    assert ran_name(node) == name  # type: ignore[arg-type]
