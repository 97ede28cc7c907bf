"""The transitions stream between the control xApp (writer) and the twin sidecar (reader).

The record is the protobuf ``Transition`` of ``transition.proto`` (generated ``transition_pb2``;
regenerate with ``python -m grpc_tools.protoc -I. --python_out=. ricproto/transition.proto`` using a
protoc no newer than 3.21 so the module loads on the protobuf 3.20 runtime ricxappframe pins).
Each stream entry has one field, ``FIELD``, holding the serialized message; the stream is capped
with ``XADD MAXLEN ~`` so the twin can be down for a while and catch up from where it stopped.

``decode_transition`` gives the protobuf message. The twin's ingest path uses
``decode_transition_fields`` (the same checks; arrays as numpy views read by ``protowire``, ~50x
faster than the protobuf 3.20 Python runtime for scenario-sized observations) and stacks rows into a
``TransitionBatch``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ricproto.protowire import WireDecodeError, WireDecoder
from ricproto.transition_pb2 import ActionSource, ControlOutcome, Timestamps, Transition

SCHEMA_VERSION = 1
FIELD = b"t"
DEFAULT_MAXLEN = 100_000

__all__ = [
    "DEFAULT_MAXLEN",
    "FIELD",
    "SCHEMA_VERSION",
    "ActionSource",
    "ControlOutcome",
    "Timestamps",
    "Transition",
    "TransitionBatch",
    "TransitionCodecError",
    "decode_transition",
    "decode_transition_fields",
    "encode_transition",
    "next_observation",
    "observation",
    "stream_key",
]


class TransitionCodecError(ValueError):
    """A stream entry that is not a Transition of a known schema version."""


def stream_key(xapp_instance: str) -> str:
    return f"twinric:transitions:{xapp_instance}"


def encode_transition(msg: Transition) -> bytes:
    if msg.schema_version == 0:
        msg.schema_version = SCHEMA_VERSION
    return msg.SerializeToString()


def decode_transition(data: bytes) -> Transition:
    msg = Transition()
    try:
        msg.ParseFromString(bytes(data))
    except Exception as exc:  # protobuf raises its own DecodeError (not a ValueError)
        raise TransitionCodecError(f"not a Transition: {exc}") from None
    if msg.schema_version != SCHEMA_VERSION:
        raise TransitionCodecError(f"schema_version {msg.schema_version}, expected {SCHEMA_VERSION}")
    if msg.mu_all and not 0 <= msg.action < len(msg.mu_all):
        raise TransitionCodecError(f"action {msg.action} outside mu_all of {len(msg.mu_all)} actions")
    return msg


def observation(msg: Transition) -> np.ndarray:
    return np.asarray(msg.s, dtype=np.float32)


def next_observation(msg: Transition) -> np.ndarray:
    return np.asarray(msg.s_next, dtype=np.float32)


def floats(values: Sequence[float] | np.ndarray) -> list[float]:
    """A float list for a repeated float field (numpy arrays assign fastest through tolist)."""
    return np.asarray(values, dtype=np.float32).tolist()


_WIRE = WireDecoder(Transition.DESCRIPTOR)


def decode_transition_fields(data: bytes) -> dict[str, Any]:
    """``{field: value}`` of a Transition (``protowire`` shapes: s, s_next, mu_all as float32 arrays,
    timestamps as a dict or None) with ``decode_transition``'s checks plus s and s_next of one length."""
    try:
        f = _WIRE.decode(data)
    except WireDecodeError as exc:
        raise TransitionCodecError(f"not a Transition: {exc}") from None
    if f["schema_version"] != SCHEMA_VERSION:
        raise TransitionCodecError(f"schema_version {f['schema_version']}, expected {SCHEMA_VERSION}")
    n_mu = f["mu_all"].shape[0]
    if n_mu and not 0 <= f["action"] < n_mu:
        raise TransitionCodecError(f"action {f['action']} outside mu_all of {n_mu} actions")
    if f["s"].shape != f["s_next"].shape:
        raise TransitionCodecError(f"s has {f['s'].shape[0]} values, s_next {f['s_next'].shape[0]}")
    return f


@dataclass
class TransitionBatch:
    """Consecutive transitions as columns (N rows, D observation values, A actions)."""

    step: np.ndarray  # [N] int64
    s: np.ndarray  # [N, D] float32
    action: np.ndarray  # [N] int64
    reward: np.ndarray  # [N] float32
    s_next: np.ndarray  # [N, D] float32
    mu: np.ndarray  # [N] float32
    mu_all: np.ndarray  # [N, A] float32 (A = 0 when the records carry no distribution)
    policy_version: list[str]
    intervened: np.ndarray  # [N] bool
    state_intervened: np.ndarray  # [N] bool
    denied: np.ndarray  # [N] bool
    source: np.ndarray  # [N] int64 (ActionSource)
    outcome: np.ndarray  # [N] int64 (ControlOutcome)
    indication_ns: np.ndarray  # [N] uint64
    next_indication_ns: np.ndarray  # [N] uint64
    meid: list[str]

    def __len__(self) -> int:
        return int(self.step.shape[0])

    @classmethod
    def from_fields(cls, rows: Sequence[dict[str, Any]]) -> TransitionBatch:
        """Stack ``decode_transition_fields`` rows; every row must have the same D (and A, or none)."""
        n_mu = {r["mu_all"].shape[0] for r in rows}
        mu_all = (
            np.stack([r["mu_all"] for r in rows]).astype(np.float32, copy=False)
            if len(n_mu) == 1 and 0 not in n_mu
            else np.zeros((len(rows), 0), dtype=np.float32)
        )
        ts = [r["timestamps"] or {} for r in rows]
        d = len(rows[0]["s"]) if rows else 0
        return cls(
            step=np.fromiter((r["step"] for r in rows), dtype=np.int64, count=len(rows)),
            s=np.stack([r["s"] for r in rows]) if rows else np.zeros((0, d), np.float32),
            action=np.fromiter((r["action"] for r in rows), dtype=np.int64, count=len(rows)),
            reward=np.fromiter((r["reward"] for r in rows), dtype=np.float32, count=len(rows)),
            s_next=np.stack([r["s_next"] for r in rows]) if rows else np.zeros((0, d), np.float32),
            mu=np.fromiter((r["mu"] for r in rows), dtype=np.float32, count=len(rows)),
            mu_all=mu_all,
            policy_version=[r["policy_version"] for r in rows],
            intervened=np.fromiter((r["intervened"] for r in rows), dtype=bool, count=len(rows)),
            state_intervened=np.fromiter((r["state_intervened"] for r in rows), dtype=bool, count=len(rows)),
            denied=np.fromiter((r["denied"] for r in rows), dtype=bool, count=len(rows)),
            source=np.fromiter((r["source"] for r in rows), dtype=np.int64, count=len(rows)),
            outcome=np.fromiter((r["outcome"] for r in rows), dtype=np.int64, count=len(rows)),
            indication_ns=np.fromiter(
                (t.get("indication_ns", 0) for t in ts), dtype=np.uint64, count=len(rows)
            ),
            next_indication_ns=np.fromiter(
                (t.get("next_indication_ns", 0) for t in ts), dtype=np.uint64, count=len(rows)
            ),
            meid=[r["meid"] for r in rows],
        )
