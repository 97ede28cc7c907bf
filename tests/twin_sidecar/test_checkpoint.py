"""One atomic checkpoint of every registered part: written through a temporary file and a rename, so
a crash mid-write leaves the previous checkpoint; every part restored; an unreadable one refused; one
of another twin (RAN, model shape) set aside for a fresh start."""

from __future__ import annotations

import os

import pytest
import torch
from twin_harness import twin_settings
from twin_records import descriptor, produce

from twin_sidecar.app import build_parts, twin_identity
from twin_sidecar.checkpoint import Checkpointer, CheckpointError
from twin_sidecar.settings import TwinSettings
from twinric.processes import wait_until


class Counter:
    def __init__(self) -> None:
        self.n = 0

    def state_dict(self) -> dict:
        return {"n": self.n}

    def load_state_dict(self, state: dict) -> None:
        self.n = state["n"]


def test_save_and_restore_every_part(tmp_path) -> None:
    a, b, model = Counter(), Counter(), torch.nn.Linear(3, 2)
    ck = Checkpointer(tmp_path / "ck" / "checkpoint.pt")
    for name, part in (("a", a), ("b", b), ("model", model)):
        ck.register(name, part)
    with pytest.raises(ValueError, match="registered already"):
        ck.register("a", Counter())
    with pytest.raises(TypeError):
        ck.register("c", object())  # type: ignore[arg-type]
    assert ck.restore() is False  # nothing yet
    a.n, b.n = 3, 4
    ck.save()
    weights = model.weight.detach().clone()
    a2, b2, model2 = Counter(), Counter(), torch.nn.Linear(3, 2)
    late = Counter()  # a part registered since the checkpoint starts fresh
    ck2 = Checkpointer(tmp_path / "ck" / "checkpoint.pt")
    for name, part in (("a", a2), ("b", b2), ("model", model2), ("late", late)):
        ck2.register(name, part)
    assert ck2.restore() is True
    assert (a2.n, b2.n, late.n) == (3, 4, 0) and torch.equal(model2.weight, weights)


def test_a_crash_mid_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch) -> None:
    part = Counter()
    ck = Checkpointer(tmp_path / "checkpoint.pt")
    ck.register("p", part)
    part.n = 1
    ck.save()

    def die(*_a, **_k):  # the process dies after writing half a file, before the rename
        (tmp_path / "checkpoint.pt.tmp").write_bytes(b"half a checkpoint")
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(os, "replace", die)
    part.n = 2
    with pytest.raises(KeyboardInterrupt):
        ck.save()
    monkeypatch.undo()
    fresh = Counter()
    ck2 = Checkpointer(tmp_path / "checkpoint.pt")
    ck2.register("p", fresh)
    assert ck2.restore() and fresh.n == 1


def test_an_unreadable_checkpoint_is_refused(tmp_path) -> None:
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint")
    ck = Checkpointer(tmp_path / "checkpoint.pt")
    ck.register("p", Counter())
    with pytest.raises(CheckpointError, match="unreadable"):
        ck.restore()


def test_a_checkpoint_of_another_twin_is_set_aside(tmp_path) -> None:
    """Another RAN (a scenario change under the same state directory): the twin starts fresh and keeps
    the old checkpoint beside, instead of failing to load it or loading another RAN's state."""
    path = tmp_path / "checkpoint.pt"
    old = Counter()
    ck = Checkpointer(path, identity={"cells": [1, 2, 3], "n_actions": 40})
    ck.register("p", old)
    old.n = 7
    ck.save()
    same, other = Counter(), Counter()
    ck_same = Checkpointer(path, identity={"cells": [1, 2, 3], "n_actions": 40})
    ck_same.register("p", same)
    assert ck_same.restore() and same.n == 7
    ck_other = Checkpointer(path, identity={"cells": [1, 2, 3, 4], "n_actions": 52})
    ck_other.register("p", other)
    assert ck_other.restore() is False and other.n == 0
    assert not path.exists() and ck_other.set_aside is not None and ck_other.set_aside.exists()
    assert ck_other.set_aside.name.startswith("checkpoint.pt.stale-")
    ck_other.save()  # the new twin checkpoints afresh
    assert Checkpointer(path, identity={"cells": [1, 2, 3, 4], "n_actions": 52}).restore() is True


def test_an_older_checkpoint_that_does_not_fit_leaves_every_part_fresh(tmp_path) -> None:
    path = tmp_path / "checkpoint.pt"
    a, model = Counter(), torch.nn.Linear(3, 2)
    ck = Checkpointer(path)  # no identity recorded (a checkpoint of before)
    ck.register("a", a)
    ck.register("model", model)
    a.n = 5
    ck.save()
    a2, bigger = Counter(), torch.nn.Linear(4, 2)
    weights = bigger.weight.detach().clone()
    ck2 = Checkpointer(path, identity={"cells": [1]})
    ck2.register("a", a2)
    ck2.register("model", bigger)  # restored after "a": "a" must be put back as it was
    assert ck2.restore() is False
    assert a2.n == 0 and torch.equal(bigger.weight, weights) and ck2.set_aside is not None


def test_a_twin_of_another_scenario_starts_fresh_from_the_same_state_dir(
    redis_url, redis_client, tmp_path, script
) -> None:
    """``twinric up --scenario`` another RAN with the run directory of an earlier run: the sidecar must
    come up (fresh), not die loading a model and mirror of another shape."""
    produce(redis_client, script, range(50))
    first = build_parts(twin_settings(redis_url, tmp_path), train=False).start()
    try:
        assert wait_until(lambda: first.mirror.rounds == 50, 10)
    finally:
        first.stop()  # a clean stop checkpoints
    assert (tmp_path / "checkpoint.pt").exists()
    wider = descriptor()
    wider["controls"]["ran"]["max_cells"] = 9  # the same cells in a larger space: other shapes
    settings = TwinSettings.from_descriptor(
        wider, env={}, **{**twin_settings(redis_url, tmp_path).model_dump(exclude={"ran"}), "port": 0}
    )
    second = build_parts(settings, train=False)
    assert twin_identity(settings) != twin_identity(twin_settings(redis_url, tmp_path))
    second.start()
    try:
        assert not second.restored and second.checkpointer.set_aside is not None
        assert second.ingesting and second.mirror.rounds == 0
        assert second.health()["checkpoint_set_aside"] == str(second.checkpointer.set_aside)
    finally:
        second.stop()
