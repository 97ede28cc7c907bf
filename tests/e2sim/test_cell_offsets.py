"""Cell individual offsets in event A3: a steered UE stays steered while its offset holds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from e2sim.ran.model import ControlAck, ControlFailure, ControlFailureCause, RanModel
from e2sim.ran.topology import NrCgi
from e2sim.scenario import parse_scenario

_spec = importlib.util.spec_from_file_location("scenario_docs", Path(__file__).with_name("scenario_docs.py"))
docs = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(docs)  # type: ignore[union-attr]


def two_cells() -> RanModel:
    m = RanModel(parse_scenario(docs.doc()))
    m.run(0.2)
    return m


def inside_ue(m: RanModel, low: float, high: float) -> tuple[int, int, int]:
    """A UE whose serving cell is between ``low`` and ``high`` dB stronger than the other cell."""
    rows = np.arange(m.n_ues)
    other = 1 - m.serving
    margin = m.rsrp_dbm[rows, m.serving] - m.rsrp_dbm[rows, other]
    candidates = np.flatnonzero((margin > low) & (margin < high))
    assert candidates.size, "the scenario has no UE in that band"
    ue = int(candidates[0])
    return ue, int(m.serving[ue]), int(other[ue])


def hold(m: RanModel, source: int, target: int, offset_db: int) -> None:
    """The load-balancing pair: source hands over to target earlier, target hands back later."""
    cells = m.cells
    assert isinstance(m.set_cell_offset(cells[source].nr_cgi, cells[target].nr_cgi, offset_db), ControlAck)
    assert isinstance(m.set_cell_offset(cells[target].nr_cgi, cells[source].nr_cgi, -offset_db), ControlAck)


def test_a_steered_ue_stays_steered_while_its_offset_holds() -> None:
    m = two_cells()
    ue, source, target = inside_ue(m, 5.0, 7.0)  # A3 brings it back without an offset (5 > 3 + 1 dB)
    hold(m, source, target, 6)
    period = m.start_period()
    assert isinstance(m.command_handover(ue, m.cells[target].nr_cgi), ControlAck)
    m.run(1.5)  # far beyond execution delay + time-to-trigger
    assert m.serving[ue] == target
    cell, _ = m.cell_table(period)
    assert cell["Sim.HoPingPong"].sum() == 0
    # The offset is released: A3 takes it home again (and counts the ping-pong only within 1 s).
    hold(m, source, target, 0)
    m.run(0.5)
    assert m.serving[ue] == source


def test_without_the_offset_the_same_ue_ping_pongs() -> None:
    m = two_cells()
    ue, source, target = inside_ue(m, 5.0, 7.0)
    period = m.start_period()
    m.command_handover(ue, m.cells[target].nr_cgi)
    m.run(0.5)
    assert m.serving[ue] == source
    cell, _ = m.cell_table(period)
    assert cell["Sim.HoPingPong"][target] >= 1


def test_an_offset_alone_moves_edge_ues_and_only_those() -> None:
    m = two_cells()
    rows = np.arange(m.n_ues)
    other = 1 - m.serving
    margin = m.rsrp_dbm[rows, m.serving] - m.rsrp_dbm[rows, other]
    source = 0
    on_source = m.serving == source
    # Ocn(0 -> 1) = +8 dB: A3 fires where RSRP1 + 8 > RSRP0 + 3 + 1, i.e. margin < 4 dB.
    assert isinstance(m.set_cell_offset(m.cells[0].nr_cgi, m.cells[1].nr_cgi, 8), ControlAck)
    edge = on_source & (margin < 3.0)
    core = on_source & (margin > 5.0)
    assert edge.any() and core.any()
    m.run(0.5)  # static UEs: margins unchanged
    assert (m.serving[edge] == 1).all()
    assert (m.serving[core] == 0).all()
    assert m.cell_offset(0, 1) == 8 and m.cell_offset(1, 0) == 0


def test_bad_offsets_are_refused_with_a_cause_and_change_nothing() -> None:
    m = two_cells()
    a, b = m.cells[0].nr_cgi, m.cells[1].nr_cgi
    cases = [
        (m.set_cell_offset(a, b, 7), ControlFailureCause.ILLEGAL_OFFSET),  # not a Q-OffsetRange value
        (m.set_cell_offset(a, b, 26), ControlFailureCause.ILLEGAL_OFFSET),
        (m.set_cell_offset(a, b, 2.5), ControlFailureCause.ILLEGAL_OFFSET),
        (m.set_cell_offset(a, b, "6"), ControlFailureCause.ILLEGAL_OFFSET),  # type: ignore[arg-type]
        (m.set_cell_offset(a, a, 2), ControlFailureCause.ILLEGAL_OFFSET),
        (m.set_cell_offset(a, NrCgi("00101", 12345), 2), ControlFailureCause.UNKNOWN_CELL),
        (m.set_cell_offset(NrCgi("99999", a.nr_cell_id), b, 2), ControlFailureCause.UNKNOWN_CELL),
    ]
    for result, cause in cases:
        assert isinstance(result, ControlFailure) and result.cause == cause, (cause, result)
        assert result.reason
    assert not m.handover.cio_db.any()
    m.run(0.2)  # and the model keeps running
