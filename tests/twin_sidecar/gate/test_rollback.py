"""Rollback with a real Redis: a live regression after a promotion restores the previous version."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ricproto.policy_snapshot import random_snapshot
from ricproto.transition import Transition
from twin_sidecar.gate import GateRecord, PolicyStore, RollbackMonitor, RollbackSettings
from xapps.common.metrics import XappMetrics
from xapps.control.snapshot_source import SnapshotSource

SETTINGS = RollbackSettings(window=300, min_after=100, block=10, z=2.33, min_intervention_rise=0.05)
OBS, ACTIONS = 6, 4


def promotion(version: str) -> GateRecord:
    return GateRecord(
        kind="promotion", version=version, previous_version=None, in_force=version, at=time.time(), reasons=[]
    )


def steps(version: str, n: int, reward: float, intervened: float, seed: int) -> list[Transition]:
    rng = np.random.default_rng(seed)
    return [
        Transition(
            schema_version=1,
            step=i,
            reward=float(reward + 0.05 * rng.standard_normal()),
            policy_version=version,
            intervened=bool(rng.random() < intervened),
        )
        for i in range(n)
    ]


@pytest.fixture
def store(redis_client) -> PolicyStore:
    store = PolicyStore(redis_client, "ctl")
    store.promote(random_snapshot("v1", [OBS, 8, ACTIONS], output="q"), promotion("v1"))
    store.promote(random_snapshot("v2", [OBS, 8, ACTIONS], seed=2, output="q"), promotion("v2"))
    return store


def test_a_reward_regression_after_promotion_rolls_back_and_the_xapp_follows(redis_client, store) -> None:
    follower = SnapshotSource(redis_client, "ctl", OBS, ACTIONS, XappMetrics("t"))
    assert follower.poll() and follower.current.version == "v2"  # type: ignore[union-attr]
    monitor = RollbackMonitor(SETTINGS, store)
    assert monitor.observe(steps("v1", 300, reward=0.50, intervened=0.1, seed=0)) is None
    monitor.watch("v2")
    assert monitor.observe(steps("v2", 50, reward=0.40, intervened=0.1, seed=1)) is None  # too few to judge
    restored = RollbackMonitor(SETTINGS, store)  # a sidecar restart from its checkpoint
    restored.load_state_dict(monitor.state_dict())
    monitor = restored
    record = monitor.observe(steps("v2", 60, reward=0.40, intervened=0.1, seed=2))
    assert record is not None and record.kind == "rollback" and record.in_force == "v1"
    assert record.rollback is not None and record.rollback.reward_z < -SETTINGS.z
    assert record.rollback.reward_before == pytest.approx(0.5, abs=0.02)
    assert any("live reward fell" in r for r in record.reasons)
    assert store.current_version() == "v1" and store.lineage() == ["v1"]
    assert follower.poll() and follower.current.version == "v1"  # type: ignore[union-attr]
    assert store.history()[-1].kind == "rollback" and store.history()[-1].in_force == "v1"
    assert monitor.watched is None


def test_rising_shield_interventions_roll_back(store) -> None:
    monitor = RollbackMonitor(SETTINGS, store)
    monitor.observe(steps("v1", 300, reward=0.5, intervened=0.05, seed=3))
    monitor.watch("v2")
    record = monitor.observe(steps("v2", 150, reward=0.5, intervened=0.30, seed=4))
    assert record is not None and record.kind == "rollback"
    assert [r for r in record.reasons if "interventions rose" in r]
    assert not [r for r in record.reasons if "reward" in r]
    assert store.current_version() == "v1"


def test_no_regression_keeps_the_version_after_the_window(store) -> None:
    monitor = RollbackMonitor(SETTINGS, store)
    monitor.observe(steps("v1", 300, reward=0.5, intervened=0.1, seed=5))
    monitor.watch("v2")
    for seed in range(6, 9):
        record = monitor.observe(steps("v2", 100, reward=0.51, intervened=0.1, seed=seed))
    assert record is not None and record.kind == "kept" and record.in_force == "v2"
    assert store.current_version() == "v2" and store.history()[-1].kind == "kept"


def test_rolling_back_the_only_promotion_returns_the_xapp_to_the_heuristic(redis_client) -> None:
    store = PolicyStore(redis_client, "solo")
    store.promote(random_snapshot("v1", [OBS, ACTIONS], output="q"), promotion("v1"))
    follower = SnapshotSource(redis_client, "solo", OBS, ACTIONS, XappMetrics("t"))
    assert follower.poll()
    monitor = RollbackMonitor(SETTINGS, store)
    monitor.observe(steps("heuristic", 300, reward=0.5, intervened=0.1, seed=9))
    monitor.watch("v1")
    record = monitor.observe(steps("v1", 200, reward=0.3, intervened=0.1, seed=10))
    assert record is not None and record.kind == "rollback" and record.in_force is None
    assert store.current_version() is None and store.current() is None and store.lineage() == []
    assert follower.poll() and follower.current is None


def test_only_the_version_in_force_can_be_rolled_back(store) -> None:
    with pytest.raises(ValueError, match="not the version in force"):
        store.rollback(promotion("v1").model_copy(update={"kind": "rollback"}))
    assert store.current_version() == "v2"
