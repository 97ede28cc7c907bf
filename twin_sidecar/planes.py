"""Virtual planes: batched copies of the twin's state, stepped forward by the predictive model.

A ``Planes`` batch holds B copies of an observation (the mirror's state now or at time t, or any
given one) and, per plane, which ensemble member steps it (-1 = the ensemble mean; a member index =
a Monte Carlo plane that follows one member, a sample of the model). Functions over them are pure
(mctx-style): ``step_planes`` and ``rollout`` return new values and never touch their inputs.

``rollout(dynamics, planes, policy_fn, horizon)`` is what the gate's test plans call: it rolls a
policy forward H steps on every plane at once and returns the trajectories.

``PlaneStore`` keeps planes between HTTP calls (``/v1/planes``): bounded count, idle planes dropped
after a TTL, one lock.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from twin_sidecar.predictive.dynamics import Dynamics

PolicyFn = Callable[[torch.Tensor], torch.Tensor]  # obs Tensor[B, D] -> action Tensor[B] int64
MEAN = -1


@dataclass(frozen=True)
class Planes:
    """obs: Tensor[B, D] float32; member: Tensor[B] int64 (-1 = ensemble mean); steps: Tensor[B]
    int64 (steps taken); total_reward: Tensor[B] float32 (sum of rewards so far)."""

    obs: torch.Tensor
    member: torch.Tensor
    steps: torch.Tensor
    total_reward: torch.Tensor

    @property
    def count(self) -> int:
        return int(self.obs.shape[0])


@dataclass(frozen=True)
class Trajectory:
    """obs: Tensor[H+1, B, D]; action: Tensor[H, B] int64; reward: Tensor[H, B] float32."""

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor


def create_planes(
    obs: torch.Tensor,
    count: int,
    *,
    members: str | torch.Tensor = "mean",
    n_members: int = 1,
    generator: torch.Generator | None = None,
) -> Planes:
    """``count`` copies of obs Tensor[D] (or one per row of Tensor[count, D]).

    ``members``: "mean" (every plane follows the ensemble mean), "sample" (each plane one member
    drawn uniformly with ``generator``), "cycle" (plane i follows member i mod M), or Tensor[count]."""
    obs = torch.as_tensor(obs, dtype=torch.float32)
    base = obs.expand(count, -1).clone() if obs.dim() == 1 else obs.clone()
    if base.shape[0] != count:
        raise ValueError(f"{base.shape[0]} observations for {count} planes")
    if isinstance(members, torch.Tensor):
        member = members.to(torch.long).clone()
        if member.shape != (count,) or bool(((member < MEAN) | (member >= n_members)).any()):
            raise ValueError(f"member must be Tensor[{count}] with values in -1..{n_members - 1}")
    elif members == "mean":
        member = torch.full((count,), MEAN, dtype=torch.long)
    elif members == "sample":
        member = torch.randint(0, n_members, (count,), generator=generator)
    elif members == "cycle":
        member = torch.arange(count) % n_members
    else:
        raise ValueError(f"members must be 'mean', 'sample', 'cycle' or a tensor, not {members!r}")
    return Planes(base, member, torch.zeros(count, dtype=torch.long), torch.zeros(count))


def step_planes(dynamics: Dynamics, planes: Planes, action: torch.Tensor) -> tuple[Planes, torch.Tensor]:
    """Step every plane with its action (Tensor[B] int64); returns (new planes, reward Tensor[B])."""
    action = torch.as_tensor(action, dtype=torch.long)
    if action.shape != (planes.count,):
        raise ValueError(f"need one action per plane: Tensor[{planes.count}], got {tuple(action.shape)}")
    if bool(((action < 0) | (action >= dynamics.n_actions)).any()):
        raise ValueError(f"actions must lie in 0..{dynamics.n_actions - 1}")
    nxt = torch.empty_like(planes.obs)
    reward = torch.empty(planes.count)
    mean_rows = planes.member == MEAN
    if bool(mean_rows.any()):
        o, r = dynamics.step(planes.obs[mean_rows], action[mean_rows], None)
        nxt[mean_rows], reward[mean_rows] = o, r
    if bool((~mean_rows).any()):
        o, r = dynamics.step(planes.obs[~mean_rows], action[~mean_rows], planes.member[~mean_rows])
        nxt[~mean_rows], reward[~mean_rows] = o, r
    new = replace(planes, obs=nxt, steps=planes.steps + 1, total_reward=planes.total_reward + reward)
    return new, reward


def rollout(dynamics: Dynamics, planes: Planes, policy_fn: PolicyFn, horizon: int) -> Trajectory:
    """Roll ``policy_fn`` forward ``horizon`` steps on every plane (batched, no grad)."""
    obs = [planes.obs]
    actions, rewards = [], []
    with torch.no_grad():
        for _ in range(horizon):
            action = torch.as_tensor(policy_fn(planes.obs), dtype=torch.long)
            planes, reward = step_planes(dynamics, planes, action)
            obs.append(planes.obs)
            actions.append(action)
            rewards.append(reward)
    return Trajectory(
        torch.stack(obs),
        torch.stack(actions) if actions else torch.zeros(0, planes.count, dtype=torch.long),
        torch.stack(rewards) if rewards else torch.zeros(0, planes.count),
    )


@dataclass
class StoredPlanes:
    id: str
    planes: Planes
    created_at: float
    used_at: float
    source: str  # "now" | "t=<ns>" | "observation"
    model_version: int


class PlaneStoreFull(RuntimeError):
    pass


class PlaneStore:
    def __init__(self, max_planes: int = 8192, ttl_s: float = 300.0) -> None:
        self.max_planes = max_planes
        self.ttl_s = ttl_s
        self._items: dict[str, StoredPlanes] = {}
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return sum(s.planes.count for s in self._items.values())

    def _expire(self, now: float) -> None:
        for key in [k for k, s in self._items.items() if now - s.used_at > self.ttl_s]:
            del self._items[key]

    def add(self, planes: Planes, source: str, model_version: int) -> StoredPlanes:
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if self.total + planes.count > self.max_planes:
                raise PlaneStoreFull(
                    f"{self.total} planes held, at most {self.max_planes}: delete some first"
                )
            stored = StoredPlanes(uuid.uuid4().hex[:12], planes, time.time(), now, source, model_version)
            self._items[stored.id] = stored
            return stored

    def get(self, plane_id: str) -> StoredPlanes | None:
        with self._lock:
            self._expire(time.monotonic())
            stored = self._items.get(plane_id)
            if stored is not None:
                stored.used_at = time.monotonic()
            return stored

    def put(self, stored: StoredPlanes, planes: Planes, model_version: int) -> None:
        with self._lock:
            stored.planes = planes
            stored.model_version = model_version
            stored.used_at = time.monotonic()

    def drop(self, plane_id: str) -> bool:
        with self._lock:
            return self._items.pop(plane_id, None) is not None

    def __len__(self) -> int:
        return len(self._items)
