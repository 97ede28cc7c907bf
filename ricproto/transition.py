"""The transitions stream between the control xApp (writer) and the twin sidecar (reader).

The record is the protobuf ``Transition`` of ``transition.proto`` (generated ``transition_pb2``;
regenerate with ``python -m grpc_tools.protoc -I. --python_out=. ricproto/transition.proto`` using a
protoc no newer than 3.21 so the module loads on the protobuf 3.20 runtime ricxappframe pins).
Each stream entry has one field, ``FIELD``, holding the serialized message; the stream is capped
with ``XADD MAXLEN ~`` so the twin can be down for a while and catch up from where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
    "TransitionCodecError",
    "decode_transition",
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
