"""Network identities used by the E2 service models: NR-CGI, E-UTRA CGI, S-NSSAI (PLMN: `ricproto.plmn`)."""

from __future__ import annotations

from dataclasses import dataclass

from ricproto.e2error import E2CodecError
from ricproto.plmn import plmn_from_bytes, plmn_to_bytes

NR_CELL_IDENTITY_BITS = 36
EUTRA_CELL_IDENTITY_BITS = 28


# The names e2sim and the xApps import; the implementation is the project's one in ricproto.plmn.
plmn_from_digits = plmn_to_bytes
plmn_digits = plmn_from_bytes


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
        return cls(plmn_to_bytes(plmn), nr_cell_identity)

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
