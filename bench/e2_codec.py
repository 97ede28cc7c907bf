"""E2 codec speed: median µs of encode+decode for the messages the loop exchanges.

Each case covers both layers, as a node or an xApp pays them: the E2SM payloads (KPM report header and
message, RC control header and message) and the E2AP PDU around them. Baselines measured in the same
run: pycrate's E2AP for the PDU layer and asn1tools for the KPM layer.

    .venv/bin/python bench/e2_codec.py [--quick]

Last line: JSON with ``setup_us``, ``indication_kpm1_us``, ``indication_kpm3_50ue_us``, ``control_rc_us``
(targets: ``indication_kpm1_us`` <= 150, ``setup_us`` <= 300) and the baselines with their ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from rich.progress import Progress

from ricproto import e2ap
from ricproto.e2sm import kpm, rc
from ricproto.e2sm.identities import NrCgi
from ricproto.e2sm.ueid import Guami, UeIdGnb, UeIdGnbDu

CELL_NAMES = ("DRB.UEThpDl", "DRB.UEThpUl", "RRU.PrbUsedDl", "RRU.PrbUsedUl")
UE_NAMES = ("DRB.UEThpDl", "RRU.PrbUsedDl", "CQI", "RSRP")


def median_us(fn: Callable[[], object], runs: int) -> float:
    for _ in range(min(200, runs)):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def setup_request() -> e2ap.E2setupRequest:
    node = e2ap.GlobalE2nodeGnbID(e2ap.GlobalgNBID(e2ap.plmn_to_bytes("00101"), e2ap.BitString(0x19B, 22)))
    kpm_def = kpm.encode_ran_function_description(kpm.default_ran_function_description(CELL_NAMES, UE_NAMES))
    rc_def = rc.encode_ran_function_definition(rc.default_ran_function_definition())
    return e2ap.E2setupRequest(
        1,
        node,
        [
            e2ap.RANfunctionItem(kpm.RAN_FUNCTION_ID, kpm_def, 1, kpm.OID),
            e2ap.RANfunctionItem(rc.RAN_FUNCTION_ID, rc_def, 1, rc.OID),
        ],
        [
            e2ap.E2nodeComponentConfigAdditionItem(
                e2ap.E2nodeComponentInterfaceType.ng,
                e2ap.E2nodeComponentInterfaceNG("amf1"),
                e2ap.E2nodeComponentConfiguration(b"ng-setup-request", b"ng-setup-response"),
            )
        ],
    )


def indication(
    message: kpm.IndicationMessageFormat1 | kpm.IndicationMessageFormat3,
    encode_kpm: Callable[[object], bytes] = kpm.encode_indication_message,
) -> e2ap.RICindication:
    header = kpm.IndicationHeaderFormat1(kpm.ntp_timestamp(1_700_000_000.0), sender_name="twinric e2sim")
    return e2ap.RICindication(
        e2ap.RICrequestID(12345, 7),
        kpm.RAN_FUNCTION_ID,
        1,
        e2ap.RICindicationType.report,
        kpm.encode_indication_header(header),
        encode_kpm(message),
        ricIndicationSN=42,
    )


def indication_roundtrip(
    ind: e2ap.RICindication, decode_kpm: Callable[[bytes], object] = kpm.decode_indication_message
) -> Callable[[], object]:
    def run() -> object:
        out = e2ap.decode(e2ap.encode(ind))
        kpm.decode_indication_header(out.ricIndicationHeader)
        return decode_kpm(out.ricIndicationMessage)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a few seconds)")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0

    f1 = kpm.IndicationMessageFormat1(
        (kpm.MeasurementDataItem((123456, 2048, 87, 12)),),
        tuple(kpm.MeasurementInfoItem(n) for n in CELL_NAMES),
        100,
    )
    f3 = kpm.IndicationMessageFormat3(
        tuple(
            kpm.UeMeasurementReportItem(
                UeIdGnbDu(i),
                kpm.IndicationMessageFormat1(
                    (kpm.MeasurementDataItem((1000 + i, 20, 11, -95.5)),),
                    tuple(kpm.MeasurementInfoItem(n) for n in UE_NAMES),
                    100,
                ),
            )
            for i in range(50)
        )
    )
    setup = setup_request()
    ind1, ind3 = indication(f1), indication(f3)
    ind1_ref = indication(f1, kpm.encode_indication_message_reference)
    handover = rc.HandoverControl(UeIdGnb(1, Guami(b"\x00\xf1\x10"), (1,)), NrCgi.from_plmn("00101", 2))

    def control() -> object:
        header, message = handover.encode()
        pdu = e2ap.encode(
            e2ap.RICcontrolRequest(
                e2ap.RICrequestID(1, 0),
                rc.RAN_FUNCTION_ID,
                header,
                message,
                ricControlAckRequest=e2ap.RICcontrolAckRequest.ack,
            )
        )
        out = e2ap.decode(pdu)
        return rc.decode_control(out.ricControlHeader, out.ricControlMessage)

    from pycrate_asn1dir import E2AP as PycrateE2AP

    pycrate_pdu = PycrateE2AP.E2AP_PDU_Descriptions.E2AP_PDU
    setup_bytes = e2ap.encode(setup)

    def pycrate_setup() -> object:
        pycrate_pdu.from_aper(setup_bytes)
        value = pycrate_pdu.get_val()
        pycrate_pdu.set_val(value)
        return pycrate_pdu.to_aper()

    cases: dict[str, tuple[Callable[[], object], int]] = {
        "setup_us": (lambda: e2ap.decode(e2ap.encode(setup)), 3000),
        "setup_pycrate_us": (pycrate_setup, 500),
        "indication_kpm1_us": (indication_roundtrip(ind1), 5000),
        "indication_kpm1_asn1tools_us": (
            indication_roundtrip(ind1_ref, kpm.decode_indication_message_reference),
            500,
        ),
        "indication_kpm3_50ue_us": (indication_roundtrip(ind3), 500),
        "control_rc_us": (control, 2000),
    }
    results: dict[str, float] = {}
    with Progress() as progress:
        task = progress.add_task("E2 codecs", total=len(cases))
        for key, (fn, runs) in cases.items():
            results[key] = round(median_us(fn, max(20, int(runs * scale))), 1)
            progress.advance(task)
    results["setup_speedup_vs_pycrate"] = round(results["setup_pycrate_us"] / results["setup_us"], 2)
    results["kpm1_speedup_vs_asn1tools"] = round(
        results["indication_kpm1_asn1tools_us"] / results["indication_kpm1_us"], 2
    )
    results["setup_bytes"] = len(setup_bytes)
    results["indication_kpm3_50ue_bytes"] = len(e2ap.encode(ind3))
    _plot(results)
    print(json.dumps(results))


def _plot(results: dict[str, float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    keys = [k for k in results if k.endswith("_us")]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh(
        keys,
        [results[k] for k in keys],
        color=["tab:gray" if ("pycrate" in k or "asn1tools" in k) else "tab:blue" for k in keys],
    )
    ax.set_xscale("log")
    ax.set_xlabel("median encode+decode, µs (log scale); grey = baseline")
    fig.tight_layout()
    fig.savefig(out / "e2_codec.png", dpi=120)


if __name__ == "__main__":
    main()
