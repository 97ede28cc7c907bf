"""PLMN identity in the 3-octet BCD form of 3GPP TS 24.008 / 38.413 (``"00101"`` <-> ``b"\\x00\\xf1\\x10"``).

Octet 1: MCC digit 2 | MCC digit 1; octet 2: MNC digit 3 (or filler F) | MCC digit 3;
octet 3: MNC digit 2 | MNC digit 1 (high nibble | low nibble).
"""

from __future__ import annotations


def plmn_to_bytes(plmn: str) -> bytes:
    """``"MCCMNC"`` (5 or 6 decimal digits) -> 3 BCD octets."""
    if len(plmn) not in (5, 6) or not plmn.isdigit() or not plmn.isascii():
        raise ValueError(f"PLMN must be 5 or 6 decimal digits (MCC + MNC), got {plmn!r}")
    d = [int(c) for c in plmn]
    mnc3 = d[5] if len(d) == 6 else 0xF
    return bytes(((d[1] << 4) | d[0], (mnc3 << 4) | d[2], (d[4] << 4) | d[3]))


def plmn_from_bytes(octets: bytes) -> str:
    """3 BCD octets -> ``"MCCMNC"``; raises ``ValueError`` when a nibble is not a digit."""
    if len(octets) != 3:
        raise ValueError(f"PLMN identity is 3 octets, got {len(octets)}")
    b0, b1, b2 = octets
    nibbles = [b0 & 0xF, b0 >> 4, b1 & 0xF, b2 & 0xF, b2 >> 4]
    mnc3 = b1 >> 4
    if any(n > 9 for n in nibbles) or (mnc3 > 9 and mnc3 != 0xF):
        raise ValueError(f"not a BCD PLMN identity: {octets.hex()}")
    digits = "".join(str(n) for n in nibbles)
    return digits if mnc3 == 0xF else digits + str(mnc3)
