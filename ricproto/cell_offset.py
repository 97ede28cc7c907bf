"""Cell individual offsets (CIO): the mobility-load-balancing lever that event A3 respects.

TS 38.331 §5.5.4.4 (event A3): a UE reports neighbour n when ``Mn + Ofn + Ocn - Hys > Mp + Ofp + Ocp +
Off``; ``Ocn`` is the cell individual offset the serving cell configures for neighbour n in its
measurement object (``cellIndividualOffset``, a ``Q-OffsetRange``), so an offset belongs to one
relation (serving cell, neighbour), as ``NRCellRelation.cellIndividualOffset`` does in TS 28.541.
Mobility load balancing (TS 38.300 §15.5, the Xn Mobility Settings Change procedure of TS 38.423)
moves the handover trigger between two cells in opposite directions: the loaded cell hands over
earlier to the neighbour, and the neighbour hands back later, so a UE moved for load stays there.

This module holds the value set and that pairwise step; the simulator validates against it and the
RAN space steps with it.
"""

from __future__ import annotations

# Q-OffsetRange (TS 38.331): ENUMERATED {dB-24, dB-22, ..., dB-6, dB-5, ..., dB5, dB6, dB8, ..., dB24}.
Q_OFFSET_RANGE_DB: tuple[int, ...] = (
    *range(-24, -6, 2),
    *range(-6, 7),
    *range(8, 25, 2),
)


def is_q_offset(offset_db: object) -> bool:
    """True when ``offset_db`` is one of the Q-OffsetRange values (an integer number of dB)."""
    if isinstance(offset_db, bool) or not isinstance(offset_db, int | float):
        return False
    return float(offset_db).is_integer() and int(offset_db) in Q_OFFSET_RANGE_DB


def nearest_q_offset(offset_db: float) -> int:
    """The Q-OffsetRange value closest to ``offset_db`` (ties toward 0)."""
    return min(Q_OFFSET_RANGE_DB, key=lambda v: (abs(v - offset_db), abs(v)))


def step_pair_offsets(
    forward_db: float, backward_db: float, direction: int, step_db: int, limit_db: int
) -> tuple[int, int]:
    """New (serving -> neighbour, neighbour -> serving) offsets after one load-balancing step.

    ``direction`` +1 moves load from the serving cell toward the neighbour (its offset up, the
    neighbour's offset back down), -1 the opposite. Both stay within ``[-limit_db, limit_db]`` and on
    Q-OffsetRange values; the pair stays antisymmetric once it has been stepped from (0, 0).
    """
    if direction not in (1, -1):
        raise ValueError("direction must be +1 or -1")
    if step_db < 1 or limit_db < 0:
        raise ValueError("need step_db >= 1 and limit_db >= 0")
    forward = max(-limit_db, min(limit_db, forward_db + direction * step_db))
    backward = max(-limit_db, min(limit_db, backward_db - direction * step_db))
    return nearest_q_offset(forward), nearest_q_offset(backward)
