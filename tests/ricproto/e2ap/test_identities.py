"""The E2T RAN name derived from GlobalE2node-ID (the PLMN codec is tested in tests/ricproto/test_plmn.py)."""

from __future__ import annotations

import pytest

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
    plmn_to_bytes,
    ran_name,
)

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
