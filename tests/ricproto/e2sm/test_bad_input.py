"""Truncated, mutated and random inputs: every E2SM decoder raises E2CodecError and nothing else."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from ricproto.e2error import E2CodecError
from ricproto.e2sm import kpm, rc
from ricproto.e2sm.identities import NrCgi, SNssai
from ricproto.e2sm.ueid import Guami, UeIdGnb, UeIdGnbDu

REPORT = kpm.IndicationMessageFormat1(
    (kpm.MeasurementDataItem((12345, 2.5, None, 40)),),
    (
        kpm.MeasurementInfoItem("DRB.UEThpDl"),
        kpm.MeasurementInfoItem("DRB.UEThpUl", (kpm.MeasurementLabel(slice_id=SNssai(1, 5)),)),
        kpm.MeasurementInfoItem(17),
        kpm.MeasurementInfoItem("RRU.PrbUsedDl"),
    ),
    1000,
)
UE = UeIdGnb(3, Guami(b"\x00\xf1\x10", 1, 2, 3), (4,))
SEEDS: list[tuple[str, Callable[[bytes], Any], bytes]] = [
    ("indication message f1", kpm.decode_indication_message, kpm.encode_indication_message(REPORT)),
    (
        "indication message f3",
        kpm.decode_indication_message,
        kpm.encode_indication_message(
            kpm.IndicationMessageFormat3(
                (kpm.UeMeasurementReportItem(UeIdGnbDu(1), REPORT), kpm.UeMeasurementReportItem(UE, REPORT))
            )
        ),
    ),
    (
        "indication header",
        kpm.decode_indication_header,
        kpm.encode_indication_header(
            kpm.IndicationHeaderFormat1(kpm.ntp_timestamp(1e9), "1.0", "gnb", "DU", "x")
        ),
    ),
    (
        "action definition f1",
        kpm.decode_action_definition,
        kpm.encode_action_definition(
            kpm.ActionDefinition(
                1, kpm.ActionDefinitionFormat1(REPORT.meas_info_list, 1000, NrCgi(b"\x00\xf1\x10", 9))
            )
        ),
    ),
    (
        "action definition f5",
        kpm.decode_action_definition,
        kpm.encode_action_definition(
            kpm.ActionDefinition(
                5,
                kpm.ActionDefinitionFormat5(
                    (UeIdGnbDu(1), UE), kpm.ActionDefinitionFormat1(REPORT.meas_info_list, 100)
                ),
            )
        ),
    ),
    (
        "event trigger",
        kpm.decode_event_trigger_definition,
        kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(1000)),
    ),
    (
        "kpm ran function",
        kpm.decode_ran_function_description,
        kpm.encode_ran_function_description(kpm.default_ran_function_description(("DRB.UEThpDl",), ("CQI",))),
    ),
    (
        "rc control header",
        rc.decode_control_header,
        rc.encode_control_header(rc.ControlHeaderFormat1(UE, 3, 1)),
    ),
    (
        "rc control message",
        rc.decode_control_message,
        rc.SliceQuotaControl.single(UeIdGnbDu(0), b"\x00\xf1\x10", SNssai(1, 1), 10, 30, 100).encode()[1],
    ),
    (
        "rc outcome",
        rc.decode_control_outcome,
        rc.encode_control_outcome(rc.ControlOutcomeFormat1((rc.ControlOutcomeItem(1, b"ok"),))),
    ),
    (
        "rc ran function",
        rc.decode_ran_function_definition,
        rc.encode_ran_function_definition(rc.default_ran_function_definition()),
    ),
]


def _corpus(seed_bytes: bytes, rng: random.Random, mutations: int, randoms: int) -> list[bytes]:
    cases = [seed_bytes[:n] for n in range(len(seed_bytes))]
    for _ in range(mutations):
        data = bytearray(seed_bytes)
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(data))
            data[pos] = rng.randrange(256) if rng.random() < 0.7 else data[pos] ^ (1 << rng.randrange(8))
        cases.append(bytes(data))
    for _ in range(randoms):
        cases.append(rng.randbytes(rng.randint(1, 64)))
    return cases


@pytest.mark.parametrize(("label", "decoder", "seed_bytes"), SEEDS, ids=[s[0] for s in SEEDS])
def test_bad_input_raises_only_codec_error(
    label: str, decoder: Callable[[bytes], Any], seed_bytes: bytes
) -> None:
    decoder(seed_bytes)  # the seed itself is valid
    rng = random.Random(label)
    errors = 0
    cases = _corpus(seed_bytes, rng, mutations=400, randoms=300)
    for data in cases:
        try:
            decoder(data)
        except E2CodecError as exc:
            errors += 1
            assert exc.message and exc.reason
    assert errors >= len(seed_bytes) // 2  # most truncations at least must fail


def test_hot_path_and_reference_agree_on_garbage() -> None:
    """On mutated reports the hand-written decoder never accepts what asn1tools decodes differently."""
    rng = random.Random(4)
    agreed = 0
    for _, decoder, seed_bytes in SEEDS[:2]:
        assert decoder is kpm.decode_indication_message
        for data in _corpus(seed_bytes, rng, mutations=600, randoms=200):
            try:
                ours: Any = kpm.decode_indication_message(data)
            except E2CodecError:
                ours = E2CodecError
            try:
                ref: Any = kpm.decode_indication_message_reference(data)
            except E2CodecError:
                ref = E2CodecError
            if ours != ref:
                # floats decoded from REAL octets may be NaN, which never compares equal
                assert repr(ours) == repr(ref), data.hex()
            agreed += 1
    assert agreed > 1000


@pytest.mark.parametrize("bad", [b"", bytearray(b"\x00"), "text", None, 5])
def test_non_bytes_and_empty_input(bad: Any) -> None:
    with pytest.raises(E2CodecError):
        kpm.decode_indication_message(bad)
    with pytest.raises(E2CodecError):
        rc.decode_control_message(bad)


@pytest.mark.parametrize(
    "encoder",
    [
        kpm.encode_event_trigger_definition,
        kpm.encode_action_definition,
        kpm.encode_indication_header,
        kpm.encode_indication_message,
        kpm.encode_ran_function_description,
        rc.encode_control_header,
        rc.encode_control_message,
        rc.encode_control_outcome,
        rc.encode_ran_function_definition,
    ],
)
@pytest.mark.parametrize("bad", [None, "text", 5, object()])
def test_encoders_reject_wrong_objects_with_codec_error(encoder: Callable[[Any], bytes], bad: Any) -> None:
    with pytest.raises(E2CodecError):
        encoder(bad)
