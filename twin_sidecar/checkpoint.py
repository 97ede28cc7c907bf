"""One atomic checkpoint of every registered part: models, optimizer state, mirror, stream positions.

A part is anything with ``state_dict() -> dict`` and ``load_state_dict(dict)`` (``Checkpointed``;
torch modules and optimizers already are). Parts register under a unique name; ``save()`` gathers
every part's state into one dict and writes it with ``torch.save`` to a temporary file in the same
directory, fsyncs it, renames it over the checkpoint and fsyncs the directory, so a crash at any
moment leaves either the old or the new checkpoint, never a torn one.

Consistency: ``save()`` is called by the ingest thread between batches (``streams.StreamConsumer``),
so every stream sink's state matches the stream positions it is saved with. A part that another
thread mutates (the trainer's model) takes its own lock inside ``state_dict`` and returns copies.

Identity: the checkpoint records what the twin is a twin of (``identity``: the xApp instance, the RAN
geometry, the model's shape). A checkpoint of another identity (the xApp's descriptor changed: another
scenario, more cells, a bigger model) cannot be loaded into these parts; it is set aside
(``checkpoint.pt.stale-<time>``) and the twin starts fresh, as it does when a checkpoint without an
identity (an older one) does not fit a part: every part is then put back as it was before restoring.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch

log = logging.getLogger("twin_sidecar.checkpoint")
FORMAT = 1


@runtime_checkable
class Checkpointed(Protocol):
    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> Any: ...


class CheckpointError(RuntimeError):
    pass


class Checkpointer:
    def __init__(self, path: Path, identity: Mapping[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.identity = dict(identity) if identity is not None else None
        self.set_aside: Path | None = None  # where a checkpoint that did not fit was moved
        self._parts: dict[str, Checkpointed] = {}
        self._lock = threading.Lock()
        self.saved_at: float | None = None  # time.time() of the last save or restore
        self.saves = 0

    def register(self, name: str, part: Checkpointed) -> None:
        if name in self._parts:
            raise ValueError(f"a part named {name!r} is registered already")
        if not isinstance(part, Checkpointed):
            raise TypeError(f"{name}: {type(part).__name__} has no state_dict/load_state_dict")
        self._parts[name] = part

    @property
    def names(self) -> list[str]:
        return list(self._parts)

    def save(self) -> Path:
        with self._lock:
            payload = {
                "format": FORMAT,
                "identity": self.identity,
                "saved_at": time.time(),
                "parts": {name: part.state_dict() for name, part in self._parts.items()},
            }
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            with open(tmp, "wb") as f:
                torch.save(payload, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
            self.saved_at = payload["saved_at"]
            self.saves += 1
            return self.path

    def restore(self) -> bool:
        """Load the checkpoint into the registered parts; False when there is none.

        A part with no state in the checkpoint (registered since) keeps its fresh state; state of a
        part no longer registered is ignored. A checkpoint that cannot be read raises CheckpointError:
        starting from scratch would re-apply every record still in the streams' pending lists."""
        if not self.path.exists():
            return False
        try:
            with open(self.path, "rb") as f:
                payload = torch.load(f, map_location="cpu", weights_only=False)
        except Exception as exc:
            raise CheckpointError(f"{self.path} is unreadable: {exc}") from exc
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise CheckpointError(f"{self.path}: unknown checkpoint format")
        saved = payload.get("identity")
        if saved is not None and self.identity is not None and saved != self.identity:
            differ = sorted(k for k in {*saved, *self.identity} if saved.get(k) != self.identity.get(k))
            return self._set_aside(f"it is of another twin (differs in {', '.join(differ)})")
        fresh = {name: copy.deepcopy(part.state_dict()) for name, part in self._parts.items()}
        for name, part in self._parts.items():
            state = payload["parts"].get(name)
            if state is None:
                log.warning("checkpoint has no state for %s: it starts fresh", name)
                continue
            try:
                part.load_state_dict(state)
            except Exception as exc:  # shapes of another RAN or model: nothing of it is usable
                for n, p in self._parts.items():
                    p.load_state_dict(fresh[n])
                return self._set_aside(f"its {name} does not fit ({type(exc).__name__}: {exc})")
        self.saved_at = float(payload.get("saved_at", time.time()))
        return True

    def _set_aside(self, why: str) -> bool:
        self.set_aside = self.path.with_name(f"{self.path.name}.stale-{int(time.time())}")
        os.replace(self.path, self.set_aside)
        log.warning(
            "checkpoint %s not restored, %s: kept as %s; starting fresh", self.path, why, self.set_aside
        )
        return False
