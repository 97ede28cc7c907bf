"""E2 agent: one E2 node per gNB of the model, speaking E2AP to an E2 termination.

``E2Agent`` runs the ``RanModel`` on its simulated clock (as fast as possible, in real time, or N
times real time) and an ``E2Node`` per gNB. Each node connects (SCTP or length-framed TCP,
``ricproto.e2transport``), sends E2 Setup with RAN functions KPM (id 2) and RC (id 3), then serves:

* RIC Subscription (KPM REPORT actions, report styles 1 to 5, action definition format = style):
  style 1 for a cell (its cellGlobalID, optional when the node has one cell: cell, per-slice and
  distribution measurements); style 2 for one UE (indication format 1, noValue while another node
  serves it); style 3 condition-based (format 2: each measurement aggregated over the UEs matching
  its conditions, with their ids); style 4 for the cell's UEs matching common conditions and style 5
  for listed UEs (format 3, a report per UE). Conditions: ``e2sim.ue_conditions``. Admitted actions
  produce RIC Indications every ``reportingPeriod`` of simulated time, one measData item per
  granularity period; actions it cannot serve are listed as not admitted with a cause;
* RIC Subscription Delete;
* RIC Control (RC): applied to the model (``e2sim.rc_control``), answered with an acknowledge or a
  failure with a cause; a failure's RICcontrolOutcome (an E2SM-RC outcome, ``rc.refusal_outcome``)
  carries the reason as text, e.g. which 28.541 ratio rule was broken, so the xApp sees why.

E2SM-KPM v3 by default, v2 when the scenario says ``kpm_version: 2`` (then styles 1 to 3, which is
what v2's formats allow); the RAN function's OID tells xApps which.

Malformed PDUs are counted (``e2sim_bad_input{reason}``), logged and dropped; the node stays up. When
the connection fails or closes the node reconnects with exponential back-off; an E2 Setup Failure's
TimeToWait is honoured before the next attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from prometheus_client import Counter

from e2sim.kpm_report import CellReportLayout, indication_header, kpm_value
from e2sim.ran.counters import (
    CELL_MEASUREMENTS,
    CELL_WIDE_DISTRIBUTIONS,
    DISTRIBUTION_MEASUREMENTS,
    SLICE_MEASUREMENTS,
    UE_COUNTER_MEASUREMENTS,
    UE_MEASUREMENTS,
    UE_RADIO_MEASUREMENTS,
    Period,
)
from e2sim.ran.model import ControlAck, ControlFailureCause, RanModel
from e2sim.ran.topology import E2NodeSpec
from e2sim.rc_control import apply_control, ue_identity, ue_index
from e2sim.ue_conditions import UeCondition
from ricproto import e2ap
from ricproto.e2error import E2CodecError
from ricproto.e2sm import kpm, rc
from ricproto.e2sm.identities import NrCgi as KpmNrCgi
from ricproto.e2sm.identities import plmn_digits, plmn_from_digits
from ricproto.e2sm.ueid import UeId
from ricproto.e2transport import E2Connection, E2TransportError, TransportKind, connect
from ricproto.kpm_distribution import n_bins
from ricproto.ran_space import Snssai

log = logging.getLogger(__name__)

BAD_INPUT = Counter(
    "e2sim_bad_input", "E2 PDUs and requests the simulated E2 nodes rejected, by reason", ["reason"]
)
STREAM_GLOBAL = 0  # E2 setup, error indication
STREAM_FUNCTIONAL = 1  # subscription, indication, control
MIN_REPORTING_PERIOD_MS = 10
TIME_TO_WAIT_S = {
    e2ap.TimeToWait.v1s: 1.0,
    e2ap.TimeToWait.v2s: 2.0,
    e2ap.TimeToWait.v5s: 5.0,
    e2ap.TimeToWait.v10s: 10.0,
    e2ap.TimeToWait.v20s: 20.0,
    e2ap.TimeToWait.v60s: 60.0,
}
CONTROL_CAUSES: dict[ControlFailureCause, e2ap.Cause] = {
    ControlFailureCause.MALFORMED: e2ap.CauseRICrequest.control_message_invalid,
    ControlFailureCause.UNSUPPORTED: e2ap.CauseRICrequest.action_not_supported,
    ControlFailureCause.UNKNOWN_UE: e2ap.CauseRICrequest.control_message_invalid,
    ControlFailureCause.UNKNOWN_CELL: e2ap.CauseRICrequest.control_message_invalid,
    ControlFailureCause.UNKNOWN_SLICE: e2ap.CauseRICrequest.control_message_invalid,
    ControlFailureCause.ILLEGAL_QUOTA: e2ap.CauseRICrequest.control_message_invalid,
    ControlFailureCause.ILLEGAL_OFFSET: e2ap.CauseRICrequest.control_message_invalid,
    ControlFailureCause.CELL_DOWN: e2ap.CauseRICrequest.control_failed_to_execute,
    ControlFailureCause.ALREADY_SERVING: e2ap.CauseRICrequest.control_failed_to_execute,
}
RAN_FUNCTION_REVISION = 1
ACTION_FORMATS: dict[int, type] = {
    1: kpm.ActionDefinitionFormat1,
    2: kpm.ActionDefinitionFormat2,
    3: kpm.ActionDefinitionFormat3,
    4: kpm.ActionDefinitionFormat4,
    5: kpm.ActionDefinitionFormat5,
}
# Style 3 aggregates a UE-level measurement over the matching UEs: amounts (volumes, PRBs) add up,
# everything else (rates, delays, radio quantities) is the mean over the UEs.
SUMMED_OVER_UES = frozenset(
    {
        "RRU.PrbUsedDl",
        "RRU.PrbUsedUl",
        "DRB.RlcSduTransmittedVolumeDL",
        "DRB.RlcSduTransmittedVolumeUL",
        "DRB.PdcpSduVolumeDL",
        "DRB.PdcpSduVolumeUL",
    }
)


@dataclass(frozen=True)
class AgentConfig:
    e2t_host: str
    e2t_port: int
    transport: TransportKind = "tcp"
    speed: float | None = 1.0  # simulated s per wall s; None = as fast as possible
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 10.0


@dataclass
class ReportAction:
    """One admitted REPORT action: which cell, which measurements, its granularity periods."""

    action_id: int
    cell_index: int
    names: tuple[str, ...]
    labels: tuple[kpm.MeasurementLabel, ...]  # per name: noLabel (cell value) or a sliceID label
    granul_period_ms: int
    period: Period
    next_granule_s: float
    collected: list[kpm.MeasurementDataItem] = field(default_factory=list)
    granule_starts: list[float] = field(default_factory=list)
    # Built at admission: names and labels are fixed for the action's life, only the values change.
    meas_info: tuple[kpm.MeasurementInfoItem, ...] = ()
    cell_layout: CellReportLayout | None = None  # cell-level actions (style 1)
    # UE-level actions (styles 2, 4 and 5): which UEs a granule reports, and their records so far.
    select_ues: Callable[[], np.ndarray] | None = None
    collected_ue: dict[int, list[kpm.MeasurementDataItem]] = field(default_factory=dict)
    style: int = 1
    single_ue: int | None = None  # style 2
    # style 3: per measCondList item its condition, the items as received, and the UEs matched so far
    conditions: tuple[UeCondition, ...] = ()
    cond_items: tuple[kpm.MeasurementCondItem, ...] = ()
    matched: list[set[int]] = field(default_factory=list)


@dataclass
class Subscription:
    request_id: e2ap.RICrequestID
    reporting_period_s: float
    next_report_s: float
    actions: list[ReportAction]
    sn: int = 0


class E2Node:
    """One simulated gNB's E2 interface (its connection, subscriptions and control handling)."""

    def __init__(self, spec: E2NodeSpec, model: RanModel, config: AgentConfig) -> None:
        self.spec = spec
        self.model = model
        self.config = config
        self.subscriptions: dict[tuple[int, int], Subscription] = {}
        self.connected = asyncio.Event()
        self.setups = 0  # completed E2 setups (reconnects count again)
        self._conn: E2Connection | None = None
        self._outbox: asyncio.Queue[tuple[bytes, int]] = asyncio.Queue()
        self._transaction = 0
        self.kpm_version = model.scenario.kpm_version
        self._own_cells = np.array(spec.cell_indices, dtype=np.intp)
        self._own_cell_mask = np.isin(np.arange(model.n_cells), self._own_cells)
        self._detached = False
        self._ue_ids: list[UeId | None] = [None] * model.n_ues  # model UE index -> its UEID, built once

    # --- lifecycle --------------------------------------------------------------------------------
    async def run(self) -> None:
        """Connect, set up and serve forever, reconnecting with back-off."""
        backoff = self.config.reconnect_initial_s
        while True:
            wait = backoff
            try:
                conn = await connect(self.config.e2t_host, self.config.e2t_port, self.config.transport)
            except (OSError, E2TransportError) as exc:
                log.warning(
                    "%s: cannot reach E2T %s:%d: %s",
                    self.spec.ran_name,
                    self.config.e2t_host,
                    self.config.e2t_port,
                    exc,
                )
            else:
                try:
                    time_to_wait = await self._setup(conn)
                    if time_to_wait is None:
                        backoff = self.config.reconnect_initial_s
                        wait = backoff
                        await self._serve(conn)
                    else:
                        wait = max(time_to_wait, backoff)
                except (OSError, E2TransportError) as exc:
                    log.warning("%s: E2 connection lost: %s", self.spec.ran_name, exc)
                finally:
                    self._conn = None
                    self.connected.clear()
                    self.subscriptions.clear()  # an E2 association's subscriptions end with it
                    await conn.close()
            await asyncio.sleep(wait)
            backoff = min(backoff * 2, self.config.reconnect_max_s)

    def setup_request(self) -> e2ap.E2setupRequest:
        self._transaction = (self._transaction + 1) % 256
        plmn = plmn_from_digits(self.spec.plmn)
        kpm_def = kpm.encode_ran_function_description(
            kpm.default_ran_function_description(
                CELL_MEASUREMENTS + DISTRIBUTION_MEASUREMENTS, UE_MEASUREMENTS, version=self.kpm_version
            ),
            self.kpm_version,
        )
        rc_def = rc.encode_ran_function_definition(rc.default_ran_function_definition())
        return e2ap.E2setupRequest(
            self._transaction,
            e2ap.GlobalE2nodeGnbID(
                e2ap.GlobalgNBID(plmn, e2ap.BitString(self.spec.gnb_id, self.spec.gnb_id_bits))
            ),
            [
                e2ap.RANfunctionItem(
                    kpm.RAN_FUNCTION_ID, kpm_def, RAN_FUNCTION_REVISION, kpm.OIDS[self.kpm_version]
                ),
                e2ap.RANfunctionItem(rc.RAN_FUNCTION_ID, rc_def, RAN_FUNCTION_REVISION, rc.OID),
            ],
            [
                e2ap.E2nodeComponentConfigAdditionItem(
                    e2ap.E2nodeComponentInterfaceType.ng,
                    e2ap.E2nodeComponentInterfaceNG("twinric-amf"),
                    e2ap.E2nodeComponentConfiguration(b"ng-setup-request", b"ng-setup-response"),
                )
            ],
        )

    async def _setup(self, conn: E2Connection) -> float | None:
        """E2 Setup; None when accepted, else the seconds to wait before retrying."""
        await conn.send_pdu(e2ap.encode(self.setup_request()), STREAM_GLOBAL)
        while True:
            msg = self._decode(await conn.recv_pdu())
            if isinstance(msg, e2ap.E2setupResponse):
                self.setups += 1
                log.info("%s: E2 setup accepted", self.spec.ran_name)
                self._conn = conn
                self.connected.set()
                return None
            if isinstance(msg, e2ap.E2setupFailure):
                wait = TIME_TO_WAIT_S.get(msg.timeToWait, 0.0) if msg.timeToWait else 0.0
                log.warning(
                    "%s: E2 setup failed (%s), retrying in >= %.1f s", self.spec.ran_name, msg.cause, wait
                )
                return wait
            if msg is not None:
                log.warning(
                    "%s: %s before E2 setup completed, ignored", self.spec.ran_name, type(msg).__name__
                )

    async def _serve(self, conn: E2Connection) -> None:
        writer = asyncio.create_task(self._write(conn))
        try:
            while True:
                msg = self._decode(await conn.recv_pdu())
                if msg is None:
                    continue
                reply = self.handle(msg)
                if reply is not None:
                    await conn.send_pdu(e2ap.encode(reply), STREAM_FUNCTIONAL)
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._outbox = asyncio.Queue()

    async def _write(self, conn: E2Connection) -> None:
        while True:
            pdu, stream = await self._outbox.get()
            await conn.send_pdu(pdu, stream)

    def _decode(self, pdu: bytes) -> object | None:
        try:
            return e2ap.decode(pdu)
        except E2CodecError as exc:
            BAD_INPUT.labels(reason="undecodable-pdu").inc()
            log.warning(
                "%s: dropped an undecodable E2AP PDU (%d bytes): %s", self.spec.ran_name, len(pdu), exc
            )
            return None

    def serve_detached(self) -> None:
        """Serve without an E2 connection (tests, benchmarks): `handle` and `on_tick` work as when
        connected, and the PDUs the node would send wait in `take_sent`."""
        self._detached = True

    def take_sent(self) -> list[bytes]:
        """The encoded PDUs queued for sending since the last call, in order (removed from the queue)."""
        out = []
        while not self._outbox.empty():
            out.append(self._outbox.get_nowait()[0])
        return out

    # --- procedures --------------------------------------------------------------------------------
    def handle(self, msg: object) -> object | None:
        """The reply to one decoded PDU (None = no reply)."""
        if isinstance(msg, e2ap.RICsubscriptionRequest):
            return self.subscribe(msg)
        if isinstance(msg, e2ap.RICsubscriptionDeleteRequest):
            key = (msg.ricRequestID.ricRequestorID, msg.ricRequestID.ricInstanceID)
            if msg.ranFunctionID != kpm.RAN_FUNCTION_ID or self.subscriptions.pop(key, None) is None:
                BAD_INPUT.labels(reason="unknown-subscription").inc()
                return e2ap.RICsubscriptionDeleteFailure(
                    msg.ricRequestID, msg.ranFunctionID, e2ap.CauseRICrequest.request_id_unknown
                )
            return e2ap.RICsubscriptionDeleteResponse(msg.ricRequestID, msg.ranFunctionID)
        if isinstance(msg, e2ap.RICcontrolRequest):
            return self.control(msg)
        log.info("%s: %s not handled", self.spec.ran_name, type(msg).__name__)
        return None

    def control(self, msg: e2ap.RICcontrolRequest) -> object | None:
        if msg.ranFunctionID != rc.RAN_FUNCTION_ID:
            BAD_INPUT.labels(reason="control-wrong-function").inc()
            return e2ap.RICcontrolFailure(
                msg.ricRequestID, msg.ranFunctionID, e2ap.CauseRICrequest.ran_function_id_invalid
            )
        result = apply_control(self.model, self.spec, msg.ricControlHeader, msg.ricControlMessage)
        if isinstance(result, ControlAck):
            log.info("%s: RC control done: %s", self.spec.ran_name, result.detail)
            if msg.ricControlAckRequest == e2ap.RICcontrolAckRequest.noAck:
                return None
            return e2ap.RICcontrolAcknowledge(msg.ricRequestID, msg.ranFunctionID, msg.ricCallProcessID)
        BAD_INPUT.labels(reason=f"control-{result.cause}").inc()
        log.warning("%s: RC control refused (%s): %s", self.spec.ran_name, result.cause, result.reason)
        return e2ap.RICcontrolFailure(
            msg.ricRequestID,
            msg.ranFunctionID,
            CONTROL_CAUSES[result.cause],
            msg.ricCallProcessID,
            control_outcome(result.cause, result.reason),
        )

    def subscribe(self, msg: e2ap.RICsubscriptionRequest) -> object:
        rid = msg.ricRequestID
        key = (rid.ricRequestorID, rid.ricInstanceID)

        def refuse(cause: e2ap.Cause, why: str) -> e2ap.RICsubscriptionFailure:
            BAD_INPUT.labels(reason="subscription-refused").inc()
            log.warning("%s: subscription %s refused: %s", self.spec.ran_name, key, why)
            return e2ap.RICsubscriptionFailure(rid, msg.ranFunctionID, cause)

        if msg.ranFunctionID != kpm.RAN_FUNCTION_ID:
            return refuse(
                e2ap.CauseRICrequest.ran_function_id_invalid,
                f"RAN function {msg.ranFunctionID} has no report service",
            )
        if key in self.subscriptions:
            return refuse(e2ap.CauseRICrequest.duplicate_ric_request_id, "request id already in use")
        try:
            trigger = kpm.decode_event_trigger_definition(
                msg.ricSubscriptionDetails.ricEventTriggerDefinition, self.kpm_version
            )
        except E2CodecError as exc:
            return refuse(e2ap.CauseRICrequest.eventTriggerNotSupported, str(exc))
        if trigger.reporting_period < MIN_REPORTING_PERIOD_MS:
            return refuse(
                e2ap.CauseRICrequest.eventTriggerNotSupported,
                f"reporting period {trigger.reporting_period} ms < {MIN_REPORTING_PERIOD_MS} ms",
            )
        admitted: list[ReportAction] = []
        refused: list[e2ap.RICactionNotAdmittedItem] = []
        seen: set[int] = set()
        for item in msg.ricSubscriptionDetails.ricAction_ToBeSetup_List:
            action_or_why = self._report_action(item, trigger.reporting_period)
            if item.ricActionID in seen:
                action_or_why = "duplicate action id"
            seen.add(item.ricActionID)
            if isinstance(action_or_why, ReportAction):
                admitted.append(action_or_why)
            else:
                log.warning(
                    "%s: action %d not admitted: %s", self.spec.ran_name, item.ricActionID, action_or_why
                )
                refused.append(
                    e2ap.RICactionNotAdmittedItem(item.ricActionID, e2ap.CauseRICrequest.action_not_supported)
                )
        if not admitted:
            return refuse(e2ap.CauseRICrequest.action_not_supported, "no action could be admitted")
        now = self.model.now_s
        self.subscriptions[key] = Subscription(
            rid, trigger.reporting_period / 1000.0, now + trigger.reporting_period / 1000.0, admitted
        )
        return e2ap.RICsubscriptionResponse(
            rid, msg.ranFunctionID, [a.action_id for a in admitted], refused or None
        )

    def _report_action(
        self, item: e2ap.RICactionToBeSetupItem, reporting_period_ms: int
    ) -> ReportAction | str:
        """An admitted action, or why it cannot be admitted."""
        if item.ricActionType != e2ap.RICactionType.report:
            return f"action type {item.ricActionType.name} is not offered (REPORT only)"
        if item.ricActionDefinition is None:
            return "a REPORT action needs an action definition"
        try:
            definition = kpm.decode_action_definition(item.ricActionDefinition, self.kpm_version)
        except E2CodecError as exc:
            return f"undecodable action definition: {exc}"
        fmt = definition.action_definition_format
        style = definition.ric_style_type
        if ACTION_FORMATS.get(style) is not type(fmt):
            return (
                f"report style {style} with {type(fmt).__name__} is not offered "
                "(styles 1 to 5, each with the action definition format of its number)"
            )
        if style == 3:
            assert isinstance(fmt, kpm.ActionDefinitionFormat3)
            return self._condition_action(item.ricActionID, fmt, reporting_period_ms)
        select_ues: Callable[[], np.ndarray] | None = None
        single_ue = None
        if isinstance(fmt, kpm.ActionDefinitionFormat1):
            info, offered = fmt, CELL_MEASUREMENTS + DISTRIBUTION_MEASUREMENTS
        elif isinstance(fmt, kpm.ActionDefinitionFormat2):
            info, offered = fmt.subscript_info, UE_MEASUREMENTS
            single_ue = ue_index(fmt.ue_id)
            if single_ue is None or not 0 <= single_ue < self.model.n_ues:
                return "the UE id names a UE this node does not know"
            one = np.array([single_ue], dtype=np.intp)
            select_ues = self._served_among(one)
        elif isinstance(fmt, kpm.ActionDefinitionFormat4):
            info, offered = fmt.subscription_info, UE_MEASUREMENTS
            condition = UeCondition.parse(
                self.model, [(c.test_cond_info, c.logical_or) for c in fmt.matching_ue_cond_list]
            )
            if isinstance(condition, str):
                return condition
            select_ues = self._matching(condition)
        else:
            assert isinstance(fmt, kpm.ActionDefinitionFormat5)
            info, offered = fmt.subscription_info, UE_MEASUREMENTS
            listed = [ue_index(u) for u in fmt.matching_ueid_list]
            if any(u is None or not 0 <= u < self.model.n_ues for u in listed):
                return "the UE id list names a UE this node does not know"
            ues = np.array(sorted({u for u in listed if u is not None}), dtype=np.intp)
            select_ues = self._served_among(ues)
        names: list[str] = []
        labels: list[kpm.MeasurementLabel] = []
        for measurement in info.meas_info_list:
            name = measurement.meas_type
            if not isinstance(name, str) or name not in offered:
                return f"measurement {name!r} is not offered in style {style}"
            for label in measurement.label_info_list:
                if name in DISTRIBUTION_MEASUREMENTS:
                    why = self._distribution_label_problem(name, label)
                    if why is not None:
                        return why
                elif label == kpm.NO_LABEL:
                    pass
                elif style == 1 and label == kpm.MeasurementLabel(slice_id=label.slice_id) and label.slice_id:
                    snssai = Snssai(label.slice_id.sst, label.slice_id.sd)
                    if snssai not in self.model.slices or name not in SLICE_MEASUREMENTS:
                        return f"measurement {name} is not available for slice {snssai}"
                else:
                    return f"measurement {name}: only noLabel and sliceID labels are supported"
                names.append(name)
                labels.append(label)
        if info.granul_period <= 0 or info.granul_period > reporting_period_ms:
            return f"granularity period {info.granul_period} ms must be in 1..{reporting_period_ms}"
        cell = self._cell_of(info.cell_global_id)
        if isinstance(cell, str):
            if style not in (2, 5):
                return cell
            cell = self.spec.cell_indices[0]  # a UE (list) spans the node; the cell is not used
        if style == 4:
            matching, in_cell = select_ues, cell
            assert matching is not None

            def matching_in_cell() -> np.ndarray:
                ues = matching()
                return ues[self.model.serving[ues] == in_cell]

            select_ues = matching_in_cell

        cell_layout = None
        if select_ues is None:
            cell_layout = CellReportLayout.of(
                self._report_key(name, label) for name, label in zip(names, labels, strict=True)
            )
            meas_info = cell_layout.meas_info
        else:
            meas_info = tuple(kpm.MeasurementInfoItem(name) for name in names)
        now = self.model.now_s
        return ReportAction(
            item.ricActionID,
            cell,
            tuple(names),
            tuple(labels),
            info.granul_period,
            self.model.start_period(),
            now + info.granul_period / 1000.0,
            granule_starts=[now],
            meas_info=meas_info,
            cell_layout=cell_layout,
            select_ues=select_ues,
            style=style,
            single_ue=single_ue,
        )

    @staticmethod
    def _report_key(name: str, label: kpm.MeasurementLabel) -> tuple:
        """The `CellReportLayout` key of a style-1 (name, label)."""
        s = label.slice_id
        snssai = None if s is None else Snssai(s.sst, s.sd)
        if label.dist_bin_x is not None:
            return (name, snssai, label.dist_bin_x)
        return (name, snssai)

    def _condition_action(
        self, action_id: int, fmt: kpm.ActionDefinitionFormat3, reporting_period_ms: int
    ) -> ReportAction | str:
        """A style-3 action: each measCondList item a UE-level measurement over the UEs matching its
        conditions (in the action's cell)."""
        conditions: list[UeCondition] = []
        names: list[str] = []
        for n, item in enumerate(fmt.meas_cond_list):
            name = item.meas_type
            if not isinstance(name, str) or name not in UE_MEASUREMENTS:
                return f"measurement {name!r} is not offered in style 3 (UE-level measurements only)"
            condition = UeCondition.parse(
                self.model, [(c.matching_cond_choice, c.logical_or) for c in item.matching_cond]
            )
            if isinstance(condition, str):
                return f"measCondList[{n}] {name}: {condition}"
            conditions.append(condition)
            names.append(name)
        if fmt.granul_period <= 0 or fmt.granul_period > reporting_period_ms:
            return f"granularity period {fmt.granul_period} ms must be in 1..{reporting_period_ms}"
        cell = self._cell_of(fmt.cell_global_id)
        if isinstance(cell, str):
            return cell
        now = self.model.now_s
        return ReportAction(
            action_id,
            cell,
            tuple(names),
            tuple(kpm.NO_LABEL for _ in names),
            fmt.granul_period,
            self.model.start_period(),
            now + fmt.granul_period / 1000.0,
            granule_starts=[now],
            style=3,
            conditions=tuple(conditions),
            cond_items=fmt.meas_cond_list,
            matched=[set() for _ in names],
        )

    def _served_among(self, ues: np.ndarray) -> Callable[[], np.ndarray]:
        """Selector of those of ``ues`` that this node serves at the time of asking."""

        def served() -> np.ndarray:
            return ues[self._own_cell_mask[self.model.serving[ues]]]

        return served

    def _matching(self, condition: UeCondition) -> Callable[[], np.ndarray]:
        """Selector of the node's UEs that match ``condition`` at the time of asking."""

        def select() -> np.ndarray:
            ues = np.flatnonzero(self._own_cell_mask[self.model.serving])
            return ues[condition.mask(self.model, ues)]

        return select

    def _distribution_label_problem(self, name: str, label: kpm.MeasurementLabel) -> str | None:
        """Why a distribution measurement's label cannot be served (None when it can): each value is
        one bin of one slice, labelled sliceID + distBinX, or, for a cell-wide distribution
        (CARR.WBCQIDist), one bin of the cell, labelled distBinX alone."""
        s, b = label.slice_id, label.dist_bin_x
        if b is not None and s is None and name in CELL_WIDE_DISTRIBUTIONS:
            if label != kpm.MeasurementLabel(dist_bin_x=b):
                return f"measurement {name}: a cell-wide bin is labelled distBinX alone"
        elif s is None or b is None or label != kpm.MeasurementLabel(slice_id=s, dist_bin_x=b):
            return f"measurement {name} needs sliceID + distBinX labels (one per bin and slice)"
        elif Snssai(s.sst, s.sd) not in self.model.slices:
            return f"measurement {name} is not available for slice {Snssai(s.sst, s.sd)}"
        if not 1 <= b <= n_bins(name):
            return f"measurement {name} has bins 1..{n_bins(name)}, not {b}"
        return None

    def _cell_of(self, cgi: object) -> int | str:
        if cgi is None:
            if len(self.spec.cell_indices) == 1:
                return self.spec.cell_indices[0]
            return "this node has several cells: give the action's cellGlobalID"
        if not isinstance(cgi, KpmNrCgi):
            return "only NR cells are served"
        try:
            plmn = plmn_digits(cgi.plmn_identity)
        except E2CodecError as exc:
            return f"cell global id: {exc}"
        for index in self.spec.cell_indices:
            nr = self.model.cells[index].nr_cgi
            if nr.plmn == plmn and nr.nr_cell_id == cgi.nr_cell_identity:
                return index
        return f"cell {plmn}/{cgi.nr_cell_identity:09x} is not served by {self.spec.ran_name}"

    # --- reporting on the simulated clock -------------------------------------------------------------
    def on_tick(self, now_s: float) -> None:
        """Called after every model step: close granularity periods and send due indications."""
        if (self._conn is None and not self._detached) or not self.subscriptions:
            return
        for sub in self.subscriptions.values():
            for action in sub.actions:
                while now_s + 1e-9 >= action.next_granule_s:
                    self._close_granule(action, now_s)
            if now_s + 1e-9 >= sub.next_report_s:
                self._report(sub)
                while sub.next_report_s <= now_s + 1e-9:
                    sub.next_report_s += sub.reporting_period_s

    def _close_granule(self, action: ReportAction, now_s: float) -> None:
        if action.style == 3:
            self._close_condition_granule(action)
        elif action.select_ues is not None:
            self._close_ue_granule(action)
        else:
            layout = action.cell_layout
            assert layout is not None
            rows = self.model.cell_rows(action.period, distributions=layout.has_distributions)
            action.collected.append(layout.record(rows, action.cell_index, self.model.slices))
        action.period = self.model.start_period()
        action.next_granule_s += action.granul_period_ms / 1000.0
        action.granule_starts.append(now_s)

    def _ue_values(self, period: Period, ues: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """UE-level measurements ``names`` of ``ues`` (counters over ``period``, radio at its end)."""
        values: dict[str, np.ndarray] = {}
        if any(n in UE_COUNTER_MEASUREMENTS for n in names):
            values.update(self.model.ue_counters(period, ues))
        radio = [n for n in names if n in UE_RADIO_MEASUREMENTS]
        if radio:
            values.update(self.model.ue_radio(ues, radio))
        return values

    def _close_ue_granule(self, action: ReportAction) -> None:
        assert action.select_ues is not None
        ues = action.select_ues()
        if action.single_ue is not None and ues.size == 0:
            # style 2 while another node serves the UE: the granule has no values
            action.collected.append(kpm.MeasurementDataItem((None,) * len(action.names), True))
            return
        values = self._ue_values(action.period, ues, action.names)
        columns = [values[name].tolist() for name in action.names]
        for row, u in enumerate(ues.tolist()):
            record = tuple(kpm_value(name, col[row]) for name, col in zip(action.names, columns, strict=True))
            if action.single_ue is not None:
                action.collected.append(kpm.MeasurementDataItem(record))
            else:
                action.collected_ue.setdefault(u, []).append(kpm.MeasurementDataItem(record))

    def _close_condition_granule(self, action: ReportAction) -> None:
        """Style 3: each item's measurement over the cell's UEs matching its conditions (noValue
        when none matches), the matching UEs remembered for the report."""
        model = self.model
        ues = np.flatnonzero(model.serving == action.cell_index)
        radio_names = {n for c in action.conditions for n in c.radio_names}
        values = self._ue_values(action.period, ues, tuple(dict.fromkeys(action.names)))
        radio = model.ue_radio(ues, radio_names) if radio_names else {}
        record: list[int | float | None] = []
        for n, (name, condition) in enumerate(zip(action.names, action.conditions, strict=True)):
            mask = condition.mask(model, ues, radio)
            if not mask.any():
                record.append(None)
                continue
            picked = values[name][mask]
            record.append(float(picked.sum() if name in SUMMED_OVER_UES else picked.mean()))
            action.matched[n].update(ues[mask].tolist())
        action.collected.append(kpm.MeasurementDataItem(tuple(record)))

    def _message(self, action: ReportAction) -> kpm.IndicationMessage | None:
        """The indication message of the granules collected since the last report (None if empty)."""
        if action.style == 3:
            if not action.collected:
                return None
            message: kpm.IndicationMessage = kpm.IndicationMessageFormat2(
                tuple(action.collected),
                tuple(
                    kpm.MeasurementCondUeIdItem(
                        item.meas_type,
                        item.matching_cond,
                        tuple(self._ue_id(u) for u in sorted(matched)),
                    )
                    for item, matched in zip(action.cond_items, action.matched, strict=True)
                ),
                action.granul_period_ms,
            )
            action.collected = []
            action.matched = [set() for _ in action.matched]
            return message
        if action.select_ues is None or action.single_ue is not None:
            if not action.collected:
                return None
            message = kpm.IndicationMessageFormat1(
                tuple(action.collected), action.meas_info, action.granul_period_ms
            )
            action.collected = []
            return message
        if not action.collected_ue:
            return None
        message = kpm.IndicationMessageFormat3(
            tuple(
                kpm.UeMeasurementReportItem(
                    self._ue_id(u),
                    kpm.IndicationMessageFormat1(tuple(items), action.meas_info, action.granul_period_ms),
                )
                for u, items in sorted(action.collected_ue.items())
            )
        )
        action.collected_ue = {}
        return message

    def _ue_id(self, u: int) -> UeId:
        ue = self._ue_ids[u]
        if ue is None:
            ue = self._ue_ids[u] = ue_identity(u, self.spec.plmn)
        return ue

    def _report(self, sub: Subscription) -> None:
        for action in sub.actions:
            message = self._message(action)
            if message is None:
                action.granule_starts = action.granule_starts[-1:]
                continue
            header = indication_header(action.granule_starts[0])
            action.granule_starts = action.granule_starts[-1:]
            indication = e2ap.RICindication(
                sub.request_id,
                kpm.RAN_FUNCTION_ID,
                action.action_id,
                e2ap.RICindicationType.report,
                kpm.encode_indication_header(header, self.kpm_version),
                kpm.encode_indication_message(message, self.kpm_version),
                sub.sn % 65536,
            )
            sub.sn += 1
            self._outbox.put_nowait((e2ap.encode(indication), STREAM_FUNCTIONAL))


def control_outcome(cause: ControlFailureCause, reason: str) -> bytes:
    """RICcontrolOutcome of a refused control: an E2SM-RC outcome whose text is the model's cause
    and the rule the request broke (``rc.refusal_reason`` reads it back)."""
    return rc.refusal_outcome(f"{cause}: {reason}")


class E2Agent:
    """The model plus one ``E2Node`` per gNB, driven by one simulated clock."""

    def __init__(self, model: RanModel, config: AgentConfig) -> None:
        self.model = model
        self.config = config
        self.nodes = [E2Node(spec, model, config) for spec in model.nodes]
        self.tick_listeners: list[Callable[[float], None]] = [n.on_tick for n in self.nodes]

    async def run(self, until_sim_s: float | None = None) -> None:
        """Run the nodes and the clock (until ``until_sim_s`` of simulated time, or forever)."""
        tasks = [asyncio.create_task(n.run(), name=f"e2node-{n.spec.ran_name}") for n in self.nodes]
        try:
            await self.run_clock(until_sim_s)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def run_clock(self, until_sim_s: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        wall0, sim0 = loop.time(), self.model.now_s
        speed = self.config.speed
        while until_sim_s is None or self.model.now_s + 1e-9 < until_sim_s:
            self.model.step()
            now = self.model.now_s
            for listener in self.tick_listeners:
                listener(now)
            if speed is None:
                await asyncio.sleep(0)
            else:
                await asyncio.sleep(max(wall0 + (now - sim0) / speed - loop.time(), 0.0))
