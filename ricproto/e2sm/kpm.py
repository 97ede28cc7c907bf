"""E2SM-KPM codec, v3 (O-RAN E2SM-KPM v03.00) and v2.0x: typed messages with the specification's names.

One `encode_*`/`decode_*` pair per message kind (the OCTET STRING contents carried by E2AP):
RAN function definition (E2SM-KPM-RANfunction-Description), event trigger definition (format 1),
action definition (formats 1-5), indication header (format 1), indication message (formats 1-3).
Every failure raises `E2CodecError` naming the message and, when known, the field.

Python field names are the specification's names in snake_case (``granulPeriod`` -> ``granul_period``).
A `MeasurementType` is a ``str`` (measName) or an ``int`` (measID); a measurement record value is
an ``int`` (integer), a ``float`` (real) or ``None`` (noValue).

Both versions share the typed API: every function takes ``version`` (3, the default, or 2), which an
E2 node or xApp picks from the RAN function's OID (`version_of`). v2 (``asn/e2sm_kpm_v2.asn``) has
a 4-octet TimeStamp (the NTP seconds: `encode_indication_header` sends the first 4 octets of an
8-octet `ntp_timestamp`, `unix_seconds` reads either), no logicalOR in matching conditions, a
mandatory testExpr/testValue, no ssbIndex/ul-rSRP/cQI/valueReal extension additions, and only action
definition formats 1-3 and indication message formats 1-2; content v2 cannot carry is refused with an
`E2CodecError` naming it, never silently dropped.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter

from ricproto.aper import AperError, AperUnsupported
from ricproto.e2error import E2CodecError
from ricproto.e2sm import asn1spec
from ricproto.e2sm.identities import Cgi, SNssai, cgi_from_asn, cgi_to_asn
from ricproto.e2sm.ran_function_name import RanFunctionName
from ricproto.e2sm.ueid import UeId, ueid_from_asn, ueid_to_asn

RAN_FUNCTION_ID = 2
SHORT_NAME = "ORAN-E2SM-KPM"
OID = "1.3.6.1.4.1.53148.1.3.2.2"  # E2SM-KPM v3
OID_V2 = "1.3.6.1.4.1.53148.1.2.2.2"  # E2SM-KPM v2.0x
OIDS = {3: OID, 2: OID_V2}
VERSIONS = tuple(OIDS)
DESCRIPTION = "KPM Monitor"


def version_of(oid: str) -> int:
    """The KPM version (2 or 3) of a RAN function OID; E2CodecError for any other OID."""
    for version, known in OIDS.items():
        if oid == known:
            return version
    raise E2CodecError("RANfunctionOID", f"{oid!r} is not E2SM-KPM v2 ({OID_V2}) or v3 ({OID})")


def _spec(version: int) -> Any:
    if version not in OIDS:
        raise E2CodecError("E2SM-KPM", f"unknown KPM version {version!r} (2 or 3)")
    return asn1spec.kpm_spec(version)


def _v2_refuses(what: str, message: str = "E2SM-KPM") -> None:
    raise E2CodecError(message, f"{what} does not exist in E2SM-KPM v2")

MeasurementType = str | int
RecordValue = int | float | None

log = logging.getLogger("ricproto.e2sm.kpm")

FAST_PATH_FALLBACKS = Counter(
    "e2sm_kpm_fast_path_fallbacks",
    "KPM reports the hand-written codec left to the asn1tools reference codec, by operation and reason",
    ["operation", "reason"],
)


def _fell_back(operation: str, exc: Exception) -> None:
    """Count (and log) one fallback from the hand-written path: ``unsupported`` content it does not
    code, ``invalid`` bytes or values it refused, ``error`` for anything else (a bug: logged loudly)."""
    if isinstance(exc, AperUnsupported):
        reason = "unsupported"
    elif isinstance(exc, AperError | E2CodecError):
        reason = "invalid"
    else:
        reason = "error"
    FAST_PATH_FALLBACKS.labels(operation, reason).inc()
    if reason == "error":
        log.warning("KPM fast path %s failed unexpectedly; using the reference codec", operation,
                    exc_info=exc)
    else:
        log.debug("KPM fast path %s left to the reference codec (%s): %s", operation, reason, exc)

# ---------------------------------------------------------------------------------------------
# Common KPM IEs


@dataclass(frozen=True, slots=True)
class MeasurementLabel:
    """MeasurementLabel: every field optional; flags are the ENUMERATED {true} fields."""

    no_label: bool = False
    plmn_id: bytes | None = None
    slice_id: SNssai | None = None
    five_qi: int | None = None
    qfi: int | None = None
    qci: int | None = None
    qci_max: int | None = None
    qci_min: int | None = None
    arp_max: int | None = None
    arp_min: int | None = None
    bitrate_range: int | None = None
    layer_mu_mimo: int | None = None
    sum: bool = False
    dist_bin_x: int | None = None
    dist_bin_y: int | None = None
    dist_bin_z: int | None = None
    pre_label_override: bool = False
    start_end_ind: str | None = None  # "start" | "end"
    min: bool = False
    max: bool = False
    avg: bool = False
    ssb_index: int | None = None
    non_gob_bfmode_index: int | None = None
    mimo_mode_index: int | None = None


NO_LABEL = MeasurementLabel(no_label=True)

# (python attribute, ASN.1 name, kind) in the specification's order; kind: flag | int | octets | slice | enum
LABEL_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("no_label", "noLabel", "flag"),
    ("plmn_id", "plmnID", "octets"),
    ("slice_id", "sliceID", "slice"),
    ("five_qi", "fiveQI", "int"),
    ("qfi", "qFI", "int"),
    ("qci", "qCI", "int"),
    ("qci_max", "qCImax", "int"),
    ("qci_min", "qCImin", "int"),
    ("arp_max", "aRPmax", "int"),
    ("arp_min", "aRPmin", "int"),
    ("bitrate_range", "bitrateRange", "int"),
    ("layer_mu_mimo", "layerMU-MIMO", "int"),
    ("sum", "sUM", "flag"),
    ("dist_bin_x", "distBinX", "int"),
    ("dist_bin_y", "distBinY", "int"),
    ("dist_bin_z", "distBinZ", "int"),
    ("pre_label_override", "preLabelOverride", "flag"),
    ("start_end_ind", "startEndInd", "enum"),
    ("min", "min", "flag"),
    ("max", "max", "flag"),
    ("avg", "avg", "flag"),
    ("ssb_index", "ssbIndex", "int"),
    ("non_gob_bfmode_index", "nonGoB-BFmode-Index", "int"),
    ("mimo_mode_index", "mIMO-mode-Index", "int"),
)


V3_LABEL_FIELDS = frozenset({"ssb_index", "non_gob_bfmode_index", "mimo_mode_index"})


def label_to_asn(label: MeasurementLabel, version: int = 3) -> dict:
    out: dict[str, Any] = {}
    if version == 2 and any(getattr(label, attr) is not None for attr in V3_LABEL_FIELDS):
        _v2_refuses(
            "a MeasurementLabel with ssbIndex, nonGoB-BFmode-Index or mIMO-mode-Index", "MeasurementLabel"
        )
    for attr, name, kind in LABEL_FIELDS:
        v = getattr(label, attr)
        if kind == "flag":
            if v:
                out[name] = "true"
        elif v is not None:
            out[name] = v.to_asn() if kind == "slice" else v
    return out


def label_from_asn(v: dict) -> MeasurementLabel:
    kwargs: dict[str, Any] = {}
    for attr, name, kind in LABEL_FIELDS:
        if name not in v:
            continue
        x = v[name]
        if kind == "flag":
            kwargs[attr] = True
        elif kind == "slice":
            kwargs[attr] = SNssai.from_asn(x)
        elif kind == "octets":
            kwargs[attr] = bytes(x)
        else:
            kwargs[attr] = x
    return MeasurementLabel(**kwargs)


def _meas_type_to_asn(t: MeasurementType) -> tuple[str, Any]:
    if isinstance(t, bool) or not isinstance(t, str | int):
        raise E2CodecError("MeasurementType", f"expected a name (str) or an id (int), got {t!r}")
    return ("measName", asn1spec.printable(t, "MeasurementTypeName")) if isinstance(t, str) else ("measID", t)


def _meas_type_from_asn(v: tuple[str, Any]) -> MeasurementType:
    return v[1]


@dataclass(frozen=True, slots=True)
class MeasurementInfoItem:
    """MeasurementInfoItem: measType (name or id) and its labelInfoList."""

    meas_type: MeasurementType
    label_info_list: tuple[MeasurementLabel, ...] = (NO_LABEL,)


def _info_to_asn(item: MeasurementInfoItem, version: int = 3) -> dict:
    return {
        "measType": _meas_type_to_asn(item.meas_type),
        "labelInfoList": [{"measLabel": label_to_asn(lb, version)} for lb in item.label_info_list],
    }


def _info_from_asn(v: dict) -> MeasurementInfoItem:
    return MeasurementInfoItem(
        _meas_type_from_asn(v["measType"]),
        tuple(label_from_asn(x["measLabel"]) for x in v["labelInfoList"]),
    )


@dataclass(frozen=True, slots=True)
class MeasurementDataItem:
    """MeasurementDataItem: measRecord (one value per measInfoList label, in order) + incompleteFlag."""

    meas_record: tuple[RecordValue, ...]
    incomplete_flag: bool = False


def _record_to_asn(v: RecordValue) -> tuple[str, Any]:
    if v is None:
        return ("noValue", None)
    if isinstance(v, bool):
        raise E2CodecError("MeasurementRecordItem", "a bool is not a measurement value")
    if isinstance(v, int):
        return ("integer", v)
    if isinstance(v, float):
        return ("real", v)
    raise E2CodecError("MeasurementRecordItem", f"expected int, float or None, got {type(v).__name__}")


def _data_to_asn(item: MeasurementDataItem) -> dict:
    out: dict[str, Any] = {"measRecord": [_record_to_asn(x) for x in item.meas_record]}
    if item.incomplete_flag:
        out["incompleteFlag"] = "true"
    return out


def _data_from_asn(v: dict) -> MeasurementDataItem:
    return MeasurementDataItem(
        tuple(x[1] if x[0] != "real" else float(x[1]) for x in v["measRecord"]),
        "incompleteFlag" in v,
    )


@dataclass(frozen=True, slots=True)
class TestCondInfo:
    """TestCondInfo: testType (e.g. "rSRP", "cQI", "sNSSAI"), testExpr, testValue.

    ``test_value`` is (alternative, value) with alternative one of valueInt, valueEnum, valueBool,
    valueBitS (value = (bytes, bit count)), valueOctS, valuePrtS, valueReal.
    """

    __test__ = False  # not a pytest test class despite the name

    test_type: str
    test_expr: str | None = None  # equal | greaterthan | lessthan | contains | present
    test_value: tuple[str, Any] | None = None


V2_TEST_TYPES = frozenset({"gBR", "aMBR", "isStat", "isCatM", "rSRP", "rSRQ"})


def _test_to_asn(t: TestCondInfo, version: int = 3) -> dict:
    if version == 2:
        if t.test_type not in V2_TEST_TYPES:
            _v2_refuses(f"test type {t.test_type!r}", "TestCondInfo")
        if t.test_expr is None or t.test_value is None:
            raise E2CodecError("TestCondInfo", "E2SM-KPM v2 needs testExpr and testValue")
        if t.test_value[0] == "valueReal":
            _v2_refuses("valueReal", "TestCondInfo")
    out: dict[str, Any] = {"testType": (t.test_type, "true")}
    if t.test_expr is not None:
        out["testExpr"] = t.test_expr
    if t.test_value is not None:
        if t.test_value[0] == "valuePrtS":
            asn1spec.printable(t.test_value[1], "TestCond-Value")
        out["testValue"] = t.test_value
    return out


def _test_from_asn(v: dict) -> TestCondInfo:
    tv = v.get("testValue")
    if tv is not None:
        kind, x = tv
        tv = (kind, float(x) if kind == "valueReal" else (bytes(x) if kind == "valueOctS" else x))
    return TestCondInfo(v["testType"][0], v.get("testExpr"), tv)


@dataclass(frozen=True, slots=True)
class MatchingCondItem:
    """MatchingCondItem: matchingCondChoice (a MeasurementLabel or a TestCondInfo) and logicalOR."""

    matching_cond_choice: MeasurementLabel | TestCondInfo
    logical_or: bool = False


def _match_to_asn(m: MatchingCondItem, version: int = 3) -> Any:
    c = m.matching_cond_choice
    choice = (
        ("measLabel", label_to_asn(c, version))
        if isinstance(c, MeasurementLabel)
        else ("testCondInfo", _test_to_asn(c, version))
    )
    if version == 2:  # a bare CHOICE, conditions always ANDed
        if m.logical_or:
            _v2_refuses("logicalOR", "MatchingCondItem")
        return choice
    out: dict[str, Any] = {"matchingCondChoice": choice}
    if m.logical_or:
        out["logicalOR"] = "true"
    return out


def _match_from_asn(v: Any) -> MatchingCondItem:
    if isinstance(v, tuple):  # v2: the CHOICE itself
        v = {"matchingCondChoice": v}
    kind, c = v["matchingCondChoice"]
    choice = label_from_asn(c) if kind == "measLabel" else _test_from_asn(c)
    return MatchingCondItem(choice, "logicalOR" in v)


# ---------------------------------------------------------------------------------------------
# Event trigger definition


@dataclass(frozen=True, slots=True)
class EventTriggerDefinition:
    """E2SM-KPM-EventTriggerDefinition format 1: reportingPeriod in ms."""

    reporting_period: int


def encode_event_trigger_definition(msg: EventTriggerDefinition, version: int = 3) -> bytes:
    name = "E2SM-KPM-EventTriggerDefinition"

    def to_asn(m: EventTriggerDefinition) -> dict:
        return {
            "eventDefinition-formats": ("eventDefinition-Format1", {"reportingPeriod": m.reporting_period})
        }

    return asn1spec.encode(_spec(version), name, asn1spec.convert(name, to_asn, msg))


def decode_event_trigger_definition(data: bytes, version: int = 3) -> EventTriggerDefinition:
    name = "E2SM-KPM-EventTriggerDefinition"
    v = asn1spec.decode(_spec(version), name, data)
    return asn1spec.convert(
        name, lambda x: EventTriggerDefinition(x["eventDefinition-formats"][1]["reportingPeriod"]), v
    )


# ---------------------------------------------------------------------------------------------
# Action definition


@dataclass(frozen=True, slots=True)
class ActionDefinitionFormat1:
    """Node/cell-level measurements: measInfoList, granulPeriod (ms), optional cellGlobalID."""

    meas_info_list: tuple[MeasurementInfoItem, ...]
    granul_period: int
    cell_global_id: Cgi | None = None


@dataclass(frozen=True, slots=True)
class ActionDefinitionFormat2:
    """Measurements of a single UE: ueID + subscriptInfo."""

    ue_id: UeId
    subscript_info: ActionDefinitionFormat1


@dataclass(frozen=True, slots=True)
class MeasurementCondItem:
    meas_type: MeasurementType
    matching_cond: tuple[MatchingCondItem, ...]


@dataclass(frozen=True, slots=True)
class ActionDefinitionFormat3:
    """Condition-based UE-level measurements: measCondList, granulPeriod, optional cellGlobalID."""

    meas_cond_list: tuple[MeasurementCondItem, ...]
    granul_period: int
    cell_global_id: Cgi | None = None


@dataclass(frozen=True, slots=True)
class MatchingUeCondPerSubItem:
    test_cond_info: TestCondInfo
    logical_or: bool = False


@dataclass(frozen=True, slots=True)
class ActionDefinitionFormat4:
    """Common condition-based UE-level measurements: matchingUeCondList + subscriptionInfo."""

    matching_ue_cond_list: tuple[MatchingUeCondPerSubItem, ...]
    subscription_info: ActionDefinitionFormat1


@dataclass(frozen=True, slots=True)
class ActionDefinitionFormat5:
    """UE-level measurements for a list of (at least 2) UEs: matchingUEidList + subscriptionInfo."""

    matching_ueid_list: tuple[UeId, ...]
    subscription_info: ActionDefinitionFormat1


ActionDefinitionFormat = (
    ActionDefinitionFormat1
    | ActionDefinitionFormat2
    | ActionDefinitionFormat3
    | ActionDefinitionFormat4
    | ActionDefinitionFormat5
)


@dataclass(frozen=True, slots=True)
class ActionDefinition:
    """E2SM-KPM-ActionDefinition: ric-Style-Type and one of the action definition formats."""

    ric_style_type: int
    action_definition_format: ActionDefinitionFormat


def _f1_to_asn(f: ActionDefinitionFormat1, version: int = 3) -> dict:
    out: dict[str, Any] = {
        "measInfoList": [_info_to_asn(i, version) for i in f.meas_info_list],
        "granulPeriod": f.granul_period,
    }
    if f.cell_global_id is not None:
        out["cellGlobalID"] = cgi_to_asn(f.cell_global_id)
    return out


def _f1_from_asn(v: dict) -> ActionDefinitionFormat1:
    cgi = v.get("cellGlobalID")
    return ActionDefinitionFormat1(
        tuple(_info_from_asn(i) for i in v["measInfoList"]),
        v["granulPeriod"],
        cgi_from_asn(cgi) if cgi is not None else None,
    )


def _action_to_asn(msg: ActionDefinition, version: int = 3) -> dict:
    f = msg.action_definition_format
    if version == 2 and isinstance(f, ActionDefinitionFormat4 | ActionDefinitionFormat5):
        _v2_refuses(f"action definition {type(f).__name__}", "E2SM-KPM-ActionDefinition")
    if isinstance(f, ActionDefinitionFormat1):
        choice = ("actionDefinition-Format1", _f1_to_asn(f, version))
    elif isinstance(f, ActionDefinitionFormat2):
        choice = (
            "actionDefinition-Format2",
            {"ueID": ueid_to_asn(f.ue_id), "subscriptInfo": _f1_to_asn(f.subscript_info, version)},
        )
    elif isinstance(f, ActionDefinitionFormat3):
        v3: dict[str, Any] = {
            "measCondList": [
                {
                    "measType": _meas_type_to_asn(c.meas_type),
                    "matchingCond": [_match_to_asn(m, version) for m in c.matching_cond],
                }
                for c in f.meas_cond_list
            ],
            "granulPeriod": f.granul_period,
        }
        if f.cell_global_id is not None:
            v3["cellGlobalID"] = cgi_to_asn(f.cell_global_id)
        choice = ("actionDefinition-Format3", v3)
    elif isinstance(f, ActionDefinitionFormat4):
        items = []
        for c in f.matching_ue_cond_list:
            item: dict[str, Any] = {"testCondInfo": _test_to_asn(c.test_cond_info)}
            if c.logical_or:
                item["logicalOR"] = "true"
            items.append(item)
        choice = (
            "actionDefinition-Format4",
            {"matchingUeCondList": items, "subscriptionInfo": _f1_to_asn(f.subscription_info)},
        )
    elif isinstance(f, ActionDefinitionFormat5):
        choice = (
            "actionDefinition-Format5",
            {
                "matchingUEidList": [{"ueID": ueid_to_asn(u)} for u in f.matching_ueid_list],
                "subscriptionInfo": _f1_to_asn(f.subscription_info),
            },
        )
    else:
        raise E2CodecError("E2SM-KPM-ActionDefinition", f"unknown format {type(f).__name__}")
    return {"ric-Style-Type": msg.ric_style_type, "actionDefinition-formats": choice}


def _action_from_asn(v: dict) -> ActionDefinition:
    kind, f = v["actionDefinition-formats"]
    fmt: ActionDefinitionFormat
    if kind == "actionDefinition-Format1":
        fmt = _f1_from_asn(f)
    elif kind == "actionDefinition-Format2":
        fmt = ActionDefinitionFormat2(ueid_from_asn(f["ueID"]), _f1_from_asn(f["subscriptInfo"]))
    elif kind == "actionDefinition-Format3":
        cgi = f.get("cellGlobalID")
        fmt = ActionDefinitionFormat3(
            tuple(
                MeasurementCondItem(
                    _meas_type_from_asn(c["measType"]), tuple(_match_from_asn(m) for m in c["matchingCond"])
                )
                for c in f["measCondList"]
            ),
            f["granulPeriod"],
            cgi_from_asn(cgi) if cgi is not None else None,
        )
    elif kind == "actionDefinition-Format4":
        fmt = ActionDefinitionFormat4(
            tuple(
                MatchingUeCondPerSubItem(_test_from_asn(c["testCondInfo"]), "logicalOR" in c)
                for c in f["matchingUeCondList"]
            ),
            _f1_from_asn(f["subscriptionInfo"]),
        )
    elif kind == "actionDefinition-Format5":
        fmt = ActionDefinitionFormat5(
            tuple(ueid_from_asn(u["ueID"]) for u in f["matchingUEidList"]),
            _f1_from_asn(f["subscriptionInfo"]),
        )
    else:
        raise E2CodecError("E2SM-KPM-ActionDefinition", f"unsupported format {kind}")
    return ActionDefinition(v["ric-Style-Type"], fmt)


def encode_action_definition(msg: ActionDefinition, version: int = 3) -> bytes:
    name = "E2SM-KPM-ActionDefinition"
    value = asn1spec.convert(name, lambda m: _action_to_asn(m, version), msg)
    return asn1spec.encode(_spec(version), name, value)


def decode_action_definition(data: bytes, version: int = 3) -> ActionDefinition:
    name = "E2SM-KPM-ActionDefinition"
    return asn1spec.convert(name, _action_from_asn, asn1spec.decode(_spec(version), name, data))


# ---------------------------------------------------------------------------------------------
# Indication header

NTP_UNIX_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01


def ntp_timestamp(unix_seconds: float) -> bytes:
    """TimeStamp (8 octets) as a 64-bit NTP timestamp: 32-bit seconds since 1900 + 32-bit fraction."""
    whole = int(unix_seconds)
    frac = int((unix_seconds - whole) * (1 << 32)) & 0xFFFFFFFF
    return struct.pack(">II", (whole + NTP_UNIX_OFFSET) & 0xFFFFFFFF, frac)


def unix_seconds(timestamp: bytes) -> float:
    """Inverse of `ntp_timestamp` (era 0); a 4-octet (KPM v2) TimeStamp is the NTP seconds alone."""
    if len(timestamp) == 4:
        return struct.unpack(">I", timestamp)[0] - NTP_UNIX_OFFSET
    if len(timestamp) != 8:
        raise E2CodecError("TimeStamp", f"expected 8 (or 4, KPM v2) octets, got {len(timestamp)}")
    secs, frac = struct.unpack(">II", timestamp)
    return secs - NTP_UNIX_OFFSET + frac / (1 << 32)


@dataclass(frozen=True, slots=True)
class IndicationHeaderFormat1:
    """E2SM-KPM-IndicationHeader format 1: colletStartTime (8-octet TimeStamp) and optional strings."""

    collet_start_time: bytes
    file_formatversion: str | None = None
    sender_name: str | None = None
    sender_type: str | None = None
    vendor_name: str | None = None


HEADER_FIELDS = (
    ("file_formatversion", "fileFormatversion"),
    ("sender_name", "senderName"),
    ("sender_type", "senderType"),
    ("vendor_name", "vendorName"),
)


def _header_to_asn(msg: IndicationHeaderFormat1, version: int = 3) -> dict:
    stamp = msg.collet_start_time
    if version == 2 and isinstance(stamp, bytes | bytearray) and len(stamp) == 8:
        stamp = stamp[:4]  # v2 carries the NTP seconds only
    f1: dict[str, Any] = {"colletStartTime": stamp}
    for attr, name in HEADER_FIELDS:
        v = getattr(msg, attr)
        if v is not None:
            f1[name] = asn1spec.printable(v, name)
    return {"indicationHeader-formats": ("indicationHeader-Format1", f1)}


def _header_from_asn(v: dict) -> IndicationHeaderFormat1:
    f1 = v["indicationHeader-formats"][1]
    return IndicationHeaderFormat1(bytes(f1["colletStartTime"]), *(f1.get(name) for _, name in HEADER_FIELDS))


def encode_indication_header(msg: IndicationHeaderFormat1, version: int = 3) -> bytes:
    """The hand-written hot path (`kpm_report_aper`, v3); asn1tools for v2 and what it does not cover
    or rejects."""
    if version != 3:
        return encode_indication_header_reference(msg, version)
    try:
        return _fast.encode_indication_header(msg)
    except Exception as exc:  # the reference codec then encodes, or raises the one E2CodecError callers see
        _fell_back("encode_indication_header", exc)
    return encode_indication_header_reference(msg)


def decode_indication_header(data: bytes, version: int = 3) -> IndicationHeaderFormat1:
    asn1spec.require_bytes("E2SM-KPM-IndicationHeader", data)
    if version != 3:
        return decode_indication_header_reference(data, version)
    try:
        return _fast.decode_indication_header(data)
    except Exception as exc:
        _fell_back("decode_indication_header", exc)
    return decode_indication_header_reference(data)


def encode_indication_header_reference(msg: IndicationHeaderFormat1, version: int = 3) -> bytes:
    """Encode with asn1tools only (the reference the hand-written path is tested against)."""
    name = "E2SM-KPM-IndicationHeader"
    value = asn1spec.convert(name, lambda m: _header_to_asn(m, version), msg)
    return asn1spec.encode(_spec(version), name, value)


def decode_indication_header_reference(data: bytes, version: int = 3) -> IndicationHeaderFormat1:
    name = "E2SM-KPM-IndicationHeader"
    asn1spec.require_bytes(name, data)
    return asn1spec.convert(name, _header_from_asn, asn1spec.decode(_spec(version), name, data))


# ---------------------------------------------------------------------------------------------
# Indication message


@dataclass(frozen=True, slots=True)
class IndicationMessageFormat1:
    """Node/cell-level (or one UE's) report: measData, optional measInfoList and granulPeriod."""

    meas_data: tuple[MeasurementDataItem, ...]
    meas_info_list: tuple[MeasurementInfoItem, ...] = ()
    granul_period: int | None = None

    def values_by_label(self) -> dict[tuple[MeasurementType, MeasurementLabel], list[RecordValue]]:
        """{(measType, label): [value per measData item]}.

        A measRecord holds one value per (measType, label) pair, in measInfoList order and, within an
        item, in labelInfoList order.
        """
        keys = [(i.meas_type, label) for i in self.meas_info_list for label in i.label_info_list]
        out: dict[tuple[MeasurementType, MeasurementLabel], list[RecordValue]] = {k: [] for k in keys}
        if len(out) != len(keys):
            raise E2CodecError(_F1, "a (measType, label) pair appears twice", "measInfoList")
        for n, d in enumerate(self.meas_data):
            if len(d.meas_record) != len(keys):
                raise E2CodecError(
                    _F1, "measRecord length differs from the measInfoList labels", f"measData[{n}]"
                )
            for key, value in zip(keys, d.meas_record, strict=True):
                out[key].append(value)
        return out

    def values_by_type(self) -> dict[MeasurementType, list[RecordValue]]:
        """{measType: [value per measData item]}, for reports with one label per measurement type."""
        if any(len(i.label_info_list) != 1 for i in self.meas_info_list):
            raise E2CodecError(_F1, "items with several labels: use values_by_label()", "measInfoList")
        by_label = self.values_by_label()
        out = {meas_type: values for (meas_type, _), values in by_label.items()}
        if len(out) != len(by_label):
            raise E2CodecError(_F1, "a measType appears twice: use values_by_label()", "measInfoList")
        return out


_F1 = "E2SM-KPM-IndicationMessage-Format1"


def cell_report(
    values: Mapping[MeasurementType | tuple[MeasurementType, MeasurementLabel], RecordValue],
    granul_period: int | None = None,
    incomplete: bool = False,
) -> IndicationMessageFormat1:
    """A one-period format-1 report from {measType or (measType, label): value}; no label = noLabel."""
    infos = []
    record = []
    for key, value in values.items():
        meas_type, label = key if isinstance(key, tuple) else (key, NO_LABEL)
        infos.append(MeasurementInfoItem(meas_type, (label,)))
        record.append(value)
    if not infos:
        raise E2CodecError(_F1, "a report needs at least one measurement", "measData")
    return IndicationMessageFormat1(
        (MeasurementDataItem(tuple(record), incomplete),), tuple(infos), granul_period
    )


@dataclass(frozen=True, slots=True)
class MeasurementCondUeIdItem:
    meas_type: MeasurementType
    matching_cond: tuple[MatchingCondItem, ...]
    matching_ueid_list: tuple[UeId, ...] = ()


@dataclass(frozen=True, slots=True)
class IndicationMessageFormat2:
    """Condition-based report: measData, measCondUEidList (with the matched UE ids), granulPeriod."""

    meas_data: tuple[MeasurementDataItem, ...]
    meas_cond_ueid_list: tuple[MeasurementCondUeIdItem, ...]
    granul_period: int | None = None


@dataclass(frozen=True, slots=True)
class UeMeasurementReportItem:
    ue_id: UeId
    meas_report: IndicationMessageFormat1


@dataclass(frozen=True, slots=True)
class IndicationMessageFormat3:
    """Per-UE reports: ueMeasReportList of (ueID, format-1 report)."""

    ue_meas_report_list: tuple[UeMeasurementReportItem, ...]

    def values_by_ue(self) -> dict[UeId, dict[MeasurementType, list[RecordValue]]]:
        """{ueID: {measType: [values]}} for per-UE reports with one label per measurement type."""
        return {r.ue_id: r.meas_report.values_by_type() for r in self.ue_meas_report_list}


def ue_reports(
    per_ue: Mapping[UeId, Mapping[MeasurementType, RecordValue]], granul_period: int | None = None
) -> IndicationMessageFormat3:
    """A format-3 report from {ueID: {measType: value}} (one period, noLabel)."""
    if not per_ue:
        raise E2CodecError("E2SM-KPM-IndicationMessage-Format3", "no UE to report", "ueMeasReportList")
    return IndicationMessageFormat3(
        tuple(
            UeMeasurementReportItem(ue, cell_report(values, granul_period)) for ue, values in per_ue.items()
        )
    )


IndicationMessage = IndicationMessageFormat1 | IndicationMessageFormat2 | IndicationMessageFormat3


def _im_f1_to_asn(m: IndicationMessageFormat1, version: int = 3) -> dict:
    out: dict[str, Any] = {"measData": [_data_to_asn(d) for d in m.meas_data]}
    if m.meas_info_list:
        out["measInfoList"] = [_info_to_asn(i, version) for i in m.meas_info_list]
    if m.granul_period is not None:
        out["granulPeriod"] = m.granul_period
    return out


def _im_f1_from_asn(v: dict) -> IndicationMessageFormat1:
    return IndicationMessageFormat1(
        tuple(_data_from_asn(d) for d in v["measData"]),
        tuple(_info_from_asn(i) for i in v.get("measInfoList", ())),
        v.get("granulPeriod"),
    )


def _im_to_asn(m: IndicationMessage, version: int = 3) -> dict:
    if version == 2 and isinstance(m, IndicationMessageFormat3):
        _v2_refuses("indication message format 3", "E2SM-KPM-IndicationMessage")
    if isinstance(m, IndicationMessageFormat1):
        choice = ("indicationMessage-Format1", _im_f1_to_asn(m, version))
    elif isinstance(m, IndicationMessageFormat2):
        items = []
        for c in m.meas_cond_ueid_list:
            item: dict[str, Any] = {
                "measType": _meas_type_to_asn(c.meas_type),
                "matchingCond": [_match_to_asn(x, version) for x in c.matching_cond],
            }
            if c.matching_ueid_list:
                item["matchingUEidList"] = [{"ueID": ueid_to_asn(u)} for u in c.matching_ueid_list]
            items.append(item)
        f2: dict[str, Any] = {"measData": [_data_to_asn(d) for d in m.meas_data], "measCondUEidList": items}
        if m.granul_period is not None:
            f2["granulPeriod"] = m.granul_period
        choice = ("indicationMessage-Format2", f2)
    elif isinstance(m, IndicationMessageFormat3):
        choice = (
            "indicationMessage-Format3",
            {
                "ueMeasReportList": [
                    {"ueID": ueid_to_asn(r.ue_id), "measReport": _im_f1_to_asn(r.meas_report)}
                    for r in m.ue_meas_report_list
                ]
            },
        )
    else:
        raise E2CodecError("E2SM-KPM-IndicationMessage", f"unknown format {type(m).__name__}")
    return {"indicationMessage-formats": choice}


def _im_from_asn(v: dict) -> IndicationMessage:
    kind, f = v["indicationMessage-formats"]
    if kind == "indicationMessage-Format1":
        return _im_f1_from_asn(f)
    if kind == "indicationMessage-Format2":
        return IndicationMessageFormat2(
            tuple(_data_from_asn(d) for d in f["measData"]),
            tuple(
                MeasurementCondUeIdItem(
                    _meas_type_from_asn(c["measType"]),
                    tuple(_match_from_asn(x) for x in c["matchingCond"]),
                    tuple(ueid_from_asn(u["ueID"]) for u in c.get("matchingUEidList", ())),
                )
                for c in f["measCondUEidList"]
            ),
            f.get("granulPeriod"),
        )
    if kind == "indicationMessage-Format3":
        return IndicationMessageFormat3(
            tuple(
                UeMeasurementReportItem(ueid_from_asn(r["ueID"]), _im_f1_from_asn(r["measReport"]))
                for r in f["ueMeasReportList"]
            )
        )
    raise E2CodecError("E2SM-KPM-IndicationMessage", f"unsupported format {kind}")


def encode_indication_message(msg: IndicationMessage, version: int = 3) -> bytes:
    """The hand-written hot path (`kpm_report_aper`, v3); asn1tools for v2 and what it does not cover
    or rejects."""
    if version != 3:
        return encode_indication_message_reference(msg, version)
    try:
        return _fast.encode_indication_message(msg)
    except Exception as exc:  # the reference codec then encodes, or raises the one E2CodecError callers see
        _fell_back("encode_indication_message", exc)
    return encode_indication_message_reference(msg)


def decode_indication_message(data: bytes, version: int = 3) -> IndicationMessage:
    asn1spec.require_bytes("E2SM-KPM-IndicationMessage", data)
    if version != 3:
        return decode_indication_message_reference(data, version)
    try:
        return _fast.decode_indication_message(data)
    except Exception as exc:
        _fell_back("decode_indication_message", exc)
    return decode_indication_message_reference(data)


def encode_indication_message_reference(msg: IndicationMessage, version: int = 3) -> bytes:
    """Encode with asn1tools only (the reference the hand-written path is tested against)."""
    name = "E2SM-KPM-IndicationMessage"
    value = asn1spec.convert(name, lambda m: _im_to_asn(m, version), msg)
    return asn1spec.encode(_spec(version), name, value)


def decode_indication_message_reference(data: bytes, version: int = 3) -> IndicationMessage:
    name = "E2SM-KPM-IndicationMessage"
    asn1spec.require_bytes(name, data)
    return asn1spec.convert(name, _im_from_asn, asn1spec.decode(_spec(version), name, data))


# ---------------------------------------------------------------------------------------------
# RAN function definition


@dataclass(frozen=True, slots=True)
class EventTriggerStyle:
    ric_event_trigger_style_type: int
    ric_event_trigger_style_name: str
    ric_event_trigger_format_type: int


@dataclass(frozen=True, slots=True)
class MeasurementInfoActionItem:
    meas_name: str
    meas_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReportStyle:
    ric_report_style_type: int
    ric_report_style_name: str
    ric_action_format_type: int
    meas_info_action_list: tuple[MeasurementInfoActionItem, ...]
    ric_indication_header_format_type: int = 1
    ric_indication_message_format_type: int = 1


@dataclass(frozen=True, slots=True)
class RanFunctionDescription:
    """E2SM-KPM-RANfunction-Description: name, event trigger styles, report styles."""

    ran_function_name: RanFunctionName
    ric_event_trigger_style_list: tuple[EventTriggerStyle, ...] = ()
    ric_report_style_list: tuple[ReportStyle, ...] = ()

    def measurement_names(self, style: int | None = None) -> list[str]:
        """The measurement names offered (by one report style, or by all, without repeats)."""
        seen: dict[str, None] = {}
        for s in self.ric_report_style_list:
            if style is None or s.ric_report_style_type == style:
                for m in s.meas_info_action_list:
                    seen.setdefault(m.meas_name)
        return list(seen)


def _ranfunc_to_asn(d: RanFunctionDescription) -> dict:
    out: dict[str, Any] = {"ranFunction-Name": d.ran_function_name.to_asn()}
    if d.ric_event_trigger_style_list:
        out["ric-EventTriggerStyle-List"] = [
            {
                "ric-EventTriggerStyle-Type": s.ric_event_trigger_style_type,
                "ric-EventTriggerStyle-Name": asn1spec.printable(
                    s.ric_event_trigger_style_name, "RIC-Style-Name"
                ),
                "ric-EventTriggerFormat-Type": s.ric_event_trigger_format_type,
            }
            for s in d.ric_event_trigger_style_list
        ]
    if d.ric_report_style_list:
        styles = []
        for s in d.ric_report_style_list:
            acts = []
            for m in s.meas_info_action_list:
                a: dict[str, Any] = {"measName": asn1spec.printable(m.meas_name, "MeasurementTypeName")}
                if m.meas_id is not None:
                    a["measID"] = m.meas_id
                acts.append(a)
            styles.append(
                {
                    "ric-ReportStyle-Type": s.ric_report_style_type,
                    "ric-ReportStyle-Name": asn1spec.printable(s.ric_report_style_name, "RIC-Style-Name"),
                    "ric-ActionFormat-Type": s.ric_action_format_type,
                    "measInfo-Action-List": acts,
                    "ric-IndicationHeaderFormat-Type": s.ric_indication_header_format_type,
                    "ric-IndicationMessageFormat-Type": s.ric_indication_message_format_type,
                }
            )
        out["ric-ReportStyle-List"] = styles
    return out


def _ranfunc_from_asn(v: dict) -> RanFunctionDescription:
    return RanFunctionDescription(
        RanFunctionName.from_asn(v["ranFunction-Name"]),
        tuple(
            EventTriggerStyle(
                s["ric-EventTriggerStyle-Type"],
                s["ric-EventTriggerStyle-Name"],
                s["ric-EventTriggerFormat-Type"],
            )
            for s in v.get("ric-EventTriggerStyle-List", ())
        ),
        tuple(
            ReportStyle(
                s["ric-ReportStyle-Type"],
                s["ric-ReportStyle-Name"],
                s["ric-ActionFormat-Type"],
                tuple(
                    MeasurementInfoActionItem(m["measName"], m.get("measID"))
                    for m in s["measInfo-Action-List"]
                ),
                s["ric-IndicationHeaderFormat-Type"],
                s["ric-IndicationMessageFormat-Type"],
            )
            for s in v.get("ric-ReportStyle-List", ())
        ),
    )


def encode_ran_function_description(msg: RanFunctionDescription, version: int = 3) -> bytes:
    name = "E2SM-KPM-RANfunction-Description"
    return asn1spec.encode(_spec(version), name, asn1spec.convert(name, _ranfunc_to_asn, msg))


def decode_ran_function_description(data: bytes, version: int = 3) -> RanFunctionDescription:
    name = "E2SM-KPM-RANfunction-Description"
    return asn1spec.convert(name, _ranfunc_from_asn, asn1spec.decode(_spec(version), name, data))


# Report styles (E2SM-KPM §7.4.1): (style, name, action definition format, indication message format,
# measurement level), in the order they are offered. v2 has styles 1-3 only.
REPORT_STYLES: tuple[tuple[int, str, int, int, str], ...] = (
    (1, "E2 Node Measurement", 1, 1, "cell"),
    (2, "E2 Node Measurement for a single UE", 2, 1, "ue"),
    (3, "Condition-based, UE-level E2 Node Measurement", 3, 2, "ue"),
    (4, "Common Condition-based, UE-level Measurement", 4, 3, "ue"),
    (5, "E2 Node Measurement for multiple UEs", 5, 3, "ue"),
)


def default_ran_function_description(
    cell_measurements: tuple[str, ...],
    ue_measurements: tuple[str, ...] = (),
    instance: int | None = None,
    version: int = 3,
) -> RanFunctionDescription:
    """What twinric's E2 node offers: the periodic trigger; style 1 with the cell measurements, and
    with UE measurements styles 2-5 (v3) or 2-3 (v2) with those."""
    styles = []
    for style, name, action_format, message_format, level in REPORT_STYLES:
        names = cell_measurements if level == "cell" else ue_measurements
        if not names or (version == 2 and action_format > 3):
            continue
        items = tuple(MeasurementInfoActionItem(n) for n in names)
        styles.append(ReportStyle(style, name, action_format, items, 1, message_format))
    return RanFunctionDescription(
        RanFunctionName(SHORT_NAME, OIDS[version] if version in OIDS else OID, DESCRIPTION, instance),
        (EventTriggerStyle(1, "Periodic Report", 1),),
        tuple(styles),
    )


# The hand-written hot path builds the dataclasses above, so it is imported after them.
from ricproto.e2sm import kpm_report_aper as _fast  # noqa: E402
