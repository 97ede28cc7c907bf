"""RmrPort over the ricxappframe RMR API (twinric's RMR, real TCP): meid, sub_id and trace reach the peer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from ricxappframe.rmr import rmr

from xapps.common.rmr_port import RmrPort


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    monkeypatch.setenv("RMR_SRC_ID", "127.0.0.1")
    monkeypatch.delenv("RMR_SEED_RT", raising=False)
    monkeypatch.delenv("RMR_RTG_SVC", raising=False)
    sender = rmr.rmr_init(b"0", rmr.RMR_MAX_RCV_BYTES, rmr.RMRFL_MTCALL)
    receiver = rmr.rmr_init(b"0", rmr.RMR_MAX_RCV_BYTES, rmr.RMRFL_MTCALL)
    sender.load_routes(f"newrt|start\nrte|10|127.0.0.1:{receiver.port}\nnewrt|end\n")
    try:
        yield sender, receiver
    finally:
        rmr.rmr_close(sender)
        rmr.rmr_close(receiver)


def receive(receiver: Any) -> Any:
    mbuf = rmr.rmr_torcv_msg(receiver, None, 3000)
    assert mbuf.contents.state == rmr.RMR_OK
    return mbuf


def test_meid_sub_id_and_trace_reach_the_peer(pair) -> None:
    sender, receiver = pair
    port = RmrPort(sender)
    assert port.send(10, b"ctl", meid="gnb_1", sub_id=7, trace=b"grant-42")
    got = receive(receiver)
    summary = rmr.message_summary(got)
    assert (summary["payload"], summary["message type"], summary["subscription id"]) == (b"ctl", 10, 7)
    assert summary["meid"] == b"gnb_1" and rmr.rmr_get_trace(got) == b"grant-42"
    assert port.send(10, b"plain")  # no trace asked: none set
    assert rmr.rmr_get_trace(receive(receiver)) == b""


def test_no_route_fails_at_once_and_a_closed_port_sends_nothing(pair) -> None:
    sender, _ = pair
    port = RmrPort(sender)
    started = time.monotonic()
    assert port.send(99, b"x") is False
    assert time.monotonic() - started < 0.5  # no spinning on a missing route
    port.close()
    port.close()  # twice is fine
    assert port.send(10, b"x") is False
