"""Which xApp sent a control request: matching answers to requests (pure logic)."""

from __future__ import annotations

from ricplt.e2term.control_requesters import ControlRequesters
from ricproto.e2ap import CauseMisc, RICcontrolAcknowledge, RICcontrolFailure, RICcontrolRequest, RICrequestID
from ricproto.rmr import RmrMessage


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def request(requestor: int, instance: int, function: int = 3) -> RICcontrolRequest:
    return RICcontrolRequest(RICrequestID(requestor, instance), function, b"h", b"m")


def sent_by(src: str) -> RmrMessage:
    return RmrMessage(12040, b"", src=src)


def test_answer_goes_to_its_own_request_only() -> None:
    book = ControlRequesters()
    a, b = sent_by("xapp-a:4560"), sent_by("xapp-b:4560")
    book.remember("gnb1", request(1, 5), a)
    book.remember("gnb1", request(1, 6), b)
    assert book.take("gnb1", RICcontrolAcknowledge(RICrequestID(1, 6), 3)) is b
    assert book.take("gnb1", RICcontrolFailure(RICrequestID(1, 5), 3, CauseMisc.unspecified)) is a
    assert book.take("gnb1", RICcontrolAcknowledge(RICrequestID(1, 5), 3)) is None  # taken once
    assert len(book) == 0


def test_node_function_and_requestor_are_part_of_the_key() -> None:
    book = ControlRequesters()
    book.remember("gnb1", request(1, 5, function=3), sent_by("a:1"))
    assert book.take("gnb2", RICcontrolAcknowledge(RICrequestID(1, 5), 3)) is None
    assert book.take("gnb1", RICcontrolAcknowledge(RICrequestID(1, 5), 2)) is None
    assert book.take("gnb1", RICcontrolAcknowledge(RICrequestID(2, 5), 3)) is None
    assert book.take("gnb1", RICcontrolAcknowledge(RICrequestID(1, 5), 3)) is not None


def test_reused_request_ids_are_answered_first_in_first_out() -> None:
    book = ControlRequesters()
    first, second = sent_by("a:1"), sent_by("b:1")
    book.remember("gnb1", request(1, 1), first)
    book.remember("gnb1", request(1, 1), second)
    ack = RICcontrolAcknowledge(RICrequestID(1, 1), 3)
    assert [book.take("gnb1", ack), book.take("gnb1", ack)] == [first, second]


def test_unanswered_requests_expire_and_capacity_is_bounded() -> None:
    clock = Clock()
    book = ControlRequesters(ttl=10.0, capacity=3, clock=clock)
    book.remember("gnb1", request(1, 1), sent_by("a:1"))  # noAck: never answered
    clock.now = 11.0
    book.remember("gnb1", request(1, 2), sent_by("a:1"))
    assert book.take("gnb1", RICcontrolAcknowledge(RICrequestID(1, 1), 3)) is None
    for instance in range(3, 8):
        book.remember("gnb1", request(1, instance), sent_by("a:1"))
    assert len(book) == 3  # the oldest keys were dropped
    assert book.take("gnb1", RICcontrolAcknowledge(RICrequestID(1, 7), 3)) is not None
