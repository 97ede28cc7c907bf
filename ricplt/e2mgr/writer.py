"""Writes a node's R-NIB entities into SDL the way e2mgr does, and announces what changed.

SDL is plain Redis here: values are set with ``MSET``, groups with ``SADD``/``SREM``, and events go out
with ``PUBLISH`` on ``{e2Manager},<channel>`` (what ricsdl subscribers listen to). e2mgr itself uses the
dbaas module's ``MSETMPUB`` to set and publish in one step; the two steps here are ordered so that a
reader woken by an event already finds the new values.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from ricxappframe.entities.rnib import nb_identity_pb2

from ricplt.e2mgr import rnib
from ricplt.e2term.inventory import E2NodeRecord


@dataclass(frozen=True)
class RnibChange:
    """What a save changed: a node seen for the first time, or its connection status flipped."""

    added: bool
    status_changed: bool
    connected: bool


class RnibWriter:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def save(self, record: E2NodeRecord) -> RnibChange:
        entries = rnib.entries(record)
        name_key = rnib.sdl_key(rnib.nodeb_name_key(record.ranName))
        previous = self.client.get(name_key)
        was_connected: bool | None = None
        if previous is not None:
            old = rnib.nodeb_info_pb2.NodebInfo.FromString(previous)
            was_connected = old.connection_status == rnib.CONNECTED
        group = rnib.sdl_key(entries.group)
        stale = [m for m in self.client.smembers(group) if _inventory_name(m) == record.ranName]
        with self.client.pipeline(transaction=True) as pipe:
            pipe.mset({rnib.sdl_key(k): v for k, v in entries.values.items()})
            for member in stale:
                if member != entries.member:
                    pipe.srem(group, member)
            pipe.sadd(group, entries.member)
            pipe.execute()
        flipped = was_connected is not None and was_connected != entries.connected
        change = RnibChange(previous is None, flipped, entries.connected)
        if change.added:
            self.publish(rnib.MANIPULATION_CHANNEL, f"{record.ranName}_ADDED")
        if change.added or change.status_changed:
            self.publish(rnib.STATE_CHANGE_CHANNEL, rnib.status_event(record.ranName, entries.connected))
        return change

    def publish(self, channel: str, event: str) -> None:
        self.client.publish(rnib.sdl_key(channel), event)


def _inventory_name(member: bytes) -> str | None:
    try:
        return nb_identity_pb2.NbIdentity.FromString(member).inventory_name
    except Exception:  # a member that is not an NbIdentity is not ours to judge
        return None
