"""``/v1/planes``: create what-if copies of the twin's state, step them with actions, read, delete."""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from twin_sidecar.api.deps import Parts
from twin_sidecar.api.errors import BadRequest
from twin_sidecar.planes import PlaneStoreFull, StoredPlanes, create_planes, step_planes

router = APIRouter(prefix="/v1/planes", tags=["planes"])


class PlanesIn(BaseModel):
    count: int = Field(1, ge=1, le=4096)
    at: float | None = Field(None, description="Unix seconds: copy the state as it was then (default: now)")
    observation: list[float] | None = Field(None, description="start from this observation instead")
    members: Literal["mean", "sample", "cycle"] = "mean"
    seed: int | None = None


class StepIn(BaseModel):
    actions: list[int] | list[list[int]] = Field(
        ..., description="one action per plane, or a sequence of them (H x count)"
    )
    include_observations: bool = True


class PlanesOut(BaseModel):
    id: str
    count: int
    source: str
    model_version: int
    steps: list[int]
    members: list[int]
    total_reward: list[float]
    observations: list[list[float]] | None = None


class StepOut(PlanesOut):
    rewards: list[list[float]]  # [H][count]


def _out(stored: StoredPlanes, observations: bool = True) -> dict[str, Any]:
    p = stored.planes
    return {
        "id": stored.id,
        "count": p.count,
        "source": stored.source,
        "model_version": stored.model_version,
        "steps": p.steps.tolist(),
        "members": p.member.tolist(),
        "total_reward": p.total_reward.tolist(),
        "observations": p.obs.tolist() if observations else None,
    }


@router.post("", response_model=PlanesOut, status_code=201, summary="Create planes from the twin's state")
def create(body: PlanesIn, parts: Parts) -> dict[str, Any]:
    d = parts.dynamics.obs_dim
    if body.observation is not None:
        if len(body.observation) != d or not all(math.isfinite(v) for v in body.observation):
            raise BadRequest(f"observation must be {d} finite values")
        obs, source = torch.tensor(body.observation, dtype=torch.float32).clamp(0, 1), "observation"
    else:
        t_ns = None if body.at is None else int(body.at * 1e9)
        found = parts.mirror.observation_at(t_ns)
        if found is None:
            if t_ns is None:
                raise HTTPException(404, "no RAN-view record yet: nothing to copy")
            raise BadRequest(f"at={body.at} is before the retained history")
        obs, source = torch.as_tensor(found, dtype=torch.float32), "now" if t_ns is None else f"t={t_ns}"
    gen = torch.Generator().manual_seed(body.seed) if body.seed is not None else None
    planes = create_planes(
        obs, body.count, members=body.members, n_members=parts.dynamics.n_members, generator=gen
    )
    try:
        stored = parts.planes.add(planes, source, parts.dynamics.version)
    except PlaneStoreFull as exc:
        raise HTTPException(429, str(exc)) from None
    return _out(stored)


def _get(parts: Parts, plane_id: str) -> StoredPlanes:
    stored = parts.planes.get(plane_id)
    if stored is None:
        raise HTTPException(404, f"no planes {plane_id!r} (deleted, expired or never created)")
    return stored


@router.get("/{plane_id}", response_model=PlanesOut, summary="Read planes")
def read(plane_id: str, parts: Parts) -> dict[str, Any]:
    return _out(_get(parts, plane_id))


@router.post("/{plane_id}/step", response_model=StepOut, summary="Step planes with actions")
def step(plane_id: str, body: StepIn, parts: Parts) -> dict[str, Any]:
    stored = _get(parts, plane_id)
    seq = body.actions if body.actions and isinstance(body.actions[0], list) else [body.actions]
    planes = stored.planes
    model = parts.dynamics.current  # one version for the whole sequence
    rewards = []
    for actions in seq:
        if len(actions) != planes.count:
            raise BadRequest(f"{len(actions)} actions for {planes.count} planes")
        if any(a < 0 or a >= model.n_actions for a in actions):
            raise BadRequest(f"actions must lie in 0..{model.n_actions - 1}")
        planes, reward = step_planes(model, planes, torch.tensor(actions, dtype=torch.long))
        rewards.append(reward.tolist())
    parts.planes.put(stored, planes, model.version)
    return {**_out(stored, body.include_observations), "rewards": rewards}


@router.delete("/{plane_id}", status_code=204, summary="Drop planes")
def delete(plane_id: str, parts: Parts) -> None:
    if not parts.planes.drop(plane_id):
        raise HTTPException(404, f"no planes {plane_id!r}")
