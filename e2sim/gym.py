"""Gymnasium environment over the RAN model, with the xApp's observation/action space.

``RanSlicingEnv`` (registered as ``twinric/RanSlicing-v0``) advances the model one report period per
step. Observations are built from the model's KPM-style cell reports through
``ricproto.ran_space`` (``CellKpm.from_measurements`` -> ``RanSpace.observation``), the same path the
control xApp takes from decoded KPM indications; actions are decoded by the same ``RanSpace`` and
applied through the model's RC control entry points (``command_handover``, ``set_slice_quota``,
``set_cell_offset``). The space's URLLC delay budget is the scenario's (its SST-2 slice's
``delay_budget_ms``) unless a space is given.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium
import numpy as np

from e2sim.ran.counters import Period
from e2sim.ran.model import ControlFailure, RanModel
from e2sim.scenario import Scenario, load_scenario
from ricproto.ran_space import (
    SST_URLLC,
    CellKpm,
    NoOp,
    OffsetStep,
    QuotaStep,
    RanAction,
    RanSpace,
    SteerUes,
    UeKpm,
    select_ues_to_steer,
    step_cell_offsets,
    step_slice_quota,
)

ENV_ID = "twinric/RanSlicing-v0"


def observation_from_model(model: RanModel, period: Period, space: RanSpace) -> np.ndarray:
    """Observation of one period, through the KPM measurement names only."""
    cells = [
        CellKpm.from_measurements(r.measurements, r.slices, r.distributions)
        for r in model.cell_reports(period)
    ]
    return space.observation(cells)


def scenario_space(scenario: Scenario, n_neighbours: int = 3) -> RanSpace:
    """The RAN space of a scenario: its cells, slices and URLLC delay budget."""
    budgets = [
        s.delay_budget_ms
        for s in scenario.slices
        if s.snssai.sst == SST_URLLC and s.delay_budget_ms is not None
    ]
    return RanSpace(
        max_cells=scenario.n_cells,
        n_neighbours=n_neighbours,
        slices=tuple(s.snssai for s in scenario.slices),
        **({"delay_budget_ms": min(budgets)} if budgets else {}),
    )


class RanSlicingEnv(gymnasium.Env[np.ndarray, np.int64]):
    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        scenario: str | Scenario = "small",
        report_period_s: float = 0.1,
        episode_s: float = 60.0,
        space: RanSpace | None = None,
        n_neighbours: int = 3,
    ) -> None:
        self.scenario = load_scenario(scenario) if isinstance(scenario, str) else scenario
        self.report_period_s = report_period_s
        self.episode_s = episode_s
        n_cells = self.scenario.n_cells
        self.space = space or scenario_space(self.scenario, n_neighbours)
        if n_cells > self.space.max_cells:
            raise ValueError(f"scenario has {n_cells} cells, the space only {self.space.max_cells}")
        if tuple(s.snssai for s in self.scenario.slices) != self.space.slices:
            raise ValueError("the space's slices must be the scenario's slices, in order")
        self.observation_space = self.space.observation_space()
        self.action_space = self.space.action_space()
        self.model: RanModel | None = None
        self._period: Period | None = None

    # The model is rebuilt on every reset from a seed drawn from the env's seeded generator.
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        model_seed = int(self.np_random.integers(0, 2**31 - 1))
        self.model = RanModel(self.scenario, seed=model_seed)
        self.layout = self.model.cell_layout(self.space.n_neighbours)
        obs = self._advance()
        return obs, {"sim_time_s": self.model.now_s, "model_seed": model_seed}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.model is None:
            raise RuntimeError("call reset() before step()")
        decoded = self.space.decode(int(action))
        outcome = self.apply(decoded)
        obs = self._advance()
        reward = self.space.reward(obs)
        truncated = self.model.now_s + 1e-9 >= self.episode_s
        info = {"sim_time_s": self.model.now_s, "action": decoded, "control": outcome}
        return obs, reward, False, truncated, info

    def action_masks(self) -> np.ndarray:
        """Meaningful actions for this scenario (sb3-contrib MaskablePPO reads this method)."""
        return (
            self.space.action_mask(self.model.cell_layout(self.space.n_neighbours))
            if self.model
            else np.ones(self.space.n_actions, dtype=bool)
        )

    def apply(self, action: RanAction) -> list[str]:
        """Carry out a decoded action on the model; returns one line per control sent (or why none)."""
        model = self.model
        assert model is not None and self._period is not None
        if isinstance(action, NoOp):
            return []
        if action.cell_index >= model.n_cells:
            return [f"no cell at index {action.cell_index}: nothing done"]
        if isinstance(action, SteerUes | OffsetStep):
            neighbours = self.layout.neighbours[action.cell_index]
            if action.neighbour_rank >= len(neighbours):
                return [f"cell {action.cell_index} has no neighbour #{action.neighbour_rank}: nothing done"]
        if isinstance(action, OffsetStep):
            i, j = action.cell_index, self.layout.neighbours[action.cell_index][action.neighbour_rank]
            forward, backward = step_cell_offsets(
                model.cell_offset(i, j), model.cell_offset(j, i), action.direction, self.space
            )
            cells = model.cells
            return [
                _describe(model.set_cell_offset(cells[i].nr_cgi, cells[j].nr_cgi, forward)),
                _describe(model.set_cell_offset(cells[j].nr_cgi, cells[i].nr_cgi, backward)),
            ]
        if isinstance(action, SteerUes):
            neighbours = self.layout.neighbours[action.cell_index]
            if action.neighbour_rank >= len(neighbours):
                return [f"cell {action.cell_index} has no neighbour #{action.neighbour_rank}: nothing done"]
            source = self.layout.nr_cell_ids[action.cell_index]
            target = self.layout.nr_cell_ids[neighbours[action.neighbour_rank]]
            ues = [
                UeKpm(
                    r.ue_id,
                    r.serving_nr_cgi.nr_cell_id,
                    r.measurements["RSRP"],
                    {n.nr_cgi.nr_cell_id: n.rsrp_dbm for n in r.neighbours},
                )
                for r in model.ue_reports(self._period, cell_index=action.cell_index)
            ]
            chosen = select_ues_to_steer(ues, source, target, self.space.steer_count)
            return [_describe(model.command_handover(ue, target)) for ue in chosen]
        if isinstance(action, QuotaStep):
            quotas = step_slice_quota(
                model.slice_quotas(action.cell_index),
                action.slice_index,
                action.direction,
                self.space.quota_step,
            )
            q = quotas[action.slice_index]
            result = model.set_slice_quota(
                model.cells[action.cell_index].nr_cgi,
                self.space.slices[action.slice_index],
                q.min_ratio,
                q.max_ratio,
                q.dedicated_ratio,
            )
            return [_describe(result)]
        raise TypeError(f"unknown action {action!r}")

    def _advance(self) -> np.ndarray:
        model = self.model
        assert model is not None
        period = model.start_period()
        model.run(self.report_period_s)
        self._period = period
        return observation_from_model(model, period, self.space)


def _describe(result: object) -> str:
    if isinstance(result, ControlFailure):
        return f"failed ({result.cause}): {result.reason}"
    return f"ok: {getattr(result, 'detail', result)}"


if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="e2sim.gym:RanSlicingEnv")
