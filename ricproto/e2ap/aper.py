"""ASN.1 aligned PER (X.691, ALIGNED variant) primitives: a bit writer and a bit reader.

Only what E2AP needs: constrained whole numbers, length determinants (with fragmentation), enumerations,
CHOICE indices, octet/bit/PrintableString strings, open types and skipping of unknown extensions.
Values are written MSB first; a complete encoding is padded to whole octets and is never empty.
"""

from __future__ import annotations

_FRAGMENT = 16384  # X.691 11.9.3.8: lengths >= 16K are sent in fragments of 16K, 32K, 48K or 64K


class AperError(ValueError):
    """The bits do not form a valid encoding (too short, value out of range, unsupported form)."""


class AperWriter:
    """Accumulates bits; pending bits live in an int until the next octet alignment."""

    __slots__ = ("_acc", "_buf", "_nbits")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._acc = 0
        self._nbits = 0

    def bits(self, value: int, n: int) -> None:
        """Append ``value`` as an ``n``-bit unsigned field (no alignment)."""
        if n:
            self._acc = (self._acc << n) | value
            self._nbits += n
            if self._nbits >= 64:
                self._flush()

    def _flush(self) -> None:
        rem = self._nbits & 7
        nbytes = self._nbits >> 3
        if nbytes:
            self._buf += (self._acc >> rem).to_bytes(nbytes, "big")
            self._acc &= (1 << rem) - 1
            self._nbits = rem

    def align(self) -> None:
        pad = (-self._nbits) & 7
        if pad:
            self._acc <<= pad
            self._nbits += pad
        if self._nbits:
            self._flush()

    def octets(self, data: bytes) -> None:
        """Append octets at the next octet boundary."""
        self.align()
        self._buf += data

    def constrained(self, value: int, lb: int, ub: int) -> None:
        """Constrained whole number (X.691 11.5.7, aligned variant)."""
        if value < lb or value > ub:
            raise AperError(f"{value} outside {lb}..{ub}")
        rng = ub - lb + 1
        value -= lb
        if rng <= 255:
            self.bits(value, (rng - 1).bit_length())
        elif rng == 256:
            self.align()
            self.bits(value, 8)
        elif rng <= 65536:
            self.align()
            self.bits(value, 16)
        else:  # indefinite-length case: octet count as a constrained number, then the octets aligned
            nbytes = max(1, (value.bit_length() + 7) >> 3)
            self.bits(nbytes - 1, (((rng - 1).bit_length() + 7 >> 3) - 1).bit_length())
            self.align()
            self.bits(value, 8 * nbytes)

    def unconstrained_int(self, value: int) -> None:
        """Unconstrained whole number: length octet(s) + two's complement (used for INTEGER extensions)."""
        nbytes = (value + (value < 0)).bit_length() // 8 + 1
        data = value.to_bytes(nbytes, "big", signed=True)
        self.length(nbytes)
        self.octets(data)

    def small(self, value: int) -> None:
        """Normally small non-negative whole number (X.691 11.6)."""
        if value < 64:
            self.bits(value, 7)
        else:
            self.bits(1, 1)
            nbytes = max(1, (value.bit_length() + 7) >> 3)
            self.length(nbytes)
            self.octets(value.to_bytes(nbytes, "big"))

    def length(self, n: int) -> None:
        """Unconstrained length determinant below 16K (aligned)."""
        self.align()
        if n < 128:
            self.bits(n, 8)
        elif n < _FRAGMENT:
            self.bits(0x8000 | n, 16)
        else:
            raise AperError(f"length {n} needs fragmentation")

    def octet_string(self, data: bytes) -> None:
        """Unconstrained OCTET STRING or open-type content: length determinant + octets, fragmented >= 16K."""
        n = len(data)
        if n < _FRAGMENT:
            self.length(n)
            self.octets(data)
            return
        pos = 0
        while n - pos >= _FRAGMENT:
            m = min(4, (n - pos) // _FRAGMENT)
            self.align()
            self.bits(0xC0 | m, 8)
            self.octets(data[pos : pos + m * _FRAGMENT])
            pos += m * _FRAGMENT
        self.length(n - pos)  # a final (possibly zero) length ends the fragments
        self.octets(data[pos:])

    def open_type(self, data: bytes) -> None:
        self.octet_string(data)

    def fixed_octets(self, data: bytes, size: int) -> None:
        """OCTET STRING (SIZE(size)): no length; aligned when longer than two octets."""
        if len(data) != size:
            raise AperError(f"needs exactly {size} octets, got {len(data)}")
        if size > 2:
            self.octets(data)
        else:
            for b in data:
                self.bits(b, 8)

    def bit_string(self, value: int, nbits: int, lb: int, ub: int, extensible: bool = False) -> None:
        """BIT STRING (SIZE(lb..ub[, ...])) holding ``nbits`` bits whose value is ``value`` (MSB first)."""
        if value < 0 or value.bit_length() > nbits:
            raise AperError(f"value does not fit in {nbits} bits")
        if extensible:
            if nbits < lb or nbits > ub:
                raise AperError(f"bit string size {nbits} outside {lb}..{ub} (extensions not supported)")
            self.bits(0, 1)
        if lb == ub:
            if nbits != lb:
                raise AperError(f"bit string needs exactly {lb} bits, got {nbits}")
            if nbits > 16:
                self.align()
            self.bits(value, nbits)
            return
        self.constrained(nbits, lb, ub)
        if nbits:
            self.align()
            self.bits(value, nbits)

    def printable(self, text: str, lb: int, ub: int) -> None:
        """PrintableString (SIZE(lb..ub, ...)) with 8-bit characters (aligned variant)."""
        n = len(text)
        if n < lb or n > ub:
            raise AperError(f"string length {n} outside {lb}..{ub} (extensions not supported)")
        if not _PRINTABLE.issuperset(text):
            raise AperError(f"not a PrintableString: {text!r}")
        self.bits(0, 1)
        self.constrained(n, lb, ub)
        self.octets(text.encode("ascii"))

    def to_bytes(self) -> bytes:
        """The complete encoding: padded to octets, and one zero octet when empty (X.691 11.1)."""
        self.align()
        return bytes(self._buf) if self._buf else b"\x00"


_PRINTABLE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


class AperReader:
    """Reads bits from ``data``; every read checks bounds and raises ``AperError``."""

    __slots__ = ("_data", "_end", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0
        self._end = len(data) * 8

    def bits(self, n: int) -> int:
        if not n:
            return 0
        pos = self._pos
        end = pos + n
        if end > self._end:
            raise AperError(f"truncated: needs {n} more bits at bit {pos} of {self._end}")
        start = pos >> 3
        stop = (end + 7) >> 3
        chunk = int.from_bytes(self._data[start:stop], "big")
        self._pos = end
        return (chunk >> ((stop << 3) - end)) & ((1 << n) - 1)

    def align(self) -> None:
        self._pos = (self._pos + 7) & ~7

    @property
    def octets_consumed(self) -> int:
        """Octets read so far, counting a partly read octet."""
        return (self._pos + 7) >> 3

    def octets(self, n: int) -> bytes:
        self._pos = (self._pos + 7) & ~7
        start = self._pos >> 3
        if start + n > len(self._data):
            raise AperError(f"truncated: needs {n} octets at octet {start} of {len(self._data)}")
        self._pos += n << 3
        return self._data[start : start + n]

    def constrained(self, lb: int, ub: int) -> int:
        rng = ub - lb + 1
        if rng <= 255:
            value = self.bits((rng - 1).bit_length())
        elif rng == 256:
            self.align()
            value = self.bits(8)
        elif rng <= 65536:
            self.align()
            value = self.bits(16)
        else:
            nbytes = self.bits((((rng - 1).bit_length() + 7 >> 3) - 1).bit_length()) + 1
            self.align()
            value = self.bits(8 * nbytes)
        if value >= rng:
            raise AperError(f"value {value + lb} outside {lb}..{ub}")
        return value + lb

    def unconstrained_int(self) -> int:
        n = self.length()
        if n == 0:
            raise AperError("zero-length integer")
        return int.from_bytes(self.octets(n), "big", signed=True)

    def small(self) -> int:
        if self.bits(1) == 0:
            return self.bits(6)
        n = self.length()
        return int.from_bytes(self.octets(n), "big")

    def length(self) -> int:
        """Unconstrained length determinant below 16K."""
        self.align()
        first = self.bits(8)
        if first < 0x80:
            return first
        if first < 0xC0:
            return ((first & 0x3F) << 8) | self.bits(8)
        raise AperError("fragmented length where a single length is expected")

    def octet_string(self) -> bytes:
        self.align()
        first = self.bits(8)
        if first < 0x80:
            return self.octets(first)
        if first < 0xC0:
            return self.octets(((first & 0x3F) << 8) | self.bits(8))
        parts: list[bytes] = []
        while True:  # fragments of m * 16K, ended by a length below 16K
            m = first & 0x3F
            if m < 1 or m > 4:
                raise AperError(f"invalid fragment multiplier {m}")
            parts.append(self.octets(m * _FRAGMENT))
            first = self.bits(8)
            if first < 0x80:
                parts.append(self.octets(first))
                break
            if first < 0xC0:
                parts.append(self.octets(((first & 0x3F) << 8) | self.bits(8)))
                break
        return b"".join(parts)

    def open_type(self) -> bytes:
        return self.octet_string()

    def fixed_octets(self, size: int) -> bytes:
        if size > 2:
            return self.octets(size)
        return self.bits(8 * size).to_bytes(size, "big")

    def bit_string(self, lb: int, ub: int, extensible: bool = False) -> tuple[int, int]:
        """Returns ``(value, nbits)``."""
        if extensible and self.bits(1):
            raise AperError("bit string size extension not supported")
        if lb == ub:
            if lb > 16:
                self.align()
            return self.bits(lb), lb
        nbits = self.constrained(lb, ub)
        if nbits:
            self.align()
        return self.bits(nbits), nbits

    def printable(self, lb: int, ub: int) -> str:
        if self.bits(1):
            raise AperError("string size extension not supported")
        n = self.constrained(lb, ub)
        text = self.octets(n).decode("latin-1")
        if not _PRINTABLE.issuperset(text):
            raise AperError(f"not a PrintableString: {text!r}")
        return text

    def skip_extensions(self) -> None:
        """After a SEQUENCE's extension bit was 1: read the additions bitmap and skip each present one."""
        count = self.small() + 1
        present = self.bits(count)
        for _ in range(present.bit_count()):
            self.open_type()
