"""Network identities used by the E2 service models: PLMN (BCD), NR-CGI, E-UTRA CGI, S-NSSAI."""

from __future__ import annotations

from dataclasses import dataclass

from ricproto.e2error import E2CodecError

NR_CELL_IDENTITY_BITS = 36
EUTRA_CELL_IDENTITY_BITS = 28


def plmn_from_digits(digits: str) -> bytes:
    """ "MCCMNC" (5 or 6 decimal digits) -> the 3-octet BCD PLMNIdentity, e.g. "00101" -> 00 f1 10."""
    if len(digits) not in (5, 6) or not digits.isdigit():
        raise E2CodecError("PLMNIdentity", f"expected 5 or 6 decimal digits, got {digits!r}")
    d = [int(c) for c in digits]
    mnc3 = d[5] if len(d) == 6 else 0xF  # filler nibble for a 2-digit MNC
    return bytes([(d[1] << 4) | d[0], (mnc3 << 4) | d[2], (d[4] << 4) | d[3]])


def plmn_digits(plmn: bytes) -> str:
    """The 3-octet BCD PLMNIdentity -> "MCCMNC" (inverse of `plmn_from_digits`)."""
    if len(plmn) != 3:
        raise E2CodecError("PLMNIdentity", f"expected 3 octets, got {len(plmn)}")
    nibbles = [plmn[0] & 0xF, plmn[0] >> 4, plmn[1] & 0xF, plmn[2] & 0xF, plmn[2] >> 4]
    mnc3 = plmn[1] >> 4
    if any(n > 9 for n in nibbles) or (mnc3 > 9 and mnc3 != 0xF):
        raise E2CodecError("PLMNIdentity", f"not a BCD PLMN: {plmn.hex()}")
    digits = "".join(str(n) for n in nibbles)
    return digits if mnc3 == 0xF else digits + str(mnc3)


def nr_cell_identity(gnb_id: int, gnb_id_length: int, cell_id: int) -> int:
    """Compose the 36-bit nRCellIdentity: the gNB-ID (22..32 leftmost bits) then the local cell id."""
    if not 22 <= gnb_id_length <= 32:
        raise E2CodecError("NRCellIdentity", f"gNB-ID length {gnb_id_length} outside 22..32")
    cell_bits = NR_CELL_IDENTITY_BITS - gnb_id_length
    if not 0 <= gnb_id < (1 << gnb_id_length) or not 0 <= cell_id < (1 << cell_bits):
        raise E2CodecError("NRCellIdentity", "gNB-ID or cell id does not fit its bit length")
    return (gnb_id << cell_bits) | cell_id


@dataclass(frozen=True, slots=True)
class NrCgi:
    """NR-CGI: pLMNIdentity (3 octets BCD) and nRCellIdentity (36-bit integer)."""

    plmn_identity: bytes
    nr_cell_identity: int

    @classmethod
    def from_plmn(cls, plmn: str, nr_cell_identity: int) -> NrCgi:
        return cls(plmn_from_digits(plmn), nr_cell_identity)

    def to_asn(self) -> dict:
        if len(self.plmn_identity) != 3:
            raise E2CodecError("NR-CGI", "pLMNIdentity must be 3 octets", "pLMNIdentity")
        if not 0 <= self.nr_cell_identity < (1 << NR_CELL_IDENTITY_BITS):
            raise E2CodecError("NR-CGI", "nRCellIdentity must fit 36 bits", "nRCellIdentity")
        return {
            "pLMNIdentity": self.plmn_identity,
            # 36 bits left-aligned in 5 octets
            "nRCellIdentity": ((self.nr_cell_identity << 4).to_bytes(5, "big"), NR_CELL_IDENTITY_BITS),
        }

    @classmethod
    def from_asn(cls, value: dict) -> NrCgi:
        bits, _ = value["nRCellIdentity"]
        return cls(bytes(value["pLMNIdentity"]), int.from_bytes(bits, "big") >> 4)


@dataclass(frozen=True, slots=True)
class EutraCgi:
    """EUTRA-CGI: pLMNIdentity and the 28-bit eUTRACellIdentity."""

    plmn_identity: bytes
    eutra_cell_identity: int

    def to_asn(self) -> dict:
        if len(self.plmn_identity) != 3:
            raise E2CodecError("EUTRA-CGI", "pLMNIdentity must be 3 octets", "pLMNIdentity")
        if not 0 <= self.eutra_cell_identity < (1 << EUTRA_CELL_IDENTITY_BITS):
            raise E2CodecError("EUTRA-CGI", "eUTRACellIdentity must fit 28 bits", "eUTRACellIdentity")
        return {
            "pLMNIdentity": self.plmn_identity,
            "eUTRACellIdentity": (
                (self.eutra_cell_identity << 4).to_bytes(4, "big"),
                EUTRA_CELL_IDENTITY_BITS,
            ),
        }

    @classmethod
    def from_asn(cls, value: dict) -> EutraCgi:
        bits, _ = value["eUTRACellIdentity"]
        return cls(bytes(value["pLMNIdentity"]), int.from_bytes(bits, "big") >> 4)


Cgi = NrCgi | EutraCgi


def cgi_to_asn(cgi: Cgi) -> tuple[str, dict]:
    if isinstance(cgi, NrCgi):
        return ("nR-CGI", cgi.to_asn())
    return ("eUTRA-CGI", cgi.to_asn())


def cgi_from_asn(value: tuple[str, dict]) -> Cgi:
    kind, inner = value
    if kind == "nR-CGI":
        return NrCgi.from_asn(inner)
    if kind == "eUTRA-CGI":
        return EutraCgi.from_asn(inner)
    raise E2CodecError("CGI", f"unsupported alternative {kind}")


@dataclass(frozen=True, slots=True)
class SNssai:
    """S-NSSAI: sST (1 octet) and optional sD (3 octets)."""

    sst: int
    sd: int | None = None

    def to_asn(self) -> dict:
        if not 0 <= self.sst <= 0xFF:
            raise E2CodecError("S-NSSAI", "sST must fit one octet", "sST")
        value: dict = {"sST": bytes([self.sst])}
        if self.sd is not None:
            if not 0 <= self.sd <= 0xFFFFFF:
                raise E2CodecError("S-NSSAI", "sD must fit three octets", "sD")
            value["sD"] = self.sd.to_bytes(3, "big")
        return value

    @classmethod
    def from_asn(cls, value: dict) -> SNssai:
        sd = value.get("sD")
        return cls(value["sST"][0], int.from_bytes(sd, "big") if sd is not None else None)
