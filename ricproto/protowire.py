"""A fast reader of protobuf wire bytes into plain Python values, driven by a message's descriptor.

Why it exists: ricxappframe pins protobuf < 3.21, whose Python runtime decodes a packed repeated
float one element at a time (~3 µs each: ~2 ms for one ``Transition`` of scenario medium). The twin
ingests tens of thousands of records per second, so its hot path reads the same bytes here:
packed numeric fields become numpy views (``np.frombuffer``), scalars and strings are read in one
pass, nested messages recurse. Field numbers, types and names all come from the generated
``*_pb2`` descriptor, so the ``.proto`` file stays the one definition; ``tests/ricproto`` checks
that this reader and protobuf's own parser agree on random messages.

``decode(data)`` returns ``{field name: value}`` with every field of the descriptor present
(proto3 defaults for absent ones): numbers as int/float/bool, enums as int, strings as str, bytes
as bytes, nested messages as dicts, repeated numeric fields as numpy arrays, other repeated fields
as lists. Map fields are not supported (the project's schemas have none).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
from google.protobuf.descriptor import Descriptor, FieldDescriptor

__all__ = ["WireDecodeError", "WireDecoder", "encode_packed"]

_FD = FieldDescriptor
# protobuf type -> numpy dtype of its fixed-width encoding (packed arrays, and single values)
_FIXED: dict[int, str] = {
    _FD.TYPE_FLOAT: "<f4",
    _FD.TYPE_DOUBLE: "<f8",
    _FD.TYPE_FIXED32: "<u4",
    _FD.TYPE_FIXED64: "<u8",
    _FD.TYPE_SFIXED32: "<i4",
    _FD.TYPE_SFIXED64: "<i8",
}
_VARINT = {
    _FD.TYPE_INT32,
    _FD.TYPE_INT64,
    _FD.TYPE_UINT32,
    _FD.TYPE_UINT64,
    _FD.TYPE_SINT32,
    _FD.TYPE_SINT64,
    _FD.TYPE_BOOL,
    _FD.TYPE_ENUM,
}
_VARINT_DTYPE = {
    _FD.TYPE_INT32: np.int64,
    _FD.TYPE_INT64: np.int64,
    _FD.TYPE_UINT32: np.uint64,
    _FD.TYPE_UINT64: np.uint64,
    _FD.TYPE_SINT32: np.int64,
    _FD.TYPE_SINT64: np.int64,
    _FD.TYPE_BOOL: np.bool_,
    _FD.TYPE_ENUM: np.int64,
}
_WIRE_OF = {
    **{t: 5 if np.dtype(d).itemsize == 4 else 1 for t, d in _FIXED.items()},
    **{t: 0 for t in _VARINT},
}
_STRUCT = {"<f4": "<f", "<f8": "<d", "<u4": "<I", "<u8": "<Q", "<i4": "<i", "<i8": "<q"}
_UNPACK = {t: struct.Struct(_STRUCT[d]).unpack_from for t, d in _FIXED.items()}


class WireDecodeError(ValueError):
    """Bytes that are not a valid encoding of the message."""


def _varint(data: bytes, i: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if i >= end:
            raise WireDecodeError("truncated varint")
        c = data[i]
        i += 1
        result |= (c & 0x7F) << shift
        if c < 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise WireDecodeError("varint longer than 10 bytes")


def _signed(value: int, ftype: int) -> int | bool:
    if ftype == _FD.TYPE_BOOL:
        return value != 0
    if ftype in (_FD.TYPE_SINT32, _FD.TYPE_SINT64):
        return (value >> 1) ^ -(value & 1)
    if ftype in (_FD.TYPE_INT32, _FD.TYPE_INT64, _FD.TYPE_ENUM):
        value &= (1 << 64) - 1
        return value - (1 << 64) if value >= 1 << 63 else value
    if ftype == _FD.TYPE_UINT32:
        return value & 0xFFFFFFFF
    return value


class _Field:
    __slots__ = ("dtype", "name", "nested", "repeated", "type")

    def __init__(self, fd: FieldDescriptor, nested: WireDecoder | None) -> None:
        self.name = fd.name
        self.type = fd.type
        self.repeated = fd.label == _FD.LABEL_REPEATED
        self.nested = nested
        self.dtype = _FIXED.get(fd.type) or _VARINT_DTYPE.get(fd.type)

    def default(self) -> Any:
        if self.repeated:
            return np.zeros(0, dtype=self.dtype) if self.dtype is not None else []
        if self.type == _FD.TYPE_MESSAGE:
            return None
        if self.type == _FD.TYPE_STRING:
            return ""
        if self.type == _FD.TYPE_BYTES:
            return b""
        if self.type == _FD.TYPE_BOOL:
            return False
        if self.type in (_FD.TYPE_FLOAT, _FD.TYPE_DOUBLE):
            return 0.0
        return 0


class WireDecoder:
    """Reads one message type (see the module docstring for the shape of the result)."""

    def __init__(self, descriptor: Descriptor) -> None:
        self.descriptor = descriptor
        self._fields: dict[int, _Field] = {}
        for fd in descriptor.fields:
            if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
                raise TypeError(f"{descriptor.full_name}.{fd.name}: map fields are not supported")
            nested = WireDecoder(fd.message_type) if fd.type == _FD.TYPE_MESSAGE else None
            self._fields[fd.number] = _Field(fd, nested)

    def decode(self, data: bytes | bytearray | memoryview) -> dict[str, Any]:
        data = bytes(data)
        return self._decode(data, 0, len(data))

    def _decode(self, data: bytes, i: int, end: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        lists: dict[str, list] = {}
        fields = self._fields
        while i < end:
            key, i = _varint(data, i, end)
            number, wire = key >> 3, key & 7
            f = fields.get(number)
            if wire == 0:
                value, i = _varint(data, i, end)
                if f is not None and f.dtype is not None and f.type in _VARINT:
                    self._put(out, lists, f, _signed(value, f.type))
                elif f is not None:
                    raise WireDecodeError(f"field {f.name}: varint for a non-varint type")
            elif wire == 2:
                length, i = _varint(data, i, end)
                stop = i + length
                if stop > end:
                    raise WireDecodeError(f"field {number}: length {length} runs past the end")
                if f is not None:
                    self._length_delimited(out, lists, f, data, i, stop)
                i = stop
            elif wire in (1, 5):
                size = 8 if wire == 1 else 4
                if i + size > end:
                    raise WireDecodeError(f"field {number}: truncated fixed-width value")
                if f is not None:
                    if _WIRE_OF.get(f.type) != wire:
                        raise WireDecodeError(f"field {f.name}: wire type {wire} does not fit its type")
                    self._put(out, lists, f, _UNPACK[f.type](data, i)[0])
                i += size
            else:
                raise WireDecodeError(f"field {number}: unsupported wire type {wire}")
        for name, values in lists.items():
            f = next(x for x in fields.values() if x.name == name)
            if f.dtype is not None:
                out[name] = np.asarray(values, dtype=f.dtype)
            else:
                out[name] = values
        for f in fields.values():
            if f.name not in out:
                out[f.name] = f.default()
        return out

    @staticmethod
    def _put(out: dict[str, Any], lists: dict[str, list], f: _Field, value: Any) -> None:
        if not f.repeated:
            out[f.name] = value
            return
        if f.name in out:  # a packed run came first: continue as a list
            lists[f.name] = list(out.pop(f.name))
        lists.setdefault(f.name, []).append(value)

    def _length_delimited(
        self, out: dict[str, Any], lists: dict[str, list], f: _Field, data: bytes, i: int, stop: int
    ) -> None:
        t = f.type
        if t == _FD.TYPE_STRING:
            try:
                value: Any = data[i:stop].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise WireDecodeError(f"field {f.name}: not UTF-8: {exc}") from None
        elif t == _FD.TYPE_BYTES:
            value = data[i:stop]
        elif t == _FD.TYPE_MESSAGE:
            assert f.nested is not None
            value = f.nested._decode(data, i, stop)
            if not f.repeated and out.get(f.name) is not None:  # protobuf merges repeated occurrences
                value = {**out[f.name], **value}
        elif f.repeated and f.dtype is not None:  # a packed run
            if t in _FIXED:
                size = np.dtype(f.dtype).itemsize
                if (stop - i) % size:
                    raise WireDecodeError(
                        f"field {f.name}: packed length {stop - i} not a multiple of {size}"
                    )
                arr = np.frombuffer(data, dtype=f.dtype, count=(stop - i) // size, offset=i)
            else:
                values = []
                while i < stop:
                    v, i = _varint(data, i, stop)
                    values.append(_signed(v, t))
                arr = np.asarray(values, dtype=f.dtype)
            if f.name in lists:
                lists[f.name].extend(arr.tolist())
            elif f.name in out:
                out[f.name] = np.concatenate([out[f.name], arr])
            else:
                out[f.name] = arr
            return
        else:
            raise WireDecodeError(f"field {f.name}: length-delimited value for a scalar")
        self._put(out, lists, f, value)


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_packed(number: int, values: np.ndarray, dtype: str) -> bytes:
    """One packed repeated fixed-width field (``dtype`` as in ``_FIXED``: "<f4", "<u8", ...).

    Appending such runs to a message's ``SerializeToString()`` is a valid encoding of the message
    with the field set (protobuf fields may come in any order); empty arrays encode as nothing, as
    protobuf does. It spares the Python runtime's per-element type checks on large arrays."""
    if values.size == 0:
        return b""
    raw = np.ascontiguousarray(values, dtype=dtype).tobytes()
    return _varint_bytes(number << 3 | 2) + _varint_bytes(len(raw)) + raw
