from __future__ import annotations

from pathlib import Path

import pytest

from ricproto.e2sm import asn1spec

TRIGGER = {"eventDefinition-formats": ("eventDefinition-Format1", {"reportingPeriod": 10000})}


def test_compiled_spec_is_cached_on_disk_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(asn1spec.CACHE_ENV, str(tmp_path))
    files = [asn1spec.COMMON_FILE, asn1spec.KPM_FILE]
    fresh = asn1spec._compile(files)
    cached = list(tmp_path.glob("e2sm-*.pickle"))
    assert len(cached) == 1
    again = asn1spec._compile(files)
    assert again is not fresh
    assert again.encode("E2SM-KPM-EventTriggerDefinition", TRIGGER) == bytes.fromhex("08270f")
    # a corrupt cache file is ignored and replaced
    cached[0].write_bytes(b"not a pickle")
    third = asn1spec._compile(files)
    assert third.encode("E2SM-KPM-EventTriggerDefinition", TRIGGER) == bytes.fromhex("08270f")
    assert cached[0].read_bytes() != b"not a pickle"


def test_unwritable_cache_dir_still_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv(asn1spec.CACHE_ENV, str(blocker / "sub"))  # a directory below a file cannot exist
    spec = asn1spec._compile([asn1spec.COMMON_FILE, asn1spec.RC_FILE])
    assert spec.decode("E2SM-RC-ControlHeader", bytes.fromhex("0100000102000005"))
