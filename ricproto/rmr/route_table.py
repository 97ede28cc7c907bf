"""RMR route tables: the record parser (seed file and route-manager payloads) and endpoint selection.

Record syntax and semantics follow RMR 4.9.4 (rmr.md §3): first-character dispatch, ``newrt`` /
``updatert`` / ``meid_map`` blocks with optional counts, ``rte`` and ``mse`` entries with sender
qualifiers, ``;`` fan-out groups of ``,`` round-robin members, ``%meid`` owners from the MEID map,
exact-then-(-1) sub_id lookup, self-pruning of our own endpoints.

Lists are split the way C's ``uta_tokenise`` splits them: into at most N tokens, the last one holding
the rest of the text unsplit. So a record has at most 128 fields, a sender list 127 tokens (the
mtype and 126 senders), an endpoint list 64 ``;`` groups of 64 ``,`` tokens (32 members used), an
``mme_ar`` list 128 MEIDs. Whatever lies beyond those limits ends up in one token that names no real
endpoint, sender or MEID, exactly as in C; ``limit_warnings`` counts every record that went past one.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ricproto.rmr import metrics
from ricproto.rmr.states import SUB_ID_NONE

log = logging.getLogger("ricproto.rmr.route_table")

MAX_GROUP_MEMBERS = 32  # MAX_EP_GROUP
MAX_GROUPS = 64  # gtokens[64] in build_entry
# tokens[128] in parse_rt_rec; no record reads past its 5th field, so only the count is C's.
MAX_FIELDS = 128  # pragma: no mutate
MAX_SENDER_TOKENS = 127  # uta_has_str(..., 127): the mtype and up to 126 senders
MAX_GROUP_TOKENS = 64  # uta_rmip_tokenise(..., 64)
MAX_MEIDS = 128  # tokens[128] in parse_meid_ar / parse_meid_del
MEID_ENDPOINT = "%meid"


def tokenise(text: str, sep: str, max_tokens: int) -> list[str]:
    """C's uta_tokenise: at most ``max_tokens`` tokens, the last one holding the rest; none for ""."""
    return text.split(sep, max_tokens - 1) if text else []


class RouteTableError(ValueError):
    """A record that cannot be parsed; the block it belongs to is still processed."""


class RoundRobinGroup:
    """Members that share the load of one group: each ``pick`` returns the next member."""

    __slots__ = ("_cycle", "members")

    def __init__(self, members: tuple[str, ...]) -> None:
        self.members = members
        self._cycle = itertools.cycle(members)  # next() on a C iterator is atomic under the GIL

    def pick(self) -> str:
        return next(self._cycle)

    def __repr__(self) -> str:
        return "RoundRobinGroup(" + ",".join(self.members) + ")"


@dataclass(slots=True)
class RouteEntry:
    """Where messages of (mtype, sub_id) go: one member of every group, or the owner of their meid."""

    mtype: int
    sub_id: int
    groups: tuple[RoundRobinGroup, ...] = ()
    by_meid: bool = False

    def endpoints(self) -> list[str]:
        """Every endpoint named by the entry (for diagnostics)."""
        return [m for g in self.groups for m in g.members]


def route_key(mtype: int, sub_id: int) -> int:
    """RMR's 64-bit key: sub_id in the high half (all ones for -1), mtype in the low half."""
    return ((sub_id & 0xFFFFFFFF) << 32) | (mtype & 0xFFFFFFFF)


@dataclass
class RouteTable:
    """An immutable-once-live snapshot: the routes and the MEID map (meid -> owner endpoint)."""

    routes: dict[int, RouteEntry] = field(default_factory=dict)
    meid_map: dict[str, str] = field(default_factory=dict)
    table_id: str = ""

    def lookup(self, mtype: int, sub_id: int) -> RouteEntry | None:
        """The exact (sub_id, mtype) entry, else the (-1, mtype) entry when sub_id is not -1."""
        entry = self.routes.get(route_key(mtype, sub_id))
        if entry is None and sub_id != SUB_ID_NONE:
            entry = self.routes.get(route_key(mtype, SUB_ID_NONE))
        return entry

    def copy(self) -> RouteTable:
        return RouteTable(dict(self.routes), dict(self.meid_map), self.table_id)

    def describe(self) -> list[str]:
        """Human-readable lines, one per route, then the MEID map."""
        lines = []
        for entry in sorted(self.routes.values(), key=lambda e: (e.mtype, e.sub_id)):
            target = MEID_ENDPOINT if entry.by_meid else ";".join(",".join(g.members) for g in entry.groups)
            lines.append(f"mse|{entry.mtype}|{entry.sub_id}|{target}")
        lines += [f"mme_ar|{owner}|{meid}" for meid, owner in sorted(self.meid_map.items())]
        return lines


@dataclass(frozen=True)
class TableEvent:
    """The end of a block: what the route manager is acked with (mtype 22)."""

    kind: str  # "newrt", "updatert" or "meid_map"
    table_id: str
    ok: bool
    reason: str = ""

    def ack_payload(self) -> bytes:
        """C's send_rt_ack: ``"OK|ERR <table-id> <reason>\\n"`` plus the string's NUL (len = strlen + 1);
        a block without an id is acked as ``<id-missing>``."""
        table_id = self.table_id or "<id-missing>"
        word = "OK" if self.ok else "ERR"
        return f"{word} {table_id} {'' if self.ok else self.reason}\n\0".encode()


def _strip_comment(line: str) -> str:
    if line.startswith("#"):
        return ""
    for i, ch in enumerate(line):
        if ch == "#" and i > 0 and line[i - 1].isspace():
            return line[:i]
    return line


def records(text: str) -> Iterator[list[str]]:
    """Split table text into records (lists of trimmed fields); comments and blank lines dropped."""
    for raw in text.replace("\r", "\n").split("\n"):
        line = _strip_comment(raw.strip()).strip()
        if line:
            yield [f.strip() for f in tokenise(line, "|", MAX_FIELDS)]


class RouteTableBuilder:
    """Applies route-table records to a live ``RouteTable``, block by block.

    ``own_names`` are this process's endpoint names (``src`` and interface ``ip:port``): entries
    qualified with senders apply only when one of them is ours, and our own endpoints are pruned
    from every group. ``apply`` may be fed text in pieces (route manager splits tables across
    messages); a block takes effect at its ``end`` record.
    """

    def __init__(self, own_names: Iterable[str] = ()) -> None:
        self.own_names = frozenset(own_names)
        self._lock = threading.Lock()
        self.live: RouteTable | None = None
        self.from_rtmgr = False  # a full table came from the route manager (enables updatert)
        self._pending: RouteTable | None = None
        self._pending_kind = ""
        self._pending_id = ""
        self._pending_count = 0
        self.limit_warnings = 0  # records that went past one of C's list limits

    # ---- records -------------------------------------------------------------------------------

    def apply(self, text: str, *, from_rtmgr: bool = False) -> list[TableEvent]:
        """Process records; returns one event per completed (or rejected) block."""
        events: list[TableEvent] = []
        with self._lock:
            for fields in records(text):
                try:
                    event = self._record(fields, from_rtmgr)
                except RouteTableError as exc:
                    log.warning("route table record ignored: %s", exc, extra={"record": "|".join(fields)})
                    continue
                if event is not None:
                    events.append(event)
        return events

    def _record(self, fields: list[str], from_rtmgr: bool) -> TableEvent | None:
        kind = fields[0][:1]
        if kind == "n":
            return self._block("newrt", fields, from_rtmgr)
        if kind == "u":
            return self._block("updatert", fields, from_rtmgr)
        if kind == "m" and fields[0] == "mse":
            return self._entry_mse(fields)
        if kind == "m":
            return self._meid_record(fields)
        if kind == "r":
            return self._entry_rte(fields)
        if kind == "d":
            return self._delete(fields)
        return None

    def _start(self, kind: str, table: RouteTable, fields: list[str]) -> TableEvent | None:
        """Open a block; a block still open is discarded and, as in C, refused ("table not complete")
        when the new block is a newrt or meid_map (C drops an open block silently on updatert)."""
        nack = None
        if self._pending is not None:
            log.warning("%s|start while a %s block is open: the open block is discarded", kind,
                        self._pending_kind)
            if kind != "updatert":
                nack = TableEvent(self._pending_kind, self._pending_id, False, "table not complete")
        self._pending = table
        self._pending_kind = kind
        self._pending_id = fields[2] if len(fields) > 2 else ""
        self._pending_count = 0
        return nack

    def _block(self, kind: str, fields: list[str], from_rtmgr: bool) -> TableEvent | None:
        action = fields[1] if len(fields) > 1 else ""
        if action == "start":
            if kind == "updatert" and not self.from_rtmgr:
                # RMR ignores updates until the route manager has sent a complete table.
                log.info("updatert ignored: no table from the route manager yet")
                self._pending = None
                return None
            live = self.live or RouteTable()
            # newrt starts with no routes but keeps the MEID map; updatert edits a copy of the live table.
            table = RouteTable({}, dict(live.meid_map)) if kind == "newrt" else live.copy()
            return self._start(kind, table, fields)
        if action == "end":
            return self._finish(kind, fields, from_rtmgr)
        raise RouteTableError(f"{kind} record needs start or end, got {action!r}")

    def _finish(self, kind: str, fields: list[str], from_rtmgr: bool) -> TableEvent | None:
        pending, table_id = self._pending, self._pending_id
        if pending is None or self._pending_kind != kind:
            return None
        self._pending = None
        if len(fields) > 2 and fields[2]:
            try:
                expected = int(fields[2])
            except ValueError:
                expected = -1
            if expected != self._pending_count:
                # C's words (send_rt_ack), so a route manager sees the reason it knows
                reason = f"missing table records: expected {fields[2]} got {self._pending_count}\n"
                log.warning("%s %s discarded: %s", kind, table_id, reason)
                return TableEvent(kind, table_id, False, reason)
        pending.table_id = table_id
        self.live = pending
        if kind == "newrt" and from_rtmgr:
            self.from_rtmgr = True
        log.info("%s %s active: %d routes, %d meids", kind, table_id or "-", len(pending.routes),
                 len(pending.meid_map))
        return TableEvent(kind, table_id, True)

    def _target(self) -> RouteTable:
        if self._pending is None or self._pending_kind == "meid_map":
            raise RouteTableError("route entry outside a newrt/updatert block")
        self._pending_count += 1
        return self._pending

    def _mtype_field(self, text: str) -> tuple[int, bool]:
        """The mtype of a ``mtype[,sender...]`` field and whether the entry applies to us."""
        parts = [p.strip() for p in tokenise(text, ",", MAX_SENDER_TOKENS)]
        if len(parts) == MAX_SENDER_TOKENS and "," in parts[-1]:
            self._past_limit(f"more than {MAX_SENDER_TOKENS - 1} senders: the rest match no sender")
        try:
            mtype = int(parts[0])
        except ValueError as exc:
            raise RouteTableError(f"bad message type {parts[0]!r}") from exc
        senders = [p for p in parts[1:] if p]
        return mtype, (not senders) or any(s in self.own_names for s in senders)

    def _groups(self, text: str) -> tuple[tuple[RoundRobinGroup, ...], bool]:
        if text == MEID_ENDPOINT:
            return (), True
        groups = []
        group_texts = tokenise(text, ";", MAX_GROUPS)
        if len(group_texts) == MAX_GROUPS and ";" in group_texts[-1]:
            self._past_limit(f"more than {MAX_GROUPS} groups: the rest form one name that is no endpoint")
        for group_text in group_texts:
            tokens = tokenise(group_text, ",", MAX_GROUP_TOKENS)
            members = [m.strip() for m in tokens if m.strip()]
            members = [m for m in members if m not in self.own_names]  # never send to ourselves
            if len(members) > MAX_GROUP_MEMBERS:
                log.warning("round-robin group of %d members cut to %d", len(members), MAX_GROUP_MEMBERS)
                members = members[:MAX_GROUP_MEMBERS]
            if members:
                groups.append(RoundRobinGroup(tuple(members)))
        return tuple(groups), False

    def _past_limit(self, what: str) -> None:
        self.limit_warnings += 1
        metrics.BAD_INPUT.labels(reason="route_table_limit").inc()
        log.warning("route table record past RMR's limits: %s", what)

    def _add(self, table: RouteTable, mtype: int, sub_id: int, endpoints: str) -> None:
        groups, by_meid = self._groups(endpoints)
        table.routes[route_key(mtype, sub_id)] = RouteEntry(mtype, sub_id, groups, by_meid)

    @staticmethod
    def _sub_id(text: str) -> int:
        try:
            return int(text)
        except ValueError as exc:
            raise RouteTableError(f"bad subscription id {text!r}") from exc

    def _entry_rte(self, fields: list[str]) -> None:
        if len(fields) < 3:
            raise RouteTableError("rte needs rte|mtype|endpoints")
        table = self._target()
        mtype, applies = self._mtype_field(fields[1])
        sub_id = self._sub_id(fields[3]) if len(fields) > 3 and fields[3] else SUB_ID_NONE
        if applies:
            self._add(table, mtype, sub_id, fields[2])

    def _entry_mse(self, fields: list[str]) -> None:
        if len(fields) < 4:
            raise RouteTableError("mse needs mse|mtype|subid|endpoints")
        table = self._target()
        mtype, applies = self._mtype_field(fields[1])
        if applies:
            self._add(table, mtype, self._sub_id(fields[2]), fields[3])

    def _delete(self, fields: list[str]) -> None:
        if len(fields) < 3:
            raise RouteTableError("del needs del|mtype|subid")
        table = self._target()
        mtype, applies = self._mtype_field(fields[1])
        if applies:
            table.routes.pop(route_key(mtype, self._sub_id(fields[2])), None)

    def _meid_record(self, fields: list[str]) -> TableEvent | None:
        name = fields[0]
        if name == "meid_map":
            action = fields[1] if len(fields) > 1 else ""
            if action == "start":
                return self._start("meid_map", (self.live or RouteTable()).copy(), fields)
            if action == "end":
                return self._finish("meid_map", fields, False)
            raise RouteTableError(f"meid_map needs start or end, got {action!r}")
        if self._pending is None or self._pending_kind != "meid_map":
            raise RouteTableError(f"{name} outside a meid_map block")
        if name == "mme_ar":
            if len(fields) < 3:
                raise RouteTableError("mme_ar needs mme_ar|owner|meid ...")
            self._pending_count += 1
            for meid in self._meids(fields[2]):
                self._pending.meid_map[meid] = fields[1]
            return None
        if name == "mme_del":
            if len(fields) < 2:
                raise RouteTableError("mme_del needs mme_del|meid ...")
            self._pending_count += 1
            for meid in self._meids(fields[1]):
                self._pending.meid_map.pop(meid, None)
            return None
        raise RouteTableError(f"unknown record {name!r}")

    def _meids(self, text: str) -> list[str]:
        """A space-separated MEID list as C reads it (128 tokens at most)."""
        tokens = tokenise(text, " ", MAX_MEIDS)
        if len(tokens) == MAX_MEIDS and " " in tokens[-1]:
            self._past_limit(f"more than {MAX_MEIDS} MEIDs in one record: the rest form one MEID")
        return [t for t in tokens if t]
