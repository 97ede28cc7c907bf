"""After a promotion: watch the live transitions and roll back on a regression.

The monitor keeps the last ``window`` steps logged under other versions (the window before) and
collects the steps logged under the watched version (``policy_version`` of each transition). Once
``min_after`` steps are in, each batch is judged:

* reward regression: block means of ``block`` consecutive rewards (blocks soak up the
  autocorrelation of a RAN's reward), Welch z of after - before below ``-z`` and a drop larger
  than ``min_reward_drop``;
* intervention rise: two-proportion z of the shield's ``intervened`` rate above ``z`` and a rise
  larger than ``min_intervention_rise``.

Either one rolls the version back through the ``PolicyStore`` (the previous version, or the
heuristic when it was the first) with the evidence recorded. After ``window`` steps without a
regression the version is kept (also recorded) and watching stops.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from ricproto.transition import Transition
from twin_sidecar.gate.policy_store import PolicyStore
from twin_sidecar.gate.report import GateRecord, RollbackEvidence


class RollbackSettings(BaseModel):
    window: int = Field(600, ge=20, description="steps compared on each side of the promotion")
    min_after: int = Field(200, ge=10, description="steps under the new version before judging")
    block: int = Field(20, ge=1, description="rewards per block mean")
    z: float = Field(2.33, gt=0.0, description="one-sided significance (2.33 ~ 1 %)")
    min_reward_drop: float = Field(0.0, ge=0.0)
    min_intervention_rise: float = Field(0.05, ge=0.0)


def _block_means(x: np.ndarray, block: int) -> np.ndarray:
    n = len(x) // block
    return x[len(x) - n * block :].reshape(n, block).mean(axis=1) if n else np.zeros(0)


def _welch_z(before: np.ndarray, after: np.ndarray) -> float:
    if len(before) < 2 or len(after) < 2:
        return 0.0
    se = math.sqrt(before.var(ddof=1) / len(before) + after.var(ddof=1) / len(after))
    diff = float(after.mean() - before.mean())
    return diff / se if se > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))


def _proportion_z(k_before: int, n_before: int, k_after: int, n_after: int) -> float:
    pooled = (k_before + k_after) / (n_before + n_after)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_before + 1 / n_after))
    diff = k_after / n_after - k_before / n_before
    return diff / se if se > 0 else 0.0


class RollbackMonitor:
    def __init__(self, settings: RollbackSettings, store: PolicyStore) -> None:
        self.settings = settings
        self.store = store
        self.watched: str | None = None
        self.before: collections.deque[tuple[float, bool]] = collections.deque(maxlen=settings.window)
        self.after: list[tuple[float, bool]] = []

    def watch(self, version: str) -> None:
        """Start judging ``version`` (just promoted) against the steps logged before it."""
        self.watched = version
        self.after = []

    def state_dict(self) -> dict[str, Any]:
        """What the sidecar's checkpointer saves with the stream position."""
        return {"watched": self.watched, "before": list(self.before), "after": list(self.after)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.watched = state["watched"]
        self.before = collections.deque(
            ((float(r), bool(i)) for r, i in state["before"]), maxlen=self.settings.window
        )
        self.after = [(float(r), bool(i)) for r, i in state["after"]]

    def observe(self, transitions: Sequence[Transition]) -> GateRecord | None:
        """Feed transitions in step order; returns the rollback or keep record when one is decided."""
        for msg in transitions:
            step = (float(msg.reward), bool(msg.intervened))
            if self.watched is not None and msg.policy_version == self.watched:
                self.after.append(step)
            else:
                self.before.append(step)
        if self.watched is None or len(self.after) < self.settings.min_after:
            return None
        return self._judge()

    def _judge(self) -> GateRecord | None:
        cfg = self.settings
        version = self.watched
        assert version is not None
        before, after = np.array(self.before), np.array(self.after[: cfg.window])
        if len(before) < cfg.min_after:
            return None  # not enough history from before the promotion to compare with
        r_b, r_a = before[:, 0], after[:, 0]
        i_b, i_a = before[:, 1].astype(bool), after[:, 1].astype(bool)
        reward_z = _welch_z(_block_means(r_b, cfg.block), _block_means(r_a, cfg.block))
        interv_z = _proportion_z(int(i_b.sum()), len(i_b), int(i_a.sum()), len(i_a))
        evidence = RollbackEvidence(
            n_before=len(before),
            n_after=len(after),
            reward_before=float(r_b.mean()),
            reward_after=float(r_a.mean()),
            reward_z=reward_z,
            intervention_before=float(i_b.mean()),
            intervention_after=float(i_a.mean()),
            intervention_z=interv_z,
        )
        reasons = []
        if reward_z < -cfg.z and evidence.reward_before - evidence.reward_after > cfg.min_reward_drop:
            reasons.append(
                f"live reward fell from {evidence.reward_before:.4f} to {evidence.reward_after:.4f} "
                f"(z {reward_z:.2f} < -{cfg.z:g})"
            )
        rise = evidence.intervention_after - evidence.intervention_before
        if interv_z > cfg.z and rise > cfg.min_intervention_rise:
            reasons.append(
                f"shield interventions rose from {evidence.intervention_before:.1%} to "
                f"{evidence.intervention_after:.1%} (z {interv_z:.2f} > {cfg.z:g})"
            )
        if reasons:
            record = GateRecord(
                kind="rollback",
                version=version,
                previous_version=version,
                in_force=None,
                at=time.time(),
                reasons=reasons,
                rollback=evidence,
            )
            in_force = self.store.rollback(record)
            self.watched = None
            return record.model_copy(update={"in_force": in_force})
        if len(self.after) >= cfg.window:
            record = GateRecord(
                kind="kept",
                version=version,
                previous_version=version,
                in_force=version,
                at=time.time(),
                reasons=[f"no regression over {len(after)} steps"],
                rollback=evidence,
            )
            self.store.record(record)
            self.watched = None
            return record
        return None
