"""E2 agent end to end against a test E2 termination built from the E2AP/E2SM codecs (real TCP)."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import time
from pathlib import Path

import pytest

from e2sim import agent as agent_module
from e2sim.agent import AgentConfig, E2Agent
from e2sim.ran.model import RanModel
from e2sim.rc_control import ue_identity
from e2sim.scenario import load_scenario, parse_scenario
from ricproto import e2ap
from ricproto.e2sm import kpm, rc
from ricproto.e2sm.identities import NrCgi as E2smNrCgi
from ricproto.e2sm.identities import SNssai, plmn_from_digits
from ricproto.e2sm.ueid import UeIdGnbDu
from ricproto.e2transport import E2Connection, E2ConnectionClosed, E2TransportError, serve

_spec = importlib.util.spec_from_file_location("scenario_docs", Path(__file__).with_name("scenario_docs.py"))
docs = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(docs)  # type: ignore[union-attr]

PLMN = plmn_from_digits("00101")
TIMEOUT = 10.0


class E2TermStandIn:
    """Accepts E2 setups (optionally failing the first ones with a TimeToWait) and queues the rest."""

    def __init__(self, fail_first_setups: int = 0) -> None:
        self.fail_first_setups = fail_first_setups
        self.setup_requests: list[tuple[float, e2ap.E2setupRequest]] = []
        self.nodes: dict[int, E2Connection] = {}  # gNB id -> connection
        self.inbox: dict[int, asyncio.Queue] = {}
        self.setup_done: asyncio.Queue = asyncio.Queue()

    async def start(self) -> int:
        self.server = await serve(self._handle, "127.0.0.1", 0, "tcp")
        return self.server.port

    async def _handle(self, conn: E2Connection) -> None:
        gnb = -1
        while True:
            try:
                msg = e2ap.decode(await conn.recv_pdu())
            except (E2ConnectionClosed, E2TransportError):
                return
            if isinstance(msg, e2ap.E2setupRequest):
                self.setup_requests.append((time.monotonic(), msg))
                gnb = msg.globalE2nodeID.global_gNB_ID.gnb_id.value
                if self.fail_first_setups > 0:
                    self.fail_first_setups -= 1
                    reply = e2ap.E2setupFailure(
                        msg.transactionID, e2ap.CauseMisc.om_intervention, e2ap.TimeToWait.v1s
                    )
                    await conn.send_pdu(e2ap.encode(reply))
                    continue
                acks = [
                    e2ap.E2nodeComponentConfigAckItem(c.e2nodeComponentInterfaceType, c.e2nodeComponentID)
                    for c in msg.e2nodeComponentConfigAddition
                ]
                reply = e2ap.E2setupResponse(
                    msg.transactionID,
                    e2ap.GlobalRICID(PLMN, 1),
                    acks,
                    [
                        e2ap.RANfunctionIDItem(f.ranFunctionID, f.ranFunctionRevision)
                        for f in msg.ranFunctionsAdded
                    ],
                )
                self.nodes[gnb] = conn
                self.inbox.setdefault(gnb, asyncio.Queue())
                await conn.send_pdu(e2ap.encode(reply))
                self.setup_done.put_nowait(gnb)
            else:
                self.inbox.setdefault(gnb, asyncio.Queue()).put_nowait(msg)

    async def send(self, gnb: int, msg: object) -> None:
        await self.nodes[gnb].send_pdu(e2ap.encode(msg), 1)

    async def expect(self, gnb: int, kind: type, skip: tuple[type, ...] = (e2ap.RICindication,)) -> object:
        """The next message of ``kind`` from a node, skipping kinds in ``skip``."""
        while True:
            msg = await asyncio.wait_for(self.inbox[gnb].get(), TIMEOUT)
            if isinstance(msg, kind):
                return msg
            assert isinstance(msg, skip), f"unexpected {msg!r}"


def kpm_subscription(
    request: int, period_ms: int, actions: list[e2ap.RICactionToBeSetupItem]
) -> e2ap.RICsubscriptionRequest:
    trigger = kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(period_ms))
    return e2ap.RICsubscriptionRequest(
        e2ap.RICrequestID(100, request), kpm.RAN_FUNCTION_ID, e2ap.RICsubscriptionDetails(trigger, actions)
    )


def report_action(
    action_id: int,
    names: list[str],
    granul_ms: int,
    cell: E2smNrCgi | None,
    sliced: dict[str, tuple[kpm.MeasurementLabel, ...]] | None = None,
) -> e2ap.RICactionToBeSetupItem:
    """A style-1 REPORT action; ``sliced`` gives some names their own label lists."""
    items = [kpm.MeasurementInfoItem(n) for n in names]
    items += [kpm.MeasurementInfoItem(n, labels) for n, labels in (sliced or {}).items()]
    fmt = kpm.ActionDefinitionFormat1(tuple(items), granul_ms, cell)
    definition = kpm.encode_action_definition(kpm.ActionDefinition(1, fmt))
    return e2ap.RICactionToBeSetupItem(action_id, e2ap.RICactionType.report, definition)


def control(
    request: int, header_message: tuple[bytes, bytes], function: int = rc.RAN_FUNCTION_ID
) -> e2ap.RICcontrolRequest:
    header, message = header_message
    return e2ap.RICcontrolRequest(e2ap.RICrequestID(200, request), function, header, message)


def bad_input(reason: str) -> float:
    return agent_module.BAD_INPUT.labels(reason=reason)._value.get()


def test_setup_subscription_indications_control_and_delete() -> None:
    model = RanModel(load_scenario("small"))

    async def scenario() -> None:
        e2t = E2TermStandIn()
        port = await e2t.start()
        agent = E2Agent(model, AgentConfig("127.0.0.1", port, "tcp", speed=20.0))
        runner = asyncio.create_task(agent.run())
        try:
            ready = {await asyncio.wait_for(e2t.setup_done.get(), TIMEOUT) for _ in range(7)}
            assert ready == {n.gnb_id for n in model.nodes}
            _, setup = e2t.setup_requests[0]
            assert {f.ranFunctionID: f.ranFunctionOID for f in setup.ranFunctionsAdded} == {
                2: kpm.OID,
                3: rc.OID,
            }
            kpm_def = kpm.decode_ran_function_description(setup.ranFunctionsAdded[0].ranFunctionDefinition)
            assert {"DRB.UEThpDl", "RRU.PrbTotDl", "RRC.ConnMean"} <= set(kpm_def.measurement_names(1))
            rc.decode_ran_function_definition(setup.ranFunctionsAdded[1].ranFunctionDefinition)

            node = model.nodes[0]
            gnb = node.gnb_id
            cell = model.cells[node.cell_indices[0]]
            cgi = E2smNrCgi(PLMN, cell.nr_cgi.nr_cell_id)
            names = ["DRB.UEThpDl", "RRU.PrbTotDl", "RRC.ConnMean"]
            bad_cell = E2smNrCgi(PLMN, model.cells[3].nr_cgi.nr_cell_id)  # served by another node
            insert = e2ap.RICactionToBeSetupItem(4, e2ap.RICactionType.insert, None)
            slices = tuple(kpm.MeasurementLabel(slice_id=SNssai(s, s)) for s in (1, 2, 3))
            per_slice = {"RRU.PrbUsedDl": (kpm.NO_LABEL, *slices)}
            unknown_slice = {"RRU.PrbUsedDl": (kpm.MeasurementLabel(slice_id=SNssai(9)),)}
            await e2t.send(
                gnb,
                kpm_subscription(
                    1,
                    100,
                    [
                        report_action(1, names, 50, cgi, per_slice),
                        report_action(2, ["No.Such"], 50, cgi),
                        report_action(3, names, 50, bad_cell),
                        insert,
                        report_action(5, [], 50, cgi, unknown_slice),
                    ],
                ),
            )
            resp = await e2t.expect(gnb, e2ap.RICsubscriptionResponse)
            assert resp.ricActionsAdmitted == [1]
            assert sorted(a.ricActionID for a in resp.ricActionsNotAdmitted) == [2, 3, 4, 5]

            indications = []
            while len(indications) < 5:
                msg = await asyncio.wait_for(e2t.inbox[gnb].get(), TIMEOUT)
                if isinstance(msg, e2ap.RICindication):
                    indications.append(msg)
            assert [i.ricIndicationSN for i in indications] == list(
                range(indications[0].ricIndicationSN, indications[0].ricIndicationSN + 5)
            )
            assert all(
                i.ricActionID == 1 and i.ricRequestID == e2ap.RICrequestID(100, 1) for i in indications
            )
            starts = [
                kpm.unix_seconds(kpm.decode_indication_header(i.ricIndicationHeader).collet_start_time)
                for i in indications
            ]
            assert [round(b - a, 3) for a, b in itertools.pairwise(starts)] == [0.1] * 4
            message = kpm.decode_indication_message(indications[-1].ricIndicationMessage)
            assert isinstance(message, kpm.IndicationMessageFormat1) and message.granul_period == 50
            assert len(message.meas_data) == 2  # two 50 ms granules per 100 ms report
            values = message.values_by_label()
            prb = values[("RRU.PrbTotDl", kpm.NO_LABEL)]
            assert all(0.0 <= v <= 100.0 for v in prb)
            conn = values[("RRC.ConnMean", kpm.NO_LABEL)]
            assert all(v == pytest.approx(float((model.serving == cell.index).sum()), abs=3) for v in conn)
            assert len(values) == len(names) + 4  # the labels asked for, no more
            slice_sum = [sum(values[("RRU.PrbUsedDl", label)][k] for label in slices) for k in range(2)]
            assert slice_sum == pytest.approx(values[("RRU.PrbUsedDl", kpm.NO_LABEL)])

            # RC control: a handover of a UE on this node's cell, then refusals with causes.
            ue = int((model.serving == cell.index).nonzero()[0][0])
            target = model.cells[1].nr_cgi.nr_cell_id
            ho = rc.HandoverControl(ue_identity(ue, "00101"), E2smNrCgi(PLMN, target)).encode()
            await e2t.send(gnb, control(1, ho))
            ack = await e2t.expect(gnb, e2ap.RICcontrolAcknowledge)
            assert ack.ricRequestID == e2ap.RICrequestID(200, 1)
            await asyncio.sleep(0.05)  # 1 s of simulated time at 20x, far beyond the 50 ms delay
            # Handed over to cell 1 (and possibly back by A3 after time-to-trigger).
            moved = (int(model.serving[ue]), int(model.handover.previous[ue]))
            assert moved in ((1, cell.index), (cell.index, 1))

            before = bad_input("control-unknown-cell")
            unknown = rc.HandoverControl(ue_identity(ue, "00101"), E2smNrCgi(PLMN, 0xABCDEF)).encode()
            await e2t.send(gnb, control(2, unknown))
            failure = await e2t.expect(gnb, e2ap.RICcontrolFailure)
            assert failure.cause == e2ap.CauseRICrequest.control_message_invalid
            assert bad_input("control-unknown-cell") == before + 1
            await e2t.send(gnb, control(3, (b"\x01\x02", b"\x03")))
            failure = await e2t.expect(gnb, e2ap.RICcontrolFailure)
            assert failure.cause == e2ap.CauseRICrequest.control_message_invalid
            await e2t.send(gnb, control(4, ho, function=kpm.RAN_FUNCTION_ID))
            failure = await e2t.expect(gnb, e2ap.RICcontrolFailure)
            assert failure.cause == e2ap.CauseRICrequest.ran_function_id_invalid

            # Garbage on the wire is counted and dropped; the node keeps reporting.
            before = bad_input("undecodable-pdu")
            await e2t.nodes[gnb].send_pdu(b"\xde\xad\xbe\xef")
            await e2t.expect(gnb, e2ap.RICindication, skip=())
            assert bad_input("undecodable-pdu") == before + 1

            # Subscription delete: answered, indications stop; a second delete is refused.
            delete = e2ap.RICsubscriptionDeleteRequest(e2ap.RICrequestID(100, 1), kpm.RAN_FUNCTION_ID)
            await e2t.send(gnb, delete)
            await e2t.expect(gnb, e2ap.RICsubscriptionDeleteResponse)
            await asyncio.sleep(0.1)
            while not e2t.inbox[gnb].empty():
                assert isinstance(e2t.inbox[gnb].get_nowait(), e2ap.RICindication)  # in flight before delete
            await asyncio.sleep(0.1)
            assert e2t.inbox[gnb].empty()
            await e2t.send(gnb, delete)
            refused = await e2t.expect(gnb, e2ap.RICsubscriptionDeleteFailure)
            assert refused.cause == e2ap.CauseRICrequest.request_id_unknown

            # Refused subscriptions: wrong RAN function; no admissible action.
            wrong = kpm_subscription(2, 100, [report_action(1, names, 50, cgi)])
            wrong.ranFunctionID = rc.RAN_FUNCTION_ID
            await e2t.send(gnb, wrong)
            fail = await e2t.expect(gnb, e2ap.RICsubscriptionFailure)
            assert fail.cause == e2ap.CauseRICrequest.ran_function_id_invalid
            await e2t.send(gnb, kpm_subscription(3, 5, [report_action(1, names, 5, cgi)]))
            fail = await e2t.expect(gnb, e2ap.RICsubscriptionFailure)
            assert fail.cause == e2ap.CauseRICrequest.eventTriggerNotSupported
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await e2t.server.close()

    asyncio.run(scenario())


def test_setup_failure_time_to_wait_and_reconnect() -> None:
    d = docs.doc(topology={"sites": 1, "sectors": 1, "isd_m": 300, "bandwidth_mhz": 20, "scs_khz": 30})
    model = RanModel(parse_scenario(d))

    async def scenario() -> None:
        e2t = E2TermStandIn(fail_first_setups=1)
        port = await e2t.start()
        agent = E2Agent(model, AgentConfig("127.0.0.1", port, "tcp", speed=10.0, reconnect_initial_s=0.05))
        runner = asyncio.create_task(agent.run())
        try:
            gnb = await asyncio.wait_for(e2t.setup_done.get(), TIMEOUT)
            (t_fail, _), (t_ok, _) = e2t.setup_requests
            assert t_ok - t_fail >= 1.0  # TimeToWait v1s honoured
            # The E2T drops the association: the node sets up again (after back-off), same identity.
            await e2t.send(gnb, kpm_subscription(1, 100, [report_action(1, ["RRU.PrbTotDl"], 100, None)]))
            await e2t.expect(gnb, e2ap.RICsubscriptionResponse)
            await e2t.nodes[gnb].close()
            again = await asyncio.wait_for(e2t.setup_done.get(), TIMEOUT)
            assert again == gnb and len(e2t.setup_requests) == 3
            assert agent.nodes[0].setups == 2 and not agent.nodes[0].subscriptions
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await e2t.server.close()

    asyncio.run(scenario())


def ue_action(
    action_id: int,
    style: int,
    names: list[str],
    granul_ms: int,
    conditions: tuple[kpm.MatchingUeCondPerSubItem, ...] = (),
    ues: tuple = (),
) -> e2ap.RICactionToBeSetupItem:
    info = kpm.ActionDefinitionFormat1(tuple(kpm.MeasurementInfoItem(n) for n in names), granul_ms, None)
    fmt = (
        kpm.ActionDefinitionFormat4(conditions, info)
        if style == 4
        else kpm.ActionDefinitionFormat5(ues, info)
    )
    definition = kpm.encode_action_definition(kpm.ActionDefinition(style, fmt))
    return e2ap.RICactionToBeSetupItem(action_id, e2ap.RICactionType.report, definition)


def test_ue_level_reports_by_condition_and_by_list() -> None:
    d = docs.doc(topology={"sites": 1, "sectors": 1, "isd_m": 300, "bandwidth_mhz": 20, "scs_khz": 30})
    model = RanModel(parse_scenario(d))

    async def scenario() -> None:
        e2t = E2TermStandIn()
        port = await e2t.start()
        agent = E2Agent(model, AgentConfig("127.0.0.1", port, "tcp", speed=20.0))
        runner = asyncio.create_task(agent.run())
        try:
            gnb = await asyncio.wait_for(e2t.setup_done.get(), TIMEOUT)
            names = ["DRB.UEThpDl", "CQI", "RSRP", "SINR"]
            good_cqi = (
                kpm.MatchingUeCondPerSubItem(kpm.TestCondInfo("cQI", "greaterthan", ("valueInt", 6))),
            )
            unsupported = (kpm.MatchingUeCondPerSubItem(kpm.TestCondInfo("gBR", "present")),)
            listed = (ue_identity(3, "00101"), ue_identity(7, "00101"))
            await e2t.send(
                gnb,
                kpm_subscription(
                    1,
                    200,
                    [
                        ue_action(1, 4, names, 100, conditions=good_cqi),
                        ue_action(2, 5, names, 200, ues=listed),
                        ue_action(3, 4, names, 100, conditions=unsupported),
                        ue_action(
                            4, 4, ["RRU.PrbTotDl"], 100, conditions=good_cqi
                        ),  # a cell-only measurement
                    ],
                ),
            )
            resp = await e2t.expect(gnb, e2ap.RICsubscriptionResponse)
            assert resp.ricActionsAdmitted == [1, 2]
            assert sorted(a.ricActionID for a in resp.ricActionsNotAdmitted) == [3, 4]
            seen: dict[int, kpm.IndicationMessageFormat3] = {}
            while len(seen) < 2:
                ind = await e2t.expect(gnb, e2ap.RICindication)
                msg = kpm.decode_indication_message(ind.ricIndicationMessage)
                assert isinstance(msg, kpm.IndicationMessageFormat3)
                seen[ind.ricActionID] = msg
            by_cond = seen[1].values_by_ue()
            assert by_cond and all(min(v["CQI"]) > 6 for v in by_cond.values())
            assert all(isinstance(c, int) for v in by_cond.values() for c in v["CQI"])
            assert all(-160 < r < -30 for v in by_cond.values() for r in v["RSRP"])
            by_list = seen[2].values_by_ue()
            assert set(by_list) == set(listed)  # one cell: every listed UE is served here
            assert all(len(v["SINR"]) == 1 for v in by_list.values())  # granule = reporting period
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await e2t.server.close()

    asyncio.run(scenario())


def test_cell_offsets_and_distributions_over_e2() -> None:
    """The new lever and the objective's KPM: RC cell-offset controls applied (or refused with a
    cause) and DRB.UEThpDlDist / DRB.DelayDlNgranUeDist reported per slice and bin."""
    from ricproto.kpm_distribution import DELAY_DL_DIST, UE_THP_DL_DIST, n_bins

    model = RanModel(load_scenario("crowd_small"))

    async def scenario() -> None:
        e2t = E2TermStandIn()
        port = await e2t.start()
        agent = E2Agent(model, AgentConfig("127.0.0.1", port, "tcp", speed=20.0))
        runner = asyncio.create_task(agent.run())
        try:
            for _ in range(len(model.nodes)):
                await asyncio.wait_for(e2t.setup_done.get(), TIMEOUT)
            _, setup = e2t.setup_requests[0]
            kpm_def = kpm.decode_ran_function_description(setup.ranFunctionsAdded[0].ranFunctionDefinition)
            assert {UE_THP_DL_DIST, DELAY_DL_DIST} <= set(kpm_def.measurement_names(1))
            rc_def = rc.decode_ran_function_definition(setup.ranFunctionsAdded[1].ranFunctionDefinition)
            assert rc_def.offers(rc.STYLE_CONNECTED_MODE_MOBILITY, rc.ACTION_CELL_INDIVIDUAL_OFFSET)

            node = model.nodes[0]
            gnb = node.gnb_id
            cell = model.cells[node.cell_indices[0]]
            cgi = E2smNrCgi(PLMN, cell.nr_cgi.nr_cell_id)
            embb, urllc = SNssai(1, 1), SNssai(2, 2)
            thp_bins = tuple(kpm.MeasurementLabel(slice_id=embb, dist_bin_x=b) for b in range(1, 17))
            delay_bins = tuple(kpm.MeasurementLabel(slice_id=urllc, dist_bin_x=b) for b in range(1, 11))
            no_bin = {UE_THP_DL_DIST: (kpm.MeasurementLabel(slice_id=embb),)}
            bin_too_far = {DELAY_DL_DIST: (kpm.MeasurementLabel(slice_id=urllc, dist_bin_x=11),)}
            await e2t.send(
                gnb,
                kpm_subscription(
                    1,
                    100,
                    [
                        report_action(1, [], 100, cgi, {UE_THP_DL_DIST: thp_bins, DELAY_DL_DIST: delay_bins}),
                        report_action(2, [], 100, cgi, no_bin),
                        report_action(3, [], 100, cgi, bin_too_far),
                    ],
                ),
            )
            resp = await e2t.expect(gnb, e2ap.RICsubscriptionResponse)
            assert resp.ricActionsAdmitted == [1]
            assert sorted(a.ricActionID for a in resp.ricActionsNotAdmitted) == [2, 3]
            ind = await e2t.expect(gnb, e2ap.RICindication, skip=())
            values = kpm.decode_indication_message(ind.ricIndicationMessage).values_by_label()
            thp = [values[(UE_THP_DL_DIST, label)][-1] for label in thp_bins]
            delay = [values[(DELAY_DL_DIST, label)][-1] for label in delay_bins]
            assert len(thp) == n_bins(UE_THP_DL_DIST) and all(isinstance(v, int) and v >= 0 for v in thp)
            assert len(delay) == n_bins(DELAY_DL_DIST) and all(isinstance(v, int) for v in delay)
            on_cell = int((model.serving == cell.index).sum())
            assert 0 < sum(thp) <= on_cell + 5  # one sample per eMBB UE (give or take a handover)

            # RC cell individual offsets: applied to the node's cell, refused with causes otherwise.
            neighbour = model.cells[1]
            ok = rc.CellOffsetControl(
                UeIdGnbDu(0), cgi, (rc.NeighbourOffset(E2smNrCgi(PLMN, neighbour.nr_cgi.nr_cell_id), 6),)
            ).encode()
            await e2t.send(gnb, control(1, ok))
            await e2t.expect(gnb, e2ap.RICcontrolAcknowledge)
            assert model.cell_offset(cell.index, neighbour.index) == 6
            before = bad_input("control-illegal-offset")
            bad = rc.CellOffsetControl(
                UeIdGnbDu(0), cgi, (rc.NeighbourOffset(E2smNrCgi(PLMN, neighbour.nr_cgi.nr_cell_id), 7),)
            ).encode()
            await e2t.send(gnb, control(2, bad))
            failure = await e2t.expect(gnb, e2ap.RICcontrolFailure)
            assert failure.cause == e2ap.CauseRICrequest.control_message_invalid
            assert bad_input("control-illegal-offset") == before + 1
            assert model.cell_offset(cell.index, neighbour.index) == 6  # unchanged
            other_cell = rc.CellOffsetControl(
                UeIdGnbDu(0),
                E2smNrCgi(PLMN, neighbour.nr_cgi.nr_cell_id),
                (rc.NeighbourOffset(cgi, 2),),
            ).encode()
            await e2t.send(gnb, control(3, other_cell))  # cell 1 belongs to another node
            failure = await e2t.expect(gnb, e2ap.RICcontrolFailure)
            assert failure.cause == e2ap.CauseRICrequest.control_message_invalid
            assert model.cell_offset(neighbour.index, cell.index) == 0
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await e2t.server.close()

    asyncio.run(scenario())
