"""The oracle controller: lookahead search on copies of the true simulator state (benchmarks only).

Every decision it clones the gym env (``clone_env``: a deep copy of the ``RanModel`` including its
random generator, and of the env's report period), tries each candidate action on its own clone for
``horizon_periods`` report periods with no-ops after it, scores every clone by ``Objective`` and
returns the best action. The clones continue the real generator's stream, so the lookahead sees the
very fading, arrivals and mobility the real run will see: an upper yardstick that no controller
which only has KPM could reach, which is why it reads simulator internals and lives in ``bench/``,
never in ``xapps/`` or ``twin_sidecar/``.

Candidates are pruned to what can matter: no-op, and for the ``focus_cells`` cells whose eMBB users
fare worst (or whose URLLC users miss their budget), the offset steps over every relation touching
them, steering toward less loaded neighbours and their eMBB/URLLC quota steps; a candidate that
changes nothing (a step at a limit) is not simulated. All of them are actions of the shared
``ricproto.ran_space`` space, so what the oracle gains a learned controller with the same actions,
acting once per report period, could gain too.
"""

from __future__ import annotations

import copy
import weakref
from dataclasses import dataclass

import numpy as np

from bench.ue_outcomes import ue_outcomes
from e2sim.gym import RanSlicingEnv
from e2sim.ran.counters import CounterSums, Period
from e2sim.ran.model import RanModel
from ricproto.ran_space import SST_EMBB, SST_URLLC, OffsetStep, QuotaStep, SteerUes

# Parts of the model that never change after construction: shared by the clones, not copied.
STATIC_MODEL_PARTS = (
    "scenario",
    "topology",
    "shadowing",
    "antenna",
    "_gains32",
    "_sector_gains",
    "_tx_site_sector",
    "_cqi_thresholds",
    "_cqi_thresholds_ul",
    "_prb_rate",
    "_site_groups",
    "_timeline",
    "_coverage_order",
)


def clone_model(model: RanModel, period: Period | None = None) -> tuple[RanModel, Period | None]:
    """A deep copy of ``model`` (RNG included) and of ``period`` read against the copy."""
    memo: dict[int, object] = {}
    for name in STATIC_MODEL_PARTS:
        value = getattr(model, name, None)
        if value is not None:
            memo[id(value)] = value
    memo[id(model._periods)] = weakref.WeakSet()  # the copy tracks only the copied period
    twin = copy.deepcopy(model, memo)
    # deepcopy turns the per-name views of the counter arrays into orphan copies: writes through
    # them (cell PRBs available, handovers, ...) would miss the arrays that reports read
    sums = twin.sums
    twin.sums = CounterSums(sums.cell_arr, sums.slice_arr, sums.ue_arr)
    twin_period = None
    if period is not None:
        twin_period = copy.deepcopy(period, memo)
        twin._periods.add(twin_period)
    return twin, twin_period


def clone_env(env: RanSlicingEnv) -> RanSlicingEnv:
    """A copy of a reset env whose model and period are deep copies: stepping it leaves ``env`` alone."""
    assert env.model is not None
    twin = copy.copy(env)
    twin.model, twin._period = clone_model(env.model, env._period)
    return twin


@dataclass(frozen=True)
class Objective:
    """What the oracle maximises over its lookahead window, from the true per-UE counters.

    ``tail`` x mean log10 throughput of the worst ``tail_share`` of eMBB UEs (the low percentile the
    benchmark measures, smoothed over a few UEs) + ``mean`` x mean log10 throughput of all eMBB UEs
    - ``late`` x share of URLLC UEs whose mean delay exceeded their slice's budget.
    """

    tail_share: float = 0.1
    tail: float = 1.0
    mean: float = 0.2
    late: float = 5.0

    def score(self, model: RanModel, period: Period) -> float:
        out = ue_outcomes(model, period)
        value = 0.0
        if out.embb_thp_kbps.size:
            logs = np.sort(np.log10(1.0 + out.embb_thp_kbps))
            k = max(1, int(np.ceil(self.tail_share * logs.size)))
            value += self.tail * logs[:k].mean() + self.mean * logs.mean()
        if out.urllc_late.size:
            value -= self.late * out.urllc_late.mean()
        return float(value)


@dataclass(frozen=True)
class OracleConfig:
    horizon_periods: int = 3
    focus_cells: int = 3
    objective: Objective = Objective()


class Oracle:
    """Greedy lookahead over cloned true state; ``act(env)`` returns an action index of ``env.space``."""

    def __init__(self, config: OracleConfig | None = None) -> None:
        self.config = config or OracleConfig()
        self.queries = 0  # clones stepped, for the progress display

    def candidates(self, env: RanSlicingEnv) -> list[int]:
        """No-op plus, for each focus cell i: every offset step that moves load off i over one of the
        relations touching it (its own, or a neighbour's that lists i), the steps that undo an offset
        pushing load onto i, steering toward each neighbour with a lower PRB load, and the eMBB and
        URLLC quota steps of i. (PRB load alone does not rule an offset out: congested cells all
        run at 100 %.)"""
        space, model = env.space, env.model
        assert model is not None
        layout, load = env.layout, model.load
        out = [0]
        for i in self.focus_cells(env):
            for a in range(min(len(layout.neighbours), space.max_cells)):
                for k, b in enumerate(layout.neighbours[a][: space.n_neighbours]):
                    if a == i:
                        out.append(space.encode(OffsetStep(a, k, +1)))
                        if load[b] < load[i]:
                            out.append(space.encode(SteerUes(a, k)))
                        if model.cell_offset(a, b) < 0:  # i holds UEs back from b: undo
                            out.append(space.encode(OffsetStep(a, k, +1)))
                    elif b == i:
                        out.append(space.encode(OffsetStep(a, k, -1)))
                        if model.cell_offset(a, b) > 0:  # a pushes UEs onto i: undo
                            out.append(space.encode(OffsetStep(a, k, -1)))
            for s, snssai in enumerate(space.slices):
                if snssai.sst in (SST_EMBB, SST_URLLC):
                    out += [space.encode(QuotaStep(i, s, +1)), space.encode(QuotaStep(i, s, -1))]
        return list(dict.fromkeys(out))

    def focus_cells(self, env: RanSlicingEnv) -> list[int]:
        """The cells whose users fared worst in the last period: low eMBB throughput, late URLLC."""
        model, period = env.model, env._period
        assert model is not None and period is not None
        out = ue_outcomes(model, period)
        badness = np.zeros(model.n_cells)
        if out.embb_thp_kbps.size:
            # each eMBB UE below the network's 20th percentile counts against its cell
            low = out.embb_thp_kbps <= np.percentile(out.embb_thp_kbps, 20)
            np.add.at(badness, out.embb_cells[low], 1.0)
        np.add.at(badness, out.urllc_cells[out.urllc_late], 2.0)
        order = np.lexsort((-model.load, -badness))  # worst first, ties by PRB load
        return [int(c) for c in order if model.cell_active[c]][: self.config.focus_cells]

    def evaluate(self, env: RanSlicingEnv, action: int) -> float:
        """The objective after ``action`` then no-ops for the horizon, on a clone of ``env``."""
        value, _ = self._lookahead(env, action)
        return value

    def _lookahead(self, env: RanSlicingEnv, action: int) -> tuple[float, bool]:
        """(objective, whether the action changed anything); an action that changed nothing (a step
        at a limit, nobody to steer) is not run: it is the no-op."""
        twin = clone_env(env)
        model = twin.model
        assert model is not None
        before = _controls(model)
        twin.apply(twin.space.decode(action))
        changed = action == 0 or not _same_controls(before, _controls(model))
        if not changed:
            return -np.inf, False
        window = model.start_period()
        model.run(self.config.horizon_periods * twin.report_period_s)
        self.queries += 1
        return self.config.objective.score(model, window), True

    def act(self, env: RanSlicingEnv) -> int:
        """The candidate with the best lookahead objective (no-op on ties: acting must pay)."""
        best, best_value = 0, -np.inf
        for action in self.candidates(env):  # no-op first
            value, changed = self._lookahead(env, action)
            if changed and value > best_value + 1e-12:
                best, best_value = action, value
        return best


def _controls(model: RanModel) -> tuple[np.ndarray, ...]:
    """Everything an action can change: quotas, offsets, pending handover commands."""
    q = model.quotas
    h = model.handover
    return (
        q.min_ratio.copy(),
        q.max_ratio.copy(),
        q.dedicated_ratio.copy(),
        h.cio_db.copy(),
        h.pending_target.copy(),
    )


def _same_controls(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
