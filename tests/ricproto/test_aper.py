"""`ricproto.aper` against asn1tools, on small ASN.1 types written for this test (no standard text)."""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

import asn1tools
import pytest
from asn1tools.codecs.ber import decode_real as reference_decode_real
from asn1tools.codecs.ber import encode_real as reference_encode_real
from hypothesis import given, settings
from hypothesis import strategies as st

from ricproto.aper import (
    AperError,
    AperReader,
    AperTruncated,
    AperUnsupported,
    AperWriter,
    real_content,
    real_from_content,
)

PRIMITIVES = """
    Primitives DEFINITIONS AUTOMATIC TAGS ::= BEGIN
    Small ::= INTEGER (3..7)
    Octet ::= INTEGER (0..255)
    Twelve ::= INTEGER (0..4095)
    Wide ::= INTEGER (0..68719476735)
    Ext ::= INTEGER (0..255, ...)
    Octets ::= OCTET STRING
    Plmn ::= OCTET STRING (SIZE(3))
    GnbId ::= BIT STRING (SIZE(22..32))
    Fixed20 ::= BIT STRING (SIZE(20))
    Port ::= BIT STRING (SIZE(16))
    Address ::= BIT STRING (SIZE(1..160, ...))
    Oid ::= PrintableString (SIZE(1..1000, ...))
    Name ::= PrintableString (SIZE(1..150, ...))
    Pair ::= SEQUENCE { flag BOOLEAN, name Name, n Small }
    Short ::= PrintableString (SIZE(0..15, ...))
    Strings ::= SEQUENCE { flag BOOLEAN, a Short, b Short }
    Record ::= CHOICE { integer INTEGER (0..4294967295), real REAL, none NULL, ... }
    Records ::= SEQUENCE (SIZE(1..65535)) OF Record
    Index ::= CHOICE { a NULL, b NULL, ..., c NULL, d INTEGER (0..255) }
    VarBits ::= SEQUENCE { flag BOOLEAN, bits BIT STRING (SIZE(0..20)), n Small }
    END
    """
SPEC = asn1tools.compile_string(PRIMITIVES, "per")
PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"


def _ours(put: Callable[[AperWriter], None]) -> bytes:
    w = AperWriter()
    put(w)
    return w.to_bytes()


def _left_aligned(value: int, nbits: int) -> tuple[bytes, int]:
    nbytes = (nbits + 7) // 8
    return (value << (8 * nbytes - nbits)).to_bytes(nbytes, "big"), nbits


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 7), st.integers(0, 255), st.integers(0, 4095), st.integers(0, 2**36 - 1))
def test_constrained_whole_numbers(small: int, octet: int, twelve: int, wide: int) -> None:
    for name, value, lb, ub in (
        ("Small", small, 3, 7),
        ("Octet", octet, 0, 255),
        ("Twelve", twelve, 0, 4095),
        ("Wide", wide, 0, 2**36 - 1),
    ):
        encoded = _ours(lambda w, v=value, lb=lb, ub=ub: w.constrained(v, lb, ub))
        assert encoded == SPEC.encode(name, value)
        assert AperReader(encoded).constrained(lb, ub) == value


def test_extensible_integer_outside_root_decodes() -> None:
    encoded = SPEC.encode("Ext", 1000)
    r = AperReader(encoded)
    assert r.bits(1) == 1
    assert r.unconstrained_int() == 1000
    w = AperWriter()
    w.bits(1, 1)
    w.unconstrained_int(1000)
    assert w.to_bytes() == encoded


@pytest.mark.parametrize("size", [0, 1, 127, 128, 16383, 16384, 16385, 32768, 65536, 65537, 70000, 150000])
def test_octet_string_lengths_and_fragments(size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    encoded = _ours(lambda w: w.octet_string(data))
    assert encoded == SPEC.encode("Octets", data)
    assert AperReader(encoded).octet_string() == data


@settings(max_examples=60, deadline=None)
@given(
    st.integers(22, 32).flatmap(lambda n: st.tuples(st.integers(0, 2**n - 1), st.just(n))),
    st.integers(1, 160).flatmap(lambda n: st.tuples(st.integers(0, 2**n - 1), st.just(n))),
    st.integers(0, 2**20 - 1),
    st.integers(0, 65535),
)
def test_bit_strings(gnb: tuple[int, int], address: tuple[int, int], fixed: int, port: int) -> None:
    cases = (
        ("GnbId", gnb, 22, 32, False),
        ("Address", address, 1, 160, True),
        ("Fixed20", (fixed, 20), 20, 20, False),
        ("Port", (port, 16), 16, 16, False),
    )
    for name, (value, nbits), lb, ub, ext in cases:
        encoded = _ours(lambda w, v=value, n=nbits, lb=lb, ub=ub, ext=ext: w.bit_string(v, n, lb, ub, ext))
        assert encoded == SPEC.encode(name, _left_aligned(value, nbits))
        assert AperReader(encoded).bit_string(lb, ub, ext) == (value, nbits)


@settings(max_examples=60, deadline=None)
@given(
    st.text(PRINTABLE, min_size=1, max_size=1000),
    st.text(PRINTABLE, min_size=1, max_size=150),
    st.booleans(),
    st.integers(3, 7),
)
def test_printable_strings_in_a_sequence(oid: str, name: str, flag: bool, n: int) -> None:
    assert _ours(lambda w: w.printable(oid, 1, 1000)) == SPEC.encode("Oid", oid)

    def pair(w: AperWriter) -> None:  # unaligned fields before the string check the alignment rules
        w.bits(flag, 1)
        w.printable(name, 1, 150)
        w.constrained(n, 3, 7)

    encoded = _ours(pair)
    assert encoded == SPEC.encode("Pair", {"flag": flag, "name": name, "n": n})
    r = AperReader(encoded)
    assert (r.bits(1), r.printable(1, 150), r.constrained(3, 7)) == (flag, name, n)


def test_fixed_octets() -> None:
    assert _ours(lambda w: w.fixed_octets(b"\x00\xf1\x10", 3)) == SPEC.encode("Plmn", b"\x00\xf1\x10")


def test_reader_refuses_truncated_and_out_of_range() -> None:
    with pytest.raises(AperTruncated, match="truncated"):
        AperReader(b"\x05ab").octet_string()
    with pytest.raises(AperError, match="outside"):
        AperReader(b"\xf0").constrained(3, 7)  # 3 bits = 7 -> value 10
    with pytest.raises(AperError, match="not a PrintableString"):
        AperReader(b"\x00\x00\x00!").printable(1, 1000)  # length 1, "!"
    with pytest.raises(AperError):
        AperWriter().constrained(8, 3, 7)


def test_empty_encoding_is_one_zero_octet() -> None:
    assert AperWriter().to_bytes() == b"\x00"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(0, 2**32 - 1), st.floats(allow_nan=False), st.none()), min_size=1, max_size=40
    )
)
def test_u32_and_real_records(values: list[int | float | None]) -> None:
    """KPM's MeasurementRecordItem shape: the CHOICE index fused into `u32`, REAL as an open type."""

    def put(w: AperWriter) -> None:
        w.constrained(len(values), 1, 65535)
        for v in values:
            if isinstance(v, int):
                w.u32(v, 0, 3)  # extension bit + 2-bit index 0
            elif isinstance(v, float):
                w.bits(1, 3)
                w.real(v)
            else:
                w.bits(2, 3)

    reference = [
        ("integer", v) if isinstance(v, int) else ("real", v) if isinstance(v, float) else ("none", None)
        for v in values
    ]
    encoded = _ours(put)
    assert encoded == SPEC.encode("Records", reference)
    r = AperReader(encoded)
    got: list[int | float | None] = []
    for _ in range(r.constrained(1, 65535)):
        index = r.bits(3)
        got.append(r.u32() if index == 0 else r.real() if index == 1 else None)
    assert got == values


@pytest.fixture(scope="module")
def pycrate_primitives(pycrate_compile: Callable[[list[str]], dict]) -> object:
    return pycrate_compile([PRIMITIVES])["Primitives"]


@settings(max_examples=60, deadline=None)
@given(st.booleans(), st.text(PRINTABLE, max_size=15), st.text(PRINTABLE, max_size=15))
def test_strings_align_after_their_length_even_when_empty(
    pycrate_primitives, flag: bool, a: str, b: str
) -> None:
    # X.691 30.5.7: length, then an octet-aligned bit-field; pycrate and asn1c align an empty one too.
    def put(w: AperWriter) -> None:
        w.bits(flag, 1)
        w.printable(a, 0, 15)
        w.printable(b, 0, 15)

    encoded = _ours(put)
    strings = pycrate_primitives.Strings
    strings.set_val({"flag": flag, "a": a, "b": b})
    assert encoded == strings.to_aper()
    r = AperReader(encoded)
    assert (r.bits(1), r.printable(0, 15), r.printable(0, 15)) == (flag, a, b)
    strings.from_aper(encoded)
    assert strings.get_val() == {"flag": flag, "a": a, "b": b}


def test_asn1tools_as_shipped_does_not_align_an_empty_string(pycrate_primitives) -> None:
    # The defect asn1spec corrects in our compiled specs: plain asn1tools drops the alignment octet.
    value = {"flag": True, "a": "", "b": "x"}
    pycrate_primitives.Strings.set_val(value)
    assert pycrate_primitives.Strings.to_aper() == bytes.fromhex("800878")
    assert SPEC.encode("Strings", value) == bytes.fromhex("802078")


@settings(max_examples=40, deadline=None)
@given(
    st.booleans(),
    st.integers(0, 20).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, 2**n - 1))),
    st.integers(3, 7),
)
def test_variable_bit_strings_align_even_when_empty(
    pycrate_primitives, flag: bool, bits: tuple[int, int], n: int
) -> None:
    nbits, value = bits

    def put(w: AperWriter) -> None:
        w.bits(flag, 1)
        w.bit_string(value, nbits, 0, 20)
        w.constrained(n, 3, 7)

    encoded = _ours(put)
    var = pycrate_primitives.VarBits
    var.set_val({"flag": flag, "bits": (value, nbits), "n": n})
    assert encoded == var.to_aper()
    r = AperReader(encoded)
    assert (r.bits(1), r.bit_string(0, 20), r.constrained(3, 7)) == (flag, (value, nbits), n)


@pytest.mark.parametrize("value", [("a", None), ("b", None), ("c", None), ("d", 200)])
def test_small_numbers_index_extension_alternatives(value: tuple[str, int | None]) -> None:
    encoded = SPEC.encode("Index", value)
    r = AperReader(encoded)
    if r.bits(1):
        index = 2 + r.small()
        inner = AperReader(r.open_type())
        assert ("c", "d")[index - 2] == value[0]
        if value[1] is not None:
            assert inner.constrained(0, 255) == value[1]
    else:
        assert ("a", "b")[r.bits(1)] == value[0]
    w = AperWriter()
    w.small(1000)
    r = AperReader(w.to_bytes())
    assert r.small() == 1000


def test_rewind_and_octets_consumed() -> None:
    r = AperReader(b"\xa5\x0f")
    assert r.bits(3) == 0b101
    r.rewind(2)
    assert r.bits(4) == 0b0100
    assert r.octets_consumed == 1
    assert r.octets(1) == b"\x0f"
    assert r.octets_consumed == 2


def test_error_hierarchy() -> None:
    assert issubclass(AperTruncated, AperError) and issubclass(AperUnsupported, AperError)
    assert issubclass(AperError, ValueError)
    with pytest.raises(AperTruncated):
        AperReader(b"\x01").bits(9)
    with pytest.raises(AperTruncated):
        AperReader(b"\x81").length()  # a two-octet length determinant cut after its first octet
    with pytest.raises(AperUnsupported):
        AperReader(b"\xc1").length()  # fragmented where a single length is expected
    with pytest.raises(AperUnsupported):
        AperWriter().length(16384)
    with pytest.raises(AperUnsupported):
        AperReader(b"\x80").printable(1, 150)  # size extension bit set
    with pytest.raises(AperUnsupported):
        AperWriter().printable("x" * 16, 0, 15)
    with pytest.raises(AperError, match="not a PrintableString"):
        AperWriter().printable("caf\u00e9", 1, 150)
    for bad in (b"\x01\x80", b"\x01\x44", b"\x02\x01x"):  # exponent missing, unknown form, not a number
        with pytest.raises(AperError, match="bad REAL"):
            AperReader(bad).real()


def _same_float(a: float, b: float) -> bool:
    """Equal, including the sign of zero, with NaN equal to NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


REAL_EDGES = [
    0.0,
    -0.0,
    math.inf,
    -math.inf,
    math.nan,
    1.0,
    -1.0,
    0.5,
    3.0,
    255.0,
    256.0,
    65535.0,
    2.0**53,
    2.0**53 + 2,
    0.1,
    -0.1,
    1e300,
    -1e-300,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    2.225073858507201e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    2.0**127,
    2.0**128,
    2.0**-128,
    2.0**-129,
    2.0**-1074,
    float(2**64 - 2**11),
    123456789.0,
    -42.0,
]


def _real_cases(value: float) -> tuple[bytes, bytes, float, float]:
    """(our content octets, asn1tools' octets, our decode, asn1tools' decode of our octets)."""
    ours = real_content(value)
    return (
        ours,
        bytes(reference_encode_real(value)),
        real_from_content(ours),
        reference_decode_real(bytearray(ours)),
    )


@pytest.mark.parametrize("value", REAL_EDGES)
def test_real_content_edges_match_asn1tools(value: float) -> None:
    ours, theirs, decoded, their_decoded = _real_cases(value)
    assert ours == theirs
    assert _same_float(decoded, their_decoded)
    assert _same_float(decoded, 0.0 if value == 0.0 else value)  # asn1tools writes -0.0 as plain zero


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.floats(),  # includes NaN, infinities, subnormals and both zeros
        st.floats(width=32),
        st.integers(-(2**63), 2**63).map(float),
        st.integers(0, 2**64 - 1).map(lambda bits: struct.unpack("<d", bits.to_bytes(8, "little"))[0]),
    )
)
def test_real_content_matches_asn1tools(value: float) -> None:
    ours, theirs, decoded, their_decoded = _real_cases(value)
    assert ours == theirs
    assert _same_float(decoded, their_decoded)
    assert _same_float(decoded, 0.0 if value == 0.0 else value)  # asn1tools writes -0.0 as plain zero


@pytest.mark.parametrize(
    ("content", "value"),
    [
        (b"\xa0\x01\x01", 16.0),  # base 16
        (b"\x90\x02\x01", 64.0),  # base 8
        (b"\x84\x00\x03", 6.0),  # scale factor 1
        (b"\x82\x00\x00\x01\x05", 10.0),  # three exponent octets
        (b"\x83\x01\xff\x01", 0.5),  # exponent length in its own octet
        (b"\xc0\x00\x00\x07", -7.0),  # mantissa with a leading zero octet
        (b"\x80\x00\x00", 0.0),
        (b"\x83\x08\xf0\x00\x00\x00\x00\x00\x00\x00\x01", 0.0),  # far below the smallest float
        (b"\x43", -0.0),
        (b"\x01 42", 42.0),  # ISO 6093 NR1
        (b"\x02-3,25", -3.25),  # NR2 with a decimal comma
        (b"\x03+1.5E2", 150.0),  # NR3
    ],
)
def test_real_from_other_x690_forms(content: bytes, value: float) -> None:
    assert _same_float(real_from_content(content), value)


@pytest.mark.parametrize(
    "content",
    [
        b"\x80\x01",  # mantissa missing
        b"\xb0\x00\x01",  # reserved base
        b"\x83\x00\x01",  # zero-length exponent
        b"\x81\x04\x00\x01",  # 2**1024: too large for a float
        b"\x44",  # unknown special value
        b"\x40\x00",  # special value with trailing octets
        b"\x01inf",  # not ISO 6093
        b"\x04 1",  # unknown decimal form
    ],
)
def test_real_from_content_rejects(content: bytes) -> None:
    with pytest.raises(AperError, match="bad REAL"):
        real_from_content(content)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(min_size=1, max_size=24),
    st.sampled_from(
        [
            (0, 0),
            (3, 7),
            (0, 255),
            (1, 256),
            (0, 4095),
            (0, 65535),
            (1, 65536),
            (0, 4294967295),
            (0, 68719476735),
            (-5, 300),
        ]
    ),
)
def test_the_reader_never_returns_a_value_outside_its_range(data: bytes, bounds: tuple[int, int]) -> None:
    lb, ub = bounds
    reads = (
        (lambda r: r.constrained(lb, ub), lb, ub),
        (lambda r: r.bit_string(2, 20)[1], 2, 20),  # the number of bits
        (lambda r: len(r.printable(1, 15)), 1, 15),  # the number of characters
    )
    for read, low, high in reads:
        try:
            value = read(AperReader(data))
        except AperError:
            continue  # refused: fine; a value is only ever returned within its range
        assert low <= value <= high
