"""The gate with a real Redis: it refuses a worse and promotes a better candidate, and the xApp follows."""

from __future__ import annotations

import pytest
import torch
from toy_ran import LAYOUT, MASK, OBS_DIM, SPACE, NoopPolicy, ToyRanPlanes, linear_snapshot, log_behaviour

from ricproto.policy_snapshot import decode_snapshot, snapshot_key, version_key
from twin_sidecar.gate import (
    GateSettings,
    LoggedSegments,
    PolicyReport,
    PolicyStore,
    PromotionGate,
    VerificationPlan,
)
from xapps.common.metrics import XappMetrics
from xapps.control.snapshot_source import SnapshotSource

PLANS = [
    VerificationPlan(name="recent", kind="none"),
    VerificationPlan(name="surge", kind="traffic_surge", cells=[0], factor=2.0),
    VerificationPlan(name="hotspot", kind="hotspot", cell=1, fraction=0.3),
    VerificationPlan(name="outage", kind="cell_outage", cell=2),
]
SETTINGS = GateSettings(
    horizon=10, gamma=0.9, fqe_iterations=800, fqe_hidden=[64, 64], bootstrap_samples=200, plans=PLANS
)


@pytest.fixture(scope="module")
def held_out() -> tuple[LoggedSegments, torch.Tensor]:
    data = log_behaviour(n_episodes=50, length=40, epsilon=0.5, seed=0)
    recent = torch.tensor([list(m.s) for m in data[-64:]])
    return LoggedSegments.from_transitions(data, SETTINGS.horizon, OBS_DIM), recent


def test_the_gate_refuses_a_worse_and_promotes_a_better_candidate(redis_client, held_out) -> None:
    segments, recent = held_out
    store = PolicyStore(redis_client, "ctl")
    gate = PromotionGate(SETTINGS, SPACE, MASK, ToyRanPlanes(), store, LAYOUT)
    follower = SnapshotSource(redis_client, "ctl", OBS_DIM, SPACE.n_actions, XappMetrics("t"))

    worse = gate.consider(linear_snapshot("unbalance-1", -1.0), segments, recent, incumbent=NoopPolicy())
    assert worse.kind == "refusal" and worse.in_force is None
    assert store.current_version() is None and not follower.poll()
    ope = {e.estimator: e for e in worse.gate.ope}  # type: ignore[union-attr]
    assert ope["dr"].lcb is not None and ope["dr"].improvement < 0  # type: ignore[operator]
    assert any(r.startswith("dr improvement") for r in worse.reasons)
    assert not all(p.passed for p in worse.gate.plans)  # type: ignore[union-attr]

    better = gate.consider(linear_snapshot("balance-1", +1.0), segments, recent, incumbent=NoopPolicy())
    assert better.kind == "promotion" and better.in_force == "balance-1", better.reasons
    ope = {e.estimator: e for e in better.gate.ope}  # type: ignore[union-attr]
    assert ope["dr"].lcb > 0 and ope["fqe"].lcb > 0  # type: ignore[operator]
    assert all(p.passed for p in better.gate.plans) and len(better.gate.plans) == len(PLANS)  # type: ignore[union-attr]

    # In force in Redis, exactly as the xApp reads it, and the xApp takes it
    assert redis_client.get(version_key("ctl")) == b"balance-1"
    assert decode_snapshot(redis_client.get(snapshot_key("ctl"))).version == "balance-1"
    assert follower.poll() and follower.current.version == "balance-1"  # type: ignore[union-attr]

    report = PolicyReport.model_validate_json(store.report().model_dump_json())
    assert report.in_force is not None and report.in_force.version == "balance-1"
    assert [r.kind for r in report.history] == ["refusal", "promotion"]
    assert report.candidate is not None and report.candidate.version == "balance-1"
    assert report.lineage == ["balance-1"]
    assert report.history[0].gate.incumbent == "no-op"  # type: ignore[union-attr]


def test_a_later_candidate_is_judged_against_the_snapshot_in_force(redis_client, held_out) -> None:
    segments, recent = held_out
    store = PolicyStore(redis_client, "ctl")
    gate = PromotionGate(SETTINGS, SPACE, MASK, ToyRanPlanes(), store, LAYOUT)
    assert (
        gate.consider(linear_snapshot("balance-1", +1.0), segments, recent, NoopPolicy()).kind == "promotion"
    )
    same = gate.consider(linear_snapshot("balance-2", +1.0), segments, recent)  # no better than what runs
    assert same.kind == "refusal" and same.gate.incumbent == "balance-1"  # type: ignore[union-attr]
    assert store.current_version() == "balance-1"
    with pytest.raises(ValueError, match="promoted before"):
        store.promote(linear_snapshot("balance-1", +1.0), same)


def test_without_planes_or_enough_held_out_data_nothing_is_promoted(redis_client, held_out) -> None:
    segments, recent = held_out
    store = PolicyStore(redis_client, "ctl")
    blind = PromotionGate(SETTINGS, SPACE, MASK, None, store, LAYOUT)
    record = blind.consider(linear_snapshot("balance-1", +1.0), segments, recent, NoopPolicy())
    assert record.kind == "refusal" and "no virtual planes to run the test plans on" in record.reasons
    few = LoggedSegments.from_transitions(log_behaviour(1, 40, 0.5, seed=3), SETTINGS.horizon, OBS_DIM)
    gate = PromotionGate(SETTINGS, SPACE, MASK, ToyRanPlanes(), store, LAYOUT)
    record = gate.consider(linear_snapshot("balance-1", +1.0), few, recent, NoopPolicy())
    assert (
        record.kind == "refusal"
        and record.reasons[0] == f"only 4 held-out segments, need {SETTINGS.min_segments}"
    )
    assert store.current_version() is None and len(store.history()) == 2
