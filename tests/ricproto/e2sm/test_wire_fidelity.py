"""E2SM-KPM bytes other stacks write: X.691 string alignment (checked against pycrate), liberal
measurement names, octets after a value refused, and the hand-written path taking exactly what the
reference path takes (and counting every fallback)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ricproto.e2error import E2CodecError
from ricproto.e2sm import kpm
from ricproto.e2sm import kpm_report_aper as fast
from ricproto.e2sm.ueid import UeIdGnbDu

PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
TS = bytes.fromhex("eb8a2c3400000000")


def fallbacks(operation: str, reason: str) -> float:
    return kpm.FAST_PATH_FALLBACKS.labels(operation, reason)._value.get()


# ---- strings: X.691 30.5.7 alignment, against pycrate -------------------------------------------


def _pycrate_header(pycrate_kpm: Any, header: kpm.IndicationHeaderFormat1) -> bytes:
    f1: dict[str, Any] = {"colletStartTime": header.collet_start_time}
    for attr, name in kpm.HEADER_FIELDS:
        if getattr(header, attr) is not None:
            f1[name] = getattr(header, attr)
    obj = pycrate_kpm.E2SM_KPM_IndicationHeader
    obj.set_val({"indicationHeader-formats": ("indicationHeader-Format1", f1)})
    return obj.to_aper()


def test_empty_string_before_another_field_reads_like_asn1c_and_pycrate(pycrate_kpm: Any) -> None:
    header = kpm.IndicationHeaderFormat1(TS, "", "gnb-1", "", "twinric")
    theirs = _pycrate_header(pycrate_kpm, header)
    # each empty string: extension bit and length, then an alignment octet boundary (X.691 30.5.7)
    # 1e: four strings present; "" = extension bit, 4-bit length 0, then aligned: 00; senderName: extension
    # bit, aligned 16-bit length 5; senderType "" again 00; vendorName: extension bit + 6-bit length 7 = 0e
    assert theirs.hex() == (
        "1e" + TS.hex() + "00" + "000005" + b"gnb-1".hex() + "00" + "0e" + b"twinric".hex()
    )
    assert kpm.encode_indication_header(header) == theirs  # the hand-written path
    assert kpm.encode_indication_header_reference(header) == theirs  # asn1tools, corrected
    assert kpm.decode_indication_header(theirs) == header
    assert kpm.decode_indication_header_reference(theirs) == header
    assert fast.decode_indication_header(theirs) == header  # taken by the fast path, no fallback


@settings(max_examples=40, deadline=None)
@given(
    st.builds(
        kpm.IndicationHeaderFormat1,
        st.just(TS),
        *(st.none() | st.text(PRINTABLE, max_size=n) for n in (15, 40, 8, 32)),
    )
)
def test_headers_equal_pycrate_byte_for_byte(pycrate_kpm: Any, header: kpm.IndicationHeaderFormat1) -> None:
    theirs = _pycrate_header(pycrate_kpm, header)
    assert kpm.encode_indication_header(header) == theirs
    assert kpm.decode_indication_header(theirs) == header


def test_a_header_written_without_the_alignment_is_refused_not_misread(pycrate_kpm: Any) -> None:
    # what an encoder without the alignment (asn1tools as shipped) writes for fileFormatversion "" and
    # senderName "x": the length 1 of senderName lands in the padding we now skip
    header = kpm.IndicationHeaderFormat1(TS, "", "x")
    assert _pycrate_header(pycrate_kpm, header).hex() == "18" + TS.hex() + "0000000178"
    unaligned = bytes.fromhex("18" + TS.hex() + "000178")
    with pytest.raises(E2CodecError):
        kpm.decode_indication_header(unaligned)


# ---- liberal where the field is: "_" in measurement names -----------------------------------------


def _report(name: str) -> kpm.IndicationMessageFormat1:
    return kpm.cell_report({name: 5, "RRU.PrbUsedDl": 1.5}, 1000)


def test_measurement_names_with_underscore_decode_but_do_not_encode() -> None:
    data = bytearray(kpm.encode_indication_message(_report("DRB.UEThpDl")))
    data[data.index(b"DRB.UEThpDl") + 3] = ord("_")  # "DRB_UEThpDl", as several E2 nodes send it
    before = fallbacks("decode_indication_message", "invalid")
    message = kpm.decode_indication_message(bytes(data))
    assert fallbacks("decode_indication_message", "invalid") == before  # the fast path took it
    assert message == _report("DRB_UEThpDl")
    assert kpm.decode_indication_message_reference(bytes(data)) == message
    with pytest.raises(E2CodecError, match="not a PrintableString"):
        kpm.encode_indication_message(message)
    # only measurement names are liberal: "_" in a header string is still refused
    header = bytearray(kpm.encode_indication_header(kpm.IndicationHeaderFormat1(TS, None, "gnb-1")))
    header[header.index(b"gnb-1") + 3] = ord("_")
    with pytest.raises(E2CodecError):
        kpm.decode_indication_header(bytes(header))


def test_action_definitions_with_underscore_names_decode() -> None:
    f1 = kpm.ActionDefinitionFormat1((kpm.MeasurementInfoItem("RRC.ConnMean"),), 100)
    action = kpm.ActionDefinition(1, f1)
    data = bytearray(kpm.encode_action_definition(action))
    data[data.index(b"RRC.ConnMean") + 3] = ord("_")
    decoded = kpm.decode_action_definition(bytes(data))
    assert decoded.action_definition_format.meas_info_list[0].meas_type == "RRC_ConnMean"


# ---- octets after the value ------------------------------------------------------------------------


def test_octets_after_a_kpm_value_are_refused_with_their_offset() -> None:
    one = kpm.encode_indication_message(_report("DRB.UEThpDl"))
    two = kpm.encode_indication_message(_report("RRU.PrbTotDl"))
    # two reports in one OCTET STRING (a stack that concatenates): the first must not be read silently
    with pytest.raises(E2CodecError) as err:
        kpm.decode_indication_message(one + two)
    assert err.value.message == "E2SM-KPM-IndicationMessage"
    assert err.value.reason == (
        f"{len(two)} trailing octets after the value, at offset {len(one)} of {len(one) + len(two)}"
    )
    header = kpm.encode_indication_header(kpm.IndicationHeaderFormat1(TS))
    with pytest.raises(E2CodecError, match=f"1 trailing octet after the value, at offset {len(header)}"):
        kpm.decode_indication_header(header + b"\x00")
    per_ue = kpm.encode_indication_message(kpm.ue_reports({UeIdGnbDu(1): {"DRB.UEThpDl": 1}}))
    with pytest.raises(E2CodecError, match="trailing octet"):
        kpm.decode_indication_message(per_ue + b"\x00")
    for decode, data in (
        (
            kpm.decode_event_trigger_definition,
            kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(1000)),
        ),
        (
            kpm.decode_ran_function_description,
            kpm.encode_ran_function_description(kpm.default_ran_function_description(("A",))),
        ),
    ):
        with pytest.raises(E2CodecError, match="trailing octet"):
            decode(data + b"\x01")


# ---- the fast path accepts exactly what the reference path accepts -------------------------------


def _with_real(content: bytes) -> bytes:
    """A one-record report whose REAL (1.5 as asn1tools writes it: 80 ff 03) is replaced by ``content``."""
    data = kpm.encode_indication_message(kpm.cell_report({"X": 1.5}))
    at = data.index(bytes.fromhex("0380ff03"))
    return data[:at] + bytes((len(content),)) + content + data[at + 4 :]


@pytest.mark.parametrize(
    ("content", "accepted"),
    [
        (bytes.fromhex("80ff03"), 1.5),  # binary base 2, 1-octet exponent: both read it
        (bytes.fromhex("81ffff03"), 1.5),  # 2-octet exponent
        (bytes.fromhex("43"), -0.0),  # minus zero
        (bytes.fromhex("90ff0c"), None),  # base 8 (12 * 8**-1): asn1tools refuses it, so we do too
        (bytes.fromhex("84ff03"), None),  # scale factor 1
        (bytes.fromhex("82ffff"), None),  # 3-octet exponent form with no mantissa
        (b"\x031.5E0", 1.5),  # decimal NR3: the reference reads it, the fast path hands it over
    ],
)
def test_real_forms(content: bytes, accepted: float | None) -> None:
    data = _with_real(content)
    if accepted is None:
        with pytest.raises(E2CodecError):
            kpm.decode_indication_message_reference(data)
        with pytest.raises(E2CodecError):
            kpm.decode_indication_message(data)
        return
    got = kpm.decode_indication_message(data).meas_data[0].meas_record[0]
    assert got == accepted and str(got) == str(accepted)
    assert kpm.decode_indication_message_reference(data).meas_data[0].meas_record[0] == accepted


def test_long_form_choice_index_goes_to_the_reference_which_refuses_it() -> None:
    data = kpm.encode_indication_message(kpm.ue_reports({UeIdGnbDu(1): {"X": 1}}))
    assert data[0] == 0x40  # extension bit 0, CHOICE extension 1, index 0 in the short form
    long_form = bytes((0x60, 0x01, 0x00)) + data[1:]  # the same index as a length and an octet
    with pytest.raises(fast.AperUnsupported):
        fast.decode_indication_message(long_form)
    with pytest.raises(E2CodecError):
        kpm.decode_indication_message_reference(long_form)
    with pytest.raises(E2CodecError):
        kpm.decode_indication_message(long_form)


def test_fallbacks_are_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    f2 = kpm.IndicationMessageFormat2(
        (kpm.MeasurementDataItem((1,)),),
        (kpm.MeasurementCondUeIdItem("X", (kpm.MatchingCondItem(kpm.NO_LABEL),)),),
    )
    before = fallbacks("encode_indication_message", "unsupported")
    data = kpm.encode_indication_message(f2)  # format 2 is not on the hand-written path
    assert fallbacks("encode_indication_message", "unsupported") == before + 1
    with caplog.at_level(logging.DEBUG, logger="ricproto.e2sm.kpm"):
        before = fallbacks("decode_indication_message", "unsupported")
        assert kpm.decode_indication_message(data) == f2
    assert fallbacks("decode_indication_message", "unsupported") == before + 1
    assert any("left to the reference codec" in r.getMessage() for r in caplog.records)
    before = fallbacks("decode_indication_message", "invalid")
    with pytest.raises(E2CodecError):
        kpm.decode_indication_message(kpm.encode_indication_message(_report("X"))[:6])  # truncated
    assert fallbacks("decode_indication_message", "invalid") == before + 1


def test_an_unexpected_fast_path_failure_is_logged_as_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(data: bytes) -> None:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(fast, "decode_indication_header", broken)
    header = kpm.IndicationHeaderFormat1(TS)
    before = fallbacks("decode_indication_header", "error")
    with caplog.at_level(logging.WARNING, logger="ricproto.e2sm.kpm"):
        assert kpm.decode_indication_header(kpm.encode_indication_header(header)) == header
    assert fallbacks("decode_indication_header", "error") == before + 1
    assert any(r.levelno == logging.WARNING and r.exc_info for r in caplog.records)
