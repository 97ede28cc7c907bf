"""The E2SM UEID CHOICE (E2SM common IEs): typed alternatives for gNB, gNB-DU, gNB-CU-UP, ng-eNB-DU."""

from __future__ import annotations

from dataclasses import dataclass

from ricproto.e2error import E2CodecError


def bits_to_asn(value: int, nbits: int, field: str) -> tuple[bytes, int]:
    """An integer of exactly `nbits` bits -> asn1tools' (left-aligned bytes, bit count) form."""
    if not 0 <= value < (1 << nbits):
        raise E2CodecError("UEID", f"value does not fit {nbits} bits", field)
    nbytes = (nbits + 7) // 8
    return ((value << (8 * nbytes - nbits)).to_bytes(nbytes, "big"), nbits)


def bits_from_asn(value: tuple[bytes, int]) -> int:
    data, nbits = value
    return int.from_bytes(data, "big") >> (8 * len(data) - nbits)


@dataclass(frozen=True, slots=True)
class Guami:
    """GUAMI: pLMNIdentity, aMFRegionID (8 bits), aMFSetID (10 bits), aMFPointer (6 bits)."""

    plmn_identity: bytes
    amf_region_id: int = 0
    amf_set_id: int = 0
    amf_pointer: int = 0

    def to_asn(self) -> dict:
        if len(self.plmn_identity) != 3:
            raise E2CodecError("UEID", "pLMNIdentity must be 3 octets", "guami.pLMNIdentity")
        return {
            "pLMNIdentity": self.plmn_identity,
            "aMFRegionID": bits_to_asn(self.amf_region_id, 8, "guami.aMFRegionID"),
            "aMFSetID": bits_to_asn(self.amf_set_id, 10, "guami.aMFSetID"),
            "aMFPointer": bits_to_asn(self.amf_pointer, 6, "guami.aMFPointer"),
        }

    @classmethod
    def from_asn(cls, v: dict) -> Guami:
        return cls(
            bytes(v["pLMNIdentity"]),
            bits_from_asn(v["aMFRegionID"]),
            bits_from_asn(v["aMFSetID"]),
            bits_from_asn(v["aMFPointer"]),
        )


@dataclass(frozen=True, slots=True)
class GlobalGnbId:
    """GlobalGNB-ID: pLMNIdentity and a gNB-ID of 22..32 bits."""

    plmn_identity: bytes
    gnb_id: int
    gnb_id_length: int = 32

    def to_asn(self) -> dict:
        if not 22 <= self.gnb_id_length <= 32:
            raise E2CodecError("UEID", "gNB-ID length outside 22..32", "globalGNB-ID.gNB-ID")
        if len(self.plmn_identity) != 3:
            raise E2CodecError("UEID", "pLMNIdentity must be 3 octets", "globalGNB-ID.pLMNIdentity")
        return {
            "pLMNIdentity": self.plmn_identity,
            "gNB-ID": ("gNB-ID", bits_to_asn(self.gnb_id, self.gnb_id_length, "globalGNB-ID.gNB-ID")),
        }

    @classmethod
    def from_asn(cls, v: dict) -> GlobalGnbId:
        _, bits = v["gNB-ID"]
        return cls(bytes(v["pLMNIdentity"]), bits_from_asn(bits), bits[1])


@dataclass(frozen=True, slots=True)
class UeIdGnb:
    """UEID-GNB (gNB-UEID): AMF-UE-NGAP-ID + GUAMI, optional F1AP / E1AP id lists and more."""

    amf_ue_ngap_id: int
    guami: Guami
    gnb_cu_ue_f1ap_id_list: tuple[int, ...] = ()
    gnb_cu_cp_ue_e1ap_id_list: tuple[int, ...] = ()
    ran_ueid: bytes | None = None
    m_ng_ran_ue_xnap_id: int | None = None
    global_gnb_id: GlobalGnbId | None = None


@dataclass(frozen=True, slots=True)
class UeIdGnbDu:
    """UEID-GNB-DU (gNB-DU-UEID): gNB-CU-UE-F1AP-ID and optional ran-UEID (8 octets)."""

    gnb_cu_ue_f1ap_id: int
    ran_ueid: bytes | None = None


@dataclass(frozen=True, slots=True)
class UeIdGnbCuUp:
    """UEID-GNB-CU-UP (gNB-CU-UP-UEID): gNB-CU-CP-UE-E1AP-ID and optional ran-UEID."""

    gnb_cu_cp_ue_e1ap_id: int
    ran_ueid: bytes | None = None


@dataclass(frozen=True, slots=True)
class UeIdNgEnbDu:
    """UEID-NG-ENB-DU (ng-eNB-DU-UEID): ng-eNB-CU-UE-W1AP-ID."""

    ng_enb_cu_ue_w1ap_id: int


UeId = UeIdGnb | UeIdGnbDu | UeIdGnbCuUp | UeIdNgEnbDu


def ueid_to_asn(ue: UeId) -> tuple[str, dict]:
    if isinstance(ue, UeIdGnbDu):
        v: dict = {"gNB-CU-UE-F1AP-ID": ue.gnb_cu_ue_f1ap_id}
        if ue.ran_ueid is not None:
            v["ran-UEID"] = ue.ran_ueid
        return ("gNB-DU-UEID", v)
    if isinstance(ue, UeIdGnb):
        v = {"amf-UE-NGAP-ID": ue.amf_ue_ngap_id, "guami": ue.guami.to_asn()}
        if ue.gnb_cu_ue_f1ap_id_list:
            v["gNB-CU-UE-F1AP-ID-List"] = [{"gNB-CU-UE-F1AP-ID": i} for i in ue.gnb_cu_ue_f1ap_id_list]
        if ue.gnb_cu_cp_ue_e1ap_id_list:
            v["gNB-CU-CP-UE-E1AP-ID-List"] = [
                {"gNB-CU-CP-UE-E1AP-ID": i} for i in ue.gnb_cu_cp_ue_e1ap_id_list
            ]
        if ue.ran_ueid is not None:
            v["ran-UEID"] = ue.ran_ueid
        if ue.m_ng_ran_ue_xnap_id is not None:
            v["m-NG-RAN-UE-XnAP-ID"] = ue.m_ng_ran_ue_xnap_id
        if ue.global_gnb_id is not None:
            v["globalGNB-ID"] = ue.global_gnb_id.to_asn()
        return ("gNB-UEID", v)
    if isinstance(ue, UeIdGnbCuUp):
        v = {"gNB-CU-CP-UE-E1AP-ID": ue.gnb_cu_cp_ue_e1ap_id}
        if ue.ran_ueid is not None:
            v["ran-UEID"] = ue.ran_ueid
        return ("gNB-CU-UP-UEID", v)
    if isinstance(ue, UeIdNgEnbDu):
        return ("ng-eNB-DU-UEID", {"ng-eNB-CU-UE-W1AP-ID": ue.ng_enb_cu_ue_w1ap_id})
    raise E2CodecError("UEID", f"not a UE id: {type(ue).__name__}")


def ueid_from_asn(value: tuple[str, dict]) -> UeId:
    kind, v = value
    if kind == "gNB-DU-UEID":
        return UeIdGnbDu(v["gNB-CU-UE-F1AP-ID"], _opt_bytes(v.get("ran-UEID")))
    if kind == "gNB-UEID":
        gid = v.get("globalGNB-ID")
        return UeIdGnb(
            v["amf-UE-NGAP-ID"],
            Guami.from_asn(v["guami"]),
            tuple(i["gNB-CU-UE-F1AP-ID"] for i in v.get("gNB-CU-UE-F1AP-ID-List", ())),
            tuple(i["gNB-CU-CP-UE-E1AP-ID"] for i in v.get("gNB-CU-CP-UE-E1AP-ID-List", ())),
            _opt_bytes(v.get("ran-UEID")),
            v.get("m-NG-RAN-UE-XnAP-ID"),
            GlobalGnbId.from_asn(gid) if gid is not None else None,
        )
    if kind == "gNB-CU-UP-UEID":
        return UeIdGnbCuUp(v["gNB-CU-CP-UE-E1AP-ID"], _opt_bytes(v.get("ran-UEID")))
    if kind == "ng-eNB-DU-UEID":
        return UeIdNgEnbDu(v["ng-eNB-CU-UE-W1AP-ID"])
    raise E2CodecError("UEID", f"UEID alternative {kind} is not supported by twinric")


def _opt_bytes(value: bytes | None) -> bytes | None:
    return bytes(value) if value is not None else None
