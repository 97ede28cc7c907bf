"""E2SM-RC control requests applied to the model: the E2 agent's control step.

``apply_control(model, node, header, message)`` decodes a RICcontrolHeader/RICcontrolMessage pair
(``ricproto.e2sm.rc``) and carries it out on the cells of the E2 node that received it:

* style 3 action 1 (handover): the UE, which must be served by one of the node's cells, is handed
  over to the target NR-CGI after the model's execution delay;
* style 2 action 6 (slice PRB quota, either RAN parameter numbering): every ratio group's members
  (PLMN + S-NSSAI) get the group's min/max/dedicated ratios in every cell of the node (an RRM policy
  is per node, as srsRAN's DU applies it); ratios a group leaves out keep their current values;
  all cells and slices change, or none;
* style 3 action 101 (cell individual offsets, ``ricproto.e2sm.rc.CellOffsetControl``): the source
  cell, which must be one of the node's, gets the listed offsets toward its neighbours in event A3;
  every offset must be a Q-OffsetRange value and every neighbour a known other cell, and all are
  applied or none.

Anything else (undecodable bytes, other styles, unknown UE/cell/slice, illegal ratios) comes back as
a ``ControlFailure`` with a cause; nothing raises.

UE identities: model UE index ``u`` is AMF-UE-NGAP-ID ``u + 1`` in a gNB-UEID and
gNB-CU-UE-F1AP-ID ``u + 1`` in a gNB-DU-UEID (``ue_identity`` / ``ue_index``), the same ids the
per-UE KPM reports carry.
"""

from __future__ import annotations

from e2sim.ran.model import ControlAck, ControlFailure, ControlFailureCause, ControlResult, RanModel
from e2sim.ran.topology import E2NodeSpec, NrCgi
from ricproto.cell_offset import is_q_offset
from ricproto.e2error import E2CodecError
from ricproto.e2sm import rc
from ricproto.e2sm.identities import NrCgi as E2smNrCgi
from ricproto.e2sm.identities import plmn_digits, plmn_from_digits
from ricproto.e2sm.ueid import Guami, UeId, UeIdGnb, UeIdGnbDu
from ricproto.ran_space import SliceQuota, Snssai


def ue_identity(index: int, plmn: str) -> UeIdGnb:
    """The gNB-UEID the simulator uses for model UE ``index``."""
    return UeIdGnb(amf_ue_ngap_id=index + 1, guami=Guami(plmn_from_digits(plmn)))


def ue_index(ue_id: UeId) -> int | None:
    """Model UE index of a UEID, or None for identity kinds the simulator does not assign."""
    if isinstance(ue_id, UeIdGnb):
        return ue_id.amf_ue_ngap_id - 1
    if isinstance(ue_id, UeIdGnbDu):
        return ue_id.gnb_cu_ue_f1ap_id - 1
    return None


def apply_control(model: RanModel, node: E2NodeSpec, header: bytes, message: bytes) -> ControlResult:
    try:
        control = rc.decode_control(header, message)
    except E2CodecError as exc:
        cause = (
            ControlFailureCause.UNSUPPORTED
            if "not supported" in exc.reason
            else ControlFailureCause.MALFORMED
        )
        return ControlFailure(cause, str(exc))
    if isinstance(control, rc.HandoverControl):
        return _handover(model, node, control)
    if isinstance(control, rc.CellOffsetControl):
        return _cell_offsets(model, node, control)
    return _slice_quota(model, node, control)


def _model_cgi(cgi: E2smNrCgi) -> NrCgi | ControlFailure:
    try:
        return NrCgi(plmn_digits(cgi.plmn_identity), cgi.nr_cell_identity)
    except (E2CodecError, ValueError) as exc:
        return ControlFailure(ControlFailureCause.UNKNOWN_CELL, f"cell identity: {exc}")


def _cell_offsets(model: RanModel, node: E2NodeSpec, control: rc.CellOffsetControl) -> ControlResult:
    source = _model_cgi(control.source_cell)
    if isinstance(source, ControlFailure):
        return source
    source_index = model.resolve_cell(source)
    if source_index is None or source_index not in node.cell_indices:
        return ControlFailure(
            ControlFailureCause.UNKNOWN_CELL, f"cell {source} is not served by {node.ran_name}"
        )
    changes: list[tuple[NrCgi, int]] = []
    for entry in control.offsets:
        neighbour = _model_cgi(entry.neighbour_cell)
        if isinstance(neighbour, ControlFailure):
            return neighbour
        index = model.resolve_cell(neighbour)
        if index is None:
            return ControlFailure(ControlFailureCause.UNKNOWN_CELL, f"no cell {neighbour} in this RAN")
        if index == source_index or not is_q_offset(entry.offset_db):
            return ControlFailure(
                ControlFailureCause.ILLEGAL_OFFSET,
                f"offset {entry.offset_db} dB from {source} to {neighbour}: "
                + (
                    "a cell has no offset to itself" if index == source_index else "not a Q-OffsetRange value"
                ),
            )
        changes.append((neighbour, entry.offset_db))
    details = []
    for neighbour, offset in changes:
        result = model.set_cell_offset(source, neighbour, offset)
        assert isinstance(result, ControlAck)  # checked above; the model is single-threaded
        details.append(f"{neighbour}: {offset} dB")
    return ControlAck(f"cell individual offsets of {source}: {', '.join(details)}")


def _handover(model: RanModel, node: E2NodeSpec, control: rc.HandoverControl) -> ControlResult:
    ue = ue_index(control.ue_id)
    if ue is None or not 0 <= ue < model.n_ues:
        return ControlFailure(ControlFailureCause.UNKNOWN_UE, f"no UE with identity {control.ue_id}")
    serving = int(model.serving[ue])
    if serving not in node.cell_indices:
        return ControlFailure(
            ControlFailureCause.UNKNOWN_UE, f"UE {ue} is not served by E2 node {node.ran_name}"
        )
    target = _model_cgi(control.target_cell)
    if isinstance(target, ControlFailure):
        return ControlFailure(target.cause, f"target cell: {target.reason}")
    return model.command_handover(ue, target)


def _slice_quota(model: RanModel, node: E2NodeSpec, control: rc.SliceQuotaControl) -> ControlResult:
    changes: dict[Snssai, tuple[int | None, int | None, int | None]] = {}
    for group in control.rrm_policy_ratio_list:
        for member in group.members:
            try:
                plmn = plmn_digits(member.plmn_identity)
            except E2CodecError as exc:
                return ControlFailure(ControlFailureCause.MALFORMED, str(exc))
            if plmn != node.plmn:
                return ControlFailure(
                    ControlFailureCause.UNKNOWN_SLICE, f"PLMN {plmn} is not served by {node.ran_name}"
                )
            try:
                snssai = Snssai(member.s_nssai.sst, member.s_nssai.sd)
            except ValueError as exc:
                return ControlFailure(ControlFailureCause.MALFORMED, f"S-NSSAI: {exc}")
            changes[snssai] = (
                group.min_prb_policy_ratio,
                group.max_prb_policy_ratio,
                group.dedicated_prb_policy_ratio,
            )
    if not changes:
        return ControlFailure(ControlFailureCause.MALFORMED, "the RRM policy names no slice")
    per_cell: list[tuple[int, dict[Snssai, SliceQuota]]] = []
    for cell in node.cell_indices:
        current = dict(zip(model.slices, model.slice_quotas(cell), strict=True))
        quotas = {}
        for snssai, (mn, mx, ded) in changes.items():
            if snssai not in current:
                return ControlFailure(ControlFailureCause.UNKNOWN_SLICE, f"no slice {snssai} in this RAN")
            now = current[snssai]
            quotas[snssai] = SliceQuota(
                now.min_ratio if mn is None else mn,
                now.max_ratio if mx is None else mx,
                now.dedicated_ratio if ded is None else ded,
            )
        checked = model.check_slice_quotas(model.cells[cell].nr_cgi, quotas)
        if isinstance(checked, ControlFailure):
            return checked
        per_cell.append((cell, quotas))
    for cell, quotas in per_cell:
        result = model.set_slice_quotas(model.cells[cell].nr_cgi, quotas)
        assert isinstance(result, ControlAck)  # checked above; the model is single-threaded
    detail = "; ".join(
        f"{s}: min={q.min_ratio} max={q.max_ratio} dedicated={q.dedicated_ratio}"
        for s, q in per_cell[0][1].items()
    )
    return ControlAck(f"RRM policy on {len(per_cell)} cell(s) of {node.ran_name}: {detail}")
