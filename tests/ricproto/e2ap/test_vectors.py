"""Upstream xApps' bytes (tests/vectors/e2): decode to the documented fields, re-encode identically."""

from __future__ import annotations

from pathlib import Path

import pytest

from ricproto.e2ap import RICcontrolAckRequest, RICcontrolRequest, RICrequestID, decode, encode

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "e2"


def _vector(name: str) -> bytes:
    return bytes.fromhex((VECTORS / name).read_text().strip())


@pytest.mark.parametrize(
    ("pdu", "header", "message"),
    [
        (
            "srsran_e2ap_ric-control-request_rc-handover.hex",
            "srsran_e2sm-rc_control-header_style3-action1.hex",
            "srsran_e2sm-rc_control-message_handover.hex",
        ),
        (
            "srsran_e2ap_ric-control-request_rc-slice-prb-quota.hex",
            "srsran_e2sm-rc_control-header_style2-action6.hex",
            "srsran_e2sm-rc_control-message_slice-prb-quota.hex",
        ),
    ],
)
def test_srsran_control_request(pdu: str, header: str, message: str) -> None:
    data = _vector(pdu)
    decoded = decode(data)
    assert decoded == RICcontrolRequest(
        ricRequestID=RICrequestID(ricRequestorID=1, ricInstanceID=0),
        ranFunctionID=3,
        ricControlHeader=_vector(header),
        ricControlMessage=_vector(message),
        ricControlAckRequest=RICcontrolAckRequest.ack,
    )
    assert encode(decoded) == data


def test_srsran_layout_is_reproduced_from_fields() -> None:
    """Build the handover request from its parts (as our control xApp will) and get srsRAN's exact bytes."""
    header = _vector("srsran_e2sm-rc_control-header_style3-action1.hex")
    message = _vector("srsran_e2sm-rc_control-message_handover.hex")
    request = RICcontrolRequest(
        RICrequestID(1, 0), 3, header, message, ricControlAckRequest=RICcontrolAckRequest.ack
    )
    expected = _vector("srsran_e2ap_ric-control-request_rc-handover.hex")
    assert encode(request) == expected
    assert expected[3] == 33 + len(header) + len(message)  # the layout's open-type length
