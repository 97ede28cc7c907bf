"""The project's own E2SM ASN.1 (files in `asn/`), compiled once per process with asn1tools (APER).

`encode`/`decode` wrap asn1tools so that every failure (bad value, bad bytes, or anything asn1tools
raises on garbage) comes out as one `E2CodecError` naming the message and the failing field, and
`decode` refuses octets left over after the value (naming their offset).

Two corrections are applied to every compiled spec (`apply_x691_strings`):

* asn1tools does not octet-align an empty variable-size character string after its length, which
  X.691 30.5.7 requires and asn1c and pycrate do: our strings align, so an empty ``fileFormatversion``
  before another header string reads the same in every stack;
* measurement names (``MeasurementTypeName`` / ``measName``) with ``_`` decode, as several open-source
  E2 nodes send them, while encoding stays strict PrintableString.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

import asn1tools
from asn1tools.codecs import ErrorWithLocation
from asn1tools.codecs import constraints_checker as asn1tools_constraints
from asn1tools.codecs import per as asn1tools_per

from ricproto.e2error import E2CodecError

ASN_DIR = Path(__file__).with_name("asn")
COMMON_FILE = ASN_DIR / "e2sm_common.asn"
KPM_FILE = ASN_DIR / "e2sm_kpm_v3.asn"
KPM_V2_FILE = ASN_DIR / "e2sm_kpm_v2.asn"
RC_FILE = ASN_DIR / "e2sm_rc.asn"


CACHE_ENV = "TWINRIC_CACHE_DIR"


def cache_dir() -> Path:
    """Where compiled specs are kept: $TWINRIC_CACHE_DIR, else $XDG_CACHE_HOME/twinric or ~/.cache/twinric."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "twinric"


def _compile(files: list[Path]) -> Any:
    """Compile for aligned PER, reusing a pickled compile keyed by the sources and asn1tools version.

    Compiling takes 0.2-0.4 s per spec; loading the pickle takes a few ms. Any cache problem
    (unwritable directory, stale or corrupt file) just means compiling again.
    """
    digest = hashlib.sha256(asn1tools.__version__.encode())
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    path = cache_dir() / f"e2sm-{digest.hexdigest()[:24]}.pickle"
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except Exception:  # missing or unreadable cache: compile
        pass
    spec = asn1tools.compile_files([str(f) for f in files], "per")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(spec, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: concurrent processes never see half a file
    except Exception:  # a read-only home is fine: we just compile next time too
        pass
    return spec


@functools.cache
def kpm_spec(version: int = 3) -> Any:
    """E2SM common IEs + E2SM-KPM v3 (or v2), compiled for aligned PER (once per process)."""
    return apply_x691_strings(_compile([COMMON_FILE, KPM_V2_FILE if version == 2 else KPM_FILE]))


@functools.cache
def rc_spec() -> Any:
    """E2SM common IEs + E2SM-RC subset, compiled for aligned PER (once per process)."""
    return apply_x691_strings(_compile([COMMON_FILE, RC_FILE]))


# ---------------------------------------------------------------------------------------------
# Character strings as X.691 has them

LIBERAL_NAMES = frozenset({"MeasurementTypeName", "measName"})
LIBERAL_CHARACTERS = frozenset(b"_")  # accepted on decode only, where LIBERAL_NAMES says


class _AlignedStringCoding:
    """Variable-size, bounded known-multiplier strings of 8-bit characters: the length, then the
    characters octet-aligned (also when there are none), as X.691 30.5.7 says."""

    liberal: frozenset[int] = frozenset()

    def encode(self, data: str, encoder: Any) -> None:
        t: Any = self
        if t.has_extension_marker and not t.minimum <= len(data) <= t.maximum:
            super().encode(data, encoder)  # type: ignore[misc]  # the size extension asn1tools refuses
            return
        if t.has_extension_marker:
            encoder.append_bit(0)
        encoder.append_constrained_whole_number(len(data), t.minimum, t.maximum, t.number_of_bits)
        encoder.align()
        for character in data:
            encoder.append_non_negative_binary_integer(t.permitted_alphabet.encode(ord(character)), 8)

    def decode(self, decoder: Any) -> str:
        t: Any = self
        if t.has_extension_marker and decoder.read_bit():
            raise NotImplementedError("String size extension is not yet implemented.")
        length = decoder.read_constrained_whole_number(t.minimum, t.maximum, t.number_of_bits)
        decoder.align()
        codes = []
        for _ in range(length):
            code = decoder.read_non_negative_binary_integer(8)
            codes.append(code if code in self.liberal else t.permitted_alphabet.decode(code))
        return bytes(codes).decode("latin-1")


_ALIGNED_CLASSES: dict[tuple[type, bool], type] = {}


def _aligned_class(cls: type, liberal: bool) -> type:
    key = (cls, liberal)
    if key not in _ALIGNED_CLASSES:
        attrs = {"liberal": LIBERAL_CHARACTERS if liberal else frozenset(), "__module__": __name__}
        _ALIGNED_CLASSES[key] = type(f"Aligned{cls.__name__}", (_AlignedStringCoding, cls), attrs)
    return _ALIGNED_CLASSES[key]


def apply_x691_strings(spec: Any) -> Any:
    """Give every variable-size bounded 8-bit character string of ``spec`` the X.691 alignment (and
    measurement names the liberal decoding); returns ``spec``."""
    seen: set[int] = set()
    stack: list[Any] = [compiled.type for compiled in spec.types.values()]
    stack += [compiled.constraints_checker.type for compiled in spec.types.values()]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, list | tuple):
            stack.extend(node)
            continue
        if isinstance(node, dict):
            stack.extend(node.values())
            continue
        if isinstance(node, asn1tools_constraints.Type):
            # decoded values are checked against the alphabet too: measurement names may hold "_"
            if (isinstance(node, asn1tools_constraints.String) and node.name in LIBERAL_NAMES
                    and node.permitted_alphabet is not None and "_" not in node.permitted_alphabet):
                node.permitted_alphabet = node.permitted_alphabet + "".join(map(chr, LIBERAL_CHARACTERS))
            stack.extend(vars(node).values())
            continue
        if not isinstance(node, asn1tools_per.Type):
            continue
        if (isinstance(node, asn1tools_per.KnownMultiplierStringType) and node.number_of_bits is not None
                and node.minimum != node.maximum and node.bits_per_character == 8):
            base = type(node).__mro__[1] if isinstance(node, _AlignedStringCoding) else type(node)
            node.__class__ = _aligned_class(base, node.name in LIBERAL_NAMES)
        stack.extend(vars(node).values())
    return spec


def _split(type_name: str, exc: BaseException) -> tuple[str, str | None]:
    """asn1tools formats errors as "Type.field.sub: reason"; split that into (reason, field path)."""
    text = (str(exc) or type(exc).__name__).splitlines()[0][:300]
    head, sep, rest = text.partition(": ")
    if sep and head.split(".", 1)[0] == type_name:
        return rest, (head.split(".", 1)[1] if "." in head else None)
    return text, None


def encode(spec: Any, type_name: str, value: Any) -> bytes:
    try:
        return spec.encode(type_name, value, check_types=True, check_constraints=True)
    except E2CodecError:
        raise
    except Exception as exc:  # asn1tools raises EncodeError, ConstraintsError, but also TypeError etc.
        reason, field = _split(type_name, exc)
        raise E2CodecError(type_name, f"cannot encode: {reason}", field) from exc


def require_bytes(type_name: str, data: Any) -> None:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise E2CodecError(type_name, f"expected bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise E2CodecError(type_name, "empty input")


def decode(spec: Any, type_name: str, data: bytes) -> Any:
    """The value of ``type_name`` in ``data``; octets after its complete encoding are an error."""
    require_bytes(type_name, data)
    try:
        compiled = spec.types[type_name]
        decoder = asn1tools_per.Decoder(bytearray(data))
        try:  # what asn1tools' own decode does, keeping the decoder to see how much was read
            value = compiled.type.decode(decoder)
        except ErrorWithLocation as exc:
            exc.add_location(compiled.type)
            raise
        compiled.check_constraints(value)
    except Exception as exc:  # asn1tools raises DecodeError, but garbage can also raise IndexError etc.
        reason, field = _split(type_name, exc)
        raise E2CodecError(type_name, f"cannot decode: {reason}", field) from exc
    check_complete(type_name, data, decoder.number_of_read_bits())
    return value


def check_complete(type_name: str, data: bytes, bits_read: int) -> None:
    """A complete encoding fills the octets it needs and no more (X.691 11.1: at least one octet)."""
    used = max(1, (bits_read + 7) // 8)
    if used < len(data):
        extra = len(data) - used
        raise E2CodecError(type_name, f"{extra} trailing octet{'s' if extra > 1 else ''} after the value, "
                                      f"at offset {used} of {len(data)}")


PRINTABLE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


def printable(text: Any, type_name: str) -> str:
    """Check a PrintableString value (asn1tools would encode other characters without complaint)."""
    if not isinstance(text, str) or not PRINTABLE_CHARACTERS.issuperset(text):
        raise E2CodecError(type_name, f"not a PrintableString: {text!r}")
    return text


def convert(type_name: str, fn: Any, value: Any) -> Any:
    """Run a dict -> dataclass conversion; missing or mistyped content becomes an E2CodecError."""
    try:
        return fn(value)
    except E2CodecError as exc:
        if exc.message == type_name:
            raise
        # an inner IE failed: report it as a field of the message being coded
        inner = f"{exc.message}.{exc.field}" if exc.field else exc.message
        raise E2CodecError(type_name, exc.reason, inner) from exc
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise E2CodecError(type_name, f"unexpected content: {exc!r}") from exc
