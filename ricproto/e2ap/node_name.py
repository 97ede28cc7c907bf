"""The RAN name (RMR MEID, R-NIB inventory name) that the OSC E2 termination derives from GlobalE2node-ID.

Rule of ric-plt-e2 ``BuildRunName.h`` (reference e2.md §2.2): ``<prefix>_<MCC>_<MNC>_<node id hex>``, PLMN
nibbles read BCD-style (MNC "0dd" when the filler nibble is F, else the third MNC digit first), the node id
printed as hex of its bits right-aligned, two hex digits per octet of the BIT STRING. e2mgr accepts only the
prefixes below.
"""

from __future__ import annotations

from ricproto.e2ap.ies import (
    ENB_ID_BITS,
    ENB_ID_CHOICE_BITS,
    ENBIDChoiceKind,
    ENBIDKind,
    GlobalE2nodeEnbID,
    GlobalE2nodeEnGnbID,
    GlobalE2nodeGnbID,
    GlobalE2nodeID,
    GlobalE2nodeNgEnbID,
)

_ENB_PREFIX = {
    ENBIDKind.macro_eNB_ID: "enB_macro",
    ENBIDKind.home_eNB_ID: "enB_home",
    ENBIDKind.short_Macro_eNB_ID: "enB_shortmacro",
    ENBIDKind.long_Macro_eNB_ID: "enB_longmacro",
}
_NG_ENB_PREFIX = {
    ENBIDChoiceKind.enb_ID_macro: "ng_enB_macro",
    ENBIDChoiceKind.enb_ID_shortmacro: "ng_enB_shortmacro",
    ENBIDChoiceKind.enb_ID_longmacro: "ng_enB_longmacro",
}


def _plmn_part(plmn: bytes) -> str:
    b0, b1, b2 = plmn
    mcc = f"{b0 & 0xF:x}{b0 >> 4:x}{b1 & 0xF:x}"
    filler = b1 >> 4
    mnc = f"0{b2 & 0xF:x}{b2 >> 4:x}" if filler == 0xF else f"{filler:x}{b2 & 0xF:x}{b2 >> 4:x}"
    return f"{mcc}_{mnc}"


def _hex_bits(value: int, nbits: int) -> str:
    return f"{value:0{2 * ((nbits + 7) // 8)}x}"


def ran_name(node: GlobalE2nodeID) -> str:
    """E2T's name for an E2 node, e.g. ``gnb_001_001_00019b`` (PLMN 00101, 22-bit gNB-ID 0x19B)."""
    if isinstance(node, GlobalE2nodeGnbID):
        gnb = node.global_gNB_ID
        base = f"{_plmn_part(gnb.plmn_id)}_{_hex_bits(gnb.gnb_id.value, gnb.gnb_id.length)}"
        if node.gNB_DU_ID is not None and node.gNB_CU_UP_ID is None:
            return f"gnbd_{base}_{node.gNB_DU_ID:x}"
        if node.gNB_CU_UP_ID is not None and node.gNB_DU_ID is None:
            return f"gnbc_{base}_{node.gNB_CU_UP_ID:x}"
        return f"gnb_{base}"
    if isinstance(node, GlobalE2nodeEnGnbID):
        en = node.global_en_gNB_ID
        return f"en_gnb_{_plmn_part(en.pLMN_Identity)}_{_hex_bits(en.gNB_ID.value, en.gNB_ID.length)}"
    if isinstance(node, GlobalE2nodeNgEnbID):
        ng = node.global_ng_eNB_ID
        nbits = ENB_ID_CHOICE_BITS[ng.enb_id_kind]
        return f"{_NG_ENB_PREFIX[ng.enb_id_kind]}_{_plmn_part(ng.plmn_id)}_{_hex_bits(ng.enb_id, nbits)}"
    if isinstance(node, GlobalE2nodeEnbID):
        enb = node.global_eNB_ID
        nbits = ENB_ID_BITS[enb.eNB_ID_kind]
        plmn = _plmn_part(enb.pLMN_Identity)
        return f"{_ENB_PREFIX[enb.eNB_ID_kind]}_{plmn}_{_hex_bits(enb.eNB_ID, nbits)}"
    raise TypeError(f"not a GlobalE2node-ID: {type(node).__name__}")
