"""E2SM-KPM report styles 1-5, the 28.552 measurements and KPM v2/v3, served by one E2 node.

Each test subscribes with real E2AP/E2SM encodings (`E2Node.handle`), steps the RAN model, lets the
node close its granularity periods (`on_tick`), decodes what it would send with the codecs and checks
the values against the RAN model's own state over the same period.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from e2sim.agent import AgentConfig, E2Node, control_outcome
from e2sim.ran.counters import (
    CELL_MEASUREMENTS,
    UE_COUNTER_MEASUREMENTS,
    UE_MEASUREMENTS,
    UE_RADIO_MEASUREMENTS,
)
from e2sim.ran.model import ControlFailureCause, RanModel
from e2sim.rc_control import ue_identity
from e2sim.scenario import ScenarioError, parse_scenario
from ricproto import e2ap
from ricproto.e2error import E2CodecError
from ricproto.e2sm import kpm, rc
from ricproto.e2sm.identities import NrCgi, SNssai, plmn_from_digits
from ricproto.e2sm.ueid import UeIdGnbDu
from ricproto.kpm_distribution import WB_CQI_DIST

_spec = importlib.util.spec_from_file_location("scenario_docs", Path(__file__).with_name("scenario_docs.py"))
docs = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(docs)  # type: ignore[union-attr]

PLMN = "00101"
PERIOD_MS = 100
STEPS = 5  # 20 ms steps per report


def one_cell_node(kpm_version: int = 3, ues: int = 40) -> tuple[RanModel, E2Node]:
    d = docs.doc(
        topology={"sites": 1, "sectors": 1, "isd_m": 300, "bandwidth_mhz": 20, "scs_khz": 30},
        ues={"count": ues, "buffer_bytes": 500000},
        kpm_version=kpm_version,
    )
    model = RanModel(parse_scenario(d))
    model.run(0.4)  # traffic queued, channel settled
    node = E2Node(model.nodes[0], model, AgentConfig("127.0.0.1", 1))
    node.serve_detached()
    return model, node


def subscribe(
    node: E2Node, actions: list[tuple[int, kpm.ActionDefinition]], version: int = 3, request: int = 1
) -> object:
    trigger = kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(PERIOD_MS), version)
    items = [
        e2ap.RICactionToBeSetupItem(
            action_id, e2ap.RICactionType.report, kpm.encode_action_definition(definition, version)
        )
        for action_id, definition in actions
    ]
    return node.handle(
        e2ap.RICsubscriptionRequest(
            e2ap.RICrequestID(100, request), kpm.RAN_FUNCTION_ID, e2ap.RICsubscriptionDetails(trigger, items)
        )
    )


def run_one_report(model: RanModel, node: E2Node, version: int = 3) -> dict[int, kpm.IndicationMessage]:
    """Step one reporting period; {action id: decoded indication message}."""
    for _ in range(STEPS):
        model.step()
        node.on_tick(model.now_s)
    out = {}
    for pdu in node.take_sent():
        ind = e2ap.decode(pdu)
        assert isinstance(ind, e2ap.RICindication)
        header = kpm.decode_indication_header(ind.ricIndicationHeader, version)
        assert len(header.collet_start_time) == (8 if version == 3 else 4)
        out[ind.ricActionID] = kpm.decode_indication_message(ind.ricIndicationMessage, version)
    return out


def info(names: list[str], granul_ms: int = PERIOD_MS) -> kpm.ActionDefinitionFormat1:
    return kpm.ActionDefinitionFormat1(tuple(kpm.MeasurementInfoItem(n) for n in names), granul_ms)


def test_ran_function_definition_lists_styles_1_to_5_and_the_measurements() -> None:
    _, node = one_cell_node()
    setup = node.setup_request()
    item = next(f for f in setup.ranFunctionsAdded if f.ranFunctionID == kpm.RAN_FUNCTION_ID)
    assert item.ranFunctionOID == kpm.OID
    desc = kpm.decode_ran_function_description(item.ranFunctionDefinition)
    styles = {s.ric_report_style_type: s for s in desc.ric_report_style_list}
    assert sorted(styles) == [1, 2, 3, 4, 5]
    assert all(s.ric_action_format_type == n for n, s in styles.items())
    assert [styles[n].ric_indication_message_format_type for n in range(1, 6)] == [1, 1, 2, 3, 3]
    offered_cell = desc.measurement_names(1)
    for name in (
        "DRB.UEThpDl",
        "DRB.UEThpUl",
        "RRU.PrbUsedUl",
        "RRU.PrbTotUl",
        "RRU.PrbAvailUl",
        "RRC.ConnMax",
        "DRB.RlcDelayUl",
        "DRB.PdcpSduVolumeUL",
        WB_CQI_DIST,
    ):
        assert name in offered_cell
    for style in (2, 3, 4, 5):
        offered_ue = desc.measurement_names(style)
        for name in ("L1M.SS-RSRQ", "L1M.UL-SRS-RSRP", "L1M.UL-SINR", "DRB.RlcDelayUl", "RRU.PrbUsedUl"):
            assert name in offered_ue


def test_style_1_new_cell_measurements_match_the_model() -> None:
    model, node = one_cell_node()
    names = ["DRB.RlcDelayUl", "DRB.PdcpSduVolumeDL", "DRB.PdcpSduVolumeUL", "RRU.PrbTot", "RRU.PrbUsedUl"]
    resp = subscribe(node, [(1, kpm.ActionDefinition(1, info(names)))])
    assert isinstance(resp, e2ap.RICsubscriptionResponse) and resp.ricActionsAdmitted == [1]
    period = model.start_period()
    msg = run_one_report(model, node)[1]
    assert isinstance(msg, kpm.IndicationMessageFormat1)
    cell, _ = model.cell_table(period)
    got = msg.values_by_type()
    for name in names:
        assert got[name] == [pytest.approx(float(cell[name][0]), rel=1e-9)]
    assert got["DRB.RlcDelayUl"][0] > 0  # UL buffers queue in this scenario
    assert got["DRB.PdcpSduVolumeUL"][0] == pytest.approx(
        model.cell_table(period)[0]["DRB.RlcSduTransmittedVolumeUL"][0] / 1e3
    )


def test_style_1_wideband_cqi_distribution_per_cell_and_per_slice() -> None:
    model, node = one_cell_node()
    cell_bins = tuple(kpm.MeasurementLabel(dist_bin_x=b) for b in range(1, 17))
    embb_bins = tuple(kpm.MeasurementLabel(slice_id=SNssai(1, 1), dist_bin_x=b) for b in range(1, 17))
    fmt = kpm.ActionDefinitionFormat1(
        (kpm.MeasurementInfoItem(WB_CQI_DIST, cell_bins), kpm.MeasurementInfoItem(WB_CQI_DIST, embb_bins)),
        PERIOD_MS,
    )
    bad = kpm.ActionDefinitionFormat1(
        (kpm.MeasurementInfoItem(WB_CQI_DIST, (kpm.MeasurementLabel(dist_bin_x=17),)),), PERIOD_MS
    )
    resp = subscribe(node, [(1, kpm.ActionDefinition(1, fmt)), (2, kpm.ActionDefinition(1, bad))])
    assert resp.ricActionsAdmitted == [1] and [a.ricActionID for a in resp.ricActionsNotAdmitted] == [2]
    msg = run_one_report(model, node)[1]
    values = msg.values_by_label()
    cell_counts = [values[(WB_CQI_DIST, label)][0] for label in cell_bins]
    embb_counts = [values[(WB_CQI_DIST, label)][0] for label in embb_bins]
    expected = np.bincount(model.cqi.astype(int), minlength=16)
    assert cell_counts == expected.tolist()
    embb = model.slices.index(model.slices[0])
    assert embb_counts == np.bincount(model.cqi[model.ue_slice == embb].astype(int), minlength=16).tolist()
    assert all(isinstance(c, int) for c in cell_counts)


def test_style_2_one_ue_reports_its_own_values() -> None:
    model, node = one_cell_node()
    u = 5
    names = list(UE_MEASUREMENTS)
    fmt = kpm.ActionDefinitionFormat2(ue_identity(u, PLMN), info(names))
    unknown = kpm.ActionDefinitionFormat2(ue_identity(999, PLMN), info(["CQI"]))
    resp = subscribe(node, [(1, kpm.ActionDefinition(2, fmt)), (2, kpm.ActionDefinition(2, unknown))])
    assert resp.ricActionsAdmitted == [1] and [a.ricActionID for a in resp.ricActionsNotAdmitted] == [2]
    period = model.start_period()
    for _ in range(STEPS - 1):
        model.step()
        node.on_tick(model.now_s)
    model.step()
    ues = np.array([u])
    expected = {**model.ue_counters(period, ues), **model.ue_radio(ues)}
    node.on_tick(model.now_s)
    ind = e2ap.decode(node.take_sent()[0])
    msg = kpm.decode_indication_message(ind.ricIndicationMessage)
    assert isinstance(msg, kpm.IndicationMessageFormat1)
    got = msg.values_by_type()
    assert list(got) == names
    for name in names:
        want = expected[name][0]
        if name == "CQI":
            assert got[name] == [int(want)]
        else:
            assert got[name] == [pytest.approx(float(want), rel=1e-9, abs=1e-12)]
    assert got["L1M.UL-SRS-RSRP"][0] == pytest.approx(
        got["RSRP"][0] + model.scenario.channel.uplink_sinr_offset_db
    )
    assert got["L1M.SS-RSRQ"][0] == got["RSRQ"][0]
    assert -25 < got["RSRQ"][0] < -3


def test_style_2_ue_served_elsewhere_reports_no_value() -> None:
    d = docs.doc(ues={"count": 40, "buffer_bytes": 500000})  # two one-cell sites: two E2 nodes
    model = RanModel(parse_scenario(d))
    model.run(0.4)
    node = E2Node(model.nodes[0], model, AgentConfig("127.0.0.1", 1))
    node.serve_detached()
    elsewhere = int(np.flatnonzero(~np.isin(model.serving, model.nodes[0].cell_indices))[0])
    cell0 = model.cells[model.nodes[0].cell_indices[0]].nr_cgi
    cgi = NrCgi(plmn_from_digits(cell0.plmn), cell0.nr_cell_id)
    fmt = kpm.ActionDefinitionFormat2(
        ue_identity(elsewhere, PLMN),
        kpm.ActionDefinitionFormat1((kpm.MeasurementInfoItem("CQI"),), PERIOD_MS, cgi),
    )
    assert subscribe(node, [(1, kpm.ActionDefinition(2, fmt))]).ricActionsAdmitted == [1]
    msg = run_one_report(model, node)[1]
    assert msg.meas_data[0].meas_record == (None,) and msg.meas_data[0].incomplete_flag


def test_style_3_aggregates_over_the_ues_matching_each_condition() -> None:
    model, node = one_cell_node()
    rsrp = model.ue_radio(np.arange(model.n_ues), ["L1M.UL-SRS-RSRP"])["L1M.UL-SRS-RSRP"]
    threshold = float(np.median(rsrp))
    weak_ul = kpm.MatchingCondItem(kpm.TestCondInfo("ul-rSRP", "lessthan", ("valueReal", threshold)))
    embb = kpm.MatchingCondItem(kpm.MeasurementLabel(slice_id=SNssai(1, 1)))
    cqi_high = kpm.MatchingCondItem(kpm.TestCondInfo("cQI", "greaterthan", ("valueInt", 20)))  # nobody
    fmt = kpm.ActionDefinitionFormat3(
        (
            kpm.MeasurementCondItem("DRB.UEThpDl", (weak_ul,)),
            kpm.MeasurementCondItem("DRB.RlcSduTransmittedVolumeDL", (embb,)),
            kpm.MeasurementCondItem("RSRP", (weak_ul, embb)),
            kpm.MeasurementCondItem("CQI", (cqi_high,)),
        ),
        PERIOD_MS,
    )
    unsupported = kpm.ActionDefinitionFormat3(
        (kpm.MeasurementCondItem("CQI", (kpm.MatchingCondItem(kpm.TestCondInfo("gBR", "present")),)),),
        PERIOD_MS,
    )
    resp = subscribe(node, [(1, kpm.ActionDefinition(3, fmt)), (2, kpm.ActionDefinition(3, unsupported))])
    assert resp.ricActionsAdmitted == [1] and [a.ricActionID for a in resp.ricActionsNotAdmitted] == [2]
    period = model.start_period()
    for _ in range(STEPS - 1):
        model.step()
        node.on_tick(model.now_s)
    model.step()
    ues = np.arange(model.n_ues)
    counters = model.ue_counters(period, ues)
    radio = model.ue_radio(ues)
    node.on_tick(model.now_s)
    msg = kpm.decode_indication_message(e2ap.decode(node.take_sent()[0]).ricIndicationMessage)
    assert isinstance(msg, kpm.IndicationMessageFormat2)
    weak = radio["L1M.UL-SRS-RSRP"] < threshold
    in_embb = model.ue_slice == 0
    record = msg.meas_data[0].meas_record
    assert record[0] == pytest.approx(float(counters["DRB.UEThpDl"][weak].mean()))
    assert record[1] == pytest.approx(float(counters["DRB.RlcSduTransmittedVolumeDL"][in_embb].sum()))
    assert record[2] == pytest.approx(float(radio["RSRP"][weak & in_embb].mean()))
    assert record[3] is None  # no UE matched
    matched = [c.matching_ueid_list for c in msg.meas_cond_ueid_list]
    assert set(matched[0]) == {ue_identity(int(u), PLMN) for u in np.flatnonzero(weak)}
    assert set(matched[2]) == {ue_identity(int(u), PLMN) for u in np.flatnonzero(weak & in_embb)}
    assert matched[3] == ()
    assert msg.meas_cond_ueid_list[0].matching_cond == (weak_ul,)  # conditions echoed


def test_style_4_conditions_on_rsrq_and_ul_rsrp_with_or() -> None:
    model, node = one_cell_node()
    ues = np.arange(model.n_ues)
    radio = model.ue_radio(ues)
    rsrq_cut = float(np.percentile(radio["RSRQ"], 30))
    ul_cut = float(np.percentile(radio["L1M.UL-SRS-RSRP"], 80))
    conditions = (
        kpm.MatchingUeCondPerSubItem(
            kpm.TestCondInfo("rSRQ", "lessthan", ("valueReal", rsrq_cut)), logical_or=True
        ),
        kpm.MatchingUeCondPerSubItem(kpm.TestCondInfo("ul-rSRP", "greaterthan", ("valueReal", ul_cut))),
    )
    fmt = kpm.ActionDefinitionFormat4(conditions, info(["RSRQ", "L1M.UL-SRS-RSRP", "RRU.PrbUsedUl"]))
    assert subscribe(node, [(1, kpm.ActionDefinition(4, fmt))]).ricActionsAdmitted == [1]
    for _ in range(STEPS - 1):
        model.step()
        node.on_tick(model.now_s)
    model.step()
    radio = model.ue_radio(ues)
    node.on_tick(model.now_s)
    msg = kpm.decode_indication_message(e2ap.decode(node.take_sent()[0]).ricIndicationMessage)
    assert isinstance(msg, kpm.IndicationMessageFormat3)
    want = (radio["RSRQ"] < rsrq_cut) | (radio["L1M.UL-SRS-RSRP"] > ul_cut)
    assert {r.ue_id for r in msg.ue_meas_report_list} == {
        ue_identity(int(u), PLMN) for u in np.flatnonzero(want)
    }
    assert 0 < want.sum() < model.n_ues
    for r in msg.ue_meas_report_list:
        v = r.meas_report.values_by_type()
        assert v["RSRQ"][0] < rsrq_cut or v["L1M.UL-SRS-RSRP"][0] > ul_cut


def test_style_5_listed_ues_every_ue_measurement() -> None:
    model, node = one_cell_node()
    listed = (ue_identity(2, PLMN), ue_identity(9, PLMN))
    fmt = kpm.ActionDefinitionFormat5(listed, info(list(UE_MEASUREMENTS)))
    assert subscribe(node, [(1, kpm.ActionDefinition(5, fmt))]).ricActionsAdmitted == [1]
    msg = run_one_report(model, node)[1]
    assert isinstance(msg, kpm.IndicationMessageFormat3)
    by_ue = msg.values_by_ue()
    assert set(by_ue) == set(listed)
    for values in by_ue.values():
        assert set(values) == set(UE_MEASUREMENTS)
        assert values["L1M.UL-SINR"][0] == pytest.approx(
            values["L1M.SS-SINR"][0] + model.scenario.channel.uplink_sinr_offset_db
        )


def test_style_and_format_must_agree() -> None:
    _, node = one_cell_node()
    wrong = kpm.ActionDefinition(2, info(["DRB.UEThpDl"]))  # style 2 with format 1
    resp = subscribe(node, [(1, wrong)])
    assert isinstance(resp, e2ap.RICsubscriptionFailure)


def test_kpm_v2_node_offers_styles_1_to_3_and_reports_in_v2() -> None:
    model, node = one_cell_node(kpm_version=2)
    item = next(f for f in node.setup_request().ranFunctionsAdded if f.ranFunctionID == kpm.RAN_FUNCTION_ID)
    assert item.ranFunctionOID == kpm.OID_V2 and kpm.version_of(item.ranFunctionOID) == 2
    desc = kpm.decode_ran_function_description(item.ranFunctionDefinition, 2)
    assert [s.ric_report_style_type for s in desc.ric_report_style_list] == [1, 2, 3]
    cond = kpm.MatchingCondItem(kpm.TestCondInfo("rSRP", "greaterthan", ("valueInt", -200)))
    actions = [
        (1, kpm.ActionDefinition(1, info(["DRB.UEThpDl", "RRU.PrbTotDl"]))),
        (
            2,
            kpm.ActionDefinition(2, kpm.ActionDefinitionFormat2(ue_identity(1, PLMN), info(["RSRP", "CQI"]))),
        ),
        (
            3,
            kpm.ActionDefinition(
                3, kpm.ActionDefinitionFormat3((kpm.MeasurementCondItem("DRB.UEThpDl", (cond,)),), PERIOD_MS)
            ),
        ),
    ]
    resp = subscribe(node, actions, version=2)
    assert resp.ricActionsAdmitted == [1, 2, 3]
    got = run_one_report(model, node, version=2)
    assert isinstance(got[1], kpm.IndicationMessageFormat1) and isinstance(
        got[3], kpm.IndicationMessageFormat2
    )
    assert set(got[3].meas_cond_ueid_list[0].matching_ueid_list) == {
        ue_identity(u, PLMN) for u in range(model.n_ues)
    }
    # a v3 encoding of a style-4 action is not v2: refused, the node stays up
    v3_only = kpm.encode_action_definition(
        kpm.ActionDefinition(
            4,
            kpm.ActionDefinitionFormat4(
                (kpm.MatchingUeCondPerSubItem(kpm.TestCondInfo("cQI", "present")),), info(["CQI"])
            ),
        )
    )
    trigger = kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(PERIOD_MS), 2)
    refused = node.handle(
        e2ap.RICsubscriptionRequest(
            e2ap.RICrequestID(100, 9),
            kpm.RAN_FUNCTION_ID,
            e2ap.RICsubscriptionDetails(
                trigger, [e2ap.RICactionToBeSetupItem(1, e2ap.RICactionType.report, v3_only)]
            ),
        )
    )
    assert isinstance(refused, e2ap.RICsubscriptionFailure)


def test_scenario_kpm_version_is_validated() -> None:
    with pytest.raises(ScenarioError, match="kpm_version"):
        parse_scenario(docs.doc(kpm_version=4))


def test_refused_quota_control_carries_the_rule_in_the_outcome() -> None:
    model, node = one_cell_node()
    before = model.slice_quotas(0)
    control = rc.SliceQuotaControl.single(UeIdGnbDu(1), plmn_from_digits(PLMN), SNssai(2), 20, 60, 30)
    header, message = control.encode()  # dedicated 30 > min 20: against 28.541's ordering
    reply = node.handle(
        e2ap.RICcontrolRequest(e2ap.RICrequestID(200, 1), rc.RAN_FUNCTION_ID, header, message)
    )
    assert isinstance(reply, e2ap.RICcontrolFailure)
    assert reply.cause == e2ap.CauseRICrequest.control_message_invalid
    reason = rc.refusal_reason(reply.ricControlOutcome)
    assert reason is not None and reason.startswith("illegal-quota")
    assert "dedicated <= min <= max" in reason
    assert model.slice_quotas(0) == before
    outcome = control_outcome(ControlFailureCause.UNKNOWN_UE, "UE 7 is not served here")
    assert rc.refusal_reason(outcome) == "unknown-ue: UE 7 is not served here"
    assert (
        rc.refusal_reason(rc.encode_control_outcome(rc.ControlOutcomeFormat1((rc.ControlOutcomeItem(5, 1),))))
        is None
    )
    with pytest.raises(E2CodecError):
        rc.refusal_reason(b"\xff\xff")


def test_ue_measurement_lists_are_consistent() -> None:
    assert set(UE_MEASUREMENTS) == set(UE_COUNTER_MEASUREMENTS) | set(UE_RADIO_MEASUREMENTS)
    assert len(set(CELL_MEASUREMENTS)) == len(CELL_MEASUREMENTS)
