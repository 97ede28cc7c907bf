"""Promoted snapshots, their lineage and the gate's history, in Redis.

The xApp follows ``snapshot_key``/``version_key`` (``ricproto.policy_snapshot``); besides them the
store keeps every promoted blob (hash ``versions``, so a rollback can restore one), the versions in
force in order (list ``lineage``, newest last), the history of records (list ``history``, capped)
and the latest candidate decision. Promotion and rollback are single MULTI transactions, so the xApp
never sees a version without its blob and a crash never leaves half a promotion.
"""

from __future__ import annotations

import redis

from ricproto.policy_snapshot import (
    PolicySnapshot,
    SnapshotCodecError,
    decode_snapshot,
    encode_snapshot,
    snapshot_key,
    version_key,
)
from twin_sidecar.gate.report import GateRecord, PolicyReport, VersionInfo


def _key(xapp: str, what: str) -> str:
    return f"twinric:policy:{xapp}:{what}"


class PolicyStore:
    def __init__(self, client: redis.Redis, xapp: str, history_limit: int = 500) -> None:
        self.redis = client
        self.xapp = xapp
        self.history_limit = history_limit
        self.snapshot_key = snapshot_key(xapp)
        self.version_key = version_key(xapp)
        self.versions_key = _key(xapp, "versions")
        self.lineage_key = _key(xapp, "lineage")
        self.history_key = _key(xapp, "history")
        self.candidate_key = _key(xapp, "candidate")

    # --- reading ---------------------------------------------------------------------------------
    def current_version(self) -> str | None:
        v = self.redis.get(self.version_key)
        return v.decode() if v is not None else None

    def current(self) -> PolicySnapshot | None:
        blob = self.redis.get(self.snapshot_key)
        if blob is None:
            return None
        try:
            return decode_snapshot(blob)
        except SnapshotCodecError:
            return None

    def lineage(self) -> list[str]:
        return [v.decode() for v in self.redis.lrange(self.lineage_key, 0, -1)]

    def history(self, limit: int | None = None) -> list[GateRecord]:
        start = 0 if limit is None else -limit
        return [GateRecord.model_validate_json(raw) for raw in self.redis.lrange(self.history_key, start, -1)]

    def report(self, history_limit: int = 50) -> PolicyReport:
        snap = self.current()
        raw_candidate = self.redis.get(self.candidate_key)
        return PolicyReport(
            xapp=self.xapp,
            in_force=VersionInfo(
                version=snap.version,
                created_at=snap.created_at,
                obs_dim=snap.obs_dim,
                n_actions=snap.n_actions,
            )
            if snap
            else None,
            candidate=GateRecord.model_validate_json(raw_candidate) if raw_candidate else None,
            lineage=self.lineage(),
            history=self.history(history_limit),
        )

    # --- writing ---------------------------------------------------------------------------------
    def promote(self, snap: PolicySnapshot, record: GateRecord) -> None:
        """Put ``snap`` in force and record why, atomically."""
        if self.redis.hexists(self.versions_key, snap.version):
            raise ValueError(f"version {snap.version!r} was promoted before; a candidate needs a new version")
        blob = encode_snapshot(snap)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self.versions_key, snap.version, blob)
        pipe.set(self.snapshot_key, blob)
        pipe.set(self.version_key, snap.version)
        pipe.rpush(self.lineage_key, snap.version)
        self._append(pipe, record)
        pipe.set(self.candidate_key, record.model_dump_json())
        pipe.execute()

    def refuse(self, record: GateRecord) -> None:
        pipe = self.redis.pipeline(transaction=True)
        self._append(pipe, record)
        pipe.set(self.candidate_key, record.model_dump_json())
        pipe.execute()

    def record(self, record: GateRecord) -> None:
        pipe = self.redis.pipeline(transaction=True)
        self._append(pipe, record)
        pipe.execute()

    def rollback(self, record: GateRecord) -> str | None:
        """Take the newest version out of force and restore the one before (None = back to the heuristic).

        ``record.version`` must be the version in force (a concurrent change makes this a no-op that
        raises). Returns the version in force afterwards.
        """
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.watch(self.lineage_key, self.version_key)
            lineage = [v.decode() for v in pipe.lrange(self.lineage_key, 0, -1)]
            if not lineage or lineage[-1] != record.version:
                raise ValueError(f"{record.version!r} is not the version in force (lineage {lineage})")
            previous = lineage[-2] if len(lineage) > 1 else None
            blob = pipe.hget(self.versions_key, previous) if previous else None
            pipe.multi()
            pipe.rpop(self.lineage_key)
            if previous is not None and blob is not None:
                pipe.set(self.snapshot_key, blob)
                pipe.set(self.version_key, previous)
            else:
                pipe.delete(self.snapshot_key, self.version_key)
            self._append(pipe, record.model_copy(update={"in_force": previous}))
            pipe.execute()
        return previous

    def _append(self, pipe: redis.client.Pipeline, record: GateRecord) -> None:
        pipe.rpush(self.history_key, record.model_dump_json())
        pipe.ltrim(self.history_key, -self.history_limit, -1)
