"""The A1 mediator's state in Redis: policy types, instances, their metadata and handler status.

Keys follow the OSC mediator's SDL layout (namespace ``A1m_ns``) so a look at the database reads
the same: ``{A1m_ns},a1.policy_type.<t>``, ``a1.policy_instance.<t>.<iid>`` (the body as JSON),
``a1.policy_inst_metadata.<t>.<iid>``, ``a1.policy_handler.<t>.<iid>`` (last handler status; last
writer wins, as in the Go mediator) and ``a1.policy_notification_destination.<t>.<iid>``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis

NAMESPACE = "{A1m_ns},"
TYPE = NAMESPACE + "a1.policy_type."
INSTANCE = NAMESPACE + "a1.policy_instance."
METADATA = NAMESPACE + "a1.policy_inst_metadata."
HANDLER = NAMESPACE + "a1.policy_handler."
NOTIFY = NAMESPACE + "a1.policy_notification_destination."


@dataclass(frozen=True)
class InstanceMetadata:
    created_at: float
    has_been_deleted: bool


class A1Store:
    """Policy types and instances over a real Redis (any ``redis.Redis`` client)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str) -> A1Store:
        return cls(redis.Redis.from_url(url))

    def healthy(self) -> bool:
        try:
            return bool(self.client.ping())
        except (redis.RedisError, OSError):
            return False

    # policy types

    def create_type(self, type_id: int, body: dict[str, Any]) -> bool:
        """Store a new type; False if it already exists (types are never replaced in place)."""
        return bool(self.client.set(f"{TYPE}{type_id}", json.dumps(body), nx=True))

    def get_type(self, type_id: int) -> dict[str, Any] | None:
        raw = self.client.get(f"{TYPE}{type_id}")
        return None if raw is None else json.loads(raw)

    def list_types(self) -> list[int]:
        ids = []
        for key in self.client.scan_iter(match=f"{_glob(TYPE)}*", count=500):
            suffix = key.decode()[len(TYPE) :]
            if suffix.isdigit():
                ids.append(int(suffix))
        return sorted(ids)

    def delete_type(self, type_id: int) -> bool:
        return bool(self.client.delete(f"{TYPE}{type_id}"))

    # policy instances

    def put_instance(self, type_id: int, instance_id: str, body: dict[str, Any]) -> bool:
        """Store (create or replace) an instance; True when it already existed (an UPDATE).

        The handler status is cleared: what the handlers confirmed was the previous version.
        Read and write happen in one optimistic transaction, so two concurrent PUTs of a new
        instance yield exactly one CREATE.
        """
        key = _ikey(type_id, instance_id)
        existed = False

        def write(pipe: redis.client.Pipeline) -> None:
            nonlocal existed
            raw = pipe.get(METADATA + key)
            meta = json.loads(raw) if raw is not None else None
            existed = meta is not None and not meta["has_been_deleted"]
            created_at = meta["created_at"] if existed and meta else time.time()
            pipe.multi()
            pipe.set(INSTANCE + key, json.dumps(body))
            pipe.set(METADATA + key, json.dumps({"created_at": created_at, "has_been_deleted": False}))
            pipe.delete(HANDLER + key)

        self.client.transaction(write, METADATA + key)
        return existed

    def get_instance(self, type_id: int, instance_id: str) -> dict[str, Any] | None:
        raw = self.client.get(INSTANCE + _ikey(type_id, instance_id))
        return None if raw is None else json.loads(raw)

    def list_instances(self, type_id: int) -> list[str]:
        prefix = f"{INSTANCE}{type_id}."
        keys = self.client.scan_iter(match=f"{_glob(prefix)}*", count=500)
        return sorted(key.decode()[len(prefix) :] for key in keys)

    def instances_of_type(self, type_id: int) -> dict[str, dict[str, Any]]:
        out = {}
        for instance_id in self.list_instances(type_id):
            body = self.get_instance(type_id, instance_id)
            if body is not None:
                out[instance_id] = body
        return out

    def mark_deleted(self, type_id: int, instance_id: str) -> bool:
        """Remove the instance body and mark it deleted until a handler confirms; False if absent."""
        key = _ikey(type_id, instance_id)
        deleted = False

        def write(pipe: redis.client.Pipeline) -> None:
            nonlocal deleted
            raw = pipe.get(METADATA + key)
            meta = json.loads(raw) if raw is not None else None
            deleted = meta is not None and not meta["has_been_deleted"]
            if not deleted:
                return
            pipe.multi()
            pipe.delete(INSTANCE + key)
            pipe.set(METADATA + key, json.dumps({"created_at": meta["created_at"], "has_been_deleted": True}))
            pipe.delete(HANDLER + key)
            pipe.delete(NOTIFY + key)

        self.client.transaction(write, METADATA + key)
        return deleted

    def purge(self, type_id: int, instance_id: str) -> None:
        """Forget a deleted instance completely (after a handler answered DELETED)."""
        key = _ikey(type_id, instance_id)
        self.client.delete(INSTANCE + key, METADATA + key, HANDLER + key, NOTIFY + key)

    def get_metadata(self, type_id: int, instance_id: str) -> InstanceMetadata | None:
        raw = self.client.get(METADATA + _ikey(type_id, instance_id))
        if raw is None:
            return None
        data = json.loads(raw)
        return InstanceMetadata(float(data["created_at"]), bool(data["has_been_deleted"]))

    # handler status and notification

    def set_handler_status(self, type_id: int, instance_id: str, status: str) -> None:
        self.client.set(HANDLER + _ikey(type_id, instance_id), status)

    def get_handler_status(self, type_id: int, instance_id: str) -> str | None:
        raw = self.client.get(HANDLER + _ikey(type_id, instance_id))
        return None if raw is None else raw.decode()

    def set_notification_destination(self, type_id: int, instance_id: str, url: str) -> None:
        self.client.set(NOTIFY + _ikey(type_id, instance_id), url)

    def get_notification_destination(self, type_id: int, instance_id: str) -> str | None:
        raw = self.client.get(NOTIFY + _ikey(type_id, instance_id))
        return None if raw is None else raw.decode()

    def count_enforced(self) -> int:
        """Live instances whose last handler status is OK."""
        count = 0
        for key in self.client.scan_iter(match=f"{_glob(HANDLER)}*", count=500):
            if self.client.get(key) == b"OK":
                suffix = key.decode()[len(HANDLER) :]
                if self.client.exists(INSTANCE + suffix):
                    count += 1
        return count


def _ikey(type_id: int, instance_id: str) -> str:
    return f"{type_id}.{instance_id}"


def _glob(prefix: str) -> str:
    """Escape Redis glob characters (the namespace has braces, instance ids may have anything)."""
    out = []
    for ch in prefix:
        if ch in "*?[]\\":
            out.append("\\")
        out.append(ch)
    return "".join(out)
