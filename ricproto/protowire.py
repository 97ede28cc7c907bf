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


# how a field is read (the loop dispatches on these small ints rather than on descriptor attributes)
_SCALAR_VARINT, _REPEATED_VARINT, _SCALAR_FIXED, _REPEATED_FIXED, _STRING, _BYTES, _MESSAGE = range(7)


class _Field:
    __slots__ = ("dtype", "kind", "name", "nested", "repeated", "size", "type", "unpack", "wire")

    def __init__(self, fd: FieldDescriptor, nested: WireDecoder | None) -> None:
        self.name = fd.name
        self.type = fd.type
        self.repeated = fd.label == _FD.LABEL_REPEATED
        self.nested = nested
        dtype = _FIXED.get(fd.type) or _VARINT_DTYPE.get(fd.type)
        # a dtype object, not its name: np.frombuffer parses a name on every call
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.wire = _WIRE_OF.get(fd.type, 2)
        self.size = self.dtype.itemsize if fd.type in _FIXED else 0
        self.unpack = _UNPACK.get(fd.type)
        if fd.type in _VARINT:
            self.kind = _REPEATED_VARINT if self.repeated else _SCALAR_VARINT
        elif fd.type in _FIXED:
            self.kind = _REPEATED_FIXED if self.repeated else _SCALAR_FIXED
        elif fd.type == _FD.TYPE_STRING:
            self.kind = _STRING
        elif fd.type == _FD.TYPE_BYTES:
            self.kind = _BYTES
        else:
            self.kind = _MESSAGE

    def default(self) -> Any:
        if self.repeated:
            return np.zeros(0, dtype=self.dtype) if self.dtype is not None else []
        if self.type == _FD.TYPE_MESSAGE:
            return b"" if self.kind == _BYTES else None
        if self.type == _FD.TYPE_STRING:
            return ""
        if self.type == _FD.TYPE_BYTES:
            return b""
        if self.type == _FD.TYPE_BOOL:
            return False
        if self.type in (_FD.TYPE_FLOAT, _FD.TYPE_DOUBLE):
            return 0.0
        return 0


_PLAIN_VARINT = {_FD.TYPE_UINT64, _FD.TYPE_UINT32}  # values that need no sign or width fix-up


class WireDecoder:
    """Reads one message type (see the module docstring for the shape of the result)."""

    def __init__(self, descriptor: Descriptor, raw: tuple[str, ...] = ()) -> None:
        """``raw``: message fields returned as their bytes, undecoded (for a caller that caches the
        decoding of a part that repeats unchanged from record to record)."""
        self.descriptor = descriptor
        self._fields: dict[int, _Field] = {}
        for fd in descriptor.fields:
            if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
                raise TypeError(f"{descriptor.full_name}.{fd.name}: map fields are not supported")
            nested = WireDecoder(fd.message_type) if fd.type == _FD.TYPE_MESSAGE else None
            self._fields[fd.number] = _Field(fd, nested)
            if fd.name in raw:
                if fd.type != _FD.TYPE_MESSAGE:
                    raise TypeError(f"{fd.name}: only message fields can be kept raw")
                self._fields[fd.number].kind = _BYTES
        self._by_name = {f.name: f for f in self._fields.values()}
        self._scalar_defaults = {f.name: f.default() for f in self._fields.values() if not f.repeated}
        self._repeated = tuple(f for f in self._fields.values() if f.repeated)

    def decode(self, data: bytes | bytearray | memoryview) -> dict[str, Any]:
        data = bytes(data)
        return self._decode(data, 0, len(data))

    def _decode(self, data: bytes, i: int, end: int) -> dict[str, Any]:
        out: dict[str, Any] = dict(self._scalar_defaults)
        lists: dict[str, list] = {}
        fields = self._fields
        while i < end:
            key = data[i]
            if key < 0x80:
                i += 1
            else:
                key, i = _varint(data, i, end)
            number, wire = key >> 3, key & 7
            f = fields.get(number)
            if wire == 2:
                length = data[i] if i < end else 0x80
                if length < 0x80:
                    i += 1
                elif i + 1 < end and data[i + 1] < 0x80:  # two bytes: packed columns up to 16 KiB
                    length = (length & 0x7F) | (data[i + 1] << 7)
                    i += 2
                else:
                    length, i = _varint(data, i, end)
                stop = i + length
                if stop > end:
                    raise WireDecodeError(f"field {number}: length {length} runs past the end")
                if f is not None:
                    kind = f.kind
                    if kind == _STRING:
                        try:
                            value: Any = data[i:stop].decode("utf-8")
                        except UnicodeDecodeError as exc:
                            raise WireDecodeError(f"field {f.name}: not UTF-8: {exc}") from None
                        if f.repeated:
                            lists.setdefault(f.name, []).append(value)
                        else:
                            out[f.name] = value
                    elif kind == _REPEATED_FIXED:
                        if length % f.size:
                            raise WireDecodeError(
                                f"field {f.name}: packed length {length} not a multiple of {f.size}"
                            )
                        arr = np.frombuffer(data, dtype=f.dtype, count=length // f.size, offset=i)
                        self._extend(out, lists, f, arr)
                    elif kind == _MESSAGE:
                        assert f.nested is not None
                        value = f.nested._decode(data, i, stop)
                        if f.repeated:
                            lists.setdefault(f.name, []).append(value)
                        elif out.get(f.name) is not None:  # protobuf merges repeated occurrences
                            out[f.name] = {**out[f.name], **value}
                        else:
                            out[f.name] = value
                    elif kind == _BYTES:
                        if f.repeated:
                            lists.setdefault(f.name, []).append(data[i:stop])
                        else:
                            out[f.name] = data[i:stop]
                    elif kind == _REPEATED_VARINT:
                        values = []
                        j = i
                        while j < stop:
                            v, j = _varint(data, j, stop)
                            values.append(_signed(v, f.type))
                        self._extend(out, lists, f, np.asarray(values, dtype=f.dtype))
                    else:
                        raise WireDecodeError(f"field {f.name}: length-delimited value for a scalar")
                i = stop
            elif wire == 0:
                value = data[i] if i < end else 0x80
                if value < 0x80:
                    i += 1
                else:
                    value, i = _varint(data, i, end)
                if f is not None:
                    if f.kind == _SCALAR_VARINT:
                        out[f.name] = (
                            value if f.type in _PLAIN_VARINT and value < 1 << 32 else _signed(value, f.type)
                        )
                    elif f.kind == _REPEATED_VARINT:  # one unpacked element
                        self._extend(out, lists, f, np.asarray([_signed(value, f.type)], dtype=f.dtype))
                    else:
                        raise WireDecodeError(f"field {f.name}: varint for a non-varint type")
            elif wire in (1, 5):
                size = 8 if wire == 1 else 4
                if i + size > end:
                    raise WireDecodeError(f"field {number}: truncated fixed-width value")
                if f is not None:
                    if f.wire != wire:
                        raise WireDecodeError(f"field {f.name}: wire type {wire} does not fit its type")
                    value = f.unpack(data, i)[0]
                    if f.repeated:
                        self._extend(out, lists, f, np.asarray([value], dtype=f.dtype))
                    else:
                        out[f.name] = value
                i += size
            else:
                raise WireDecodeError(f"field {number}: unsupported wire type {wire}")
        for name, values in lists.items():
            f = self._by_name[name]
            out[name] = np.concatenate(values) if f.dtype is not None else values
        for f in self._repeated:
            if f.name not in out:
                out[f.name] = f.default()
        return out

    @staticmethod
    def _extend(out: dict[str, Any], lists: dict[str, list], f: _Field, arr: np.ndarray) -> None:
        """A numeric run (packed, or one unpacked element): the first stays a view, more are joined."""
        if f.name in lists:
            lists[f.name].append(arr)
        elif f.name in out:
            lists[f.name] = [out.pop(f.name), arr]
        else:
            out[f.name] = arr


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
