"""KPM indications -> the shared observation, and the subscription layout that makes that possible."""

from __future__ import annotations

import numpy as np
import pytest
from kpm_messages import cell_indication, ue_indication

from ricproto import e2ap
from ricproto.e2error import E2CodecError
from ricproto.e2sm import kpm
from ricproto.ran_space import CellKpm
from xapps.control.ran_view import RanView
from xapps.control.subscription_request import kpm_subscription


def test_cell_report_becomes_the_ran_space_row(inventory):
    view = RanView(inventory)
    cell = inventory.cells[2]
    ind = e2ap.decode(cell_indication(2 * cell.position + 1, 60.0, 5000.0, 20.0, inventory.space.slices))
    entry = view.ingest(cell.meid, ind, now=10.0)
    assert entry == cell
    obs = view.observation(since=5.0)
    expected_cells = [None] * len(inventory.cells)
    per_slice = {s: {"RRU.PrbUsedDl": 10.0, "DRB.UEThpDl": 1000.0} for s in inventory.space.slices}
    expected_cells[2] = CellKpm.from_measurements(
        {"RRU.PrbTotDl": 60.0, "DRB.UEThpDl": 5000.0, "RRC.ConnMean": 20.0, "RRU.PrbAvailDl": 100.0},
        per_slice,
    )
    assert np.allclose(obs, inventory.space.observation(expected_cells))
    assert view.observation(since=11.0).sum() == 0  # reported before the round: absent


def test_ue_report_gives_steering_candidates(inventory):
    view = RanView(inventory)
    cell = inventory.cells[0]
    view.ingest(cell.meid, e2ap.decode(ue_indication(2 * cell.position + 2, {5: -90.0, 6: -110.0})))
    state = view.cells[0]
    assert sorted(u.ue_id for u in state.ues) == [5, 6]
    assert {u.rsrp_dbm for u in state.ues} == {-90.0, -110.0}


def test_unknown_action_or_wrong_format_is_a_codec_error(inventory):
    view = RanView(inventory)
    cell = inventory.cells[0]
    with pytest.raises(E2CodecError, match="ricActionID"):
        view.ingest(cell.meid, e2ap.decode(ue_indication(9, {1: -90.0})))
    with pytest.raises(E2CodecError, match="format 1"):
        view.ingest(cell.meid, e2ap.decode(ue_indication(1, {1: -90.0})))


def test_subscription_body_has_one_cell_and_one_ue_action_per_cell(inventory):
    meid = inventory.cells[0].meid
    params = kpm_subscription(inventory, meid, "service-ricxapp-x-http.ricxapp", 8080, 4560)
    body = params.model_dump(exclude_none=True)
    assert body["RANFunctionID"] == 2 and body["Meid"] == meid
    assert params.ClientEndpoint.rmr_endpoint() == "service-ricxapp-x-rmr.ricxapp:4560"
    detail = params.SubscriptionDetails[0]
    trigger = kpm.decode_event_trigger_definition(bytes(detail.EventTriggers))
    assert trigger.reporting_period == inventory.report_period_ms
    ids = [a.ActionID for a in detail.ActionToBeSetupList]
    assert ids == [1, 2]  # one cell per node in this scenario
    cell_def = kpm.decode_action_definition(bytes(detail.ActionToBeSetupList[0].ActionDefinition))
    fmt = cell_def.action_definition_format
    assert isinstance(fmt, kpm.ActionDefinitionFormat1)
    assert fmt.cell_global_id.nr_cell_identity == inventory.cells[0].nr_cell_id
    ue_def = kpm.decode_action_definition(bytes(detail.ActionToBeSetupList[1].ActionDefinition))
    assert ue_def.ric_style_type == 4
