from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ricproto.e2error import E2CodecError
from ricproto.e2sm import rc
from ricproto.e2sm.identities import NrCgi, nr_cell_identity


def test_nr_cell_identity_composition() -> None:
    # gNB-ID 0x19B over 22 bits, cell 1 -> the gNB id sits in the leftmost 22 of 36 bits
    assert nr_cell_identity(0x19B, 22, 1) == (0x19B << 14) | 1
    with pytest.raises(E2CodecError):
        nr_cell_identity(1 << 22, 22, 0)
    with pytest.raises(E2CodecError):
        nr_cell_identity(1, 21, 0)


def test_nr_cgi_aper_bytes_match_the_srsran_handover_payload() -> None:
    # NR-CGI {00 f1 10, cell 1} as srsRAN puts it into the handover RAN parameter 4
    cgi = NrCgi.from_plmn("00101", 1)
    assert rc.encode_nr_cgi(cgi) == bytes.fromhex("0000f11000000000" + "10")
    assert rc.decode_nr_cgi(rc.encode_nr_cgi(cgi)) == cgi


@given(st.integers(0, (1 << 36) - 1))
def test_nr_cgi_round_trip(cell: int) -> None:
    cgi = NrCgi(b"\x13\x00\x14", cell)
    assert rc.decode_nr_cgi(rc.encode_nr_cgi(cgi)) == cgi


def test_nr_cgi_rejects_oversized_cell_identity() -> None:
    with pytest.raises(E2CodecError):
        rc.encode_nr_cgi(NrCgi(b"\x00\xf1\x10", 1 << 36))
