"""PLMN identity in the 3-octet BCD form of 3GPP TS 24.008 / 38.413 (``"00101"`` <-> ``b"\\x00\\xf1\\x10"``).

Octet 1: MCC digit 2 | MCC digit 1; octet 2: MNC digit 3 (or filler F) | MCC digit 3;
octet 3: MNC digit 2 | MNC digit 1 (high nibble | low nibble). The one implementation for E2AP
(``ricproto.e2ap``) and the E2 service models (``ricproto.e2sm.identities``).
"""

from __future__ import annotations

from ricproto.e2error import E2CodecError


def plmn_to_bytes(plmn: str) -> bytes:
    """``"MCCMNC"`` (5 or 6 decimal digits) -> 3 BCD octets; raises `E2CodecError` (a ValueError)."""
    if not isinstance(plmn, str) or len(plmn) not in (5, 6) or not plmn.isdigit() or not plmn.isascii():
        raise E2CodecError("PLMNIdentity", f"expected 5 or 6 decimal digits (MCC + MNC), got {plmn!r}")
    d = [int(c) for c in plmn]
    mnc3 = d[5] if len(d) == 6 else 0xF  # filler nibble for a 2-digit MNC
    return bytes(((d[1] << 4) | d[0], (mnc3 << 4) | d[2], (d[4] << 4) | d[3]))


def plmn_from_bytes(octets: bytes) -> str:
    """3 BCD octets -> ``"MCCMNC"``; raises `E2CodecError` (a ValueError) when a nibble is not a digit."""
    if len(octets) != 3:
        raise E2CodecError("PLMNIdentity", f"expected 3 octets, got {len(octets)}")
    b0, b1, b2 = octets
    nibbles = (b0 & 0xF, b0 >> 4, b1 & 0xF, b2 & 0xF, b2 >> 4)
    mnc3 = b1 >> 4
    if any(n > 9 for n in nibbles) or (mnc3 > 9 and mnc3 != 0xF):
        raise E2CodecError("PLMNIdentity", f"not a BCD PLMN identity: {bytes(octets).hex()}")
    digits = "".join(map(str, nibbles))
    return digits if mnc3 == 0xF else digits + str(mnc3)
