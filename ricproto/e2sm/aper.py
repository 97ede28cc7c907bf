"""Aligned-PER (X.691, ALIGNED variant) primitives for the hand-written hot-path codecs.

asn1tools is the reference codec of the project's E2SM modules; it is general but costs
several hundred microseconds per KPM report. The per-report messages (KPM indication header and
message) are therefore also coded by hand with these primitives, and the tests require byte
equality with asn1tools. Anything the hand-written path does not cover raises `AperUnsupported`
so that the caller falls back to asn1tools.
"""

from __future__ import annotations

from asn1tools.codecs.ber import decode_real as _ber_decode_real
from asn1tools.codecs.per import encode_real as _per_encode_real


class AperUnsupported(Exception):
    """The hand-written path does not cover this value or encoding (caller falls back)."""


class AperTruncated(Exception):
    """The input ended before the value did, or a field holds an impossible value."""


def _octets_for(value: int) -> int:
    return max(1, (value.bit_length() + 7) // 8)


def _bits_for_range(rng: int) -> int:
    return (rng - 1).bit_length()


class BitWriter:
    """Appends bits MSB first; `to_bytes()` pads the last octet with zeros."""

    __slots__ = ("_acc", "_buf", "_n")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._acc = 0  # pending bits, at most a few hundred: flushed to _buf in whole octets
        self._n = 0

    def _flush(self) -> None:
        extra = self._n & 7
        self._buf += (self._acc >> extra).to_bytes((self._n - extra) >> 3, "big")
        self._acc &= (1 << extra) - 1
        self._n = extra

    def bits(self, value: int, n: int) -> None:
        self._acc = (self._acc << n) | value
        self._n += n
        if self._n > 512:
            self._flush()

    def align(self) -> None:
        pad = -self._n & 7
        if pad:
            self._acc <<= pad
            self._n += pad

    def octets(self, data: bytes) -> None:
        if self._n & 7 == 0:
            self._flush()
            self._buf += data
            return
        self._acc = (self._acc << (8 * len(data))) | int.from_bytes(data, "big")
        self._n += 8 * len(data)
        if self._n > 512:
            self._flush()

    def constrained(self, value: int, lb: int, ub: int) -> None:
        """Constrained whole number (10.5.7): bit-field, one or two aligned octets, or length+octets."""
        rng = ub - lb + 1
        off = value - lb
        if off < 0 or value > ub:
            raise AperUnsupported(f"value {value} outside {lb}..{ub}")
        if rng == 1:
            return
        if rng <= 255:
            self.bits(off, _bits_for_range(rng))
        elif rng == 256:
            self.align()
            self.bits(off, 8)
        elif rng <= 65536:
            self.align()
            self.bits(off, 16)
        else:
            n = _octets_for(off)
            self.bits(n - 1, _bits_for_range(_octets_for(rng - 1)))
            self.align()
            self.bits(off, 8 * n)

    def record_u32(self, value: int) -> None:
        """3 leading zero bits (extension bit + CHOICE index 0) then an INTEGER (0..4294967295)."""
        if not 0 <= value <= 0xFFFFFFFF:
            raise AperUnsupported("value outside 0..4294967295")
        n = (value.bit_length() + 7) >> 3 or 1
        acc = (self._acc << 5) | (n - 1)
        nbits = self._n + 5
        pad = -nbits & 7
        self._acc = (acc << (pad + 8 * n)) | value
        self._n = nbits + pad + 8 * n
        if self._n > 512:
            self._flush()

    def length(self, n: int) -> None:
        """Unconstrained length determinant (10.9.3.6-8) for lengths below 16K."""
        self.align()
        if n < 128:
            self.bits(n, 8)
        elif n < 16384:
            self.bits(0x8000 | n, 16)
        else:
            raise AperUnsupported("fragmented length")

    def small(self, n: int) -> None:
        """Normally small non-negative whole number (10.6), e.g. an extension CHOICE index."""
        if n >= 64:
            raise AperUnsupported("large normally small number")
        self.bits(n, 7)

    def open_type(self, content: bytes) -> None:
        self.length(len(content))
        self.octets(content)

    def real(self, value: float) -> None:
        data = bytes(_per_encode_real(value))
        self.length(len(data))
        self.octets(data)

    def to_bytes(self) -> bytes:
        self.align()
        self._flush()
        if not self._buf:
            return b"\x00"  # an empty complete encoding is one zero octet (10.1.3)
        return bytes(self._buf)


class BitReader:
    """Reads bits MSB first from bytes; raises AperTruncated past the end."""

    __slots__ = ("_data", "_pos", "_total", "_win", "_win_end")

    # Reads come from an integer holding a window of the input: shifting one integer of the whole
    # input on every read would make long messages (per-UE reports) quadratic.
    WINDOW = 128

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._total = 8 * len(data)
        self._pos = 0
        self._win = 0
        self._win_end = 0  # bit offset just past the window

    @property
    def bit_pos(self) -> int:
        return self._pos

    def bits(self, n: int) -> int:
        pos = self._pos
        end = pos + n
        if end > self._win_end:
            if end > self._total:
                raise AperTruncated("input ends inside a field")
            first = pos >> 3
            last = min(len(self._data), max(first + self.WINDOW, (end + 7) >> 3))
            self._win = int.from_bytes(self._data[first:last], "big")
            self._win_end = last << 3
        self._pos = end
        return (self._win >> (self._win_end - end)) & ((1 << n) - 1)

    def align(self) -> None:
        self._pos = (self._pos + 7) & ~7

    def rewind(self, n: int) -> None:
        self._pos -= n

    def octets(self, n: int) -> bytes:
        self.align()
        start = self._pos // 8
        if start + n > len(self._data):
            raise AperTruncated("input ends inside an octet string")
        self._pos += 8 * n
        return self._data[start : start + n]

    def constrained(self, lb: int, ub: int) -> int:
        rng = ub - lb + 1
        if rng == 1:
            return lb
        if rng <= 255:
            off = self.bits(_bits_for_range(rng))
        elif rng == 256:
            self.align()
            off = self.bits(8)
        elif rng <= 65536:
            self.align()
            off = self.bits(16)
        else:
            n = self.bits(_bits_for_range(_octets_for(rng - 1))) + 1
            self.align()
            off = self.bits(8 * n)
        if off >= rng:
            raise AperTruncated(f"value outside {lb}..{ub}")
        return lb + off

    def u32(self) -> int:
        """INTEGER (0..4294967295): 2-bit octet count, alignment, octets."""
        n = self.bits(2) + 1
        self._pos = (self._pos + 7) & ~7
        return self.bits(8 * n)

    def length(self) -> int:
        self.align()
        first = self.bits(8)
        if first < 0x80:
            return first
        if first < 0xC0:
            return ((first & 0x3F) << 8) | self.bits(8)
        raise AperUnsupported("fragmented length")

    def small(self) -> int:
        if self.bits(1):
            raise AperUnsupported("large normally small number")
        return self.bits(6)

    def open_type(self) -> bytes:
        return self.octets(self.length())

    def real(self) -> float:
        data = self.octets(self.length())
        try:
            return float(_ber_decode_real(data))
        except Exception as exc:  # asn1tools raises several types on bad REAL octets
            raise AperTruncated(f"bad REAL encoding: {exc}") from exc

    def remaining_bits(self) -> int:
        return self._total - self._pos
