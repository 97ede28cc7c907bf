"""Upstream xApps' bytes (../shared/vectors/e2/): decode to the documented fields, re-encode identically."""

from __future__ import annotations

from pathlib import Path

import pytest

from ricproto.e2ap import RICcontrolAckRequest, RICcontrolRequest, RICrequestID, decode, encode


def _vector(shared_dir: Path, name: str) -> bytes:
    return bytes.fromhex((shared_dir / "vectors" / "e2" / name).read_text().strip())


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
def test_srsran_control_request(shared_dir: Path, pdu: str, header: str, message: str) -> None:
    data = _vector(shared_dir, pdu)
    decoded = decode(data)
    assert decoded == RICcontrolRequest(
        ricRequestID=RICrequestID(ricRequestorID=1, ricInstanceID=0),
        ranFunctionID=3,
        ricControlHeader=_vector(shared_dir, header),
        ricControlMessage=_vector(shared_dir, message),
        ricControlAckRequest=RICcontrolAckRequest.ack,
    )
    assert encode(decoded) == data


def test_srsran_layout_is_reproduced_from_fields(shared_dir: Path) -> None:
    """Build the handover request from its parts (as our control xApp will) and get srsRAN's exact bytes."""
    header = _vector(shared_dir, "srsran_e2sm-rc_control-header_style3-action1.hex")
    message = _vector(shared_dir, "srsran_e2sm-rc_control-message_handover.hex")
    request = RICcontrolRequest(
        RICrequestID(1, 0), 3, header, message, ricControlAckRequest=RICcontrolAckRequest.ack
    )
    expected = _vector(shared_dir, "srsran_e2ap_ric-control-request_rc-handover.hex")
    assert encode(request) == expected
    assert expected[3] == 33 + len(header) + len(message)  # the layout's open-type length
