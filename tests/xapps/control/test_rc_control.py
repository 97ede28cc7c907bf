"""Actions -> E2AP RICcontrolRequests with E2SM-RC content, addressed to the right E2 node."""

from __future__ import annotations

from kpm_messages import ue_indication

from ricproto import e2ap
from ricproto.e2sm import rc
from ricproto.ran_space import NoOp, OffsetStep, QuotaStep, SteerUes
from xapps.control.ran_view import RanView
from xapps.control.rc_control import ControlBuilder


def test_steer_hands_weakest_ues_to_the_neighbour(inventory):
    view = RanView(inventory)
    src = inventory.cells[1]
    view.ingest(src.meid, e2ap.decode(ue_indication(2, {11: -80.0, 12: -115.0, 13: -100.0, 14: -120.0})))
    reqs = ControlBuilder(view).build(SteerUes(1, 0))
    target_index = inventory.layout.neighbours[1][0]
    assert len(reqs) == inventory.space.steer_count == 3
    assert {r.meid for r in reqs} == {src.meid} and len({r.instance_id for r in reqs}) == 3
    moved = []
    for r in reqs:
        pdu = e2ap.decode(r.payload)
        assert isinstance(pdu, e2ap.RICcontrolRequest) and pdu.ranFunctionID == 3
        assert pdu.ricRequestID.ricInstanceID == r.instance_id
        ho = rc.decode_control(pdu.ricControlHeader, pdu.ricControlMessage)
        assert isinstance(ho, rc.HandoverControl)
        assert ho.target_cell.nr_cell_identity == inventory.cells[target_index].nr_cell_id
        moved.append(ho.ue_id.gnb_cu_ue_f1ap_id)
    assert sorted(moved) == [12, 13, 14]


def test_quota_step_sends_the_stepped_quota(inventory):
    view = RanView(inventory)
    reqs = ControlBuilder(view).build(QuotaStep(0, 1, +1))
    assert len(reqs) == 1 and reqs[0].kind == "slice_quota" and reqs[0].meid == inventory.cells[0].meid
    pdu = e2ap.decode(reqs[0].payload)
    quota = rc.decode_control(pdu.ricControlHeader, pdu.ricControlMessage)
    assert isinstance(quota, rc.SliceQuotaControl)
    group = quota.rrm_policy_ratio_list[0]
    base = inventory.default_quotas[1]
    assert group.min_prb_policy_ratio == base.min_ratio + inventory.space.quota_step
    assert group.members[0].s_nssai.sst == inventory.space.slices[1].sst


def test_noop_and_absent_neighbour_send_nothing(inventory):
    builder = ControlBuilder(RanView(inventory))
    assert builder.build(NoOp()) == []
    assert builder.build(SteerUes(0, 0)) == []  # no UE report yet: nobody to move


def test_a_ue_just_steered_is_not_steered_again_until_the_hold_expires(inventory):
    view = RanView(inventory)
    src = inventory.cells[1]
    ues = {11: -80.0, 12: -115.0, 13: -100.0, 14: -120.0, 15: -90.0}
    view.ingest(src.meid, e2ap.decode(ue_indication(2, ues)))
    builder = ControlBuilder(view, hold_s=0.3)

    def moved(reqs) -> list[int]:
        out = []
        for r in reqs:
            pdu = e2ap.decode(r.payload)
            out.append(rc.decode_control(pdu.ricControlHeader, pdu.ricControlMessage).ue_id.gnb_cu_ue_f1ap_id)
        return sorted(out)

    first = moved(builder.build(SteerUes(1, 0)))
    assert first == [12, 13, 14]
    # The same (stale) report again: only the UEs not yet commanded are candidates.
    assert moved(builder.build(SteerUes(1, 0))) == [11, 15]
    assert builder.build(SteerUes(1, 0)) == []
    import time

    time.sleep(0.35)
    assert moved(builder.build(SteerUes(1, 0))) == first


def test_offset_step_sends_both_sides_of_the_relation_to_their_nodes(inventory):
    view = RanView(inventory)
    builder = ControlBuilder(view)
    i = 1
    j = inventory.layout.neighbours[i][0]
    reqs = builder.build(OffsetStep(i, 0, +1))
    assert [r.kind for r in reqs] == ["cell_offset", "cell_offset"]
    assert [r.meid for r in reqs] == [inventory.cells[i].meid, inventory.cells[j].meid]
    sent = []
    for r in reqs:
        pdu = e2ap.decode(r.payload)
        assert isinstance(pdu, e2ap.RICcontrolRequest) and pdu.ranFunctionID == 3
        control = rc.decode_control(pdu.ricControlHeader, pdu.ricControlMessage)
        assert isinstance(control, rc.CellOffsetControl) and len(control.offsets) == 1
        sent.append(
            (
                control.source_cell.nr_cell_identity,
                control.offsets[0].neighbour_cell.nr_cell_identity,
                control.offsets[0].offset_db,
            )
        )
    step = inventory.space.offset_step_db
    ids = inventory.cells[i].nr_cell_id, inventory.cells[j].nr_cell_id
    assert sent == [(ids[0], ids[1], step), (ids[1], ids[0], -step)]
    assert reqs[0].steer == (i, j) and reqs[1].steer is None  # the shield sees load moving i -> j
    # Nothing is remembered until the nodes acknowledge: the next step starts from the same place.
    assert [r.offset for r in builder.build(OffsetStep(i, 0, +1))] == [r.offset for r in reqs]
    for r in reqs:
        r.remember(view)
    assert view.offsets == {(i, j): step, (j, i): -step}
    again = builder.build(OffsetStep(i, 0, +1))
    assert [r.offset for r in again] == [(i, j, 2 * step), (j, i, -2 * step)]
    back = builder.build(OffsetStep(i, 0, -1))
    assert [r.offset for r in back] == [(i, j, 0), (j, i, 0)]


def test_neighbour_rank_and_cell_index_just_past_the_end_send_nothing(inventory):
    view = RanView(inventory)
    src = inventory.cells[1]
    view.ingest(src.meid, e2ap.decode(ue_indication(2, {11: -80.0, 12: -115.0})))
    builder = ControlBuilder(view)
    last = len(inventory.layout.neighbours[1]) - 1
    assert builder.build(SteerUes(1, last + 1)) == []  # one past the last neighbour: no such relation
    assert builder.build(QuotaStep(len(inventory.cells), 1, +1)) == []  # one past the last cell
    assert len(builder.build(SteerUes(1, last))) == 2  # the last neighbour itself is steered to
    assert builder.build(OffsetStep(1, last + 1, +1)) == []
    assert builder.build(OffsetStep(len(inventory.cells), 0, +1)) == []
    assert len(builder.build(OffsetStep(1, last, +1))) == 2  # both sides of the last relation
