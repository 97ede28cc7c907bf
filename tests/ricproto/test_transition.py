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
