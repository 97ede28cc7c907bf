"""The project's own E2SM ASN.1 (files in `asn/`), compiled once per process with asn1tools (APER).

`encode`/`decode` wrap asn1tools so that every failure (bad value, bad bytes, or anything asn1tools
raises on garbage) comes out as one `E2CodecError` naming the message and the failing field.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

import asn1tools

from ricproto.e2error import E2CodecError

ASN_DIR = Path(__file__).with_name("asn")
COMMON_FILE = ASN_DIR / "e2sm_common.asn"
KPM_FILE = ASN_DIR / "e2sm_kpm_v3.asn"
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
def kpm_spec() -> Any:
    """E2SM common IEs + E2SM-KPM v3, compiled for aligned PER (once per process)."""
    return _compile([COMMON_FILE, KPM_FILE])


@functools.cache
def rc_spec() -> Any:
    """E2SM common IEs + E2SM-RC subset, compiled for aligned PER (once per process)."""
    return _compile([COMMON_FILE, RC_FILE])


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
    require_bytes(type_name, data)
    try:
        return spec.decode(type_name, bytes(data), check_constraints=True)
    except Exception as exc:  # asn1tools raises DecodeError, but garbage can also raise IndexError etc.
        reason, field = _split(type_name, exc)
        raise E2CodecError(type_name, f"cannot decode: {reason}", field) from exc


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
