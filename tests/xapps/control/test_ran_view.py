"""KPM indications -> the shared observation, and the subscription layout that makes that possible."""

from __future__ import annotations

import numpy as np
import pytest
from kpm_messages import cell_indication, ue_indication

from ricproto import e2ap
from ricproto.e2error import E2CodecError
from ricproto.e2sm import kpm
from ricproto.e2sm.identities import SNssai
from ricproto.ran_space import CellKpm
from xapps.control.ran_view import RanView, latest_value_of_type, latest_values
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
    assert state.ues == () and view.pending_ue_reports == {0}  # kept, decoded when needed
    assert view.decode_ue_report(0) is True
    assert sorted(u.ue_id for u in state.ues) == [5, 6]
    assert {u.rsrp_dbm for u in state.ues} == {-90.0, -110.0}
    assert view.pending_ue_reports == set() and view.decode_ue_report(0) is False


def test_only_the_latest_ue_report_is_decoded_and_a_bad_one_keeps_the_previous_ues(inventory):
    view = RanView(inventory)
    cell = inventory.cells[0]
    ue_action = 2 * cell.position + 2
    view.ingest(cell.meid, e2ap.decode(ue_indication(ue_action, {5: -90.0})))
    view.ingest(cell.meid, e2ap.decode(ue_indication(ue_action, {7: -95.0, 8: -99.0})))
    view.decode_ue_reports()
    assert sorted(u.ue_id for u in view.cells[0].ues) == [7, 8]
    # a format-1 message where the UE action must report format 3
    wrong = e2ap.decode(cell_indication(ue_action, 60.0, 5000.0, 20.0, inventory.space.slices))
    view.ingest(cell.meid, wrong)
    with pytest.raises(E2CodecError, match="format 3"):
        view.decode_ue_report(0)
    assert sorted(u.ue_id for u in view.cells[0].ues) == [7, 8]
    assert view.pending_ue_reports == set()


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


def _f1(records, infos):
    return kpm.IndicationMessageFormat1(
        tuple(kpm.MeasurementDataItem(tuple(r)) for r in records), tuple(infos), 100
    )


def test_latest_values_are_the_last_granule_of_values_by_label():
    sl = kpm.MeasurementLabel(slice_id=SNssai(1, 1))
    infos = [
        kpm.MeasurementInfoItem("RRU.PrbTotDl", (kpm.NO_LABEL,)),
        kpm.MeasurementInfoItem("RRU.PrbUsedDl", (sl, kpm.MeasurementLabel(slice_id=SNssai(2, 2)))),
    ]
    message = _f1([(1, 2.5, None), (3, None, 4.0), (5, 6.5, 7.0)], infos)
    expected = [(key, values[-1]) for key, values in message.values_by_label().items()]
    assert latest_values(message) == expected == [
        (("RRU.PrbTotDl", kpm.NO_LABEL), 5),
        (("RRU.PrbUsedDl", sl), 6.5),
        (("RRU.PrbUsedDl", kpm.MeasurementLabel(slice_id=SNssai(2, 2))), 7.0),
    ]
    assert latest_values(_f1([], infos)) == []
    with pytest.raises(E2CodecError, match="measData\\[1\\]"):
        latest_values(_f1([(1, 2.0, 3.0), (1, 2.0)], infos))
    with pytest.raises(E2CodecError, match="twice"):
        latest_values(_f1([(1, 2.0)], [infos[0], infos[0]]))


def test_latest_value_of_type_matches_values_by_type():
    infos = [kpm.MeasurementInfoItem(name, (kpm.NO_LABEL,)) for name in ("RSRP", "CQI")]
    message = _f1([(-100.0, 3), (-95.5, 9)], infos)
    assert latest_value_of_type(message, "RSRP") == message.values_by_type()["RSRP"][-1] == -95.5
    assert latest_value_of_type(message, "CQI") == 9
    assert latest_value_of_type(message, "SINR") is None
    two_labels = kpm.MeasurementInfoItem("RSRP", (kpm.NO_LABEL, kpm.MeasurementLabel(slice_id=SNssai(1, 1))))
    with pytest.raises(E2CodecError, match="several labels"):
        latest_value_of_type(_f1([(1.0, 2.0)], [two_labels]), "RSRP")
    with pytest.raises(E2CodecError, match="twice"):
        latest_value_of_type(_f1([(1.0, 2.0)], [infos[0], infos[0]]), "RSRP")


def test_distribution_reports_become_the_objective_columns(inventory):
    from ricproto.kpm_distribution import DELAY_DL_DIST, UE_THP_DL_DIST, n_bins

    view = RanView(inventory)
    cell = inventory.cells[1]
    embb, urllc = inventory.space.embb_slices[0], inventory.space.urllc_slices[0]
    thp_counts = [0] * n_bins(UE_THP_DL_DIST)
    thp_counts[2], thp_counts[9] = 1, 9  # one UE at 100-200 kbit/s, nine at 2-3 Mbit/s
    delay_counts = [0] * n_bins(DELAY_DL_DIST)
    delay_counts[0], delay_counts[6] = 3, 1  # three UEs under 1 ms, one at 50-100 ms
    values: dict = {"RRU.PrbTotDl": 80.0, "DRB.UEThpDl": 2500.0, "RRC.ConnMean": 14.0, "RRU.PrbAvailDl": 51.0}
    for name, s, counts in ((UE_THP_DL_DIST, embb, thp_counts), (DELAY_DL_DIST, urllc, delay_counts)):
        for b, count in enumerate(counts, start=1):
            values[(name, kpm.MeasurementLabel(slice_id=SNssai(s.sst, s.sd), dist_bin_x=b))] = count
    from kpm_messages import indication

    report = indication(2 * cell.position + 1, kpm.cell_report(values, 100))
    view.ingest(cell.meid, e2ap.decode(report), now=3.0)
    kpm_state = view.cells[1].kpm
    assert kpm_state is not None
    assert list(kpm_state.slice_ue_thp_dl_dist[embb]) == thp_counts
    assert list(kpm_state.slice_delay_dl_dist[urllc]) == delay_counts
    rows = view.observation(since=0.0).reshape(inventory.space.max_cells, inventory.space.n_features)
    obj = inventory.space.objective_column
    assert rows[1, obj] == pytest.approx(10 / inventory.space.conn_ref)
    assert 0 < rows[1, obj + 1] < rows[1, 2]  # p5 below the mean throughput feature
    assert rows[1, obj + 3] == pytest.approx(0.25)  # one of four URLLC samples over 10 ms


def test_the_subscription_asks_for_the_distributions_by_slice_and_bin(inventory):
    from ricproto.kpm_distribution import DELAY_DL_DIST, UE_THP_DL_DIST, n_bins

    meid = inventory.cells[0].meid
    _, definition = inventory.action_definitions(meid)[0]
    fmt = kpm.decode_action_definition(definition).action_definition_format
    infos = {i.meas_type: i.label_info_list for i in fmt.meas_info_list}
    assert len(infos[UE_THP_DL_DIST]) == n_bins(UE_THP_DL_DIST) * len(inventory.space.embb_slices)
    assert len(infos[DELAY_DL_DIST]) == n_bins(DELAY_DL_DIST) * len(inventory.space.urllc_slices)
    assert {label.dist_bin_x for label in infos[DELAY_DL_DIST]} == set(range(1, n_bins(DELAY_DL_DIST) + 1))


def test_inventory_cells_are_immutable_values(inventory):
    import dataclasses

    cell = inventory.cells[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cell.meid = "elsewhere"  # type: ignore[misc]
    assert {cell: 1}[dataclasses.replace(cell)] == 1  # hashable, equal by value
