"""Route-table generation the way O-RAN SC's rtmgr does it: registered xApps + platform -> RMR table text.

Pure logic: :func:`generate_route_table` takes what appmgr knows (each xApp's RMR endpoint and its
descriptor's ``txMessages``/``rxMessages``/``policies``), the platform endpoints, the active E2
subscriptions and the E2 node ownership (MEID map), and returns the records RMR loads
(``newrt|start`` ... ``newrt|end|<count>``, then a ``meid_map`` block when nodes are known).

What is generated (see ``osc.md`` section 4):

* platform routes: subscription requests from submgr to E2 termination by ``%meid``, their answers
  from E2 termination back to submgr, E2 setup and service update between E2 termination and e2mgr,
  A1 responses and queries to the A1 mediator;
* per xApp with any tx/rx: RIC_SUB_REQ/RIC_SUB_DEL_REQ to submgr, RIC_CONTROL_REQ by ``%meid``. rtmgr
  also writes ``RIC_CONTROL_ACK/FAILURE`` with sub_id -1 once per xApp, which RMR reduces to the last
  one: answers that are nobody's subscription land at an arbitrary xApp. Those records are left out
  here: the E2 termination returns each control answer to the xApp that sent the request (see
  ``ricplt.e2term.control_requesters``), so no xApp gets answers to controls it did not send;
* per declared policy type: ``mse|20010|<type>|<xApp>`` (several xApps of one type all get it);
* per other rx name: from the xApps that declare it in tx (sender-qualified), else from anyone;
* per subscription: submgr's answers and E2 termination's indications/control outcomes keyed by the
  subscription id;
* twinric's own: the zero-trust PDP's revocations (``TWINRIC_ACCESS_REVOKE``, from the xApps that send
  it) also go to every E2 termination, which enforces the PDP's grants in front of the RAN.

Entries with the same (mtype, senders, sub_id) are merged into ``;`` groups, so every receiver gets
a copy (RMR fan-out), which is how several handlers of one policy type each get the request.

Tables stay within what C RMR parses (``ricproto.rmr.route_table``): a sender list longer than C
reads is split over several records (each process finds itself in exactly one), an MEID list over
several ``mme_ar`` records; more than 64 fan-out groups for one key cannot be expressed at all, and
such a table is refused with `RouteLimitError` naming the message type and the receivers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ricproto import mtypes
from ricproto.rmr.route_table import MAX_GROUPS, MAX_MEIDS, MAX_SENDER_TOKENS

MAX_SENDERS = MAX_SENDER_TOKENS - 1  # the first token of the field is the mtype

# rx names routed by subscription or by platform rules, never by the generic xApp-to-xApp rule.
_NOT_XAPP_TO_XAPP = frozenset(
    {
        mtypes.RIC_SUB_RESP,
        mtypes.RIC_SUB_FAILURE,
        mtypes.RIC_SUB_DEL_RESP,
        mtypes.RIC_SUB_DEL_FAILURE,
        mtypes.RIC_SUB_REQ,
        mtypes.RIC_SUB_DEL_REQ,
        mtypes.RIC_INDICATION,
        mtypes.RIC_CONTROL_ACK,
        mtypes.RIC_CONTROL_FAILURE,
        mtypes.RIC_CONTROL_REQ,
        mtypes.A1_POLICY_REQ,
        mtypes.A1_POLICY_RESP,
        mtypes.A1_POLICY_QUERY,
        mtypes.RMRRM_TABLE_DATA,
        mtypes.RMRRM_REQ_TABLE,
        mtypes.RMRRM_TABLE_STATE,
    }
)

MEID_ROUTE = "%meid"


class RouteLimitError(ValueError):
    """The registrations need a route record C RMR cannot parse (more than 64 fan-out groups)."""


@dataclass(frozen=True)
class XappRoutes:
    """The routing part of one registered xApp instance."""

    name: str
    endpoint: str  # RMR data endpoint "host:port"
    tx: tuple[str, ...] = ()
    rx: tuple[str, ...] = ()
    policies: tuple[int, ...] = ()

    @property
    def uses_rmr(self) -> bool:
        return bool(self.tx or self.rx)


@dataclass(frozen=True)
class PlatformEndpoints:
    """RMR data endpoints ("host:port") of the platform components that exist (None = absent)."""

    submgr: str | None = None
    e2term: tuple[str, ...] = ()
    e2mgr: str | None = None
    a1mediator: str | None = None


@dataclass(frozen=True)
class SubscriptionRoute:
    """An E2 subscription: its RMR sub_id (E2 instance id) and the xApp endpoint it belongs to."""

    sub_id: int
    endpoint: str


@dataclass(frozen=True)
class RouteEntry:
    mtype: int
    senders: tuple[str, ...]
    sub_id: int
    groups: tuple[str, ...]  # one endpoint (or "%meid") per fan-out group

    def record(self) -> str:
        key = ",".join([str(self.mtype), *self.senders])
        return f"mse|{key}|{self.sub_id}|{';'.join(self.groups)}"


@dataclass
class RouteTable:
    """The generated entries, the MEID map, and what could not be routed (unknown names)."""

    table_id: str
    entries: list[RouteEntry]
    meids: dict[str, tuple[str, ...]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"newrt|start|{self.table_id}"]
        lines += [entry.record() for entry in self.entries]
        lines.append(f"newrt|end|{len(self.entries)}")
        if self.meids:
            mme = [
                f"mme_ar|{owner}|{' '.join(names[i : i + MAX_MEIDS])}"
                for owner, names in self.meids.items()
                for i in range(0, len(names), MAX_MEIDS)
            ]
            lines.append(f"meid_map|start|{self.table_id}")
            lines += mme
            lines.append(f"meid_map|end|{len(mme)}")
        return "\n".join(lines) + "\n"

    def blocks(self) -> list[str]:
        """The blocks of ``text()`` in order; RMR acknowledges each one with its own message."""
        return ["newrt", "meid_map"] if self.meids else ["newrt"]


class _Builder:
    """Collects (mtype, sub_id, sender) -> targets, then writes one record per distinct sender view.

    RMR keys a table by (sub_id, mtype) only; a sender qualifier just decides whether a record
    applies in a process. So a process must find *all* its targets for a key in one record: records
    are emitted per sender (senders with identical targets share a record), an unqualified record
    comes first, and its targets are folded into the qualified ones that override it.
    """

    def __init__(self) -> None:
        self._targets: dict[tuple[int, int], dict[str, list[str]]] = {}

    def add(self, mtype: int, target: str | None, *, senders: Iterable[str] = (), sub_id: int = -1) -> None:
        if target is None:
            return
        by_sender = self._targets.setdefault((mtype, sub_id), {})
        for sender in sorted(set(senders)) or [""]:
            targets = by_sender.setdefault(sender, [])
            if target not in targets:
                targets.append(target)

    def entries(self) -> list[RouteEntry]:
        out: list[RouteEntry] = []
        for (mtype, sub_id), by_sender in self._targets.items():
            anyone = by_sender.get("", [])
            if anyone:
                _check_groups(mtype, sub_id, anyone)
                out.append(RouteEntry(mtype, (), sub_id, tuple(anyone)))
            views: dict[tuple[str, ...], list[str]] = {}
            for sender, targets in by_sender.items():
                if not sender:
                    continue
                merged = list(targets)
                if MEID_ROUTE not in merged and MEID_ROUTE not in anyone:
                    merged += [t for t in anyone if t not in merged]
                views.setdefault(tuple(merged), []).append(sender)
            for targets, senders in views.items():
                _check_groups(mtype, sub_id, targets)
                for i in range(0, len(senders), MAX_SENDERS):  # C reads 126 senders per record
                    out.append(RouteEntry(mtype, tuple(senders[i : i + MAX_SENDERS]), sub_id, targets))
        return out


def _check_groups(mtype: int, sub_id: int, targets: Sequence[str]) -> None:
    if len(targets) > MAX_GROUPS:
        shown = ", ".join(targets[:3])
        raise RouteLimitError(
            f"message type {mtype} (sub id {sub_id}) must reach {len(targets)} receivers ({shown}, ...) from "
            f"one sender, but RMR parses at most {MAX_GROUPS} fan-out groups in a route record"
        )


def _platform_routes(b: _Builder, p: PlatformEndpoints) -> None:
    e2t = p.e2term
    if p.submgr and e2t:
        for mtype in (mtypes.RIC_SUB_REQ, mtypes.RIC_SUB_DEL_REQ):
            b.add(mtype, MEID_ROUTE, senders=[p.submgr])
        for mtype in (
            mtypes.RIC_SUB_RESP,
            mtypes.RIC_SUB_FAILURE,
            mtypes.RIC_SUB_DEL_RESP,
            mtypes.RIC_SUB_DEL_FAILURE,
            mtypes.RIC_SUB_DEL_REQUIRED,
        ):
            b.add(mtype, p.submgr, senders=e2t)
    if p.e2mgr and e2t:
        for mtype in (
            mtypes.RIC_E2_SETUP_REQ,
            mtypes.RIC_SERVICE_UPDATE,
            mtypes.E2_TERM_INIT,
            mtypes.E2_TERM_KEEP_ALIVE_RESP,
            mtypes.RIC_E2_RESET_REQ,
            mtypes.RIC_SCTP_CONNECTION_FAILURE,
        ):
            b.add(mtype, p.e2mgr, senders=e2t)
        for mtype in (
            mtypes.RIC_E2_SETUP_RESP,
            mtypes.RIC_E2_SETUP_FAILURE,
            mtypes.RIC_SERVICE_UPDATE_ACK,
            mtypes.RIC_SERVICE_UPDATE_FAILURE,
            mtypes.RIC_E2_RESET_RESP,
        ):
            b.add(mtype, MEID_ROUTE, senders=[p.e2mgr])
        for e2term in e2t:
            b.add(mtypes.E2_TERM_KEEP_ALIVE_REQ, e2term, senders=[p.e2mgr])
    if p.a1mediator:
        b.add(mtypes.A1_POLICY_RESP, p.a1mediator)
        b.add(mtypes.A1_POLICY_QUERY, p.a1mediator)


def _resolve(name: str, owner: str, warnings: list[str]) -> int | None:
    try:
        return mtypes.parse(name)
    except ValueError:
        warnings.append(f"{owner}: unknown message type {name!r} (not routed)")
        return None


def generate_route_table(
    xapps: Sequence[XappRoutes],
    platform: PlatformEndpoints,
    subscriptions: Sequence[SubscriptionRoute] = (),
    meids: Mapping[str, Sequence[str]] | None = None,
    table_id: str = "twinric",
) -> RouteTable:
    """Build the full route table for the current registrations (deterministic for equal inputs).

    Raises `RouteLimitError` when a message type needs more fan-out groups than RMR parses.
    """
    b = _Builder()
    warnings: list[str] = []
    _platform_routes(b, platform)
    ordered = sorted(xapps, key=lambda x: x.name)

    tx_by_mtype: dict[int, list[str]] = {}
    for xapp in ordered:
        for name in xapp.tx:
            mtype = _resolve(name, xapp.name, warnings)
            if mtype is not None:
                tx_by_mtype.setdefault(mtype, []).append(xapp.endpoint)

    for sender in tx_by_mtype.get(mtypes.TWINRIC_ACCESS_REVOKE, []):
        for e2term in platform.e2term:
            b.add(mtypes.TWINRIC_ACCESS_REVOKE, e2term, senders=[sender])

    for xapp in ordered:
        ep = xapp.endpoint
        if xapp.uses_rmr:
            b.add(mtypes.RIC_SUB_REQ, platform.submgr, senders=[ep])
            b.add(mtypes.RIC_SUB_DEL_REQ, platform.submgr, senders=[ep])
            if platform.e2term:
                b.add(mtypes.RIC_CONTROL_REQ, MEID_ROUTE, senders=[ep])
        for policy_type in xapp.policies:
            b.add(mtypes.A1_POLICY_REQ, ep, sub_id=policy_type)
        for name in xapp.rx:
            mtype = _resolve(name, xapp.name, warnings)
            if mtype is None or mtype in _NOT_XAPP_TO_XAPP:
                continue
            senders = [s for s in tx_by_mtype.get(mtype, []) if s != ep]
            b.add(mtype, ep, senders=senders)

    by_endpoint = {x.endpoint for x in ordered}
    for sub in sorted(subscriptions, key=lambda s: (s.sub_id, s.endpoint)):
        if sub.endpoint not in by_endpoint:
            # rtmgr's "xAppEp is nil": a subscription whose endpoint no registered xApp owns.
            warnings.append(f"subscription {sub.sub_id}: no registered xApp at {sub.endpoint} (not routed)")
            continue
        for mtype in (
            mtypes.RIC_SUB_RESP,
            mtypes.RIC_SUB_FAILURE,
            mtypes.RIC_SUB_DEL_RESP,
            mtypes.RIC_SUB_DEL_FAILURE,
        ):
            if platform.submgr:
                b.add(mtype, sub.endpoint, senders=[platform.submgr], sub_id=sub.sub_id)
        for mtype in (mtypes.RIC_INDICATION, mtypes.RIC_CONTROL_ACK, mtypes.RIC_CONTROL_FAILURE):
            if platform.e2term:
                b.add(mtype, sub.endpoint, senders=platform.e2term, sub_id=sub.sub_id)

    meid_map = {owner: tuple(sorted(names)) for owner, names in sorted((meids or {}).items()) if names}
    return RouteTable(table_id, b.entries(), meid_map, warnings)
