"""E2SM-RC codec (RAN function 3): typed control header/message/outcome and RAN function definition.

Generic layer: RAN parameter trees (`RanParameterItem` holding an element, a structure or a list)
in control message format 1, control header format 1 (UE id, style, action) and control outcome
format 1. Typed layer on top for the two controls twinric uses:

* `HandoverControl` - style 3 (Connected Mode Mobility) action 1 (Handover Control): move a UE to
  a target NR cell (tree 1 Target Primary Cell ID > 2 CHOICE Target Cell > 3 NR Cell > 4 NR CGI,
  the NR CGI being the APER encoding of the NR-CGI).
* `SliceQuotaControl` - style 2 (Radio Resource Allocation) action 6 (Slice-level PRB quota):
  min/max/dedicated PRB ratios per slice. Two RAN parameter numberings are in use (E2SM-RC v1.03
  as in FlexRIC/OAI, and the newer one as in srsRAN); both decode, and the newer one is the
  default for encoding.
* `CellOffsetControl` - style 3 (Connected Mode Mobility, E2SM-RC §7.6.4) action
  ``ACTION_CELL_INDIVIDUAL_OFFSET`` (101): the cell individual offsets one cell applies to its
  neighbours in event A3 (TS 38.331 §5.5.4.4 ``Ocn``, a ``cellIndividualOffset`` Q-OffsetRange value in
  dB; the per-relation handover trigger change of the Xn Mobility Settings Change procedure, TS 38.423).
  The E2SM-RC revisions we follow (v1.03: style 3 actions 1 handover, 2 conditional handover, 3 DAPS
  handover) assign no action to this mobility-load-balancing lever, so twinric carries it as an
  action of the style it belongs to, under an id the spec leaves unassigned, with a parameter tree
  shaped like §8.4.4's (cells as packed NR-CGI elements), and advertises it in the RAN function
  definition: an xApp uses it only when the node offers it (``RanFunctionDefinition.offers``).

Every failure raises `E2CodecError` naming the message and, when known, the field.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from ricproto.e2error import E2CodecError
from ricproto.e2sm import asn1spec
from ricproto.e2sm.identities import NrCgi, SNssai
from ricproto.e2sm.ran_function_name import RanFunctionName
from ricproto.e2sm.ueid import UeId, ueid_from_asn, ueid_to_asn

RAN_FUNCTION_ID = 3
SHORT_NAME = "ORAN-E2SM-RC"
OID = "1.3.6.1.4.1.53148.1.1.2.3"
DESCRIPTION = "RAN Control"

STYLE_RADIO_RESOURCE_ALLOCATION = 2
ACTION_SLICE_PRB_QUOTA = 6
STYLE_CONNECTED_MODE_MOBILITY = 3
ACTION_HANDOVER = 1
ACTION_CELL_INDIVIDUAL_OFFSET = 101  # twinric's: unassigned by the E2SM-RC text (see the module doc)

# A RAN parameter value: BOOLEAN, INTEGER, REAL, OCTET STRING, PrintableString, or a BIT STRING
# given as (bytes, number of bits).
RanParameterValue = bool | int | float | bytes | str | tuple[bytes, int]

# ---------------------------------------------------------------------------------------------
# RAN parameter trees


@dataclass(frozen=True, slots=True)
class RanParameterElement:
    """ranP-Choice-ElementTrue (key_flag=True, value required) or ranP-Choice-ElementFalse."""

    ran_parameter_value: RanParameterValue | None
    key_flag: bool = False


@dataclass(frozen=True, slots=True)
class RanParameterStructure:
    """RANParameter-STRUCTURE: a sequence of (id, value type) items (may be empty)."""

    sequence_of_ran_parameters: tuple[RanParameterItem, ...] = ()

    def find(self, ran_parameter_id: int) -> RanParameterItem | None:
        for item in self.sequence_of_ran_parameters:
            if item.ran_parameter_id == ran_parameter_id:
                return item
        return None


@dataclass(frozen=True, slots=True)
class RanParameterList:
    """RANParameter-LIST: a list of structures."""

    list_of_ran_parameter: tuple[RanParameterStructure, ...]


RanParameterValueType = RanParameterElement | RanParameterStructure | RanParameterList


@dataclass(frozen=True, slots=True)
class RanParameterItem:
    """One (ranParameter-ID, ranParameter-valueType) pair of a tree."""

    ran_parameter_id: int
    ran_parameter_value_type: RanParameterValueType


def _value_to_asn(v: RanParameterValue) -> tuple[str, Any]:
    if isinstance(v, bool):
        return ("valueBoolean", v)
    if isinstance(v, int):
        return ("valueInt", v)
    if isinstance(v, float):
        return ("valueReal", v)
    if isinstance(v, bytes):
        return ("valueOctS", v)
    if isinstance(v, str):
        return ("valuePrintableString", asn1spec.printable(v, "RANParameter-Value"))
    if isinstance(v, tuple) and len(v) == 2:
        return ("valueBitS", v)
    raise E2CodecError("RANParameter-Value", f"unsupported value {v!r}")


def _value_from_asn(v: tuple[str, Any]) -> RanParameterValue:
    kind, x = v
    if kind == "valueReal":
        return float(x)
    if kind == "valueOctS":
        return bytes(x)
    if kind == "valueBitS":
        return (bytes(x[0]), x[1])
    return x


def _vt_to_asn(vt: RanParameterValueType) -> tuple[str, Any]:
    if isinstance(vt, RanParameterElement):
        if vt.key_flag:
            if vt.ran_parameter_value is None:
                raise E2CodecError("RANParameter-ValueType", "ElementTrue needs a value")
            return ("ranP-Choice-ElementTrue", {"ranParameter-value": _value_to_asn(vt.ran_parameter_value)})
        inner: dict[str, Any] = {}
        if vt.ran_parameter_value is not None:
            inner["ranParameter-value"] = _value_to_asn(vt.ran_parameter_value)
        return ("ranP-Choice-ElementFalse", inner)
    if isinstance(vt, RanParameterStructure):
        return ("ranP-Choice-Structure", {"ranParameter-Structure": _struct_to_asn(vt)})
    if isinstance(vt, RanParameterList):
        if not vt.list_of_ran_parameter:
            raise E2CodecError("RANParameter-LIST", "a list needs at least one structure")
        return (
            "ranP-Choice-List",
            {
                "ranParameter-List": {
                    "list-of-ranParameter": [_struct_to_asn(s) for s in vt.list_of_ran_parameter]
                }
            },
        )
    raise E2CodecError("RANParameter-ValueType", f"unsupported value type {type(vt).__name__}")


def _struct_to_asn(s: RanParameterStructure) -> dict:
    if not s.sequence_of_ran_parameters:
        return {}
    return {"sequence-of-ranParameters": [_item_to_asn(i) for i in s.sequence_of_ran_parameters]}


def _item_to_asn(i: RanParameterItem) -> dict:
    return {
        "ranParameter-ID": i.ran_parameter_id,
        "ranParameter-valueType": _vt_to_asn(i.ran_parameter_value_type),
    }


def _vt_from_asn(v: tuple[str, Any]) -> RanParameterValueType:
    kind, x = v
    if kind == "ranP-Choice-ElementTrue":
        return RanParameterElement(_value_from_asn(x["ranParameter-value"]), key_flag=True)
    if kind == "ranP-Choice-ElementFalse":
        val = x.get("ranParameter-value")
        return RanParameterElement(_value_from_asn(val) if val is not None else None)
    if kind == "ranP-Choice-Structure":
        return _struct_from_asn(x["ranParameter-Structure"])
    if kind == "ranP-Choice-List":
        return RanParameterList(
            tuple(_struct_from_asn(s) for s in x["ranParameter-List"]["list-of-ranParameter"])
        )
    raise E2CodecError("RANParameter-ValueType", f"unsupported alternative {kind}")


def _struct_from_asn(x: dict) -> RanParameterStructure:
    return RanParameterStructure(tuple(_item_from_asn(i) for i in x.get("sequence-of-ranParameters", ())))


def _item_from_asn(x: dict) -> RanParameterItem:
    return RanParameterItem(x["ranParameter-ID"], _vt_from_asn(x["ranParameter-valueType"]))


# ---------------------------------------------------------------------------------------------
# Control header, message, outcome


@dataclass(frozen=True, slots=True)
class ControlHeaderFormat1:
    """E2SM-RC-ControlHeader format 1: ueID, ric-Style-Type, ric-ControlAction-ID, ric-ControlDecision."""

    ue_id: UeId
    ric_style_type: int
    ric_control_action_id: int
    ric_control_decision: str | None = None  # "accept" | "reject"


def encode_control_header(msg: ControlHeaderFormat1) -> bytes:
    name = "E2SM-RC-ControlHeader"

    def to_asn(m: ControlHeaderFormat1) -> dict:
        f1: dict[str, Any] = {
            "ueID": ueid_to_asn(m.ue_id),
            "ric-Style-Type": m.ric_style_type,
            "ric-ControlAction-ID": m.ric_control_action_id,
        }
        if m.ric_control_decision is not None:
            f1["ric-ControlDecision"] = m.ric_control_decision
        return {"ric-controlHeader-formats": ("controlHeader-Format1", f1)}

    return asn1spec.encode(asn1spec.rc_spec(), name, asn1spec.convert(name, to_asn, msg))


def decode_control_header(data: bytes) -> ControlHeaderFormat1:
    name = "E2SM-RC-ControlHeader"

    def from_asn(v: dict) -> ControlHeaderFormat1:
        f1 = v["ric-controlHeader-formats"][1]
        return ControlHeaderFormat1(
            ueid_from_asn(f1["ueID"]),
            f1["ric-Style-Type"],
            f1["ric-ControlAction-ID"],
            f1.get("ric-ControlDecision"),
        )

    return asn1spec.convert(name, from_asn, asn1spec.decode(asn1spec.rc_spec(), name, data))


@dataclass(frozen=True, slots=True)
class ControlMessageFormat1:
    """E2SM-RC-ControlMessage format 1: ranP-List, the RAN parameter trees of the control action."""

    ran_p_list: tuple[RanParameterItem, ...]

    def find(self, ran_parameter_id: int) -> RanParameterItem | None:
        for item in self.ran_p_list:
            if item.ran_parameter_id == ran_parameter_id:
                return item
        return None


def encode_control_message(msg: ControlMessageFormat1) -> bytes:
    name = "E2SM-RC-ControlMessage"

    def to_asn(m: ControlMessageFormat1) -> dict:
        return {
            "ric-controlMessage-formats": (
                "controlMessage-Format1",
                {"ranP-List": [_item_to_asn(i) for i in m.ran_p_list]},
            )
        }

    return asn1spec.encode(asn1spec.rc_spec(), name, asn1spec.convert(name, to_asn, msg))


def decode_control_message(data: bytes) -> ControlMessageFormat1:
    name = "E2SM-RC-ControlMessage"

    def from_asn(v: dict) -> ControlMessageFormat1:
        return ControlMessageFormat1(
            tuple(_item_from_asn(i) for i in v["ric-controlMessage-formats"][1]["ranP-List"])
        )

    return asn1spec.convert(name, from_asn, asn1spec.decode(asn1spec.rc_spec(), name, data))


@dataclass(frozen=True, slots=True)
class ControlOutcomeItem:
    ran_parameter_id: int
    ran_parameter_value: RanParameterValue


@dataclass(frozen=True, slots=True)
class ControlOutcomeFormat1:
    """E2SM-RC-ControlOutcome format 1: ranP-List of (id, value) the E2 node reports back."""

    ran_p_list: tuple[ControlOutcomeItem, ...] = ()


def encode_control_outcome(msg: ControlOutcomeFormat1) -> bytes:
    name = "E2SM-RC-ControlOutcome"

    def to_asn(m: ControlOutcomeFormat1) -> dict:
        items = [
            {
                "ranParameter-ID": i.ran_parameter_id,
                "ranParameter-value": _value_to_asn(i.ran_parameter_value),
            }
            for i in m.ran_p_list
        ]
        return {"ric-controlOutcome-formats": ("controlOutcome-Format1", {"ranP-List": items})}

    return asn1spec.encode(asn1spec.rc_spec(), name, asn1spec.convert(name, to_asn, msg))


def decode_control_outcome(data: bytes) -> ControlOutcomeFormat1:
    name = "E2SM-RC-ControlOutcome"

    def from_asn(v: dict) -> ControlOutcomeFormat1:
        items = v["ric-controlOutcome-formats"][1]["ranP-List"]
        return ControlOutcomeFormat1(
            tuple(
                ControlOutcomeItem(i["ranParameter-ID"], _value_from_asn(i["ranParameter-value"]))
                for i in items
            )
        )

    return asn1spec.convert(name, from_asn, asn1spec.decode(asn1spec.rc_spec(), name, data))


# A refused control's reason, for the RIC Control Failure's RICcontrolOutcome: E2SM-RC has no RAN
# parameter for it, so twinric's E2 nodes use this one (outside the ids E2SM-RC assigns) with the
# reason as UTF-8 octets; a receiver that does not know the id still decodes a valid outcome.
REFUSAL_REASON_PARAMETER_ID = 0x7F000001


def refusal_outcome(reason: str) -> bytes:
    """An encoded E2SM-RC-ControlOutcome (format 1) carrying ``reason``."""
    return encode_control_outcome(
        ControlOutcomeFormat1((ControlOutcomeItem(REFUSAL_REASON_PARAMETER_ID, reason.encode("utf-8")),))
    )


def refusal_reason(outcome: bytes) -> str | None:
    """The reason `refusal_outcome` put in ``outcome``, None when it has none; E2CodecError when the
    bytes are not an E2SM-RC-ControlOutcome."""
    for item in decode_control_outcome(outcome).ran_p_list:
        value = item.ran_parameter_value
        if item.ran_parameter_id == REFUSAL_REASON_PARAMETER_ID and isinstance(value, bytes):
            return value.decode("utf-8", "replace")
    return None


# ---------------------------------------------------------------------------------------------
# NR-CGI as carried inside a RAN parameter (its own APER encoding)


def encode_nr_cgi(cgi: NrCgi) -> bytes:
    return asn1spec.encode(asn1spec.rc_spec(), "NR-CGI", asn1spec.convert("NR-CGI", NrCgi.to_asn, cgi))


def decode_nr_cgi(data: bytes) -> NrCgi:
    return asn1spec.convert("NR-CGI", NrCgi.from_asn, asn1spec.decode(asn1spec.rc_spec(), "NR-CGI", data))


# ---------------------------------------------------------------------------------------------
# Style 3 action 1: handover

HO_TARGET_PRIMARY_CELL_ID = 1
HO_CHOICE_TARGET_CELL = 2
HO_NR_CELL = 3
HO_NR_CGI = 4


def _struct(*items: RanParameterItem) -> RanParameterStructure:
    return RanParameterStructure(tuple(items))


def _elem(value: RanParameterValue) -> RanParameterElement:
    return RanParameterElement(value)


def _encode_control(control: RcControl) -> tuple[bytes, bytes]:
    message = asn1spec.convert("E2SM-RC-ControlMessage", lambda c: c.message(), control)
    return encode_control_header(control.header()), encode_control_message(message)


def _require_action(header: ControlHeaderFormat1, style: int, action: int, what: str) -> None:
    """The typed controls' decoders check that the header names their style and action."""
    if (header.ric_style_type, header.ric_control_action_id) != (style, action):
        raise E2CodecError("E2SM-RC-ControlHeader", f"not style {style} action {action} ({what})")


@dataclass(frozen=True, slots=True)
class HandoverControl:
    """RC style 3 action 1: hand the UE over to `target_cell`."""

    ue_id: UeId
    target_cell: NrCgi

    def header(self) -> ControlHeaderFormat1:
        return ControlHeaderFormat1(self.ue_id, STYLE_CONNECTED_MODE_MOBILITY, ACTION_HANDOVER)

    def message(self) -> ControlMessageFormat1:
        cgi = RanParameterItem(HO_NR_CGI, _elem(encode_nr_cgi(self.target_cell)))
        tree = _struct(
            RanParameterItem(HO_CHOICE_TARGET_CELL, _struct(RanParameterItem(HO_NR_CELL, _struct(cgi))))
        )
        return ControlMessageFormat1((RanParameterItem(HO_TARGET_PRIMARY_CELL_ID, tree),))

    def encode(self) -> tuple[bytes, bytes]:
        """(RICcontrolHeader, RICcontrolMessage) octets."""
        return _encode_control(self)

    @classmethod
    def from_control(cls, header: ControlHeaderFormat1, message: ControlMessageFormat1) -> HandoverControl:
        where = "E2SM-RC-ControlMessage"
        _require_action(header, STYLE_CONNECTED_MODE_MOBILITY, ACTION_HANDOVER, "handover")
        node: Any = message.find(HO_TARGET_PRIMARY_CELL_ID)
        path = "1"
        for pid in (HO_CHOICE_TARGET_CELL, HO_NR_CELL, HO_NR_CGI):
            if node is None or not isinstance(node.ran_parameter_value_type, RanParameterStructure):
                raise E2CodecError(where, "expected a structure", f"ranP-List[{path}]")
            node = node.ran_parameter_value_type.find(pid)
            path += f".{pid}"
        if node is None or not isinstance(node.ran_parameter_value_type, RanParameterElement):
            raise E2CodecError(
                where, "missing NR CGI element (only NR target cells are supported)", f"ranP-List[{path}]"
            )
        value = node.ran_parameter_value_type.ran_parameter_value
        if not isinstance(value, bytes):
            raise E2CodecError(where, "NR CGI must be an OCTET STRING", f"ranP-List[{path}]")
        return cls(header.ue_id, decode_nr_cgi(value))


# ---------------------------------------------------------------------------------------------
# Style 2 action 6: slice-level PRB quota


class SliceQuotaNumbering(enum.Enum):
    """RAN parameter ids of the slice PRB quota tree: E2SM-RC v1.03, or the newer text (srsRAN)."""

    V1_03 = "v1.03"
    NEWER = "newer"


@dataclass(frozen=True, slots=True)
class _QuotaIds:
    ratio_list: int
    ratio_group: int
    policy: int
    member_list: int
    member: int
    plmn: int
    snssai: int
    sst: int
    sd: int
    min_ratio: int
    max_ratio: int
    dedicated_ratio: int


QUOTA_IDS = {
    SliceQuotaNumbering.V1_03: _QuotaIds(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
    SliceQuotaNumbering.NEWER: _QuotaIds(1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13),
}


@dataclass(frozen=True, slots=True)
class RrmPolicyMember:
    """RRM Policy Member: PLMN Identity (3 octets BCD) and S-NSSAI."""

    plmn_identity: bytes
    s_nssai: SNssai


@dataclass(frozen=True, slots=True)
class RrmPolicyRatioGroup:
    """RRM Policy Ratio Group: the members (slices) and their PRB ratios in percent (0..100)."""

    members: tuple[RrmPolicyMember, ...]
    min_prb_policy_ratio: int | None = None
    max_prb_policy_ratio: int | None = None
    dedicated_prb_policy_ratio: int | None = None


@dataclass(frozen=True, slots=True)
class SliceQuotaControl:
    """RC style 2 action 6: PRB quota per slice, one ratio group per entry of `rrm_policy_ratio_list`.

    ``group_wrapper``: each list entry holds an "RRM Policy Ratio Group" (id 2) structure, as the
    E2SM-RC parameter tree has it; a widely used open-source gNB sends the group's parameters directly
    in the list entry instead. Both decode; each re-encodes the way it came.
    """

    ue_id: UeId
    rrm_policy_ratio_list: tuple[RrmPolicyRatioGroup, ...]
    numbering: SliceQuotaNumbering = SliceQuotaNumbering.NEWER
    group_wrapper: bool = True

    @classmethod
    def single(
        cls,
        ue_id: UeId,
        plmn_identity: bytes,
        s_nssai: SNssai,
        min_ratio: int,
        max_ratio: int,
        dedicated_ratio: int,
    ) -> SliceQuotaControl:
        group = RrmPolicyRatioGroup(
            (RrmPolicyMember(plmn_identity, s_nssai),), min_ratio, max_ratio, dedicated_ratio
        )
        return cls(ue_id, (group,))

    def header(self) -> ControlHeaderFormat1:
        return ControlHeaderFormat1(self.ue_id, STYLE_RADIO_RESOURCE_ALLOCATION, ACTION_SLICE_PRB_QUOTA)

    def message(self) -> ControlMessageFormat1:
        ids = QUOTA_IDS[self.numbering]
        groups = []
        for g in self.rrm_policy_ratio_list:
            for ratio in (g.min_prb_policy_ratio, g.max_prb_policy_ratio, g.dedicated_prb_policy_ratio):
                if ratio is not None and not 0 <= ratio <= 100:
                    raise E2CodecError(
                        "E2SM-RC-ControlMessage", f"PRB ratio {ratio} outside 0..100", "ranP-List"
                    )
            if not g.members:
                raise E2CodecError(
                    "E2SM-RC-ControlMessage", "a ratio group needs at least one member", "ranP-List"
                )
            members = []
            for m in g.members:
                snssai: list[RanParameterItem] = [RanParameterItem(ids.sst, _elem(m.s_nssai.to_asn()["sST"]))]
                if m.s_nssai.sd is not None:
                    snssai.append(RanParameterItem(ids.sd, _elem(m.s_nssai.sd.to_bytes(3, "big"))))
                members.append(
                    _struct(
                        RanParameterItem(
                            ids.member,
                            _struct(
                                RanParameterItem(ids.plmn, _elem(m.plmn_identity)),
                                RanParameterItem(ids.snssai, RanParameterStructure(tuple(snssai))),
                            ),
                        )
                    )
                )
            policy = _struct(RanParameterItem(ids.member_list, RanParameterList(tuple(members))))
            items = [RanParameterItem(ids.policy, policy)]
            for pid, ratio in (
                (ids.min_ratio, g.min_prb_policy_ratio),
                (ids.max_ratio, g.max_prb_policy_ratio),
                (ids.dedicated_ratio, g.dedicated_prb_policy_ratio),
            ):
                if ratio is not None:
                    items.append(RanParameterItem(pid, _elem(ratio)))
            if self.group_wrapper:
                groups.append(_struct(RanParameterItem(ids.ratio_group, RanParameterStructure(tuple(items)))))
            else:
                groups.append(RanParameterStructure(tuple(items)))
        return ControlMessageFormat1((RanParameterItem(ids.ratio_list, RanParameterList(tuple(groups))),))

    def encode(self) -> tuple[bytes, bytes]:
        """(RICcontrolHeader, RICcontrolMessage) octets."""
        return _encode_control(self)

    @classmethod
    def from_control(cls, header: ControlHeaderFormat1, message: ControlMessageFormat1) -> SliceQuotaControl:
        where = "E2SM-RC-ControlMessage"
        _require_action(header, STYLE_RADIO_RESOURCE_ALLOCATION, ACTION_SLICE_PRB_QUOTA, "slice PRB quota")
        top = message.find(1)
        if top is None or not isinstance(top.ran_parameter_value_type, RanParameterList):
            raise E2CodecError(where, "expected RRM Policy Ratio List (id 1) as a list", "ranP-List[1]")
        groups = []
        numbering: SliceQuotaNumbering | None = None
        wrapped: set[bool] = set()
        for gi, entry in enumerate(top.ran_parameter_value_type.list_of_ran_parameter):
            group_item = entry.find(2)
            wrapper = group_item.ran_parameter_value_type if group_item is not None else None
            if isinstance(wrapper, RanParameterStructure):
                group = wrapper
                wrapped.add(True)
            elif group_item is None and entry.find(3) is not None:
                group = entry  # the group's parameters straight in the list entry (no id-2 wrapper)
                wrapped.add(False)
            else:
                raise E2CodecError(where, "expected RRM Policy Ratio Group (id 2)", f"ranP-List[1][{gi}]")
            if len(wrapped) > 1:
                raise E2CodecError(where, "ratio groups mix the wrapped and unwrapped forms",
                                   f"ranP-List[1][{gi}]")
            policy_item = group.find(3)
            if policy_item is None or not isinstance(
                policy_item.ran_parameter_value_type, RanParameterStructure
            ):
                raise E2CodecError(where, "expected RRM Policy (id 3)", f"ranP-List[1][{gi}].2")
            policy = policy_item.ran_parameter_value_type
            # The numbering shows in where the member list sits: id 4 (v1.03) or id 5 (newer).
            this = _detect_numbering(policy)
            if this is None:
                raise E2CodecError(where, "no RRM Policy Member List (id 4 or 5)", f"ranP-List[1][{gi}].2.3")
            if numbering is not None and this is not numbering:
                raise E2CodecError(where, "ratio groups mix parameter numberings", f"ranP-List[1][{gi}]")
            numbering = this
            ids = QUOTA_IDS[this]
            member_list = policy.find(ids.member_list)
            assert member_list is not None and isinstance(
                member_list.ran_parameter_value_type, RanParameterList
            )
            members = tuple(
                _parse_member(s, ids, f"ranP-List[1][{gi}].2.3.{ids.member_list}[{mi}]")
                for mi, s in enumerate(member_list.ran_parameter_value_type.list_of_ran_parameter)
            )
            groups.append(
                RrmPolicyRatioGroup(
                    members,
                    _ratio(group, ids.min_ratio, f"ranP-List[1][{gi}].2.{ids.min_ratio}"),
                    _ratio(group, ids.max_ratio, f"ranP-List[1][{gi}].2.{ids.max_ratio}"),
                    _ratio(group, ids.dedicated_ratio, f"ranP-List[1][{gi}].2.{ids.dedicated_ratio}"),
                )
            )
        return cls(header.ue_id, tuple(groups), numbering or SliceQuotaNumbering.NEWER, wrapped != {False})


def _detect_numbering(policy: RanParameterStructure) -> SliceQuotaNumbering | None:
    for numbering in (SliceQuotaNumbering.NEWER, SliceQuotaNumbering.V1_03):
        item = policy.find(QUOTA_IDS[numbering].member_list)
        if item is not None and isinstance(item.ran_parameter_value_type, RanParameterList):
            return numbering
    return None


def _element_value(s: RanParameterStructure, pid: int, path: str) -> RanParameterValue | None:
    item = s.find(pid)
    if item is None:
        return None
    vt = item.ran_parameter_value_type
    if not isinstance(vt, RanParameterElement):
        raise E2CodecError("E2SM-RC-ControlMessage", "expected an element", path)
    return vt.ran_parameter_value


def _int_element(s: RanParameterStructure, pid: int, path: str) -> int | None:
    v = _element_value(s, pid, path)
    if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
        raise E2CodecError("E2SM-RC-ControlMessage", "expected an integer ratio", path)
    return v


def _ratio(s: RanParameterStructure, pid: int, path: str) -> int | None:
    """A PRB policy ratio: an integer percentage, 0..100 (3GPP TS 28.541 rRMPolicyRatio bounds)."""
    v = _int_element(s, pid, path)
    if v is not None and not 0 <= v <= 100:
        raise E2CodecError("E2SM-RC-ControlMessage", f"PRB ratio {v} outside 0..100", path)
    return v


def _octets_element(
    s: RanParameterStructure, pid: int, size: int, path: str, required: bool = True
) -> bytes | None:
    v = _element_value(s, pid, path)
    if v is None and not required:
        return None
    if not isinstance(v, bytes) or len(v) != size:
        raise E2CodecError("E2SM-RC-ControlMessage", f"expected an OCTET STRING of {size} octets", path)
    return v


def _parse_member(entry: RanParameterStructure, ids: _QuotaIds, path: str) -> RrmPolicyMember:
    member_item = entry.find(ids.member)
    if member_item is None or not isinstance(member_item.ran_parameter_value_type, RanParameterStructure):
        raise E2CodecError("E2SM-RC-ControlMessage", f"expected RRM Policy Member (id {ids.member})", path)
    member = member_item.ran_parameter_value_type
    plmn = _octets_element(member, ids.plmn, 3, f"{path}.{ids.plmn}")
    snssai_item = member.find(ids.snssai)
    if snssai_item is None or not isinstance(snssai_item.ran_parameter_value_type, RanParameterStructure):
        raise E2CodecError("E2SM-RC-ControlMessage", f"expected S-NSSAI (id {ids.snssai})", path)
    snssai = snssai_item.ran_parameter_value_type
    sst = _octets_element(snssai, ids.sst, 1, f"{path}.{ids.snssai}.{ids.sst}")
    sd = _octets_element(snssai, ids.sd, 3, f"{path}.{ids.snssai}.{ids.sd}", required=False)
    assert plmn is not None and sst is not None
    return RrmPolicyMember(plmn, SNssai(sst[0], int.from_bytes(sd, "big") if sd is not None else None))


# ---------------------------------------------------------------------------------------------
# Style 3, twinric's action 101: cell individual offsets (mobility load balancing)

CIO_SOURCE_CELL = 1  # STRUCT: the cell whose measurement configuration carries the offsets
CIO_SOURCE_NR_CGI = 2  # ELEMENT: its NR CGI (packed NR-CGI, as in the handover tree)
CIO_NEIGHBOUR_LIST = 3  # LIST of neighbour items
CIO_NEIGHBOUR_ITEM = 4  # STRUCT
CIO_NEIGHBOUR_NR_CGI = 5  # ELEMENT: the neighbour's NR CGI
CIO_OFFSET_DB = 6  # ELEMENT INTEGER: cellIndividualOffset in dB (a Q-OffsetRange value)


@dataclass(frozen=True, slots=True)
class NeighbourOffset:
    """One relation's cell individual offset: the neighbour and its offset in dB."""

    neighbour_cell: NrCgi
    offset_db: int


@dataclass(frozen=True, slots=True)
class CellOffsetControl:
    """Set the cell individual offsets `source_cell` applies to each listed neighbour in event A3.

    The codec checks the shape (cells, integer offsets); whether an offset is a legal Q-OffsetRange
    value and whether the cells exist is the E2 node's call (it answers with a control failure)."""

    ue_id: UeId
    source_cell: NrCgi
    offsets: tuple[NeighbourOffset, ...]

    def header(self) -> ControlHeaderFormat1:
        return ControlHeaderFormat1(self.ue_id, STYLE_CONNECTED_MODE_MOBILITY, ACTION_CELL_INDIVIDUAL_OFFSET)

    def message(self) -> ControlMessageFormat1:
        where = "E2SM-RC-ControlMessage"
        if not self.offsets:
            raise E2CodecError(where, "a cell offset control needs at least one neighbour", "ranP-List")
        items = []
        for n in self.offsets:
            if isinstance(n.offset_db, bool) or not isinstance(n.offset_db, int):
                raise E2CodecError(where, f"offset {n.offset_db!r} must be an integer dB value", "ranP-List")
            items.append(
                _struct(
                    RanParameterItem(
                        CIO_NEIGHBOUR_ITEM,
                        _struct(
                            RanParameterItem(CIO_NEIGHBOUR_NR_CGI, _elem(encode_nr_cgi(n.neighbour_cell))),
                            RanParameterItem(CIO_OFFSET_DB, _elem(n.offset_db)),
                        ),
                    )
                )
            )
        return ControlMessageFormat1(
            (
                RanParameterItem(
                    CIO_SOURCE_CELL,
                    _struct(RanParameterItem(CIO_SOURCE_NR_CGI, _elem(encode_nr_cgi(self.source_cell)))),
                ),
                RanParameterItem(CIO_NEIGHBOUR_LIST, RanParameterList(tuple(items))),
            )
        )

    def encode(self) -> tuple[bytes, bytes]:
        """(RICcontrolHeader, RICcontrolMessage) octets."""
        return _encode_control(self)

    @classmethod
    def from_control(cls, header: ControlHeaderFormat1, message: ControlMessageFormat1) -> CellOffsetControl:
        where = "E2SM-RC-ControlMessage"
        _require_action(
            header, STYLE_CONNECTED_MODE_MOBILITY, ACTION_CELL_INDIVIDUAL_OFFSET, "cell individual offset"
        )
        source = message.find(CIO_SOURCE_CELL)
        if source is None or not isinstance(source.ran_parameter_value_type, RanParameterStructure):
            raise E2CodecError(where, "expected Source Cell (id 1) as a structure", "ranP-List[1]")
        source_cgi = _cgi_element(source.ran_parameter_value_type, CIO_SOURCE_NR_CGI, "ranP-List[1].2")
        listed = message.find(CIO_NEIGHBOUR_LIST)
        if listed is None or not isinstance(listed.ran_parameter_value_type, RanParameterList):
            raise E2CodecError(where, "expected Neighbour Cell List (id 3) as a list", "ranP-List[3]")
        offsets = []
        for n, entry in enumerate(listed.ran_parameter_value_type.list_of_ran_parameter):
            path = f"ranP-List[3][{n}]"
            item = entry.find(CIO_NEIGHBOUR_ITEM)
            if item is None or not isinstance(item.ran_parameter_value_type, RanParameterStructure):
                raise E2CodecError(where, "expected Neighbour Cell Item (id 4)", path)
            body = item.ran_parameter_value_type
            cgi = _cgi_element(body, CIO_NEIGHBOUR_NR_CGI, f"{path}.4.5")
            offset = _int_element(body, CIO_OFFSET_DB, f"{path}.4.6")
            if offset is None:
                raise E2CodecError(where, "missing Cell Individual Offset (id 6)", f"{path}.4.6")
            offsets.append(NeighbourOffset(cgi, offset))
        return cls(header.ue_id, source_cgi, tuple(offsets))


def _cgi_element(s: RanParameterStructure, pid: int, path: str) -> NrCgi:
    value = _element_value(s, pid, path)
    if not isinstance(value, bytes):
        raise E2CodecError("E2SM-RC-ControlMessage", "expected an NR CGI (OCTET STRING)", path)
    return decode_nr_cgi(value)


RcControl = HandoverControl | SliceQuotaControl | CellOffsetControl


def parse_control(header: ControlHeaderFormat1, message: ControlMessageFormat1) -> RcControl:
    """The typed control a (header, message) pair carries; E2CodecError for other styles/actions."""
    key = (header.ric_style_type, header.ric_control_action_id)
    if key == (STYLE_CONNECTED_MODE_MOBILITY, ACTION_HANDOVER):
        return HandoverControl.from_control(header, message)
    if key == (STYLE_RADIO_RESOURCE_ALLOCATION, ACTION_SLICE_PRB_QUOTA):
        return SliceQuotaControl.from_control(header, message)
    if key == (STYLE_CONNECTED_MODE_MOBILITY, ACTION_CELL_INDIVIDUAL_OFFSET):
        return CellOffsetControl.from_control(header, message)
    raise E2CodecError("E2SM-RC-ControlHeader", f"control style {key[0]} action {key[1]} is not supported")


# What access requests and RAN grants call a control ("rc.<name>"): the PDP's Cedar actions, the control
# xApp's request kinds and e2term's grant check all use these names.
CONTROL_ACTION_NAMES = {
    (STYLE_CONNECTED_MODE_MOBILITY, ACTION_HANDOVER): "handover",
    (STYLE_RADIO_RESOURCE_ALLOCATION, ACTION_SLICE_PRB_QUOTA): "slice_quota",
    (STYLE_CONNECTED_MODE_MOBILITY, ACTION_CELL_INDIVIDUAL_OFFSET): "cell_offset",
}


def control_action(header: bytes) -> str:
    """The access-request name of a RICcontrolHeader's control: ``rc.handover``, ``rc.slice_quota``,
    ``rc.cell_offset``, or ``rc.style<S>.action<A>`` for one without a name."""
    h = decode_control_header(header)
    name = CONTROL_ACTION_NAMES.get((h.ric_style_type, h.ric_control_action_id))
    return f"rc.{name}" if name else f"rc.style{h.ric_style_type}.action{h.ric_control_action_id}"


def decode_control(header: bytes, message: bytes) -> RcControl:
    """Decode RICcontrolHeader + RICcontrolMessage octets straight into the typed control."""
    return parse_control(decode_control_header(header), decode_control_message(message))


# ---------------------------------------------------------------------------------------------
# RAN function definition


@dataclass(frozen=True, slots=True)
class RanParameterDescription:
    ran_parameter_id: int
    ran_parameter_name: str


@dataclass(frozen=True, slots=True)
class ControlActionDescription:
    ric_control_action_id: int
    ric_control_action_name: str
    ran_control_action_parameters_list: tuple[RanParameterDescription, ...] = ()
    ue_group_control_action_supported: bool = False


@dataclass(frozen=True, slots=True)
class ControlStyle:
    ric_control_style_type: int
    ric_control_style_name: str
    ric_control_action_list: tuple[ControlActionDescription, ...] = ()
    ric_control_header_format_type: int = 1
    ric_control_message_format_type: int = 1
    ric_call_process_id_format_type: int | None = None
    ric_control_outcome_format_type: int = 1
    ran_control_outcome_parameters_list: tuple[RanParameterDescription, ...] = ()


@dataclass(frozen=True, slots=True)
class RanFunctionDefinition:
    """E2SM-RC-RANFunctionDefinition: name and control styles.

    Event trigger, report, insert and policy parts of a received definition are decoded but not
    kept (twinric only controls); an encoded definition carries the control part only.
    """

    ran_function_name: RanFunctionName
    ric_control_style_list: tuple[ControlStyle, ...] = ()

    def offers(self, style: int, action: int) -> bool:
        return any(
            s.ric_control_style_type == style
            and any(a.ric_control_action_id == action for a in s.ric_control_action_list)
            for s in self.ric_control_style_list
        )


def _params_to_asn(params: tuple[RanParameterDescription, ...]) -> list[dict]:
    return [
        {
            "ranParameter-ID": p.ran_parameter_id,
            "ranParameter-name": asn1spec.printable(p.ran_parameter_name, "RANParameter-Name"),
        }
        for p in params
    ]


def _params_from_asn(items: list[dict]) -> tuple[RanParameterDescription, ...]:
    return tuple(RanParameterDescription(p["ranParameter-ID"], p["ranParameter-name"]) for p in items)


def _ranfunc_to_asn(d: RanFunctionDefinition) -> dict:
    out: dict[str, Any] = {"ranFunction-Name": d.ran_function_name.to_asn()}
    if d.ric_control_style_list:
        styles = []
        for s in d.ric_control_style_list:
            st: dict[str, Any] = {
                "ric-ControlStyle-Type": s.ric_control_style_type,
                "ric-ControlStyle-Name": asn1spec.printable(s.ric_control_style_name, "RIC-Style-Name"),
            }
            if s.ric_control_action_list:
                acts = []
                for a in s.ric_control_action_list:
                    act: dict[str, Any] = {
                        "ric-ControlAction-ID": a.ric_control_action_id,
                        "ric-ControlAction-Name": asn1spec.printable(
                            a.ric_control_action_name, "RIC-ControlAction-Name"
                        ),
                        "ueGroup-ControlAction-Supported": "true"
                        if a.ue_group_control_action_supported
                        else "false",
                    }
                    if a.ran_control_action_parameters_list:
                        act["ran-ControlActionParameters-List"] = _params_to_asn(
                            a.ran_control_action_parameters_list
                        )
                    acts.append(act)
                st["ric-ControlAction-List"] = acts
            st["ric-ControlHeaderFormat-Type"] = s.ric_control_header_format_type
            st["ric-ControlMessageFormat-Type"] = s.ric_control_message_format_type
            if s.ric_call_process_id_format_type is not None:
                st["ric-CallProcessIDFormat-Type"] = s.ric_call_process_id_format_type
            st["ric-ControlOutcomeFormat-Type"] = s.ric_control_outcome_format_type
            if s.ran_control_outcome_parameters_list:
                st["ran-ControlOutcomeParameters-List"] = _params_to_asn(
                    s.ran_control_outcome_parameters_list
                )
            styles.append(st)
        out["ranFunctionDefinition-Control"] = {"ric-ControlStyle-List": styles}
    return out


def _ranfunc_from_asn(v: dict) -> RanFunctionDefinition:
    styles = []
    for s in v.get("ranFunctionDefinition-Control", {}).get("ric-ControlStyle-List", ()):
        acts = tuple(
            ControlActionDescription(
                a["ric-ControlAction-ID"],
                a["ric-ControlAction-Name"],
                _params_from_asn(a.get("ran-ControlActionParameters-List", [])),
                a["ueGroup-ControlAction-Supported"] == "true",
            )
            for a in s.get("ric-ControlAction-List", ())
        )
        styles.append(
            ControlStyle(
                s["ric-ControlStyle-Type"],
                s["ric-ControlStyle-Name"],
                acts,
                s["ric-ControlHeaderFormat-Type"],
                s["ric-ControlMessageFormat-Type"],
                s.get("ric-CallProcessIDFormat-Type"),
                s["ric-ControlOutcomeFormat-Type"],
                _params_from_asn(s.get("ran-ControlOutcomeParameters-List", [])),
            )
        )
    return RanFunctionDefinition(RanFunctionName.from_asn(v["ranFunction-Name"]), tuple(styles))


def encode_ran_function_definition(msg: RanFunctionDefinition) -> bytes:
    name = "E2SM-RC-RANFunctionDefinition"
    return asn1spec.encode(asn1spec.rc_spec(), name, asn1spec.convert(name, _ranfunc_to_asn, msg))


def decode_ran_function_definition(data: bytes) -> RanFunctionDefinition:
    name = "E2SM-RC-RANFunctionDefinition"
    return asn1spec.convert(name, _ranfunc_from_asn, asn1spec.decode(asn1spec.rc_spec(), name, data))


def default_ran_function_definition(
    numbering: SliceQuotaNumbering = SliceQuotaNumbering.NEWER, instance: int | None = None
) -> RanFunctionDefinition:
    """What twinric's E2 node offers: style 2 action 6 (slice PRB quota), style 3 action 1 (handover) and
    action 101 (cell individual offsets)."""
    ids = QUOTA_IDS[numbering]
    quota_params = tuple(
        RanParameterDescription(pid, pname)
        for pid, pname in (
            (ids.ratio_list, "RRM Policy Ratio List"),
            (ids.ratio_group, "RRM Policy Ratio Group"),
            (ids.policy, "RRM Policy"),
            (ids.member_list, "RRM Policy Member List"),
            (ids.member, "RRM Policy Member"),
            (ids.plmn, "PLMN Identity"),
            (ids.snssai, "S-NSSAI"),
            (ids.sst, "SST"),
            (ids.sd, "SD"),
            (ids.min_ratio, "Min PRB Policy Ratio"),
            (ids.max_ratio, "Max PRB Policy Ratio"),
            (ids.dedicated_ratio, "Dedicated PRB Policy Ratio"),
        )
    )
    ho_params = (
        RanParameterDescription(HO_TARGET_PRIMARY_CELL_ID, "Target Primary Cell ID"),
        RanParameterDescription(HO_CHOICE_TARGET_CELL, "CHOICE Target Cell"),
        RanParameterDescription(HO_NR_CELL, "NR Cell"),
        RanParameterDescription(HO_NR_CGI, "NR CGI"),
    )
    cio_params = (
        RanParameterDescription(CIO_SOURCE_CELL, "Source Cell"),
        RanParameterDescription(CIO_SOURCE_NR_CGI, "NR CGI"),
        RanParameterDescription(CIO_NEIGHBOUR_LIST, "Neighbour Cell List"),
        RanParameterDescription(CIO_NEIGHBOUR_ITEM, "Neighbour Cell Item"),
        RanParameterDescription(CIO_NEIGHBOUR_NR_CGI, "NR CGI"),
        RanParameterDescription(CIO_OFFSET_DB, "Cell Individual Offset"),
    )
    return RanFunctionDefinition(
        RanFunctionName(SHORT_NAME, OID, DESCRIPTION, instance),
        (
            ControlStyle(
                STYLE_RADIO_RESOURCE_ALLOCATION,
                "Radio Resource Allocation Control",
                (ControlActionDescription(ACTION_SLICE_PRB_QUOTA, "Slice-level PRB quota", quota_params),),
            ),
            ControlStyle(
                STYLE_CONNECTED_MODE_MOBILITY,
                "Connected Mode Mobility Control",
                (
                    ControlActionDescription(ACTION_HANDOVER, "Handover Control", ho_params),
                    ControlActionDescription(
                        ACTION_CELL_INDIVIDUAL_OFFSET, "Cell Individual Offset Control", cio_params
                    ),
                ),
            ),
        ),
    )
