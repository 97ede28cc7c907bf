"""Hand-written aligned-PER coding of the per-report KPM messages (the hot path).

Covers E2SM-KPM-IndicationHeader format 1 and E2SM-KPM-IndicationMessage formats 1 and 3 with
the root (non-extension) content that twinric produces: measurement names/ids, labels without
extension additions, integer/real/noValue records, and UE ids of the gNB, gNB-DU, gNB-CU-UP and
ng-eNB-DU kinds (gNB-UEID without globalGNB-ID). Format 2 is encoded here too: its matchingCond
lists (fixed for a subscription's life) are coded once by the reference codec and replayed.
Everything else raises `AperUnsupported`, and `ricproto.e2sm.kpm` then uses the asn1tools reference
codec, which the tests compare this module
with byte for byte. Values outside a constraint are also left to the reference codec, so that the
error a caller sees always comes from one place.

The decoder accepts a subset of what the reference decoder accepts and never more: REALs only in the
forms asn1tools reads (binary base 2 without scaling, one- or two-octet exponent; the special values;
no content for zero), the format-3 CHOICE index only in its short form, no octets after the value.
Anything else goes to the reference decoder, which reads it or says why not.
"""

from __future__ import annotations

from asn1tools.codecs import per as asn1tools_per

from ricproto.aper import (
    PRINTABLE,
    U32_MAX,
    AperError,
    AperReader,
    AperUnsupported,
    AperWriter,
    printable_octets,
    real_content_int,
)
from ricproto.e2sm import asn1spec
from ricproto.e2sm.identities import SNssai
from ricproto.e2sm.kpm import (
    LABEL_FIELDS,
    NO_LABEL,
    IndicationHeaderFormat1,
    IndicationMessage,
    IndicationMessageFormat1,
    IndicationMessageFormat2,
    IndicationMessageFormat3,
    MatchingCondItem,
    MeasurementCondUeIdItem,
    MeasurementDataItem,
    MeasurementInfoItem,
    MeasurementLabel,
    MeasurementType,
    UeMeasurementReportItem,
    _match_to_asn,
)
from ricproto.e2sm.ueid import Guami, UeId, UeIdGnb, UeIdGnbCuUp, UeIdGnbDu, UeIdNgEnbDu

MAX_LIST = 65535

# Root fields of MeasurementLabel: (attribute, kind). Extension additions are not handled here.
_ROOT_LABEL = tuple((attr, kind, name) for attr, name, kind in LABEL_FIELDS[:21])
_EXT_LABEL = tuple(attr for attr, _, _ in LABEL_FIELDS[21:])
# Constraint per integer label field: (lb, ub, extensible)
_LABEL_INT = {
    "five_qi": (0, 255, True),
    "qfi": (0, 63, True),
    "qci": (0, 255, False),
    "qci_max": (0, 255, False),
    "qci_min": (0, 255, False),
    "arp_max": (1, 15, True),
    "arp_min": (1, 15, True),
    "bitrate_range": (1, 65535, True),
    "layer_mu_mimo": (1, 65535, True),
    "dist_bin_x": (1, 65535, True),
    "dist_bin_y": (1, 65535, True),
    "dist_bin_z": (1, 65535, True),
}


def _check_int(v: object, lb: int, ub: int) -> int:
    if type(v) is not int or not lb <= v <= ub:
        raise AperUnsupported("integer outside the root range")
    return v


# ---------------------------------------------------------------------------------------------
# encoding


_NO_LABEL = MeasurementLabel(no_label=True)
_EMPTY_LABEL = MeasurementLabel()


def _enc_label(w: AperWriter, label: MeasurementLabel) -> None:
    if label is _NO_LABEL or label is NO_LABEL:
        w.bits(1 << 21, 23)  # extension bit 0, only noLabel present, its ENUMERATED extension bit 0
        return
    for attr in _EXT_LABEL:
        if getattr(label, attr) is not None:
            raise AperUnsupported("label extension")
    present = 0
    values = []
    for attr, kind, _ in _ROOT_LABEL:
        v = getattr(label, attr)
        on = bool(v) if kind == "flag" else v is not None
        present = (present << 1) | on
        if on:
            values.append((attr, kind, v))
    w.bits(present, 22)  # extension bit 0 + 21 presence bits
    for attr, kind, v in values:
        if kind == "flag":
            w.bits(0, 1)
        elif kind == "octets":
            if type(v) is not bytes or len(v) != 3:
                raise AperUnsupported("plmnID")
            w.octets(v)
        elif kind == "slice":
            if type(v) is not SNssai:
                raise AperUnsupported("sliceID")
            _check_int(v.sst, 0, 255)
            w.bits(0 if v.sd is None else 1, 2)
            w.bits(v.sst, 8)
            if v.sd is not None:
                w.octets(_check_int(v.sd, 0, 0xFFFFFF).to_bytes(3, "big"))
        elif kind == "enum":
            if v not in ("start", "end"):
                raise AperUnsupported("startEndInd")
            w.bits(0 if v == "start" else 1, 2)
        else:
            lb, ub, ext = _LABEL_INT[attr]
            _check_int(v, lb, ub)
            if ext:
                w.bits(0, 1)
            w.constrained(v, lb, ub)


_NAME_CACHE: dict[str, bytes] = {}


def _name_octets(name: str) -> bytes:
    data = _NAME_CACHE.get(name)
    if data is None:
        data = printable_octets(name)
        if not 1 <= len(data) <= 150:
            raise AperUnsupported("measName size")
        if len(_NAME_CACHE) < 4096:
            _NAME_CACHE[name] = data
    return data


def _enc_info(w: AperWriter, item: MeasurementInfoItem) -> None:
    t = item.meas_type
    if type(t) is str:
        data = _name_octets(t)
        # item ext bit, CHOICE ext bit, index 0 (measName), string ext bit, 8-bit length - 1
        w.bits(len(data) - 1, 12)
        w.octets(data)
    elif type(t) is int:
        w.bits(0b001, 3)
        w.bits(0, 1)
        w.constrained(_check_int(t, 1, 65536), 1, 65536)
    else:
        raise AperUnsupported("measType")
    labels = item.label_info_list
    if not labels:
        raise AperUnsupported("empty labelInfoList")
    w.length(len(labels))
    for label in labels:
        w.bits(0, 1)
        _enc_label(w, label)


# measRecord items as whole octets. An integer or real item that starts on an octet boundary ends on
# one, so from the (aligned) length determinant on, a record is the concatenation of its items' octets
# until a noValue item (3 bits, no alignment) shifts the next one. Those octets are memoised by value:
# measurement values repeat (zeros, PRB counts, small counts). Equal values encode alike (0.0 and -0.0
# both as a REAL without content octets), so a float key that compares equal is a correct hit.
_REAL_ITEMS: dict[float, bytes] = {}
_INT_ITEMS: dict[int, bytes] = {}
_ITEMS_MAX = 16384


def _real_item(v: float) -> bytes:
    content, n = real_content_int(v)
    # CHOICE extension bit 0, index 1 (real), 5 padding bits; the length octet; the content octets
    item = (((0x20 << 8) | n) << (8 * n) | content).to_bytes(n + 2, "big")
    if len(_REAL_ITEMS) >= _ITEMS_MAX:
        _REAL_ITEMS.clear()
    _REAL_ITEMS[v] = item
    return item


def _int_item(v: int) -> bytes:
    if v < 0 or v > U32_MAX:
        raise AperError(f"{v} outside 0..{U32_MAX}")
    n = (v.bit_length() + 7) >> 3 or 1
    # CHOICE extension bit 0, index 0 (integer), 2-bit octet count - 1, 3 padding bits; the octets
    item = (((n - 1) << (8 * n + 3)) | v).to_bytes(n + 1, "big")
    if len(_INT_ITEMS) >= _ITEMS_MAX:
        _INT_ITEMS.clear()
    _INT_ITEMS[v] = item
    return item


def _enc_record(w: AperWriter, rec: tuple) -> None:
    """measRecord items after its length determinant (so starting on an octet boundary)."""
    real_items, int_items = _REAL_ITEMS, _INT_ITEMS
    aligned = True
    parts: list[bytes] = []  # octets of aligned items not yet given to ``w``, which they follow
    for v in rec:
        tv = type(v)
        if tv is float:
            if aligned:
                parts.append(real_items.get(v) or _real_item(v))
                continue
            w.real(v, 1, 3)  # CHOICE extension bit and index 1 (real)
            aligned = True
        elif tv is int:
            if aligned:
                parts.append(int_items.get(v) or _int_item(v))
                continue
            w.u32(v, 0, 3)  # CHOICE extension bit and index 0 (integer)
            aligned = True
        elif v is None:
            if parts:
                w.octets(b"".join(parts))
                parts = []
            w.bits(2, 3)  # CHOICE extension bit and index 2 (noValue, NULL: no content)
            aligned = False
        else:
            raise AperUnsupported("record value")
    if parts:
        w.octets(b"".join(parts))


# Encoded measInfoLists by the identity of their tuple: a subscription's measInfoList is the same
# object in every report (the E2 agent builds it once per action), and coding its names and labels
# again would cost more than the values. An entry holds the tuple itself, so its id cannot be reused
# by another object while the entry lives; only all-tuple (immutable) lists are kept.
_INFO_CACHE: dict[int, tuple[tuple[MeasurementInfoItem, ...], bytes, int, int]] = {}
_INFO_CACHE_MAX = 1024


def _enc_info_list(w: AperWriter, info: tuple[MeasurementInfoItem, ...]) -> None:
    """measInfoList: its count (a 16-bit aligned number) then the items, replayed from the cache."""
    hit = _INFO_CACHE.get(id(info))
    if hit is None or hit[0] is not info:
        if len(info) > MAX_LIST:
            raise AperUnsupported("measInfoList size")
        # The count aligns, so the list's bits do not depend on what precedes it: code it once alone.
        lw = AperWriter()
        lw.constrained(len(info), 1, MAX_LIST)
        for item in info:
            _enc_info(lw, item)
        hit = (info, *lw.octets_and_tail())
        if type(info) is tuple and all(type(item.label_info_list) is tuple for item in info):
            if len(_INFO_CACHE) >= _INFO_CACHE_MAX:
                _INFO_CACHE.clear()
            _INFO_CACHE[id(info)] = hit
    w.octets(hit[1])  # aligns, as the count would
    w.bits(hit[2], hit[3])


def _enc_f1(w: AperWriter, m: IndicationMessageFormat1) -> None:
    info = m.meas_info_list
    gp = m.granul_period
    w.bits((2 if info else 0) | (gp is not None), 3)
    _enc_meas_data(w, m.meas_data)
    if info:
        _enc_info_list(w, info)
    if gp is not None:
        w.constrained(_check_int(gp, 1, U32_MAX), 1, U32_MAX)


def _enc_meas_data(w: AperWriter, data: tuple[MeasurementDataItem, ...]) -> None:
    if not 1 <= len(data) <= MAX_LIST:
        raise AperUnsupported("measData size")
    w.constrained(len(data), 1, MAX_LIST)
    for d in data:
        if type(d) is not MeasurementDataItem:
            raise AperUnsupported("measData item")
        rec = d.meas_record
        if not rec:
            raise AperUnsupported("empty measRecord")
        w.bits(1 if d.incomplete_flag else 0, 2)
        w.length(len(rec))
        _enc_record(w, rec)
        if d.incomplete_flag:
            w.bits(0, 1)


def _enc_meas_type(w: AperWriter, t: MeasurementType) -> None:
    if type(t) is str:
        data = _name_octets(t)
        w.bits(len(data) - 1, 11)  # CHOICE ext bit, index 0 (measName), string ext bit, 8-bit length - 1
        w.octets(data)
    elif type(t) is int:
        w.bits(0b010, 3)  # CHOICE ext bit, index 1 (measID), INTEGER ext bit
        w.constrained(_check_int(t, 1, 65536), 1, 65536)
    else:
        raise AperUnsupported("measType")


# matchingCond lists by identity: (the list, whole octets, tail bits value, tail bit count).
_COND_CACHE: dict[int, tuple[tuple[MatchingCondItem, ...], bytes, int, int]] = {}


def _enc_matching_cond(w: AperWriter, cond: tuple[MatchingCondItem, ...]) -> None:
    """matchingCond (MatchingCondList; its 2-octet count aligns, so its bits do not depend on what
    precedes it): coded once per list object by the reference codec, which also checks it, then replayed."""
    hit = _COND_CACHE.get(id(cond))
    if hit is None or hit[0] is not cond:
        if type(cond) is not tuple or any(type(m) is not MatchingCondItem for m in cond):
            raise AperUnsupported("matchingCond")
        value = [_match_to_asn(m) for m in cond]
        spec = asn1spec.kpm_spec()
        asn1spec.encode(spec, "MatchingCondList", value)  # type and constraint checks (E2CodecError)
        enc = asn1tools_per.Encoder()
        spec.types["MatchingCondList"].type.encode(value, enc)
        nbits = enc.chunks_number_of_bits + enc.number_of_bits
        data = bytes(enc.as_bytearray())
        whole, tail = divmod(nbits, 8)
        hit = (cond, data[:whole], data[whole] >> (8 - tail) if tail else 0, tail)
        if len(_COND_CACHE) >= _INFO_CACHE_MAX:
            _COND_CACHE.clear()
        _COND_CACHE[id(cond)] = hit
    w.octets(hit[1])  # aligns, as the count would
    w.bits(hit[2], hit[3])


def _enc_f2(w: AperWriter, m: IndicationMessageFormat2) -> None:
    gp = m.granul_period
    w.bits(gp is not None, 2)  # format ext bit, granulPeriod present
    _enc_meas_data(w, m.meas_data)
    items = m.meas_cond_ueid_list
    if not 1 <= len(items) <= MAX_LIST:
        raise AperUnsupported("measCondUEidList size")
    w.constrained(len(items), 1, MAX_LIST)
    for c in items:
        if type(c) is not MeasurementCondUeIdItem:
            raise AperUnsupported("measCondUEidList item")
        ues = c.matching_ueid_list
        w.bits(1 if ues else 0, 2)  # item ext bit, matchingUEidList present
        _enc_meas_type(w, c.meas_type)
        _enc_matching_cond(w, c.matching_cond)
        if ues:
            if len(ues) > MAX_LIST:
                raise AperUnsupported("matchingUEidList size")
            w.constrained(len(ues), 1, MAX_LIST)
            for u in ues:
                _enc_ueid(w, u, in_item=True)
    if gp is not None:
        w.constrained(_check_int(gp, 1, U32_MAX), 1, U32_MAX)


# UE ids by identity and the bit offset they start at: (the id, its bits, their count). The same UE
# objects recur in every report of a subscription; alignment inside a UEID depends on the offset.
_UEID_CACHE: dict[tuple[int, int], tuple[UeId, int, int]] = {}
_UEID_CACHE_MAX = 65536


def _enc_ueid(w: AperWriter, ue: UeId, in_item: bool = False) -> None:
    """A UEID; ``in_item``: preceded by the extension bit of the list item that holds it (0)."""
    k = w.bit_offset
    hit = _UEID_CACHE.get((id(ue), k + 8 * in_item))
    if hit is None or hit[0] is not ue:
        alone = AperWriter()
        alone.bits(0, k + in_item)
        _enc_ueid_bits(alone, ue)
        octets, tail, tail_bits = alone.octets_and_tail()
        total = 8 * len(octets) + tail_bits
        value = ((int.from_bytes(octets, "big") << tail_bits) | tail) & ((1 << (total - k)) - 1)
        hit = (ue, value, total - k)
        if len(_UEID_CACHE) >= _UEID_CACHE_MAX:
            _UEID_CACHE.clear()
        _UEID_CACHE[(id(ue), k + 8 * in_item)] = hit
    w.bits(hit[1], hit[2])


def _enc_ueid_bits(w: AperWriter, ue: UeId) -> None:
    t = type(ue)
    if t is UeIdGnbDu or t is UeIdGnbCuUp:
        w.bits(1 if t is UeIdGnbDu else 2, 4)  # CHOICE extension bit + 3-bit index
        ident = ue.gnb_cu_ue_f1ap_id if t is UeIdGnbDu else ue.gnb_cu_cp_ue_e1ap_id
        w.bits(0 if ue.ran_ueid is None else 1, 2)
        w.u32(_check_int(ident, 0, U32_MAX))
        _enc_ran_ueid(w, ue.ran_ueid)
    elif t is UeIdNgEnbDu:
        w.bits(4, 4)
        w.bits(0, 1)
        w.u32(_check_int(ue.ng_enb_cu_ue_w1ap_id, 0, U32_MAX))
    elif t is UeIdGnb:
        if ue.global_gnb_id is not None:
            raise AperUnsupported("globalGNB-ID")
        f1, e1 = ue.gnb_cu_ue_f1ap_id_list, ue.gnb_cu_cp_ue_e1ap_id_list
        w.bits(0, 4)
        w.bits(
            (bool(f1) << 4)
            | (bool(e1) << 3)
            | ((ue.ran_ueid is not None) << 2)
            | ((ue.m_ng_ran_ue_xnap_id is not None) << 1),
            6,
        )
        w.constrained(_check_int(ue.amf_ue_ngap_id, 0, (1 << 40) - 1), 0, (1 << 40) - 1)
        g = ue.guami
        if type(g) is not Guami or type(g.plmn_identity) is not bytes or len(g.plmn_identity) != 3:
            raise AperUnsupported("guami")
        w.bits(0, 1)
        w.octets(g.plmn_identity)
        w.bits(_check_int(g.amf_region_id, 0, 255), 8)
        w.bits(_check_int(g.amf_set_id, 0, 1023), 10)
        w.bits(_check_int(g.amf_pointer, 0, 63), 6)
        if f1:
            if len(f1) > 4:
                raise AperUnsupported("F1AP id list size")
            w.constrained(len(f1), 1, 4)
            for i in f1:
                w.bits(0, 1)
                w.u32(_check_int(i, 0, U32_MAX))
        if e1:
            if len(e1) > MAX_LIST:
                raise AperUnsupported("E1AP id list size")
            w.constrained(len(e1), 1, MAX_LIST)
            for i in e1:
                w.bits(0, 1)
                w.u32(_check_int(i, 0, U32_MAX))
        _enc_ran_ueid(w, ue.ran_ueid)
        if ue.m_ng_ran_ue_xnap_id is not None:
            w.u32(_check_int(ue.m_ng_ran_ue_xnap_id, 0, U32_MAX))
    else:
        raise AperUnsupported("UEID kind")


def _enc_ran_ueid(w: AperWriter, ran_ueid: bytes | None) -> None:
    if ran_ueid is not None:
        if type(ran_ueid) is not bytes or len(ran_ueid) != 8:
            raise AperUnsupported("ran-UEID")
        w.octets(ran_ueid)


def encode_indication_message(msg: IndicationMessage) -> bytes:
    w = AperWriter()
    t = type(msg)
    if t is IndicationMessageFormat1:
        w.bits(0, 3)  # message extension bit, CHOICE extension bit, index 0
        _enc_f1(w, msg)
        return w.to_bytes()
    if t is IndicationMessageFormat2:
        w.bits(0b001, 3)  # message extension bit, CHOICE extension bit, index 1
        _enc_f2(w, msg)
        return w.to_bytes()
    if t is IndicationMessageFormat3:
        reports = msg.ue_meas_report_list
        if not 1 <= len(reports) <= MAX_LIST:
            raise AperUnsupported("ueMeasReportList size")
        inner = AperWriter()
        inner.bits(0, 1)
        inner.constrained(len(reports), 1, MAX_LIST)
        for r in reports:
            if type(r) is not UeMeasurementReportItem or type(r.meas_report) is not IndicationMessageFormat1:
                raise AperUnsupported("ueMeasReportList item")
            _enc_ueid(inner, r.ue_id, in_item=True)
            _enc_f1(inner, r.meas_report)
        w.bits(0b01, 2)  # message extension bit, CHOICE extension bit set (format 3 is an addition)
        w.small(0)
        w.open_type(inner.to_bytes())
        return w.to_bytes()
    raise AperUnsupported("indication message format")


_HEADER_STRINGS = (("file_formatversion", 15), ("sender_name", 400), ("sender_type", 8), ("vendor_name", 32))


def encode_indication_header(msg: IndicationHeaderFormat1) -> bytes:
    if type(msg) is not IndicationHeaderFormat1:
        raise AperUnsupported("indication header format")
    ts = msg.collet_start_time
    if type(ts) is not bytes or len(ts) != 8:
        raise AperUnsupported("colletStartTime")
    w = AperWriter()
    present = 0
    for attr, _ in _HEADER_STRINGS:
        present = (present << 1) | (getattr(msg, attr) is not None)
    w.bits(present, 7)  # header ext, CHOICE ext (single root alternative: no index), format ext, 4 bits
    w.octets(ts)
    for attr, ub in _HEADER_STRINGS:
        v = getattr(msg, attr)
        if v is not None:
            w.printable(v, 0, ub)
    return w.to_bytes()


# ---------------------------------------------------------------------------------------------
# decoding


def _no_ext(r: AperReader) -> None:
    if r.bits(1):
        raise AperUnsupported("extension present")


# Labels repeat from report to report (the same slice, the same bins): which fields a presence
# pattern carries is worked out once, and equal labels are the same (immutable) object.
_LABEL_PLANS: dict[int, tuple[tuple[str, str], ...]] = {}
_LABEL_MEMO: dict[tuple, MeasurementLabel] = {}
_LABEL_MEMO_MAX = 4096


def _dec_label(r: AperReader) -> MeasurementLabel:
    # Not 23 bits at once (to test for noLabel with its extension bit in one read): a label without
    # fields can be the last 22 bits of the message.
    present = r.bits(22)  # extension bit, 21 presence bits
    if present >> 21:
        raise AperUnsupported("extension present")
    if present == 1 << 20:  # only noLabel present
        _no_ext(r)
        return NO_LABEL
    if not present:
        return _EMPTY_LABEL
    plan = _LABEL_PLANS.get(present)
    if plan is None:
        plan = tuple(
            (attr, kind) for i, (attr, kind, _) in enumerate(_ROOT_LABEL) if (present >> (20 - i)) & 1
        )
        _LABEL_PLANS[present] = plan
    values: list = []
    for attr, kind in plan:
        if kind == "flag":
            _no_ext(r)
            values.append(True)
        elif kind == "octets":
            values.append(r.octets(3))
        elif kind == "slice":
            _no_ext(r)
            has_sd = r.bits(1)
            sst = r.bits(8)
            values.append((sst, int.from_bytes(r.octets(3), "big") if has_sd else None))
        elif kind == "enum":
            _no_ext(r)
            values.append("end" if r.bits(1) else "start")
        else:
            lb, ub, ext = _LABEL_INT[attr]
            if ext:
                _no_ext(r)
            values.append(r.constrained(lb, ub))
    key = (present, *values)
    label = _LABEL_MEMO.get(key)
    if label is None:
        kwargs = {
            attr: SNssai(*value) if kind == "slice" else value
            for (attr, kind), value in zip(plan, values, strict=True)
        }
        label = MeasurementLabel(**kwargs)
        if len(_LABEL_MEMO) < _LABEL_MEMO_MAX:
            _LABEL_MEMO[key] = label
    return label


# Measurement names decode with "_" too (sent by several open-source E2 nodes; encoding stays strict).
_MEAS_NAME_CHARACTERS = PRINTABLE | {"_"}


def _dec_info(r: AperReader) -> MeasurementInfoItem:
    head = r.bits(4)  # item extension bit, CHOICE extension bit, CHOICE index, value's extension bit
    if head == 0b0010:  # measID
        meas_type: str | int = r.constrained(1, 65536)
    elif head:
        raise AperUnsupported("extension present")
    else:
        n = r.bits(8) + 1
        meas_type = r.octets(n).decode("latin-1")
        if not _MEAS_NAME_CHARACTERS.issuperset(meas_type):
            raise AperError(f"not a PrintableString: {meas_type!r}")
    n = r.length()
    if n == 0:
        raise AperError("empty labelInfoList")
    labels = []
    for _ in range(n):
        _no_ext(r)
        labels.append(_dec_label(r))
    return MeasurementInfoItem(meas_type, tuple(labels))


def _dec_f1(r: AperReader) -> IndicationMessageFormat1:
    _no_ext(r)
    opts = r.bits(2)
    n = r.constrained(1, MAX_LIST)
    data = []
    for _ in range(n):
        _no_ext(r)
        incomplete = r.bits(1)
        count = r.length()
        if count == 0:
            raise AperError("empty measRecord")
        rec: list[int | float | None] = []
        for _ in range(count):
            idx = r.bits(3)  # CHOICE extension bit + 2-bit index
            if idx == 0:
                rec.append(r.u32())
            elif idx == 1:
                rec.append(_real(r))
            elif idx == 2:
                rec.append(None)
            elif idx > 3:
                raise AperUnsupported("extension present")
            else:
                raise AperError("bad MeasurementRecordItem index")
        if incomplete:
            _no_ext(r)
        data.append(MeasurementDataItem(tuple(rec), bool(incomplete)))
    info: tuple[MeasurementInfoItem, ...] = ()
    if opts & 2:
        info = tuple(_dec_info(r) for _ in range(r.constrained(1, MAX_LIST)))
    gp = r.constrained(1, U32_MAX) if opts & 1 else None
    return IndicationMessageFormat1(tuple(data), info, gp)


def _dec_ueid(r: AperReader) -> UeId:
    _no_ext(r)
    idx = r.bits(3)
    _no_ext(r)
    if idx in (1, 2):
        has_ran = r.bits(1)
        ident = r.u32()
        ran = r.octets(8) if has_ran else None
        return UeIdGnbDu(ident, ran) if idx == 1 else UeIdGnbCuUp(ident, ran)
    if idx == 4:
        return UeIdNgEnbDu(r.u32())
    if idx != 0:
        raise AperUnsupported("UEID kind")
    opts = r.bits(5)
    if opts & 1:
        raise AperUnsupported("globalGNB-ID")
    amf = r.constrained(0, (1 << 40) - 1)
    _no_ext(r)
    plmn = r.octets(3)
    guami = Guami(plmn, r.bits(8), r.bits(10), r.bits(6))
    f1: tuple[int, ...] = ()
    e1: tuple[int, ...] = ()
    if opts & 16:
        f1 = tuple(_dec_ext_u32(r) for _ in range(r.constrained(1, 4)))
    if opts & 8:
        e1 = tuple(_dec_ext_u32(r) for _ in range(r.constrained(1, MAX_LIST)))
    ran = r.octets(8) if opts & 4 else None
    xn = r.u32() if opts & 2 else None
    return UeIdGnb(amf, guami, f1, e1, ran, xn)


def _dec_ext_u32(r: AperReader) -> int:
    _no_ext(r)
    return r.u32()


def _real(r: AperReader) -> float:
    """REAL in the forms the reference decoder reads, with the value it computes; others unsupported."""
    data = r.octet_string()
    n = len(data)
    if not n:
        return 0.0
    control = data[0]
    if control in (0x80, 0xC0) and n >= 3:
        exponent = int.from_bytes(data[1:2], "big", signed=True)
        mantissa = int.from_bytes(data[2:], "big")
    elif control in (0x81, 0xC1) and n >= 4:
        exponent = int.from_bytes(data[1:3], "big", signed=True)
        mantissa = int.from_bytes(data[3:], "big")
    elif 0x40 <= control <= 0x43 and n == 1:
        return (_INF, -_INF, _NAN, -0.0)[control - 0x40]
    else:
        raise AperUnsupported(f"REAL form {data[:1].hex()}")  # decimal, other bases, scale factors
    if mantissa.bit_length() > 53 or not -1000 < exponent < 970:
        raise AperUnsupported("REAL beyond what a double holds exactly")
    value = float(mantissa * 2**exponent)
    return -value if control & 0x40 else value


_INF = float("inf")
_NAN = float("nan")


def _complete(r: AperReader, data: bytes) -> None:
    """No octets may follow the value (the reference decoder names their offset)."""
    if max(1, r.octets_consumed) != len(data):
        raise AperError(f"{len(data) - r.octets_consumed} octets after the value")


def decode_indication_message(data: bytes) -> IndicationMessage:
    data = bytes(data)
    r = AperReader(data)
    _no_ext(r)
    if r.bits(1):  # CHOICE extension: format 3 is the only addition handled here
        if r.bits(7) != 0:  # short-form index 0; a long form is left to the reference decoder
            raise AperUnsupported("indication message format or index form")
        content = r.open_type()
        inner = AperReader(content)
        _no_ext(inner)
        n = inner.constrained(1, MAX_LIST)
        reports = []
        for _ in range(n):
            _no_ext(inner)
            ue = _dec_ueid(inner)
            reports.append(UeMeasurementReportItem(ue, _dec_f1(inner)))
        _complete(inner, content)
        _complete(r, data)
        return IndicationMessageFormat3(tuple(reports))
    if r.bits(1):
        raise AperUnsupported("format 2")
    message = _dec_f1(r)
    _complete(r, data)
    return message


def decode_indication_header(data: bytes) -> IndicationHeaderFormat1:
    data = bytes(data)
    r = AperReader(data)
    _no_ext(r)
    _no_ext(r)
    _no_ext(r)
    present = r.bits(4)
    ts = r.octets(8)
    values = []
    for i, (_, ub) in enumerate(_HEADER_STRINGS):
        values.append(r.printable(0, ub) if (present >> (3 - i)) & 1 else None)
    _complete(r, data)
    return IndicationHeaderFormat1(ts, *values)
