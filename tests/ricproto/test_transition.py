"""The transition protobuf: round trip of every field group, and refusal of foreign bytes."""

from __future__ import annotations

import numpy as np
import pytest

from ricproto.transition import (
    ActionSource,
    ControlOutcome,
    Timestamps,
    Transition,
    TransitionCodecError,
    decode_transition,
    encode_transition,
    floats,
    next_observation,
    observation,
    stream_key,
)


def test_round_trip():
    s = np.linspace(0, 1, 10, dtype=np.float32)
    mu_all = np.array([0.1, 0.6, 0.3], dtype=np.float32)
    msg = Transition(
        xapp_instance="control-1",
        step=42,
        s=floats(s),
        action=1,
        reward=-0.25,
        s_next=floats(s[::-1]),
        mu=0.6,
        mu_all=floats(mu_all),
        policy_version="v3",
        intervened=True,
        proposed_action=2,
        intervention_reason="overload: x",
        denied=False,
        source=ActionSource.PROMOTED_POLICY,
        outcome=ControlOutcome.ACKNOWLEDGED,
        timestamps=Timestamps(indication_ns=1, decided_ns=2, control_sent_ns=3, next_indication_ns=4),
        a1_policy_instance="p1",
        meid="gnb_001_001_000001",
    )
    back = decode_transition(encode_transition(msg))
    assert back == msg and back.schema_version == 1
    assert np.array_equal(observation(back), s) and np.array_equal(next_observation(back), s[::-1])
    assert back.mu == pytest.approx(0.6) and back.policy_version == "v3"
    assert back.timestamps.next_indication_ns == 4
    assert stream_key("control-1") == "twinric:transitions:control-1"


def test_foreign_bytes_and_wrong_version_are_refused():
    with pytest.raises(TransitionCodecError):
        decode_transition(b"\xff\xff\xff")
    with pytest.raises(TransitionCodecError, match="schema_version"):
        decode_transition(Transition(schema_version=9).SerializeToString())
    with pytest.raises(TransitionCodecError, match="outside mu_all"):
        decode_transition(Transition(schema_version=1, action=5, mu_all=[0.5, 0.5]).SerializeToString())


def test_fields_fast_path_agrees_and_batches():
    from ricproto.transition import TransitionBatch, decode_transition_fields

    rows = []
    for step in range(3):
        s = np.full(6, step / 10, dtype=np.float32)
        msg = Transition(
            xapp_instance="x",
            step=step,
            s=floats(s),
            s_next=floats(s + 0.05),
            action=step,
            mu_all=floats([0.2, 0.3, 0.5]),
            reward=0.5,
            policy_version=f"v{step}",
            timestamps=Timestamps(indication_ns=100 + step),
            state_intervened=step == 1,
        )
        rows.append(decode_transition_fields(encode_transition(msg)))
    batch = TransitionBatch.from_fields(rows)
    assert len(batch) == 3 and batch.s.shape == (3, 6) and batch.mu_all.shape == (3, 3)
    assert batch.step.tolist() == [0, 1, 2] and batch.action.tolist() == [0, 1, 2]
    assert np.allclose(batch.s_next[2], 0.25) and batch.policy_version == ["v0", "v1", "v2"]
    assert batch.state_intervened.tolist() == [False, True, False]
    assert batch.indication_ns.tolist() == [100, 101, 102]
    with pytest.raises(TransitionCodecError, match="s_next"):
        decode_transition_fields(encode_transition(Transition(s=[1.0, 2.0], s_next=[1.0])))
    with pytest.raises(TransitionCodecError, match="outside mu_all"):
        decode_transition_fields(encode_transition(Transition(action=4, mu_all=[1.0])))
    with pytest.raises(TransitionCodecError, match="not a Transition"):
        decode_transition_fields(b"\xff\xff")
