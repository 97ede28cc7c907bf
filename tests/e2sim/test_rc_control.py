"""RC control bytes (real E2SM-RC APER) applied to the model: acks, and failures with causes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from e2sim.ran.model import ControlAck, ControlFailure, ControlFailureCause, RanModel
from e2sim.rc_control import apply_control, ue_identity, ue_index
from e2sim.scenario import parse_scenario
from ricproto.e2sm import rc
from ricproto.e2sm.identities import NrCgi as RcNrCgi
from ricproto.e2sm.identities import SNssai, plmn_from_digits
from ricproto.e2sm.ueid import UeIdGnbDu
from ricproto.ran_space import SliceQuota, Snssai

_spec = importlib.util.spec_from_file_location("scenario_docs", Path(__file__).with_name("scenario_docs.py"))
docs = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(docs)  # type: ignore[union-attr]

PLMN = plmn_from_digits("00101")


@pytest.fixture
def model() -> RanModel:
    d = docs.doc(topology={"sites": 2, "sectors": 3, "isd_m": 300, "bandwidth_mhz": 20, "scs_khz": 30})
    m = RanModel(parse_scenario(d))
    m.run(0.2)
    return m


def handover_bytes(ue: int, plmn: bytes, nr_cell_id: int) -> tuple[bytes, bytes]:
    return rc.HandoverControl(ue_identity(ue, "00101"), RcNrCgi(plmn, nr_cell_id)).encode()


def quota_bytes(
    sst: int,
    sd: int | None,
    mn: int,
    mx: int,
    ded: int,
    plmn: bytes = PLMN,
    numbering: rc.SliceQuotaNumbering = rc.SliceQuotaNumbering.NEWER,
) -> tuple[bytes, bytes]:
    control = rc.SliceQuotaControl.single(UeIdGnbDu(1), plmn, SNssai(sst, sd), mn, mx, ded)
    if numbering is not rc.SliceQuotaNumbering.NEWER:
        control = rc.SliceQuotaControl(control.ue_id, control.rrm_policy_ratio_list, numbering)
    return control.encode()


def test_ue_identity_round_trip() -> None:
    assert ue_index(ue_identity(41, "00101")) == 41
    assert ue_index(UeIdGnbDu(7)) == 6


def test_handover_command_executes(model: RanModel) -> None:
    ue = 0
    source = int(model.serving[ue])
    node = next(n for n in model.nodes if source in n.cell_indices)
    target = next(c for c in model.cells if c.index != source)
    result = apply_control(model, node, *handover_bytes(ue, PLMN, target.nr_cgi.nr_cell_id))
    assert isinstance(result, ControlAck), result
    model.run(0.06)
    assert model.serving[ue] == target.index


def test_handover_failures(model: RanModel) -> None:
    ue = 0
    source = int(model.serving[ue])
    node = next(n for n in model.nodes if source in n.cell_indices)
    other_node = next(n for n in model.nodes if source not in n.cell_indices)
    target = next(c for c in model.cells if c.index != source).nr_cgi.nr_cell_id
    cases = [
        (node, handover_bytes(ue, PLMN, 0x123456789), ControlFailureCause.UNKNOWN_CELL),
        (node, handover_bytes(ue, plmn_from_digits("99970"), target), ControlFailureCause.UNKNOWN_CELL),
        (node, handover_bytes(10_000, PLMN, target), ControlFailureCause.UNKNOWN_UE),
        (other_node, handover_bytes(ue, PLMN, target), ControlFailureCause.UNKNOWN_UE),
        (
            node,
            handover_bytes(ue, PLMN, model.cells[source].nr_cgi.nr_cell_id),
            ControlFailureCause.ALREADY_SERVING,
        ),
        (node, (b"\xff\x00", b"\x01"), ControlFailureCause.MALFORMED),
        (node, (b"", b""), ControlFailureCause.MALFORMED),
    ]
    for n, (header, message), cause in cases:
        result = apply_control(model, n, header, message)
        assert isinstance(result, ControlFailure) and result.cause == cause, (cause, result)
    model.run(0.2)
    assert model.serving[ue] == source


@pytest.mark.parametrize("numbering", list(rc.SliceQuotaNumbering))
def test_slice_quota_applies_to_every_cell_of_the_node(
    model: RanModel, numbering: rc.SliceQuotaNumbering
) -> None:
    node = model.nodes[1]
    result = apply_control(model, node, *quota_bytes(1, 1, 10, 30, 5, numbering=numbering))
    assert isinstance(result, ControlAck), result
    for cell in node.cell_indices:
        assert model.slice_quotas(cell)[0] == SliceQuota(10, 30, 5)
    for cell in model.nodes[0].cell_indices:
        assert model.slice_quotas(cell)[0] == SliceQuota(40, 100, 0)


def test_slice_quota_failures_change_nothing(model: RanModel) -> None:
    node = model.nodes[0]
    before = [model.slice_quotas(c) for c in range(model.n_cells)]
    cases = [
        (quota_bytes(1, 1, 90, 100, 0), ControlFailureCause.ILLEGAL_QUOTA),  # mins would sum to 110
        (quota_bytes(1, 1, 50, 40, 0), ControlFailureCause.ILLEGAL_QUOTA),  # min > max
        (quota_bytes(2, None, 20, 60, 30), ControlFailureCause.ILLEGAL_QUOTA),  # dedicated > min
        (quota_bytes(9, None, 0, 10, 0), ControlFailureCause.UNKNOWN_SLICE),
        (quota_bytes(1, 1, 10, 30, 0, plmn=plmn_from_digits("99970")), ControlFailureCause.UNKNOWN_SLICE),
    ]
    for (header, message), cause in cases:
        result = apply_control(model, node, header, message)
        assert isinstance(result, ControlFailure) and result.cause == cause, (cause, result)
    assert [model.slice_quotas(c) for c in range(model.n_cells)] == before
    assert Snssai(2) in model.slices  # the URLLC slice exists without SD in this scenario


def test_unsupported_style_is_named(model: RanModel) -> None:
    header = rc.encode_control_header(rc.ControlHeaderFormat1(ue_identity(0, "00101"), 1, 1))
    _, message = handover_bytes(0, PLMN, 1)
    result = apply_control(model, model.nodes[0], header, message)
    assert isinstance(result, ControlFailure) and result.cause == ControlFailureCause.UNSUPPORTED
    assert "style 1 action 1" in result.reason


def offset_bytes(source: int, offsets: list[tuple[int, int]], plmn: bytes = PLMN) -> tuple[bytes, bytes]:
    """A cell individual offset control: source NR cell id, [(neighbour NR cell id, dB), ...]."""
    return rc.CellOffsetControl(
        UeIdGnbDu(0),
        RcNrCgi(plmn, source),
        tuple(rc.NeighbourOffset(RcNrCgi(plmn, n), db) for n, db in offsets),
    ).encode()


def test_cell_offsets_apply_to_the_source_cell_of_the_node(model: RanModel) -> None:
    node = model.nodes[0]
    source = model.cells[node.cell_indices[1]]
    a, b = model.cells[3], model.cells[0]  # a cell of the other node, and a co-sited one
    result = apply_control(
        model,
        node,
        *offset_bytes(source.nr_cgi.nr_cell_id, [(a.nr_cgi.nr_cell_id, 6), (b.nr_cgi.nr_cell_id, -4)]),
    )
    assert isinstance(result, ControlAck), result
    assert model.cell_offset(source.index, a.index) == 6 and model.cell_offset(source.index, b.index) == -4
    assert model.cell_offset(a.index, source.index) == 0  # the other side is the other node's to set
    model.run(0.2)


def test_cell_offset_failures_name_the_cause_and_change_nothing(model: RanModel) -> None:
    node, other = model.nodes[0], model.nodes[1]
    mine = model.cells[node.cell_indices[0]].nr_cgi.nr_cell_id
    theirs = model.cells[other.cell_indices[0]].nr_cgi.nr_cell_id
    cases = [
        (offset_bytes(theirs, [(mine, 2)]), ControlFailureCause.UNKNOWN_CELL),  # not this node's cell
        (offset_bytes(mine, [(0x123456789, 2)]), ControlFailureCause.UNKNOWN_CELL),
        (offset_bytes(mine, [(theirs, 2)], plmn=plmn_from_digits("99970")), ControlFailureCause.UNKNOWN_CELL),
        (offset_bytes(mine, [(theirs, 7)]), ControlFailureCause.ILLEGAL_OFFSET),  # not a Q-OffsetRange value
        (offset_bytes(mine, [(theirs, 2), (theirs, 30)]), ControlFailureCause.ILLEGAL_OFFSET),  # all or none
        (offset_bytes(mine, [(mine, 2)]), ControlFailureCause.ILLEGAL_OFFSET),
    ]
    for (header, message), cause in cases:
        result = apply_control(model, node, header, message)
        assert isinstance(result, ControlFailure) and result.cause == cause, (cause, result)
    assert not model.handover.cio_db.any()
