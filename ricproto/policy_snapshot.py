"""The promoted target-policy snapshot: a versioned MLP as float32 arrays, evaluated with numpy.

The twin trains with torch; what crosses to the xApp is only this snapshot, so the xApp's hot path
never imports torch. Layout of the bytes (little endian)::

    b"TWPS" | uint32 header length | header (UTF-8 JSON) | float32 data

The header is ``{"format": 1, "version": str, "obs_dim": int, "n_actions": int,
"activation": "relu"|"tanh", "output": "logits"|"q", "layers": [[in, out], ...], "created_at": float}``;
the data holds, per layer, W (in x out, row major) then b (out). ``output`` says how the last layer
is read: ``logits`` (a softmax policy) or ``q`` (action values; greedy = argmax). Either way the
behaviour policy in the xApp takes the argmax as the greedy action and uses the values for
Boltzmann exploration.

Redis (written by the twin when a policy is promoted, read by the xApp): the blob under
``snapshot_key(xapp)`` and, written after it, its version under ``version_key(xapp)``; the xApp polls
the small version key and fetches the blob only when it changed.
"""

from __future__ import annotations

import itertools
import json
import struct
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

MAGIC = b"TWPS"
FORMAT = 1
Activation = Literal["relu", "tanh"]
Output = Literal["logits", "q"]


class SnapshotCodecError(ValueError):
    def __init__(self, reason: str, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"policy snapshot{'.' + field if field else ''}: {reason}")


def snapshot_key(xapp: str) -> str:
    return f"twinric:policy:{xapp}:snapshot"


def version_key(xapp: str) -> str:
    return f"twinric:policy:{xapp}:version"


@dataclass(frozen=True)
class PolicySnapshot:
    version: str
    weights: tuple[np.ndarray, ...]  # W_i, float32 (in, out)
    biases: tuple[np.ndarray, ...]  # b_i, float32 (out,)
    activation: Activation = "relu"
    output: Output = "logits"
    created_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if not self.version:
            raise SnapshotCodecError("must be a non-empty string", "version")
        if not self.weights or len(self.weights) != len(self.biases):
            raise SnapshotCodecError("need one bias per weight matrix and at least one layer", "layers")
        if self.activation not in ("relu", "tanh"):
            raise SnapshotCodecError(f"unknown activation {self.activation!r}", "activation")
        if self.output not in ("logits", "q"):
            raise SnapshotCodecError(f"unknown output {self.output!r}", "output")
        prev = None
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if w.ndim != 2 or b.shape != (w.shape[1],):
                raise SnapshotCodecError(f"layer {i}: W {w.shape} and b {b.shape} do not fit", "layers")
            if prev is not None and w.shape[0] != prev:
                raise SnapshotCodecError(
                    f"layer {i} takes {w.shape[0]} inputs, previous gives {prev}", "layers"
                )
            if not (np.isfinite(w).all() and np.isfinite(b).all()):
                raise SnapshotCodecError(f"layer {i} has non-finite values", "layers")
            prev = w.shape[1]

    @property
    def obs_dim(self) -> int:
        return int(self.weights[0].shape[0])

    @property
    def n_actions(self) -> int:
        return int(self.weights[-1].shape[1])

    def action_values(self, obs: np.ndarray) -> np.ndarray:
        """Last-layer outputs (logits or Q values) for one observation, float64 for stable softmax."""
        x = np.asarray(obs, dtype=np.float32).reshape(-1)
        if x.shape[0] != self.obs_dim:
            raise ValueError(f"observation has {x.shape[0]} values, the snapshot takes {self.obs_dim}")
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = x @ w + b
            if i < last:
                x = np.maximum(x, 0.0) if self.activation == "relu" else np.tanh(x)
        return x.astype(np.float64)

    def greedy(self, obs: np.ndarray) -> int:
        return int(np.argmax(self.action_values(obs)))


def encode_snapshot(snap: PolicySnapshot) -> bytes:
    header = {
        "format": FORMAT,
        "version": snap.version,
        "obs_dim": snap.obs_dim,
        "n_actions": snap.n_actions,
        "activation": snap.activation,
        "output": snap.output,
        "layers": [list(w.shape) for w in snap.weights],
        "created_at": snap.created_at,
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    parts = [MAGIC, struct.pack("<I", len(head)), head]
    for w, b in zip(snap.weights, snap.biases, strict=True):
        parts.append(np.ascontiguousarray(w, dtype="<f4").tobytes())
        parts.append(np.ascontiguousarray(b, dtype="<f4").tobytes())
    return b"".join(parts)


def decode_snapshot(data: bytes) -> PolicySnapshot:
    data = bytes(data)
    if len(data) < 8 or data[:4] != MAGIC:
        raise SnapshotCodecError("missing TWPS magic")
    (n,) = struct.unpack_from("<I", data, 4)
    if 8 + n > len(data):
        raise SnapshotCodecError("header runs past the end", "header")
    try:
        header = json.loads(data[8 : 8 + n])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotCodecError(f"header is not JSON: {exc}", "header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else None
        raise SnapshotCodecError(f"unsupported format {found!r}", "format")
    layers = header.get("layers")
    if (
        not isinstance(layers, list)
        or not layers
        or not all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(d, int) and 0 < d <= 1 << 16 for d in s)
            for s in layers
        )
    ):
        raise SnapshotCodecError("must be a list of [in, out] positive sizes", "layers")
    offset = 8 + n
    weights, biases = [], []
    for rows, cols in layers:
        need = 4 * (rows * cols + cols)
        if offset + need > len(data):
            raise SnapshotCodecError("data shorter than the layer sizes", "data")
        w = np.frombuffer(data, dtype="<f4", count=rows * cols, offset=offset).reshape(rows, cols)
        offset += 4 * rows * cols
        b = np.frombuffer(data, dtype="<f4", count=cols, offset=offset)
        offset += 4 * cols
        weights.append(w.astype(np.float32))
        biases.append(b.astype(np.float32))
    if offset != len(data):
        raise SnapshotCodecError(f"{len(data) - offset} trailing bytes", "data")
    version = header.get("version")
    if not isinstance(version, str):
        raise SnapshotCodecError("must be a string", "version")
    created = header.get("created_at", 0.0)
    snap = PolicySnapshot(
        version,
        tuple(weights),
        tuple(biases),
        header.get("activation", "relu"),
        header.get("output", "logits"),
        float(created) if isinstance(created, int | float) else 0.0,
    )
    if header.get("obs_dim") not in (None, snap.obs_dim) or header.get("n_actions") not in (
        None,
        snap.n_actions,
    ):
        raise SnapshotCodecError("obs_dim/n_actions disagree with the layers", "header")
    return snap


def random_snapshot(
    version: str, sizes: list[int], seed: int = 0, output: Output = "logits"
) -> PolicySnapshot:
    """A randomly initialised MLP of the given layer sizes (tests, benches and a twin's first policy)."""
    rng = np.random.default_rng(seed)
    ws = tuple(
        (rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32) for a, b in itertools.pairwise(sizes)
    )
    bs = tuple(np.zeros(b, dtype=np.float32) for b in sizes[1:])
    return PolicySnapshot(version, ws, bs, output=output)
