"""protowire reads what protobuf writes: random Transitions and RAN-view records, field by field, and
refuses truncated or mistyped bytes with WireDecodeError."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ricproto.protowire import WireDecodeError, WireDecoder, encode_packed
from ricproto.ran_view_pb2 import Control, Layout, RanViewRecord
from ricproto.transition_pb2 import Timestamps, Transition

f32 = st.floats(allow_nan=False, width=32)
u64 = st.integers(0, 2**64 - 1)
u32 = st.integers(0, 2**32 - 1)
text = st.text(max_size=20)


@st.composite
def transitions(draw) -> Transition:
    msg = Transition(
        schema_version=draw(u32),
        xapp_instance=draw(text),
        step=draw(u64),
        s=draw(st.lists(f32, max_size=30)),
        action=draw(u32),
        reward=draw(f32),
        s_next=draw(st.lists(f32, max_size=30)),
        mu=draw(f32),
        mu_all=draw(st.lists(f32, max_size=10)),
        policy_version=draw(text),
        intervened=draw(st.booleans()),
        source=draw(st.integers(0, 3)),
        outcome=draw(st.integers(0, 7)),
        state_intervened=draw(st.booleans()),
        meid=draw(text),
    )
    if draw(st.booleans()):
        msg.timestamps.CopyFrom(Timestamps(indication_ns=draw(u64), next_indication_ns=draw(u64)))
    return msg


@given(transitions())
@settings(max_examples=150, deadline=None)
def test_transition_fields_equal_protobuf(msg: Transition) -> None:
    data = msg.SerializeToString()
    got = WireDecoder(Transition.DESCRIPTOR).decode(data)
    back = Transition()
    back.ParseFromString(data)
    for fd in Transition.DESCRIPTOR.fields:
        want = getattr(back, fd.name)
        if fd.name == "timestamps":
            if back.HasField("timestamps"):
                assert got["timestamps"] == {
                    f.name: getattr(want, f.name) for f in Timestamps.DESCRIPTOR.fields
                }
            else:
                assert got["timestamps"] is None
        elif fd.label == fd.LABEL_REPEATED:
            assert got[fd.name].dtype == np.float32
            assert np.array_equal(got[fd.name], np.asarray(list(want), dtype=np.float32))
        elif fd.type == fd.TYPE_FLOAT:
            assert np.float32(got[fd.name]) == np.float32(want)
        else:
            assert got[fd.name] == want, fd.name


@given(
    st.lists(u64, max_size=8),
    st.lists(st.integers(-(2**31), 2**31 - 1), max_size=4),
    st.lists(text, max_size=4),
    st.lists(f32, max_size=8),
)
@settings(max_examples=100, deadline=None)
def test_ran_view_fields_equal_protobuf(ue_ids, _ints, nodes, values) -> None:
    msg = RanViewRecord(
        seq=len(ue_ids),
        layout=Layout(nodes=nodes),
        ue_id=ue_ids,
        cell_values=values,
        controls=[Control(control_id=i, ue_ids=ue_ids, kind="handover") for i in range(len(nodes))],
    )
    got = WireDecoder(RanViewRecord.DESCRIPTOR).decode(msg.SerializeToString())
    assert got["seq"] == len(ue_ids) and got["layout"]["nodes"] == nodes
    raw = WireDecoder(RanViewRecord.DESCRIPTOR, raw=("layout",)).decode(msg.SerializeToString())
    assert raw["layout"] == msg.layout.SerializeToString()  # kept as bytes for the caller to cache
    assert got["ue_id"].dtype == np.dtype("<u8") and got["ue_id"].tolist() == ue_ids
    assert np.array_equal(got["cell_values"], np.asarray(values, dtype=np.float32))
    assert [c["control_id"] for c in got["controls"]] == list(range(len(nodes)))
    assert all(c["ue_ids"].tolist() == ue_ids and c["kind"] == "handover" for c in got["controls"])


def test_negative_and_unpacked_values_and_unknown_fields() -> None:
    # int32 -1 is a 10-byte varint; an unpacked repeated float (wire type 5 per element) is valid too;
    # a field number the descriptor does not know is skipped, as protobuf does.
    from ricproto.ran_view_pb2 import Snssai

    d = WireDecoder(Transition.DESCRIPTOR)
    unpacked = b"".join(b"\x25" + np.float32(v).tobytes() for v in (0.5, 1.5))  # field 4, wire type 5
    unknown = b"\xf8\x07\x05"  # field 127 varint
    got = d.decode(unpacked + unknown + b"\x18\x07")
    assert got["s"].tolist() == [0.5, 1.5] and got["step"] == 7
    assert WireDecoder(Snssai.DESCRIPTOR).decode(Snssai(sst=1, has_sd=True, sd=5).SerializeToString()) == {
        "sst": 1,
        "has_sd": True,
        "sd": 5,
    }


def test_encode_packed_is_what_protobuf_writes() -> None:
    values = np.array([1.0, -2.5, 3.25], dtype=np.float32)
    ours = encode_packed(RanViewRecord.DESCRIPTOR.fields_by_name["cell_values"].number, values, "<f4")
    assert ours == RanViewRecord(cell_values=values.tolist()).SerializeToString()
    assert encode_packed(17, np.zeros(0), "<f4") == b""


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\x18", "truncated varint"),
        (b"\x22\x08\x00\x00", "runs past the end"),  # s: length 8, 2 bytes present
        (b"\x22\x90\x03" + bytes(396), "runs past the end"),  # s: two-byte length 400, 396 present
        (b"\x22\x90", "truncated varint"),  # s: a two-byte length cut after its first byte
        (b"\x22\x92\x03" + bytes(402), "not a multiple"),  # s: two-byte length 402
        (b"\x22\x03\x00\x00\x00", "not a multiple"),  # s: 3 bytes of packed floats
        (b"\x1d\x00\x00\x00\x00", "does not fit"),  # step (uint64) sent as fixed32
        (b"\x12\x02\xff\xfe", "not UTF-8"),  # xapp_instance
        (b"\x1b", "wire type"),  # group start: not supported
    ],
)
def test_malformed_bytes_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(WireDecodeError, match=reason):
        WireDecoder(Transition.DESCRIPTOR).decode(data)


def test_unpacked_repeated_varints_join_packed_runs() -> None:
    from ricproto.ran_view_pb2 import Control

    d = WireDecoder(Control.DESCRIPTOR)
    # ue_ids is fixed64; use an int field instead: the RanViewRecord has none repeated, so build one
    packed = Control(ue_ids=[1, 2]).SerializeToString()
    single = b"\x69" + (3).to_bytes(8, "little")  # field 13, wire type 1: one more fixed64 element
    assert d.decode(packed + single)["ue_ids"].tolist() == [1, 2, 3]


def test_two_byte_lengths_read_the_packed_column() -> None:
    values = np.arange(300, dtype=np.float32)  # 1200 bytes: a two-byte length
    data = Transition(schema_version=1, s=values.tolist(), step=5).SerializeToString()
    out = WireDecoder(Transition.DESCRIPTOR).decode(data)
    np.testing.assert_array_equal(out["s"], values)
    assert out["step"] == 5
