"""The poisoning defence: data from distrusted sources never reach training; every exclusion is
recorded; a source's new data are admitted again once its trust recovered."""

from __future__ import annotations

import numpy as np

from ricproto.transition import TransitionBatch
from twin_sidecar.security.training_guard import TrainingGuard


def batch(meids: list[str]) -> TransitionBatch:
    n, d = len(meids), 3
    return TransitionBatch(
        step=np.arange(n, dtype=np.int64),
        s=np.arange(n * d, dtype=np.float32).reshape(n, d),
        action=np.zeros(n, np.int64),
        reward=np.arange(n, dtype=np.float32),
        s_next=np.zeros((n, d), np.float32),
        mu=np.ones(n, np.float32),
        mu_all=np.zeros((n, 0), np.float32),
        policy_version=["v1"] * n,
        intervened=np.zeros(n, bool),
        state_intervened=np.zeros(n, bool),
        denied=np.zeros(n, bool),
        source=np.zeros(n, np.int64),
        outcome=np.zeros(n, np.int64),
        indication_ns=np.zeros(n, np.uint64),
        next_indication_ns=np.zeros(n, np.uint64),
        meid=meids,
    )


def test_excluded_rows_never_reach_the_sink_and_come_back_after_recovery() -> None:
    scores = {"e2node:bad": 0.2}
    guard = TrainingGuard(lambda s: scores.get(s, 1.0), threshold=0.6)
    seen: list[TransitionBatch] = []
    sink = guard.wrap(seen.append, clock=lambda: 12.0)
    sink(batch(["good", "bad", "good", "bad"]))
    (got,) = seen
    assert got.meid == ["good", "good"] and got.step.tolist() == [0, 2] and got.s[1].tolist() == [6, 7, 8]
    assert guard.excluded["e2node:bad"] == 2
    assert [(e.t_s, e.what, e.subject, e.trust) for e in guard.log] == [
        (12.0, "transition", "e2node:bad", 0.2)
    ] * 2
    sink(batch(["bad"]))
    assert len(seen) == 1  # nothing at all passed
    scores["e2node:bad"] = 0.9  # trust recovered
    sink(batch(["bad"]))
    assert len(seen) == 2 and seen[1].meid == ["bad"]
    assert list(guard.readmissions) == [(12.0, "e2node:bad")]
    assert guard.status()["excluded"] == {"e2node:bad": 3}


def test_a_distrusted_node_taints_every_transition_through_the_observation() -> None:
    scores = {"e2node:n2": 0.1}
    guard = TrainingGuard(lambda s: scores.get(s, 1.0))
    guard.all_sources = ("e2node:n1", "e2node:n2")
    assert guard.keep_mask(batch(["n1", "n3"]), 1.0).tolist() == [False, False]
    assert guard.admit(["e2node:n1"], 1.0) and not guard.admit(["e2node:n2", "e2node:n1"], 1.0)
