"""How a peer wrote an E2AP message where the spec leaves the choice to the sender.

E2AP fixes each IE's criticality in its object sets, but a receiver takes what is on the wire: other
stacks send other criticalities (and other IE orders, and IEs of newer versions with criticality
ignore). ``decode`` records them here and in `ReceivedItems`, and ``encode`` writes them back, so a
decoded message re-encodes to the bytes it came from instead of being silently "corrected".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from ricproto.e2ap.ies import Criticality

T = TypeVar("T")


class ReceivedIE(NamedTuple):  # a tuple: made for every IE decoded, so it has to be cheap
    """One IE as received: its id and criticality, and the open-type content of an IE we do not know
    (``raw``; None for an IE of the message's table, whose value is in the message's field)."""

    id: int
    criticality: Criticality
    raw: bytes | None = None


@dataclass(frozen=True, slots=True)
class ReceivedForm:
    """The PDU's procedure criticality and the IEs in the order received."""

    criticality: Criticality
    ies: tuple[ReceivedIE, ...]

    def known_ids(self) -> frozenset[int]:
        return frozenset(ie.id for ie in self.ies if ie.raw is None)


class ReceivedItems(list[T]):
    """A decoded list of ProtocolIE-SingleContainer items that remembers each item's criticality.

    It is a list (and compares like one); ``criticalities`` is used on encode while the list still has
    as many items as it had when it was received.
    """

    criticalities: tuple[Criticality, ...] = ()

    @classmethod
    def of(cls, items: list[T], criticalities: list[Criticality]) -> ReceivedItems[T]:
        out = cls(items)
        out.criticalities = tuple(criticalities)
        return out
