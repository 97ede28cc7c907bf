"""One atomic checkpoint of every registered part: written through a temporary file and a rename, so
a crash mid-write leaves the previous checkpoint; every part restored; an unreadable one refused."""

from __future__ import annotations

import os

import pytest
import torch

from twin_sidecar.checkpoint import Checkpointer, CheckpointError


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
