"""The planner as the sidecar serves it (``POST /v1/plan``): one plane of the state the xApp sees now,
searched on the twin's predictive model within the budget the xApp gives.

Per request it pins the model version and the Q-network in service (one version for the whole
search), builds a :class:`~twin_sidecar.planner.model.QModel` over them (a uniform prior and zero leaf
values while no target policy is published), and searches with a preallocated tree kept per search
shape. The search's wall-clock budget is ``budget_share`` of the xApp's ``budget_ms`` minus
``reserve_ms``: the HTTP round trip, the encoding and a simulation slower than the ones before must fit
in the xApp's timeout too. Deterministic for a given seed when the search is
not cut short by time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from twin_sidecar.planner.budget import Clock
from twin_sidecar.planner.model import Dynamics, QModel
from twin_sidecar.planner.policy import plan
from twin_sidecar.planner.q_source import QSource, UniformQ
from twin_sidecar.planner.search import Algorithm, SearchConfig, SearchStats
from twin_sidecar.planner.tree import Tree

Members = Literal["mean", "sample"]
MAX_WORKSPACES = 4


class PlanRequestError(ValueError):
    """The request cannot be planned (wrong sizes, non-finite values, no allowed action)."""


@dataclass(frozen=True)
class OnlinePlannerConfig:
    """simulations/max_depth: defaults when a request gives none; max_simulations caps a request.
    members: plan on the ensemble mean, or on one member drawn per search (a Monte Carlo plane)."""

    simulations: int = 64
    max_simulations: int = 1024
    max_depth: int | None = 8
    algorithm: Algorithm = "gumbel"
    gumbel_scale: float = 0.0  # acting: deterministic top-k by prior (see planner/README.md)
    max_considered_actions: int = 16
    discount: float = 0.95  # the learner's gamma: Q is a discounted return
    prior_temperature: float = 1.0
    budget_share: float = 0.8  # of the xApp's budget the search may use: the rest absorbs one slow
    reserve_ms: float = 1.0  # simulation, HTTP and encoding (minus this too), so the answer is in time
    members: Members = "mean"
    seed: int = 0


@dataclass(frozen=True)
class OnlinePlan:
    """One answer: the action and what the search saw at the root (A actions).

    visits: [A] root visits; policy: [A] the improved policy (Gumbel) or visit distribution (PUCT);
    q_values: [A] completed Q (0 on masked actions)."""

    action: int
    visits: list[int]
    policy: list[float]
    q_values: list[float]
    root_value: float
    stats: SearchStats
    q_source: str  # "target_policy" or "uniform"
    q_version: str
    model_version: int
    member: int | None
    budget_ms: float
    seed: int


class OnlinePlanner:
    """Plans one plane per request; thread-safe (requests are served one at a time)."""

    def __init__(
        self,
        dynamics: Dynamics,
        q_source: QSource,
        obs_dim: int,
        n_actions: int,
        n_members: int,
        config: OnlinePlannerConfig | None = None,
        clock: Clock = time.perf_counter,
    ) -> None:
        self.dynamics = dynamics
        self.q_source = q_source
        self.obs_dim = obs_dim
        self.n_actions = n_actions
        self.n_members = n_members
        self.config = config or OnlinePlannerConfig()
        self.clock = clock
        self._uniform = UniformQ(n_actions)
        # simulations -> tree (one plane, fixed A and D); a few sizes only, the least recent dropped,
        # so requests of every size cannot pile up trees
        self._workspaces: dict[int, Tree] = {}
        self._lock = threading.Lock()
        self.planned = 0

    def check(self, observation: list[float], mask: list[int] | list[bool]) -> tuple[np.ndarray, np.ndarray]:
        """The request's observation [D] float32 and mask [A] bool, or PlanRequestError saying why not."""
        if len(observation) != self.obs_dim:
            raise PlanRequestError(
                f"observation has {len(observation)} values, the RAN space has {self.obs_dim}"
            )
        obs = np.asarray(observation, dtype=np.float32)
        if not np.isfinite(obs).all():
            raise PlanRequestError("observation has non-finite values")
        if len(mask) != self.n_actions:
            raise PlanRequestError(
                f"mask has {len(mask)} entries, the RAN space has {self.n_actions} actions"
            )
        valid = np.asarray(mask, dtype=np.int64)
        if ((valid != 0) & (valid != 1)).any():
            raise PlanRequestError("mask entries must be 0 or 1")
        if not valid.any():
            raise PlanRequestError("mask allows no action")
        return obs, valid.astype(bool)

    def plan(
        self,
        observation: list[float],
        mask: list[int] | list[bool],
        budget_ms: float,
        *,
        simulations: int | None = None,
        max_depth: int | None = None,
        seed: int | None = None,
    ) -> OnlinePlan:
        cfg = self.config
        obs, valid = self.check(observation, mask)
        sims = cfg.simulations if simulations is None else simulations
        if not 0 <= sims <= cfg.max_simulations:
            raise PlanRequestError(f"simulations must lie in 0..{cfg.max_simulations}")
        seed = cfg.seed if seed is None else seed
        search_ms = max(0.0, budget_ms * cfg.budget_share - cfg.reserve_ms)
        config = SearchConfig(
            algorithm=cfg.algorithm,
            num_simulations=sims,
            max_depth=max_depth if max_depth is not None else cfg.max_depth,
            time_budget_ms=search_ms,
            max_considered_actions=cfg.max_considered_actions,
            gumbel_scale=cfg.gumbel_scale,
        )
        generator = torch.Generator().manual_seed(seed)
        members: torch.Tensor | None = None
        if cfg.members == "sample" and self.n_members > 1:
            members = torch.randint(0, self.n_members, (1,), generator=generator)
        q, version = self.q_source.current()
        pinned = _Pinned(self.dynamics)
        model = QModel(
            pinned,
            self._uniform if q is None else q,
            discount=cfg.discount,
            prior_temperature=cfg.prior_temperature,
        )
        with self._lock:
            workspace = self._workspaces.pop(sims, None)
            out = plan(
                model,
                torch.from_numpy(obs).unsqueeze(0),
                torch.from_numpy(valid).unsqueeze(0),
                config,
                generator=generator,
                members=members,
                clock=self.clock,
                workspace=workspace,
            )
            self._workspaces[sims] = out.tree
            while len(self._workspaces) > MAX_WORKSPACES:
                del self._workspaces[next(iter(self._workspaces))]
            self.planned += 1
            action = int(out.action[0])
            answer = OnlinePlan(
                action=action,
                visits=[int(v) for v in out.visit_counts[0].tolist()],
                policy=out.action_weights[0].tolist(),
                q_values=out.root_qvalues[0].tolist(),
                root_value=float(out.root_value[0]),
                stats=out.stats,
                q_source="uniform" if q is None else "target_policy",
                q_version=version,
                model_version=int(getattr(pinned.model, "version", 0)),
                member=None if members is None else int(members[0]),
                budget_ms=search_ms,
                seed=seed,
            )
        if not valid[action]:  # the search never returns a masked action; say so loudly if it did
            raise AssertionError(f"the planner chose masked action {action}")
        return answer


class _Pinned:
    """One model version for a whole search: the dynamics' ``current`` when it has one (the sidecar's
    serving slot swaps versions between calls), else the dynamics itself."""

    def __init__(self, dynamics: Dynamics) -> None:
        self.model = getattr(dynamics, "current", dynamics)

    def step(
        self, obs: torch.Tensor, action: torch.Tensor, member: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model.step(obs, action, member)
