"""SI95 frame codec and stream reassembly against real RMR 4.9.4 frames (tests/vectors/rmr)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ricproto.rmr.frame import (
    MIN_FRAME,
    PAYLOAD_OFFSET,
    FrameError,
    decode_frame,
    encode_frame,
    frame_length,
)
from ricproto.rmr.stream import FrameStream

# Bytes real senders leave uninitialised (rmr.md §1.1, §2): never compared.
TRANSPORT_GARBAGE = range(13, 50)


VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "rmr" / "frames.json"


def load_vectors() -> list[dict]:
    vectors = []
    for entry in json.loads(VECTORS.read_text()):
        frame = bytes.fromhex(entry["hex"])
        vectors.append(
            {
                **entry,
                "size": len(frame),
                "frame": frame,
                "xid": entry["xid"].encode(),
                "trace": bytes.fromhex(entry["trace_hex"]),
                "payload": bytes.fromhex(entry["payload_hex"]),
            }
        )
    return vectors


@pytest.fixture(scope="module")
def vectors() -> list[dict]:
    found = load_vectors()
    assert [v["name"] for v in found] == ["V1", "V2", "V3", "V4"]
    return found


def test_every_vector_decodes_to_the_listed_fields(vectors: list[dict]) -> None:
    for v in vectors:
        frame = v["frame"]
        assert len(frame) == v["size"] == frame_length(frame), v["name"]
        msg = decode_frame(frame)
        assert msg.mtype == v["mtype"], v["name"]
        assert len(msg.payload) == v["plen"] and msg.payload == v["payload"], v["name"]
        assert msg.version == v["ver"]
        assert msg.xid_text == v["xid"] and len(msg.xid) == 32
        assert msg.src == v["src"] and msg.srcip == v["srcip"] and msg.meid == v["meid"]
        assert msg.flags == v["flags"] and msg.sub_id == v["sub_id"]
        assert msg.trace == v["trace"] and len(msg.trace) == v["len1"]
        assert msg.call_id == v["call_id"], v["name"]


def test_every_vector_reencodes_to_the_same_defined_bytes(vectors: list[dict]) -> None:
    for v in vectors:
        frame = v["frame"]
        msg = decode_frame(frame)
        again = encode_frame(
            msg.mtype,
            msg.payload,
            sub_id=msg.sub_id,
            xid=msg.xid,
            meid=msg.meid.encode(),
            src=msg.src.encode(),
            srcip=msg.srcip.encode(),
            flags=msg.flags,
            call_id=msg.call_id,
            trace=msg.trace,
        )
        assert len(again) == len(frame), v["name"]
        data1 = 50 + 280 + len(msg.trace)
        ignored = set(TRANSPORT_GARBAGE) | {data1 + 1, data1 + 2, data1 + 3}
        diff = [i for i in range(len(frame)) if frame[i] != again[i] and i not in ignored]
        assert diff == [], f"{v['name']} differs at {diff}"


def test_call_vector_has_host_order_flag_and_call_id(vectors: list[dict]) -> None:
    v3 = next(v for v in vectors if v["name"] == "V3")["frame"]
    assert v3[242:246] == b"\x04\x00\x00\x00"  # flags, little-endian
    assert v3[334 - 4] == 1  # data1[0] = call-id 1


def test_encoded_frame_layout() -> None:
    frame = encode_frame(
        12050,
        b"abc",
        sub_id=-1,
        xid=b"x".ljust(32, b"\0"),
        meid=b"m" * 40,
        src=b"s:1",
        srcip=b"1.2.3.4:1",
        flags=4,
        call_id=9,
    )
    assert len(frame) == PAYLOAD_OFFSET + 3
    assert frame[0:4] == len(frame).to_bytes(4, "little") and frame[4:8] == len(frame).to_bytes(4, "big")
    assert frame[8:9] == b"$" and frame[9:50] == bytes(41)
    msg = decode_frame(frame)
    assert msg.meid == "m" * 31  # 31 characters plus the NUL, like rmr_bytes2meid
    assert (msg.sub_id, msg.flags, msg.call_id, msg.payload) == (-1, 4, 9, b"abc")


def test_length_rules_of_rmr_494() -> None:
    frame = bytearray(encode_frame(1, b"p"))
    frame[4:9] = bytes(5)  # no marker: the sender-order field alone (pre-4.x peers)
    assert frame_length(frame) == len(frame)
    frame = bytearray(encode_frame(1, b"p"))
    frame[4:8] = (9999).to_bytes(4, "big")  # marker, fields disagree: the sender-order copy wins
    assert frame_length(frame) == len(frame)
    frame[0:4] = (0x80000001).to_bytes(4, "little")
    frame[4:8] = (0x80000001).to_bytes(4, "big")
    assert frame_length(frame) < 0


def test_decode_rejects_lengths_that_do_not_fit() -> None:
    frame = bytearray(encode_frame(1, b"payload"))
    frame[54:58] = (500).to_bytes(4, "big")  # plen beyond the frame
    with pytest.raises(FrameError) as err:
        decode_frame(bytes(frame))
    assert err.value.reason == "bad_header"
    with pytest.raises(FrameError):
        decode_frame(bytes(frame[: MIN_FRAME - 1]), 0, MIN_FRAME - 1)


def test_variable_parts_move_the_payload() -> None:
    frame = encode_frame(7, b"PAY", trace=b"0123456789")
    assert len(frame) == PAYLOAD_OFFSET + 10 + 3
    msg = decode_frame(frame)
    assert msg.trace == b"0123456789" and msg.payload == b"PAY"
    # a future header version with a longer fixed header (len0 = 300) still finds the payload
    longer = bytearray(frame[:330]) + bytes(20) + frame[330:]
    total = len(longer)
    longer[0:4], longer[4:8] = total.to_bytes(4, "little"), total.to_bytes(4, "big")
    longer[246:250] = (300).to_bytes(4, "big")
    assert decode_frame(bytes(longer)).payload == b"PAY"


def test_stream_handles_byte_by_byte_and_merged_frames(vectors: list[dict]) -> None:
    frames = [v["frame"] for v in vectors]
    stream = FrameStream()
    got = []
    for byte in b"".join(frames):
        messages, skipped, fatal = stream.feed(bytes([byte]))
        assert not skipped and fatal is None
        got += messages
    assert [m.payload for m in got] == [v["payload"] for v in vectors]
    messages, _, _ = FrameStream().feed(b"".join(frames) * 3)
    assert len(messages) == 12 and stream.pending == 0


def test_stream_reassembles_a_300kb_frame() -> None:
    payload = bytes(range(256)) * 1200
    frame = encode_frame(12050, payload)
    stream = FrameStream()
    got = []
    for i in range(0, len(frame), 8192):
        got += stream.feed(frame[i : i + 8192])[0]
    assert len(got) == 1 and got[0].payload == payload


@settings(max_examples=60, deadline=None)
@given(
    payloads=st.lists(st.binary(max_size=3000), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=1, max_value=5000), max_size=20),
)
def test_stream_any_split_gives_the_same_messages(payloads: list[bytes], cuts: list[int]) -> None:
    data = b"".join(encode_frame(i, p, sub_id=i) for i, p in enumerate(payloads))
    stream = FrameStream()
    got = []
    pos = 0
    for cut in cuts:
        got += stream.feed(data[pos : pos + cut])[0]
        pos += cut
    got += stream.feed(data[pos:])[0] if pos < len(data) else []
    assert [(m.mtype, m.payload) for m in got] == list(enumerate(payloads))


@pytest.mark.parametrize(
    ("prefix", "reason"),
    [
        ((0xFFFFFFF0).to_bytes(4, "little") + (0xFFFFFFF0).to_bytes(4, "big") + b"$", "negative_length"),
        ((0x7FFFFFF0).to_bytes(4, "little") + (0x7FFFFFF0).to_bytes(4, "big") + b"$", "huge_length"),
        ((20).to_bytes(4, "little") + (20).to_bytes(4, "big") + b"$", "short_length"),
        (b"GET / HTTP/1.1\r\n", "huge_length"),
    ],
)
def test_stream_reports_nonsense_lengths_as_fatal(prefix: bytes, reason: str) -> None:
    good = encode_frame(1, b"ok")
    messages, _, fatal = FrameStream(max_frame=1 << 20).feed(good + prefix + bytes(400))
    assert [m.payload for m in messages] == [b"ok"]  # what came before is kept
    assert fatal is not None and fatal.reason == reason


@pytest.mark.parametrize("len0", [0, 4, 279, -1])
def test_header_length_below_the_fixed_header_is_refused(len0: int) -> None:
    # len0 names where the variable parts start; below 280 it would put the payload inside the header
    frame = bytearray(encode_frame(1, b"payload"))
    frame[246:250] = len0.to_bytes(4, "big", signed=True)
    with pytest.raises(FrameError) as err:
        decode_frame(bytes(frame))
    assert err.value.reason == "bad_header" and f"len0={len0}" in str(err.value)
