"""The target policy's worker over a real Redis: held-out split, learner updates and their diagnostics,
a candidate through the gate into the PolicyStore, a refusal, a live regression rolled back, the
planner's view of the network, checkpoints, and malformed transitions counted."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from ricproto.transition import Transition
from twin_sidecar.gate import GateSettings, PolicyStore, RollbackSettings
from twin_sidecar.metrics import TwinMetrics
from twin_sidecar.predictive.dynamics import ServingDynamics
from twin_sidecar.predictive.training import EnsembleTrainer
from twin_sidecar.settings import PolicySettings, TrainingSettings
from twin_sidecar.target_policy import TargetPolicy

# Small and lenient on purpose: the gate's data requirements are lowered, its path is the real one.
LEARNER = {"hidden": [32], "batch_size": 32, "sequence_length": 4, "min_replay": 64, "replay_capacity": 2000}
LENIENT_GATE = {
    "horizon": 5,
    "min_segments": 4,
    "bootstrap_samples": 50,
    "fqe_iterations": 100,
    "fqe_hidden": [16],
    "min_improvement": -1e6,
    "plan_return_tolerance": 1e6,
    "plan_violation_tolerance": 1.0,
    "plan_states": 8,
}
ROLLBACK = {"window": 40, "min_after": 20, "block": 5}


def settings(**overrides: Any) -> PolicySettings:
    values: dict[str, Any] = {
        "learner": LEARNER,
        "gate": LENIENT_GATE,
        "rollback": ROLLBACK,
        "holdout_every": 3,
        "gate_min_updates": 5,
        "gate_every_s": 3600,
    }
    values.update(overrides)
    return PolicySettings(**values)


def dynamics(cfg, version: int) -> ServingDynamics:
    trainer = EnsembleTrainer(cfg.space, cfg.layout, TrainingSettings(hidden=16, n_members=2))
    return ServingDynamics(trainer.snapshot(version))


@pytest.fixture
def make(cfg, redis_client):
    def build(version: int = 1, **overrides: Any) -> TargetPolicy:
        store = PolicyStore(redis_client, "control-t")
        return TargetPolicy(
            settings(**overrides),
            "control-t",
            cfg.space,
            cfg.layout,
            dynamics(cfg, version),
            store,
            TwinMetrics(),
        )

    return build


def feed(policy: TargetPolicy, script, rounds: range, version: str = "heuristic", shift: float = 0.0) -> None:
    msgs = []
    for k in rounds:
        msg = script.transition(k)
        msg.policy_version = version
        msg.reward = msg.reward + shift
        msgs.append(msg)
    policy.on_transitions(msgs)


def train(policy: TargetPolicy, n: int) -> None:
    for _ in range(n):
        assert policy.tick() > 0


def test_blocks_are_held_out_and_the_rest_learned_with_diagnostics_exported(make, script) -> None:
    policy = make()
    feed(policy, script, range(300))
    # steps 0-4, 15-19, ... (every third block of horizon 5) are held out
    assert len(policy.held_out) == 100 and policy.learner.ingested == 200
    assert all((m.step // 5) % 3 == 0 for m in policy.held_out)
    assert policy.learner.replay.size == 200
    train(policy, 6)
    d = policy.last_diagnostics
    assert d is not None and d.update == 6
    sample = policy.metrics.sample
    assert sample("twinric_twin_policy_updates_total") == 6
    assert sample("twinric_twin_policy_ess") == pytest.approx(d.ess)
    assert sample("twinric_twin_policy_truncation_rate") == pytest.approx(d.truncation_rate)
    assert sample("twinric_twin_policy_td_error") == pytest.approx(d.td_error) and d.td_error > 0
    assert 0.0 <= d.ess_fraction <= 1.0
    assert d.policy_lag == 6  # the heuristic was not exported by the learner: lag counts from update 0
    assert policy.status()["diagnostics"]["update"] == 6


def test_nothing_to_learn_or_judge_before_the_data_is_there(make, script) -> None:
    policy = make()
    feed(policy, script, range(30))  # 20 learnable steps < min_replay 64
    assert policy.tick() == 0.0 and "learner replay" in policy.waiting
    assert policy.run_gate() is None and policy.waiting == "no learner update yet"


def test_a_candidate_is_promoted_then_rolled_back_on_a_live_regression(make, script, redis_client) -> None:
    policy = make()
    feed(policy, script, range(300))
    train(policy, 5)
    assert not policy.gate_due()  # 5 updates but the period has not passed
    policy.evaluate_soon()
    assert policy.gate_due()
    policy.tick()  # the gate's turn
    record = policy.last_record
    assert record is not None and record.kind == "promotion", record and record.reasons
    version = record.version
    assert policy.store.current_version() == version and policy.monitor.watched == version
    assert record.gate is not None and {p.name for p in record.gate.plans} == {
        "recent",
        "surge",
        "hotspot",
        "outage",
    }
    assert {e.estimator for e in record.gate.ope} == {"wis", "pdwis", "dr", "fqe"}
    assert policy.learner.exported_at[version] == 5  # the policy-lag diagnostic counts from here

    feed(policy, script, range(300, 315), version=version)  # too few steps under it to judge
    assert policy.store.current_version() == version
    feed(policy, script, range(315, 340), version=version, shift=-1.0)  # the live reward collapses
    last = policy.last_record
    assert last is not None and last.kind == "rollback" and last.version == version
    assert last.rollback is not None and last.rollback.reward_after < last.rollback.reward_before
    assert policy.store.current_version() is None  # back to the heuristic: it was the first promotion
    assert [r.kind for r in policy.store.history()] == ["promotion", "rollback"]
    assert policy.metrics.sample("twinric_twin_policy_decisions_total", {"kind": "rollback"}) == 1


def test_a_candidate_below_the_threshold_is_refused(make, script) -> None:
    policy = make(gate={**LENIENT_GATE, "min_improvement": 1e6})
    feed(policy, script, range(300))
    train(policy, 5)
    record = policy.run_gate()
    assert record is not None and record.kind == "refusal"
    assert any("not above" in r for r in record.reasons)
    assert policy.store.current_version() is None and policy.monitor.watched is None
    assert policy.run_gate() is None and "since the last candidate" in policy.waiting  # the same network
    assert len(policy.store.history()) == 1


def test_the_gate_waits_for_a_trained_model_and_enough_segments(make, script) -> None:
    untrained = make(version=0)
    feed(untrained, script, range(300))
    train(untrained, 1)
    assert untrained.run_gate() is None and "predictive model" in untrained.waiting
    few = make(gate={**LENIENT_GATE, "min_segments": 50})
    feed(few, script, range(300))
    train(few, 1)
    assert few.run_gate() is None and "20 held-out segments" in few.waiting
    assert few.store.history() == []  # waiting is not a refusal: nothing recorded


def test_thresholds_change_at_run_time_and_the_monitor_keeps_its_windows(make, script) -> None:
    policy = make()
    feed(policy, script, range(100))
    seen = len(policy.monitor.before)
    gate = GateSettings.model_validate({**LENIENT_GATE, "confidence": 0.9})
    policy.apply_thresholds(gate, RollbackSettings(window=50, min_after=20), 30.0, "a1-x")
    assert policy.gate.settings.confidence == 0.9 and policy.gate_every_s == 30.0
    assert len(policy.monitor.before) == min(seen, 50) and policy.status()["thresholds_from"] == "a1-x"
    bad = GateSettings.model_validate(
        {**LENIENT_GATE, "plans": [{"name": "x", "kind": "cell_outage", "cell": 99}]}
    )
    with pytest.raises(ValueError, match="cell 99"):
        policy.apply_thresholds(bad, RollbackSettings(), None, "a1-y")
    assert policy.a1_instance == "a1-x"  # the thresholds in force stay


def test_malformed_transitions_are_counted_not_learned(make, script) -> None:
    policy = make()
    good = [script.transition(k) for k in range(5, 10)]
    short = Transition(xapp_instance="control-t", step=10, s=[0.1], s_next=[0.1], mu=0.5, policy_version="h")
    held = Transition(xapp_instance="control-t", step=0, s=[0.1], s_next=[0.1], mu=0.5, policy_version="h")
    bad_mu = script.transition(11)
    bad_mu.mu = 0.0
    policy.on_transitions([*good, short, held, bad_mu])
    assert policy.learner.ingested == 5 and len(policy.held_out) == 0
    sample = policy.metrics.sample
    assert sample("twinric_twin_policy_transitions_rejected_total", {"reason": "observation_size"}) == 2
    assert sample("twinric_twin_policy_transitions_rejected_total", {"reason": "mu_range"}) == 1
    assert sample("twinric_errors_total", {"component": "twin-sidecar", "reason": "transition_mu_range"}) == 1


def test_the_planner_gets_a_frozen_copy_of_the_current_network(make, script) -> None:
    policy = make()
    assert policy.current_q() is None
    feed(policy, script, range(300))
    train(policy, 2)
    target = policy.current_q()
    assert target is not None and target.updates == 2 and target.mask.dtype == torch.bool
    obs = torch.from_numpy(np.asarray(script.observation(3), dtype=np.float32))
    before = target.network(obs).clone()
    train(policy, 3)  # the learner moves on; the copy does not
    assert torch.equal(target.network(obs), before)
    assert not torch.equal(policy.current_q().network(obs), before)  # type: ignore[union-attr]
    assert not any(p.requires_grad for p in target.network.parameters())


def test_checkpoint_round_trip(make, script) -> None:
    policy = make()
    feed(policy, script, range(300))
    train(policy, 3)
    policy.evaluate_soon()
    policy.tick()
    state = policy.state_dict()
    other = make()
    other.load_state_dict(state)
    assert other.learner.updates == 3 and other.learner.replay.size == policy.learner.replay.size
    assert [m.step for m in other.held_out] == [m.step for m in policy.held_out]
    assert len(other.recent) == len(policy.recent) and other.monitor.watched == policy.monitor.watched
    changed = make(learner={**LEARNER, "hidden": [16]})  # another network: the learner starts over
    changed.load_state_dict(state)
    assert changed.learner.updates == 0 and len(changed.held_out) == len(policy.held_out)
