"""The five controllers of the headline benchmark behind one interface (``Controller``).

Each is started on an env at the start of an episode (``begin``) and asked for one action per report
period (``choose``). The xApp's controllers run the control xApp's own ``BehaviorPolicy`` (greedy:
no exploration when measured) with its shield; the shield's clock is the simulated one, so its
ping-pong window means simulated seconds as it does in the real loop at speed 1.

* ``NoControl``: no-op throughout, the RAN on its own (A3 handovers, configured quotas);
* ``XappController`` without snapshot: the built-in heuristic balancer (the xApp's degraded mode);
* ``Sb3Controller``: a Stable-Baselines3 DQN acting greedily on the raw gym (no shield: an
  off-the-shelf agent as it comes);
* ``XappController`` with the promoted snapshot: twinric without planning;
* ``XappController`` with an ``MctsPlanner``: twinric planning on the learned predictive model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from e2sim.gym import RanSlicingEnv
from ricproto.policy_snapshot import PolicySnapshot
from ricproto.ran_space import CellLayout, RanSpace, SteerUes
from twin_sidecar.plane_dynamics import PlaneDynamics
from twin_sidecar.planner import QModel, SearchConfig, Tree, plan
from xapps.control.behavior import BehaviorPolicy
from xapps.control.control_policy import ControlSettings, Exploration
from xapps.control.heuristic import HeuristicBalancer
from xapps.control.shield import ActionShield, ShieldVerdict

GREEDY = ControlSettings(exploration=Exploration(kind="none"))


@dataclass(frozen=True)
class Choice:
    action: int  # what is executed
    proposed: int  # what the policy wanted before the shield
    intervened: bool


class Controller(Protocol):
    name: str

    def begin(self, env: RanSlicingEnv, seed: int) -> None: ...

    def choose(self, obs: np.ndarray) -> Choice: ...


class SimClockShield(ActionShield):
    """The xApp's shield with the simulated clock (the gym runs far faster than real time)."""

    def __init__(self, space: RanSpace, layout: CellLayout, clock: Callable[[], float]) -> None:
        super().__init__(space, layout)
        self.clock = clock

    def verdict(
        self,
        obs: np.ndarray,
        limit: float,
        predicted_load: np.ndarray | None = None,
        now: float | None = None,
    ) -> ShieldVerdict:
        return super().verdict(obs, limit, predicted_load, self.clock() if now is None else now)


def sim_clock(env: RanSlicingEnv) -> Callable[[], float]:
    return lambda: env.model.now_s if env.model is not None else 0.0


def xapp_behaviour(env: RanSlicingEnv, seed: int) -> tuple[BehaviorPolicy, SimClockShield]:
    """The control xApp's behaviour policy (heuristic, shield, the scenario's action mask) for ``env``."""
    shield = SimClockShield(env.space, env.layout, sim_clock(env))
    policy = BehaviorPolicy(
        env.space, shield, HeuristicBalancer(env.space, env.layout), env.action_masks(), seed
    )
    return policy, shield


def record_steer(env: RanSlicingEnv, shield: ActionShield, action: int) -> None:
    """As the xApp does once a steering control is sent: the shield remembers it (ping-pong rule)."""
    decoded = env.space.decode(action)
    if isinstance(decoded, SteerUes) and decoded.cell_index < len(env.layout.neighbours):
        neighbours = env.layout.neighbours[decoded.cell_index]
        if decoded.neighbour_rank < len(neighbours):
            assert env.model is not None
            shield.record_steer(decoded.cell_index, neighbours[decoded.neighbour_rank], env.model.now_s)


class NoControl:
    name = "no control (A3)"

    def begin(self, env: RanSlicingEnv, seed: int) -> None:
        pass

    def choose(self, obs: np.ndarray) -> Choice:
        return Choice(0, 0, False)


class MctsPlanner:
    """Batched MCTS (one plane) on the learned dynamics with the target policy's Q at the leaves."""

    def __init__(
        self,
        dynamics: PlaneDynamics,
        q: torch.nn.Module,
        discount: float,
        config: SearchConfig,
        seed: int = 0,
    ) -> None:
        self.model = QModel(dynamics, q, discount=discount)  # type: ignore[arg-type]
        self.config = config
        self.generator = torch.Generator().manual_seed(seed)
        self.workspace: Tree | None = None

    def action(self, obs: np.ndarray, valid: np.ndarray) -> int:
        with torch.no_grad():
            out = plan(
                self.model,
                torch.as_tensor(obs, dtype=torch.float32).reshape(1, -1),
                torch.as_tensor(valid, dtype=torch.bool).reshape(1, -1),
                self.config,
                generator=self.generator,
                workspace=self.workspace,
            )
        self.workspace = out.tree
        return int(out.action[0])


class XappController:
    """The control xApp's decision: snapshot (or heuristic), optional planner answer, then the shield."""

    def __init__(
        self,
        name: str,
        snapshot: PolicySnapshot | None = None,
        planner: MctsPlanner | None = None,
        settings: ControlSettings = GREEDY,
    ) -> None:
        self.name = name
        self.snapshot = snapshot
        self.planner = planner
        self.settings = settings
        self._env: RanSlicingEnv | None = None

    def begin(self, env: RanSlicingEnv, seed: int) -> None:
        self._env = env
        self.policy, self.shield = xapp_behaviour(env, seed)

    def choose(self, obs: np.ndarray) -> Choice:
        assert self._env is not None, "begin() first"
        planned = None
        if self.planner is not None:
            allowed = self.shield.verdict(obs, self.settings.cell_load_limit).allowed & self.policy.mask
            planned = self.planner.action(obs, allowed)
        d = self.policy.decide(obs, self.settings, self.snapshot, planned_action=planned)
        record_steer(self._env, self.shield, d.action)
        return Choice(d.action, d.proposed, d.intervened)


class Sb3Controller:
    """A trained Stable-Baselines3 model acting greedily, as it comes (no shield)."""

    def __init__(self, name: str, model: Any) -> None:
        self.name = name
        self.model = model

    def begin(self, env: RanSlicingEnv, seed: int) -> None:
        pass

    def choose(self, obs: np.ndarray) -> Choice:
        action, _ = self.model.predict(obs, deterministic=True)
        a = int(action)
        return Choice(a, a, False)
