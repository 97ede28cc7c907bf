"""SI95 frame codec: the 50-byte transport header and the version-3 RMR header (rmr.md §1.1, §2).

A frame is ``[transport 50][RMR header len0][trace len1][data1 len2][data2 len3][payload plen]``.
All header integers are big-endian except ``flags`` (host order, little-endian on every platform
RMR runs on) and the first transport length (sender order: we write little-endian like x86 RMR).

Both structs below are big-endian; the two little-endian fields are packed as byte-swapped
integers so one ``pack`` call writes the whole fixed part.
"""

from __future__ import annotations

import struct
from typing import TypeAlias

from ricproto.rmr.message import NO_XID, RmrMessage
from ricproto.rmr.states import MAX_MEID, MAX_SRC, SUB_ID_NONE

Buffer: TypeAlias = bytes | bytearray | memoryview

TRANSPORT_HDR_LEN = 50
HDR_LEN = 280  # len0 of a version-3 header on 64-bit Linux
DATA1_LEN = 4
HDR_VERSION = 3
MARKER = 0x24  # '$': the big-endian length copy at offset 4 is present
MIN_FRAME = TRANSPORT_HDR_LEN + HDR_LEN
PAYLOAD_OFFSET = TRANSPORT_HDR_LEN + HDR_LEN + DATA1_LEN  # with no trace: 334

# transport (len LE as swapped BE, len BE, '$', zeros) + header up to srcip; data1 appended by _HEAD_D1.
_HEAD = struct.Struct(">IIc41x iii32s32x64s32s20x I iiii i64s")
_HEAD_D1 = struct.Struct(">IIc41x iii32s32x64s32s20x I iiii i64s B3x")
_DECODE = struct.Struct(">iii32s32x64s32s20x4s iiii i64s")
_LEN_LE_SIGNED = struct.Struct("<i")
_DOLLAR = b"$"

assert _HEAD.size == MIN_FRAME and _HEAD_D1.size == PAYLOAD_OFFSET and _DECODE.size == HDR_LEN


class FrameError(ValueError):
    """A frame (or its transport length) that cannot be decoded; ``reason`` is a metric label."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _swap32(value: int) -> int:
    return int.from_bytes((value & 0xFFFFFFFF).to_bytes(4, "little"), "big")


def encode_frame(
    mtype: int,
    payload: Buffer,
    *,
    sub_id: int = SUB_ID_NONE,
    xid: bytes = NO_XID,
    meid: bytes = b"",
    src: bytes = b"",
    srcip: bytes = b"",
    flags: int = 0,
    call_id: int = 0,
    trace: bytes = b"",
) -> bytes:
    """One complete SI95 frame (transport header included) ready to write on a socket.

    ``meid`` is cut to 31 bytes and ``src``/``srcip`` to 63 so each stays NUL-terminated, as RMR does.
    Transport bytes 9..49 and data1[1..3], which RMR leaves uninitialised, are zero here.
    """
    plen = len(payload)  # type: ignore[arg-type]
    if trace:
        total = PAYLOAD_OFFSET + len(trace) + plen
        head = _HEAD.pack(
            _swap32(total), total, _DOLLAR, mtype, plen, HDR_VERSION, xid, src[: MAX_SRC - 1],
            meid[: MAX_MEID - 1], _swap32(flags), HDR_LEN, len(trace), DATA1_LEN, 0, sub_id,
            srcip[: MAX_SRC - 1],
        )
        return b"".join((head, trace, bytes((call_id & 0xFF, 0, 0, 0)), payload))  # type: ignore[arg-type]
    total = PAYLOAD_OFFSET + plen
    head = _HEAD_D1.pack(
        _swap32(total), total, _DOLLAR, mtype, plen, HDR_VERSION, xid, src[: MAX_SRC - 1],
        meid[: MAX_MEID - 1], _swap32(flags), HDR_LEN, 0, DATA1_LEN, 0, sub_id, srcip[: MAX_SRC - 1],
        call_id & 0xFF,
    )
    return b"".join((head, payload))  # any buffer type for the payload


def frame_length(buf: Buffer, pos: int = 0) -> int:
    """The total frame length announced by the transport header at ``pos`` (may be "negative").

    RMR 4.9.4 reads the big-endian copy when the ``$`` marker is present but lets the sender-order
    copy win whenever the two differ (an old RMR that updated only the first field on RTS), and
    uses the sender-order copy alone without the marker: in every case the value is the
    sender-order (little-endian) field, which is all that is read here. Signed 32-bit result.
    """
    return _LEN_LE_SIGNED.unpack_from(buf, pos)[0]


_TEXT_CACHE: dict[bytes, str] = {}


def _text(raw: bytes) -> str:
    # src/srcip/meid repeat on every frame of a connection: remember recent decodings.
    text = _TEXT_CACHE.get(raw)
    if text is None:
        text = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        if len(_TEXT_CACHE) >= 4096:
            _TEXT_CACHE.clear()
        _TEXT_CACHE[raw] = text
    return text


def decode_frame(buf: Buffer, pos: int = 0, length: int | None = None) -> RmrMessage:
    """Decode the complete frame of ``length`` bytes at ``pos`` in ``buf``.

    Every header is read with the version-3 layout (RMR 4.9.4 does the same); the payload is found
    from len0..len3, never from fixed offsets. Raises ``FrameError`` when the lengths do not fit.
    """
    if length is None:
        length = frame_length(buf, pos)
    with memoryview(buf) as view:
        return decode_at(view, pos, length)


def decode_at(view: memoryview, pos: int, length: int) -> RmrMessage:
    """``decode_frame`` on a memoryview the caller keeps open (the receive hot path)."""
    if length < MIN_FRAME:
        raise FrameError(f"frame of {length} bytes is shorter than the {MIN_FRAME}-byte minimum",
                         "short_frame")
    (mtype, plen, version, xid, src, meid, flags_raw, len0, len1, len2, len3, sub_id,
     srcip) = _DECODE.unpack_from(view, pos + TRANSPORT_HDR_LEN)
    if len0 < HDR_LEN or len1 < 0 or len2 < 0 or len3 < 0 or plen < 0:
        raise FrameError(
            f"bad header lengths len0={len0} len1={len1} len2={len2} len3={len3} plen={plen}", "bad_header"
        )
    start = pos + TRANSPORT_HDR_LEN + len0
    payload_at = start + len1 + len2 + len3
    if payload_at + plen > pos + length:
        raise FrameError(
            f"header announces {payload_at + plen - pos} bytes but the frame has {length}", "bad_header"
        )
    return RmrMessage(
        mtype,
        view[payload_at : payload_at + plen].tobytes(),
        sub_id,
        _text(meid) if meid[0] else "",
        xid,
        _text(src),
        _text(srcip),
        0,
        view[start : start + len1].tobytes() if len1 else b"",
        view[start + len1] if len2 else 0,
        int.from_bytes(flags_raw, "little", signed=True),
        version,
    )
