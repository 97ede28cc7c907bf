"""Shared names of the PDP tests (importable by name: ``conftest`` modules of several test directories
would shadow each other)."""

from __future__ import annotations

from ricproto import trust

XAPP = "twinric-control"
SUBJECT = f"xapp:{XAPP}"
MEID = "gnb_001_001_000001"
CELL = f"e2node:{MEID}/cell:32769"


def set_trust(
    client, subject: str, score: float, *, ttl_s: float | None = None, ts: str | None = None
) -> None:
    rec = trust.make_record(subject, score, "test", ttl_s=ttl_s, ts=ts)
    client.set(trust.key(subject), trust.encode_record(rec))
    client.publish(trust.UPDATES_CHANNEL, subject)
