"""ASN.1 aligned PER (X.691, ALIGNED variant) primitives: `AperWriter` and `AperReader`.

The one bit codec of the hand-written E2 codecs: E2AP (`ricproto.e2ap.ie_codec`) and the KPM report
hot path (`ricproto.e2sm.kpm_report_aper`). It offers what those need: constrained and unconstrained
whole numbers, normally small numbers, length determinants (with fragmentation for octet strings and
open types), octet/bit/PrintableString strings, REAL (X.690 content octets, as KPM measurement
records carry it) and skipping of unknown SEQUENCE extension additions. Values are written MSB first;
a complete encoding is padded to whole octets and is never empty.

Errors form one hierarchy: `AperError` (a ValueError) for anything that is not a valid encoding of the
value asked for, `AperTruncated` when the input ends too early, and `AperUnsupported` for valid ASN.1
that this module does not code (a size or alternative extension, a fragmented length where a single
one is expected); the KPM hot path raises it for whatever it leaves to the asn1tools reference codec.
"""

from __future__ import annotations

import re

FRAGMENT = 16384  # X.691 11.9.3.8: lengths >= 16K are sent in fragments of 16K, 32K, 48K or 64K
U32_MAX = 4294967295
# The writer flushes pending bits past this many: few flushes, yet a small int to shift.
_FLUSH_AT = 512
# The reader reads from an int holding this many octets of the input: one int of the whole input would
# make every read of a long message (per-UE reports) shift thousands of bits.
_WINDOW = 128

PRINTABLE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


class AperError(ValueError):
    """The bits do not form a valid encoding, or a value does not fit its constraint."""


class AperTruncated(AperError):
    """The input ended before the value did."""


class AperUnsupported(AperError):
    """Valid ASN.1 in a form this codec does not implement (callers with a fallback use the fallback)."""


# ---------------------------------------------------------------------------------------------
# REAL content octets (X.690 8.5), the form KPM measurement records carry inside PER.
#
# Encoding follows the choices of asn1tools (the reference codec the tests compare with), so both
# write the same bytes: zero (also -0.0) as no octets; +inf, -inf, NaN as the special octets 40, 41,
# 42; anything else in binary, base 2, scale factor 0, the mantissa odd (trailing zero bits moved into
# the exponent), the exponent in one two's-complement octet if it fits, else two; the mantissa in
# bit_length // 8 + 1 octets (so one with a multiple of 8 bits carries a leading zero octet).

_INF = float("inf")
# X.690 8.5.8: decimal REALs are ISO 6093 NR1, NR2 or NR3 (optional spaces, sign, "." or "," mark).
_ISO6093 = re.compile(rb" *[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")
# A binary REAL whose 2-exponent is below this is zero as a float (below the smallest subnormal
# 2**-1074 even for a mantissa of this many bits); checked first so a huge exponent never makes a huge int.
_FLOAT_MIN_EXP2 = -1100


def real_content_int(value: float) -> tuple[int, int]:
    """The X.690 content octets of REAL ``value`` as (big-endian int, octet count): no bytes object."""
    if type(value) is not float:
        value = float(value)
    if value == 0.0:
        return 0, 0
    try:
        mantissa, den = value.as_integer_ratio()  # exact, in lowest terms: den is a power of two
    except (OverflowError, ValueError):  # infinities, NaN
        return (0x42, 1) if value != value else (0x40, 1) if value > 0 else (0x41, 1)
    first = 0x80  # binary, base 2, scale factor 0, one exponent octet
    if mantissa < 0:
        first = 0xC0
        mantissa = -mantissa
    if den == 1:  # an integer: its trailing zero bits go into the exponent
        exponent = (mantissa & -mantissa).bit_length() - 1
        mantissa >>= exponent
    else:  # lowest terms with den = 2**k: the mantissa is odd already
        exponent = 1 - den.bit_length()
    nbytes = mantissa.bit_length() // 8 + 1
    if -128 <= exponent <= 127:
        return ((first << 8 | exponent & 0xFF) << 8 * nbytes) | mantissa, nbytes + 2
    return (((first | 1) << 16 | exponent & 0xFFFF) << 8 * nbytes) | mantissa, nbytes + 3


def real_content(value: float) -> bytes:
    """The X.690 content octets of REAL ``value``, as asn1tools writes them."""
    content, n = real_content_int(value)
    return content.to_bytes(n, "big")


def real_from_content(data: bytes) -> float:
    """The value of X.690 REAL content octets (binary in any base, scale and exponent form; special;
    ISO 6093 decimal); `AperError` when they are not a REAL or do not fit a float."""
    if not data:
        return 0.0
    first = data[0]
    if first & 0x80:  # binary: S x N x 2**F x B**E
        base_bits = (1, 3, 4, 0)[(first >> 4) & 3]  # log2 of the base 2, 8, 16; 11 is reserved
        if not base_bits:
            raise AperError("bad REAL encoding: reserved base")
        start, exp_len = 1, (first & 3) + 1
        if exp_len == 4:  # the exponent's octet count is in the next octet
            if len(data) < 2 or not data[1]:
                raise AperError("bad REAL encoding: exponent length")
            start, exp_len = 2, data[1]
        if len(data) <= start + exp_len:
            raise AperError("bad REAL encoding: exponent or mantissa missing")
        exponent = int.from_bytes(data[start : start + exp_len], "big", signed=True)
        mantissa = int.from_bytes(data[start + exp_len :], "big")
        shift = exponent * base_bits + ((first >> 2) & 3)
        if mantissa == 0 or shift + mantissa.bit_length() < _FLOAT_MIN_EXP2:
            value = 0.0
        elif shift >= 0:
            if shift + mantissa.bit_length() > 1025:
                raise AperError("bad REAL encoding: too large for a float")
            try:
                value = float(mantissa << shift)  # correctly rounded
            except OverflowError as exc:
                raise AperError("bad REAL encoding: too large for a float") from exc
        else:
            value = mantissa / (1 << -shift)  # int / int is correctly rounded
        return -value if first & 0x40 else value
    if first & 0x40:  # special values
        if len(data) == 1 and 0x40 <= first <= 0x43:
            return (_INF, -_INF, float("nan"), -0.0)[first - 0x40]
        raise AperError(f"bad REAL encoding: special value {data.hex()}")
    if first not in (1, 2, 3) or not _ISO6093.fullmatch(data, 1):
        raise AperError(f"bad REAL encoding: decimal form {data.hex()}")
    return float(data[1:].replace(b",", b".").strip())


def printable_octets(text: str) -> bytes:
    """The octets of a PrintableString value; `AperError` when ``text`` is not one."""
    if type(text) is not str or not PRINTABLE.issuperset(text):
        raise AperError(f"not a PrintableString: {text!r}")
    return text.encode("ascii")


class AperWriter:
    """Accumulates bits; pending bits live in an int that is flushed in whole octets."""

    __slots__ = ("_acc", "_buf", "_nbits")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._acc = 0
        self._nbits = 0

    def bits(self, value: int, n: int) -> None:
        """Append ``value`` as an ``n``-bit unsigned field (no alignment)."""
        self._acc = (self._acc << n) | value
        self._nbits += n
        if self._nbits > _FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        rem = self._nbits & 7
        self._buf += (self._acc >> rem).to_bytes(self._nbits >> 3, "big")
        self._acc &= (1 << rem) - 1
        self._nbits = rem

    @property
    def bit_offset(self) -> int:
        """Bits written past the last octet boundary (0..7)."""
        return self._nbits & 7

    def align(self) -> None:
        pad = -self._nbits & 7
        if pad:
            self._acc <<= pad
            self._nbits += pad

    def octets(self, data: bytes) -> None:
        """Append octets at the next octet boundary."""
        nbits = self._nbits
        if nbits:
            pad = -nbits & 7
            self._buf += (self._acc << pad).to_bytes((nbits + pad) >> 3, "big")
            self._acc = 0
            self._nbits = 0
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
            nbytes = (value.bit_length() + 7) >> 3 or 1
            self.bits(nbytes - 1, (((rng - 1).bit_length() + 7 >> 3) - 1).bit_length())
            self.align()
            self.bits(value, 8 * nbytes)

    def u32(self, value: int, head: int = 0, head_bits: int = 0) -> None:
        """INTEGER (0..4294967295) after ``head_bits`` bits of ``head`` (e.g. a CHOICE index), in one step."""
        if value < 0 or value > U32_MAX:
            raise AperError(f"{value} outside 0..{U32_MAX}")
        n = (value.bit_length() + 7) >> 3 or 1
        nbits = self._nbits + head_bits + 2
        pad = -nbits & 7
        self._acc = ((((self._acc << head_bits) | head) << 2 | (n - 1)) << (pad + 8 * n)) | value
        self._nbits = nbits + pad + 8 * n
        if self._nbits > _FLUSH_AT:
            self._flush()

    def unconstrained_int(self, value: int) -> None:
        """Unconstrained whole number: length octet(s) + two's complement (used for INTEGER extensions)."""
        nbytes = (value + (value < 0)).bit_length() // 8 + 1
        self.length(nbytes)
        self.octets(value.to_bytes(nbytes, "big", signed=True))

    def small(self, value: int) -> None:
        """Normally small non-negative whole number (X.691 11.6), e.g. an extension CHOICE index."""
        if value < 64:
            self.bits(value, 7)
        else:
            self.bits(1, 1)
            nbytes = (value.bit_length() + 7) >> 3
            self.length(nbytes)
            self.octets(value.to_bytes(nbytes, "big"))

    def length(self, n: int) -> None:
        """Unconstrained length determinant below 16K (aligned)."""
        self.align()
        if n < 128:
            self.bits(n, 8)
        elif n < FRAGMENT:
            self.bits(0x8000 | n, 16)
        else:
            raise AperUnsupported(f"length {n} needs fragmentation")

    def octet_string(self, data: bytes) -> None:
        """Unconstrained OCTET STRING or open-type content: length determinant + octets, fragmented >= 16K."""
        n = len(data)
        if n < FRAGMENT:
            self.length(n)
            self.octets(data)
            return
        pos = 0
        while n - pos >= FRAGMENT:
            m = min(4, (n - pos) // FRAGMENT)
            self.align()
            self.bits(0xC0 | m, 8)
            self.octets(data[pos : pos + m * FRAGMENT])
            pos += m * FRAGMENT
        self.length(n - pos)  # a final (possibly zero) length ends the fragments
        self.octets(data[pos:])

    open_type = octet_string

    def fixed_octets(self, data: bytes, size: int) -> None:
        """OCTET STRING (SIZE(size)): no length; aligned when longer than two octets."""
        if len(data) != size:
            raise AperError(f"needs exactly {size} octets, got {len(data)}")
        if size > 2:
            self.octets(data)
        else:
            self.bits(int.from_bytes(data, "big"), 8 * size)

    def bit_string(self, value: int, nbits: int, lb: int, ub: int, extensible: bool = False) -> None:
        """BIT STRING (SIZE(lb..ub[, ...])) holding ``nbits`` bits whose value is ``value`` (MSB first)."""
        if value < 0 or value.bit_length() > nbits:
            raise AperError(f"value does not fit in {nbits} bits")
        if extensible:
            if nbits < lb or nbits > ub:
                raise AperUnsupported(f"bit string size {nbits} outside {lb}..{ub} (size extension)")
            self.bits(0, 1)
        if lb == ub:
            if nbits != lb:
                raise AperError(f"bit string needs exactly {lb} bits, got {nbits}")
            if nbits > 16:
                self.align()
            self.bits(value, nbits)
            return
        self.constrained(nbits, lb, ub)
        self.align()  # a length, then an octet-aligned bit-field, even an empty one (X.691 16.11)
        if nbits:
            self.bits(value, nbits)

    def printable(self, text: str, lb: int, ub: int) -> None:
        """PrintableString (SIZE(lb..ub, ...)) within its root size, 8-bit characters (aligned variant).

        X.691 30.5.7: a variable-size string is a length and then an octet-aligned bit-field, so the
        writer aligns after the length even when the string is empty (as asn1c and pycrate do).
        """
        data = printable_octets(text)
        n = len(data)
        if n < lb or n > ub:
            raise AperUnsupported(f"string length {n} outside {lb}..{ub} (size extension)")
        self.bits(0, 1)
        self.constrained(n, lb, ub)
        if lb == ub and ub <= 2:  # a fixed size of at most 16 bits stays unaligned (X.691 30.5.6)
            self.bits(int.from_bytes(data, "big"), 8 * n)
        else:
            self.octets(data)  # aligns first

    def real(self, value: float, head: int = 0, head_bits: int = 0) -> None:
        """REAL after ``head_bits`` bits of ``head`` (e.g. a CHOICE index): a length octet and the X.690
        content octets (`real_content`), aligned, in one step (a float needs at most 10 content octets)."""
        content, n = real_content_int(value)
        nbits = self._nbits + head_bits
        pad = -nbits & 7
        self._acc = (((((self._acc << head_bits) | head) << (pad + 8)) | n) << (8 * n)) | content
        self._nbits = nbits + pad + 8 + 8 * n
        if self._nbits > _FLUSH_AT:
            self._flush()

    def octets_and_tail(self) -> tuple[bytes, int, int]:
        """What was written so far as (whole octets, value of the bits after them, their count): replayed
        with ``octets`` then ``bits`` from an octet boundary it reproduces the same bits."""
        self._flush()
        return bytes(self._buf), self._acc, self._nbits

    def to_bytes(self) -> bytes:
        """The complete encoding: padded to octets, and one zero octet when empty (X.691 11.1)."""
        self.octets(b"")
        return bytes(self._buf) if self._buf else b"\x00"


class AperReader:
    """Reads bits MSB first from ``data``; every read checks bounds."""

    __slots__ = ("_data", "_end", "_pos", "_win", "_win_end")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._end = len(data) * 8
        self._pos = 0
        self._win = 0
        self._win_end = 0  # bit offset just past the window

    def bits(self, n: int) -> int:
        pos = self._pos
        end = pos + n
        if end > self._win_end:
            if end > self._end:
                raise AperTruncated(f"truncated: needs {n} more bits at bit {pos} of {self._end}")
            first = pos >> 3
            last = min(len(self._data), max(first + _WINDOW, (end + 7) >> 3))
            self._win = int.from_bytes(self._data[first:last], "big")
            self._win_end = last << 3
        self._pos = end
        return (self._win >> (self._win_end - end)) & ((1 << n) - 1)

    def align(self) -> None:
        self._pos = (self._pos + 7) & ~7

    def rewind(self, n: int) -> None:
        """Step back ``n`` bits (after reading ahead to test a common case at once)."""
        self._pos -= n

    @property
    def octets_consumed(self) -> int:
        """Octets read so far, counting a partly read octet."""
        return (self._pos + 7) >> 3

    def octets(self, n: int) -> bytes:
        """``n`` octets from the next octet boundary."""
        pos = (self._pos + 7) & ~7
        start = pos >> 3
        if start + n > len(self._data):
            raise AperTruncated(f"truncated: needs {n} octets at octet {start} of {len(self._data)}")
        self._pos = pos + (n << 3)
        return self._data[start : start + n]

    def constrained(self, lb: int, ub: int) -> int:
        rng = ub - lb + 1
        if rng <= 255:
            value = self.bits((rng - 1).bit_length())
        elif rng == 256:
            self._pos = (self._pos + 7) & ~7
            value = self.bits(8)
        elif rng <= 65536:
            self._pos = (self._pos + 7) & ~7
            value = self.bits(16)
        else:
            nbytes = self.bits((((rng - 1).bit_length() + 7 >> 3) - 1).bit_length()) + 1
            self._pos = (self._pos + 7) & ~7
            value = self.bits(8 * nbytes)
        if value >= rng:
            raise AperError(f"value {value + lb} outside {lb}..{ub}")
        return value + lb

    def u32(self) -> int:
        """INTEGER (0..4294967295): 2-bit octet count, alignment, octets."""
        n = self.bits(2) + 1
        self._pos = (self._pos + 7) & ~7
        return self.bits(8 * n)

    def unconstrained_int(self) -> int:
        n = self.length()
        if n == 0:
            raise AperError("zero-length integer")
        return int.from_bytes(self.octets(n), "big", signed=True)

    def small(self) -> int:
        if self.bits(1) == 0:
            return self.bits(6)
        return int.from_bytes(self.octets(self.length()), "big")

    def length(self) -> int:
        """Unconstrained length determinant below 16K."""
        self._pos = (self._pos + 7) & ~7
        first = self.bits(8)
        if first < 0x80:
            return first
        if first < 0xC0:
            return ((first & 0x3F) << 8) | self.bits(8)
        raise AperUnsupported("fragmented length where a single length is expected")

    def octet_string(self) -> bytes:
        self._pos = (self._pos + 7) & ~7
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
            parts.append(self.octets(m * FRAGMENT))
            first = self.bits(8)
            if first < 0x80:
                parts.append(self.octets(first))
                break
            if first < 0xC0:
                parts.append(self.octets(((first & 0x3F) << 8) | self.bits(8)))
                break
        return b"".join(parts)

    open_type = octet_string

    def fixed_octets(self, size: int) -> bytes:
        if size > 2:
            return self.octets(size)
        return self.bits(8 * size).to_bytes(size, "big")

    def bit_string(self, lb: int, ub: int, extensible: bool = False) -> tuple[int, int]:
        """Returns ``(value, nbits)``."""
        if extensible and self.bits(1):
            raise AperUnsupported("bit string size extension")
        if lb == ub:
            if lb > 16:
                self.align()
            return self.bits(lb), lb
        nbits = self.constrained(lb, ub)
        self.align()
        return self.bits(nbits), nbits

    def printable(self, lb: int, ub: int) -> str:
        """PrintableString (SIZE(lb..ub, ...)) within its root size."""
        if self.bits(1):
            raise AperUnsupported("string size extension")
        n = self.constrained(lb, ub)
        if lb == ub and ub <= 2:
            raw = self.bits(8 * n).to_bytes(n, "big")
        else:
            raw = self.octets(n)  # aligned, also after a length of 0 (X.691 30.5.7)
        text = raw.decode("latin-1")
        if not PRINTABLE.issuperset(text):
            raise AperError(f"not a PrintableString: {text!r}")
        return text

    def real(self) -> float:
        """REAL (length determinant and X.690 content octets, `real_from_content`)."""
        return real_from_content(self.octet_string())

    def skip_extensions(self) -> None:
        """After a SEQUENCE's extension bit was 1: read the additions bitmap and skip each present one."""
        count = self.small() + 1
        present = self.bits(count)
        for _ in range(present.bit_count()):
            self.octet_string()
