"""Fixtures for the E2SM codec tests: the byte vectors (tests/vectors/e2) and the standard ASN.1 modules
in ../shared/asn1, compiled (the cross-checks that need those skip, saying so, without ../shared)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import asn1tools
import pytest

from ricproto.e2sm import asn1spec

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "e2"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    return VECTORS


@pytest.fixture(scope="session")
def standard_kpm(shared_dir: Path) -> Any:
    """E2SM common v03.01 + E2SM-KPM v03.00 as the OSC E2 simulator ships them."""
    folder = shared_dir / "asn1" / "osc-sim-e2-interface"
    files = [folder / "e2sm-v03.01.asn", folder / "e2sm-kpm-v03.00.asn"]
    if not all(f.is_file() for f in files):
        pytest.skip(f"{folder} absent: this cross-check compiles upstream's KPM v3 modules (not in the tree)")
    # asn1tools' encoding rules with X.691's string alignment (asn1spec); the ASN.1 text is upstream's
    return asn1spec.apply_x691_strings(asn1tools.compile_files([str(f) for f in files], "per"))


@pytest.fixture(scope="session")
def standard_rc(shared_dir: Path) -> Any:
    """ric-app-rc's E2SM-RC + common modules, with RANParameter-ID's 2^32 written as a number.

    asn1tools does not evaluate ``2^32`` and silently mis-decodes without this fix
    (../shared/asn1/README.md, known defect 4).
    """
    folder = shared_dir / "asn1" / "osc-ric-app-rc"
    files = [folder / "e2sm-rc-2.0.asn", folder / "e2sm-common.asn"]
    if not all(f.is_file() for f in files):
        pytest.skip(f"{folder} absent: this cross-check compiles upstream's E2SM-RC module (not in the tree)")
    rc_text = files[0].read_text().replace("INTEGER (1..2^32, ...)", "INTEGER (1..4294967295, ...)")
    assert "2^32" not in rc_text
    return asn1spec.apply_x691_strings(asn1tools.compile_string(rc_text + "\n" + files[1].read_text(), "per"))


def _reencodes(standard: Any, ours: Any) -> Callable[[str, bytes], tuple[bytes, bytes]]:
    def reencode(type_name: str, data: bytes) -> tuple[bytes, bytes]:
        """What the standard module encodes from our decoding of ``data`` and from its own: a test
        asserts both equal ``data`` (the two modules read the same tree from the same bytes)."""
        return (
            standard.encode(type_name, ours.decode(type_name, data)),
            standard.encode(type_name, standard.decode(type_name, data)),
        )

    return reencode


@pytest.fixture(scope="session")
def kpm_reencodes(standard_kpm: Any) -> Callable[[str, bytes], tuple[bytes, bytes]]:
    return _reencodes(standard_kpm, asn1spec.kpm_spec())


@pytest.fixture(scope="session")
def rc_reencodes(standard_rc: Any) -> Callable[[str, bytes], tuple[bytes, bytes]]:
    return _reencodes(standard_rc, asn1spec.rc_spec())
