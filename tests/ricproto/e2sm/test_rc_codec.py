"""E2SM-RC: round trips (hypothesis), typed controls in both numberings, standard-module bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ricproto.e2error import E2CodecError
from ricproto.e2sm import rc
from ricproto.e2sm.identities import NrCgi, SNssai
from ricproto.e2sm.ran_function_name import RanFunctionName
from ricproto.e2sm.ueid import Guami, UeIdGnb, UeIdGnbCuUp, UeIdGnbDu

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
names = st.text(alphabet=PRINTABLE, min_size=1, max_size=30)
octets3 = st.binary(min_size=3, max_size=3)
u32 = st.integers(0, 2**32 - 1)
ueids = st.one_of(
    st.builds(UeIdGnbDu, u32),
    st.builds(UeIdGnbCuUp, u32, st.none() | st.binary(min_size=8, max_size=8)),
    st.builds(
        UeIdGnb,
        st.integers(0, 2**40 - 1),
        st.builds(Guami, octets3, st.integers(0, 255), st.integers(0, 1023), st.integers(0, 63)),
        st.lists(u32, max_size=4).map(tuple),
    ),
)
param_ids = st.integers(1, 2**32 - 1)
values = st.one_of(
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.binary(max_size=10),
    st.text(alphabet=PRINTABLE, max_size=10),
    st.tuples(st.just(b"\xa0"), st.just(3)),
)
elements = st.builds(rc.RanParameterElement, st.none() | values, st.just(False)) | st.builds(
    rc.RanParameterElement, values, st.just(True)
)
trees = st.recursive(
    elements,
    lambda children: st.one_of(
        st.builds(
            rc.RanParameterStructure,
            st.lists(st.builds(rc.RanParameterItem, param_ids, children), max_size=3).map(tuple),
        ),
        st.builds(
            rc.RanParameterList,
            st.lists(
                st.builds(
                    rc.RanParameterStructure,
                    st.lists(st.builds(rc.RanParameterItem, param_ids, children), max_size=2).map(tuple),
                ),
                min_size=1,
                max_size=2,
            ).map(tuple),
        ),
    ),
    max_leaves=8,
)
messages = st.builds(
    rc.ControlMessageFormat1,
    st.lists(st.builds(rc.RanParameterItem, param_ids, trees), max_size=3).map(tuple),
)
headers = st.builds(
    rc.ControlHeaderFormat1,
    ueids,
    st.integers(0, 255),
    st.integers(1, 65535),
    st.none() | st.sampled_from(["accept", "reject"]),
)
outcomes = st.builds(
    rc.ControlOutcomeFormat1,
    st.lists(st.builds(rc.ControlOutcomeItem, param_ids, values), max_size=4).map(tuple),
)
snssai = st.builds(SNssai, st.integers(0, 255), st.none() | st.integers(0, 0xFFFFFF))
ratio = st.none() | st.integers(0, 100)
slice_controls = st.builds(
    rc.SliceQuotaControl,
    ueids,
    st.lists(
        st.builds(
            rc.RrmPolicyRatioGroup,
            st.lists(st.builds(rc.RrmPolicyMember, octets3, snssai), min_size=1, max_size=3).map(tuple),
            ratio,
            ratio,
            ratio,
        ),
        min_size=1,
        max_size=3,
    ).map(tuple),
    st.sampled_from(list(rc.SliceQuotaNumbering)),
)
ho_controls = st.builds(rc.HandoverControl, ueids, st.builds(NrCgi, octets3, st.integers(0, 2**36 - 1)))
cells = st.builds(NrCgi, octets3, st.integers(0, 2**36 - 1))
offset_controls = st.builds(
    rc.CellOffsetControl,
    ueids,
    cells,
    st.lists(st.builds(rc.NeighbourOffset, cells, st.integers(-30, 30)), min_size=1, max_size=4).map(tuple),
)
param_descs = st.lists(st.builds(rc.RanParameterDescription, param_ids, names), max_size=3).map(tuple)
definitions = st.builds(
    rc.RanFunctionDefinition,
    st.builds(RanFunctionName, names, names, names, st.none() | st.integers(0, 100)),
    st.lists(
        st.builds(
            rc.ControlStyle,
            st.integers(1, 255),
            names,
            st.lists(
                st.builds(
                    rc.ControlActionDescription, st.integers(1, 65535), names, param_descs, st.booleans()
                ),
                max_size=3,
            ).map(tuple),
            st.integers(1, 3),
            st.integers(1, 3),
            st.none() | st.integers(1, 2),
            st.integers(1, 3),
            param_descs,
        ),
        max_size=3,
    ).map(tuple),
)

# the type of the conftest fixtures kpm_reencodes, rc_reencodes
Reencodes = Callable[[str, bytes], tuple[bytes, bytes]]


@SETTINGS
@given(headers)
def test_control_header_round_trip(msg: rc.ControlHeaderFormat1) -> None:
    data = rc.encode_control_header(msg)
    assert rc.decode_control_header(data) == msg


@SETTINGS
@given(messages)
def test_control_message_round_trip(msg: rc.ControlMessageFormat1) -> None:
    data = rc.encode_control_message(msg)
    assert rc.decode_control_message(data) == msg


@SETTINGS
@given(outcomes)
def test_control_outcome_round_trip(msg: rc.ControlOutcomeFormat1) -> None:
    data = rc.encode_control_outcome(msg)
    assert rc.decode_control_outcome(data) == msg


@SETTINGS
@given(definitions)
def test_ran_function_definition_round_trip(msg: rc.RanFunctionDefinition) -> None:
    data = rc.encode_ran_function_definition(msg)
    assert rc.decode_ran_function_definition(data) == msg


@SETTINGS
@given(slice_controls)
def test_slice_quota_control_round_trip(control: rc.SliceQuotaControl) -> None:
    header, message = control.encode()
    assert rc.decode_control(header, message) == control


@SETTINGS
@given(ho_controls)
def test_handover_control_round_trip(control: rc.HandoverControl) -> None:
    assert rc.decode_control(*control.encode()) == control


@SETTINGS
@given(offset_controls)
def test_cell_offset_control_round_trip(rc_reencodes: Reencodes, control: rc.CellOffsetControl) -> None:
    header, message = control.encode()
    assert rc.decode_control(header, message) == control
    assert rc_reencodes("E2SM-RC-ControlMessage", message) == (message, message)  # the same tree


def test_cell_offset_control_tree_and_header() -> None:
    control = rc.CellOffsetControl(
        UeIdGnbDu(0),
        NrCgi(b"\x00\xf1\x10", 0x40001),
        (rc.NeighbourOffset(NrCgi(b"\x00\xf1\x10", 0x80001), -4),),
    )
    header, message = control.encode()
    h = rc.decode_control_header(header)
    assert (h.ric_style_type, h.ric_control_action_id) == (3, rc.ACTION_CELL_INDIVIDUAL_OFFSET)
    tree = rc.decode_control_message(message)
    assert [i.ran_parameter_id for i in tree.ran_p_list] == [rc.CIO_SOURCE_CELL, rc.CIO_NEIGHBOUR_LIST]
    neighbour = tree.ran_p_list[1].ran_parameter_value_type.list_of_ran_parameter[0]  # type: ignore[union-attr]
    body = neighbour.find(rc.CIO_NEIGHBOUR_ITEM).ran_parameter_value_type  # type: ignore[union-attr]
    assert body.find(rc.CIO_OFFSET_DB).ran_parameter_value_type.ran_parameter_value == -4  # type: ignore[union-attr]


def test_bad_cell_offset_controls_are_codec_errors_naming_the_field() -> None:
    cgi = NrCgi(b"\x00\xf1\x10", 1)
    with pytest.raises(E2CodecError, match="at least one neighbour"):
        rc.CellOffsetControl(UeIdGnbDu(0), cgi, ()).encode()
    with pytest.raises(E2CodecError, match="integer dB"):
        rc.CellOffsetControl(UeIdGnbDu(0), cgi, (rc.NeighbourOffset(cgi, 2.5),)).encode()  # type: ignore[arg-type]
    header = rc.ControlHeaderFormat1(UeIdGnbDu(0), 3, rc.ACTION_CELL_INDIVIDUAL_OFFSET)
    with pytest.raises(E2CodecError) as err:
        rc.parse_control(header, rc.ControlMessageFormat1(()))
    assert err.value.field == "ranP-List[1]"
    good = rc.CellOffsetControl(UeIdGnbDu(0), cgi, (rc.NeighbourOffset(cgi, 2),)).message()
    no_offset = rc.ControlMessageFormat1(
        (
            good.ran_p_list[0],
            rc.RanParameterItem(
                rc.CIO_NEIGHBOUR_LIST,
                rc.RanParameterList(
                    (
                        rc.RanParameterStructure(
                            (
                                rc.RanParameterItem(
                                    rc.CIO_NEIGHBOUR_ITEM,
                                    rc.RanParameterStructure(
                                        (
                                            rc.RanParameterItem(
                                                rc.CIO_NEIGHBOUR_NR_CGI,
                                                rc.RanParameterElement(rc.encode_nr_cgi(cgi)),
                                            ),
                                            rc.RanParameterItem(
                                                rc.CIO_OFFSET_DB, rc.RanParameterElement("3 dB")
                                            ),
                                        )
                                    ),
                                ),
                            )
                        ),
                    )
                ),
            ),
        )
    )
    with pytest.raises(E2CodecError) as err:
        rc.parse_control(header, no_offset)
    assert err.value.field == "ranP-List[3][0].4.6"


def test_both_slice_numberings_decode_to_the_same_quota() -> None:
    base = rc.SliceQuotaControl.single(UeIdGnbDu(7), b"\x00\xf1\x10", SNssai(1, 2), 10, 50, 5)
    old = rc.SliceQuotaControl(base.ue_id, base.rrm_policy_ratio_list, rc.SliceQuotaNumbering.V1_03)
    new_bytes, old_bytes = base.encode()[1], old.encode()[1]
    assert new_bytes != old_bytes
    ids_old = rc.decode_control_message(old_bytes)
    group = ids_old.ran_p_list[0].ran_parameter_value_type.list_of_ran_parameter[0]  # type: ignore[union-attr]
    inner = group.sequence_of_ran_parameters[0].ran_parameter_value_type
    assert [i.ran_parameter_id for i in inner.sequence_of_ran_parameters] == [3, 10, 11, 12]  # type: ignore[union-attr]
    a = rc.decode_control(base.encode()[0], old_bytes)
    b = rc.decode_control(base.encode()[0], new_bytes)
    assert isinstance(a, rc.SliceQuotaControl) and isinstance(b, rc.SliceQuotaControl)
    assert a.rrm_policy_ratio_list == b.rrm_policy_ratio_list == base.rrm_policy_ratio_list
    assert (a.numbering, b.numbering) == (rc.SliceQuotaNumbering.V1_03, rc.SliceQuotaNumbering.NEWER)


def test_default_definition_offers_handover_and_slice_quota() -> None:
    d = rc.decode_ran_function_definition(
        rc.encode_ran_function_definition(rc.default_ran_function_definition())
    )
    assert d.ran_function_name.ran_function_e2sm_oid == "1.3.6.1.4.1.53148.1.1.2.3"
    assert d.offers(3, 1) and d.offers(2, 6) and not d.offers(2, 1)
    assert d.offers(3, rc.ACTION_CELL_INDIVIDUAL_OFFSET)


def test_ratio_outside_percent_is_rejected() -> None:
    with pytest.raises(E2CodecError):
        rc.SliceQuotaControl.single(UeIdGnbDu(0), b"\x00\xf1\x10", SNssai(1), 10, 130, 0).encode()


def test_unsupported_control_and_malformed_tree_are_codec_errors() -> None:
    header = rc.ControlHeaderFormat1(UeIdGnbDu(0), 1, 1)
    empty = rc.ControlMessageFormat1(())
    with pytest.raises(E2CodecError, match="style 1 action 1"):
        rc.parse_control(header, empty)
    with pytest.raises(E2CodecError) as err:
        rc.parse_control(rc.ControlHeaderFormat1(UeIdGnbDu(0), 3, 1), empty)
    assert err.value.field == "ranP-List[1]"
    wrong = rc.ControlMessageFormat1((rc.RanParameterItem(1, rc.RanParameterElement(5)),))
    with pytest.raises(E2CodecError):
        rc.parse_control(rc.ControlHeaderFormat1(UeIdGnbDu(0), 2, 6), wrong)


def test_typed_controls_with_wrong_members_raise_codec_error() -> None:
    bad_slice = rc.SliceQuotaControl(
        UeIdGnbDu(0), (rc.RrmPolicyRatioGroup((rc.RrmPolicyMember(b"\x00\xf1\x10", 1),)),)
    )  # type: ignore[arg-type]
    with pytest.raises(E2CodecError) as err:
        bad_slice.encode()
    assert err.value.message == "E2SM-RC-ControlMessage"
    with pytest.raises(E2CodecError):
        rc.HandoverControl(UeIdGnbDu(0), "cell 1").encode()  # type: ignore[arg-type]
    with pytest.raises(E2CodecError):
        rc.HandoverControl("ue", NrCgi(b"\x00\xf1\x10", 1)).encode()  # type: ignore[arg-type]


def test_slice_quota_without_the_ratio_group_wrapper_decodes_and_reencodes_as_sent() -> None:
    # A widely used open-source gNB puts the group's parameters (3, 11, 12, 13) straight into each entry of
    # the RRM Policy Ratio List instead of under an "RRM Policy Ratio Group" (id 2) structure.
    wrapped = rc.SliceQuotaControl.single(UeIdGnbDu(7), b"\x00\xf1\x10", SNssai(1, 2), 10, 50, 5)
    header, message = wrapped.encode()
    tree = rc.decode_control_message(message)
    entry = tree.ran_p_list[0].ran_parameter_value_type.list_of_ran_parameter[0]  # type: ignore[union-attr]
    assert [i.ran_parameter_id for i in entry.sequence_of_ran_parameters] == [2]
    group = entry.sequence_of_ran_parameters[0].ran_parameter_value_type
    flat = rc.ControlMessageFormat1((rc.RanParameterItem(1, rc.RanParameterList((group,))),))  # type: ignore[arg-type]
    flat_bytes = rc.encode_control_message(flat)
    decoded = rc.decode_control(header, flat_bytes)
    assert isinstance(decoded, rc.SliceQuotaControl)
    assert decoded.rrm_policy_ratio_list == wrapped.rrm_policy_ratio_list and not decoded.group_wrapper
    assert decoded.encode() == (header, flat_bytes)  # re-encoded the way it came
    assert rc.decode_control(header, message).group_wrapper


def test_ratios_outside_percent_are_refused_on_decode() -> None:
    header = rc.encode_control_header(rc.ControlHeaderFormat1(UeIdGnbDu(0), 2, 6))
    good = rc.SliceQuotaControl.single(UeIdGnbDu(0), b"\x00\xf1\x10", SNssai(1), 10, 100, 0)
    tree = rc.decode_control_message(good.encode()[1])
    entry = tree.ran_p_list[0].ran_parameter_value_type.list_of_ran_parameter[0]  # type: ignore[union-attr]
    group = entry.sequence_of_ran_parameters[0].ran_parameter_value_type
    items = list(group.sequence_of_ran_parameters)  # type: ignore[union-attr]
    assert [i.ran_parameter_id for i in items] == [3, 11, 12, 13]
    for value in (101, -1):
        bad_min = rc.RanParameterItem(11, rc.RanParameterElement(value))
        bad_group = rc.RanParameterStructure((items[0], bad_min, *items[2:]))
        bad = rc.ControlMessageFormat1(
            (
                rc.RanParameterItem(
                    1, rc.RanParameterList((rc.RanParameterStructure((rc.RanParameterItem(2, bad_group),)),))
                ),
            )
        )
        with pytest.raises(E2CodecError, match=f"PRB ratio {value} outside 0..100") as err:
            rc.decode_control(header, rc.encode_control_message(bad))
        assert err.value.field == "ranP-List[1][0].2.11"


# The same bytes against upstream's module (compiled from ../shared/asn1; skips, saying so, without it).
STANDARD_CROSS_CHECKS = [
    ("E2SM-RC-ControlHeader", headers, rc.encode_control_header),
    ("E2SM-RC-ControlMessage", messages, rc.encode_control_message),
    ("E2SM-RC-ControlOutcome", outcomes, rc.encode_control_outcome),
    ("E2SM-RC-RANFunctionDefinition", definitions, rc.encode_ran_function_definition),
]


@pytest.mark.parametrize(
    ("type_name", "values", "encode"), STANDARD_CROSS_CHECKS, ids=[c[0] for c in STANDARD_CROSS_CHECKS]
)
@SETTINGS
@given(data=st.data())
def test_our_bytes_agree_with_the_standard_module(
    rc_reencodes: Reencodes, type_name: str, values: Any, encode: Callable[[Any], bytes], data: st.DataObject
) -> None:
    pdu = encode(data.draw(values))
    assert rc_reencodes(type_name, pdu) == (pdu, pdu)
