"""Policy snapshot: byte round trip, numpy evaluation equal to a direct computation, corrupt input."""

from __future__ import annotations

import numpy as np
import pytest

from ricproto.policy_snapshot import (
    PolicySnapshot,
    SnapshotCodecError,
    decode_snapshot,
    encode_snapshot,
    random_snapshot,
)


def test_round_trip_keeps_weights_and_outputs():
    snap = random_snapshot("v7", [12, 16, 5], seed=3)
    back = decode_snapshot(encode_snapshot(snap))
    assert back.version == "v7" and (back.obs_dim, back.n_actions) == (12, 5)
    obs = np.linspace(0, 1, 12, dtype=np.float32)
    assert np.allclose(back.action_values(obs), snap.action_values(obs))


def test_evaluation_is_the_mlp():
    w1 = np.array([[1.0, -1.0], [2.0, 0.5]], dtype=np.float32)
    b1 = np.array([0.0, 0.1], dtype=np.float32)
    w2 = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]], dtype=np.float32)
    b2 = np.array([0.5, 0.0, 0.0], dtype=np.float32)
    snap = PolicySnapshot("v", (w1, w2), (b1, b2))
    x = np.array([0.3, 0.2], dtype=np.float32)
    hidden = np.maximum(x @ w1 + b1, 0)
    assert np.allclose(snap.action_values(x), hidden @ w2 + b2)
    assert snap.greedy(x) == int(np.argmax(hidden @ w2 + b2))


def test_wrong_observation_size_is_refused():
    with pytest.raises(ValueError, match="3 values"):
        random_snapshot("v", [4, 2]).action_values(np.zeros(3))


@pytest.mark.parametrize("cut", [0, 3, 10, -1])
def test_truncated_or_corrupt_bytes_raise(cut):
    data = encode_snapshot(random_snapshot("v", [4, 8, 3]))
    with pytest.raises(SnapshotCodecError):
        decode_snapshot(data[:cut] if cut else b"XXXX" + data[4:])


def test_non_finite_weights_are_refused():
    w = np.array([[np.nan]], dtype=np.float32)
    with pytest.raises(SnapshotCodecError, match="non-finite"):
        PolicySnapshot("v", (w,), (np.zeros(1, dtype=np.float32),))
