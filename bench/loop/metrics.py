"""What one controller did to the RAN, measured from the simulator's ground truth (benchmarks only).

``EpisodeLog`` collects, for every decision period of one episode, what the benchmark reads from the
model after the period (per-UE eMBB throughput and URLLC lateness, each cell's true PRB load, every
UE's serving cell, which cells were up) next to the decision (the action executed, whether the shield
replaced it, whether it was judged unsafe, how long deciding took). ``summarise`` pools episodes of
one controller (seeds) into the headline's metrics:

* mean and 5th percentile of eMBB UE throughput over all (UE, period) samples after the warm-up;
* URLLC delay-budget violations (UE-periods whose mean delay exceeded the slice's budget);
* highest and lowest cell's mean PRB load;
* handovers (a UE's serving cell changed while the cell it left was up: re-establishments after an
  outage are not handovers) and ping-pongs (a handover back to the cell the UE left by its previous
  handover, within ``ping_pong_window_s``, as 3GPP counts them);
* shield intervention rate, unsafe actions executed, wall-clock per decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class PeriodOutcome:
    """Ground truth of one report period after a decision."""

    time_s: float  # simulated time at the period's end
    action: int  # executed (after the shield)
    intervened: bool  # the shield replaced the proposed action
    unsafe: bool  # the executed control brought a cell over the load limit (ground truth)
    decision_s: float  # wall clock of the decision
    reward: float
    embb_thp_kbps: np.ndarray  # eMBB UEs that had data
    urllc_late: np.ndarray  # bool per URLLC UE with data
    cell_load: np.ndarray  # (n_cells,) true DL PRB load in [0, 1]
    serving: np.ndarray  # (n_ues,) serving cell at the period's end
    cell_active: np.ndarray  # (n_cells,) bool


@dataclass
class EpisodeLog:
    warmup_s: float = 2.0
    periods: list[PeriodOutcome] = field(default_factory=list)

    def add(self, outcome: PeriodOutcome) -> None:
        self.periods.append(outcome)

    def measured(self) -> list[PeriodOutcome]:
        """Periods after the warm-up (the start-up transient is nobody's doing)."""
        return [p for p in self.periods if p.time_s > self.warmup_s + 1e-9]


def count_handovers(
    times_s: np.ndarray, serving: np.ndarray, cell_active: np.ndarray, ping_pong_window_s: float = 1.0
) -> tuple[int, int]:
    """Handovers and ping-pongs in a serving-cell trajectory.

    ``times_s`` [T], ``serving`` [T, U] (cell per UE at each period's end), ``cell_active`` [T, C].
    A change of serving cell between consecutive periods is a handover if the cell left was up at the
    later period (else the UE re-established after an outage); it is a ping-pong if it returns the UE
    to the cell its previous handover took it from, within the window.
    """
    serving = np.asarray(serving)
    if serving.shape[0] < 2:
        return 0, 0
    n_ues = serving.shape[1]
    last_from = np.full(n_ues, -1, dtype=np.int64)
    last_to = np.full(n_ues, -1, dtype=np.int64)
    last_t = np.full(n_ues, -np.inf)
    handovers = ping_pongs = 0
    for k in range(1, serving.shape[0]):
        prev, now = serving[k - 1], serving[k]
        moved = (prev != now) & np.asarray(cell_active[k])[prev]
        if not moved.any():
            continue
        ues = np.flatnonzero(moved)
        back = (
            (last_from[ues] == now[ues])
            & (last_to[ues] == prev[ues])
            & (times_s[k] - last_t[ues] <= ping_pong_window_s + 1e-9)
        )
        handovers += ues.size
        ping_pongs += int(back.sum())
        last_from[ues], last_to[ues], last_t[ues] = prev[ues], now[ues], times_s[k]
    return handovers, ping_pongs


def caused_overload(load_with: np.ndarray, load_without: np.ndarray, limit: float) -> bool:
    """Whether a control brought a cell over ``limit``: some cell is over it in some period after the
    control ([H, C] true loads) but never over it in the same periods of the no-op counterfactual."""
    over_with = (np.asarray(load_with) > limit).any(axis=0)
    over_without = (np.asarray(load_without) > limit).any(axis=0)
    return bool((over_with & ~over_without).any())


@dataclass(frozen=True)
class Metrics:
    episodes: int
    decisions: int
    mean_tput_kbps: float
    p5_tput_kbps: float
    urllc_violations: int
    urllc_samples: int
    max_cell_load: float
    min_cell_load: float
    handovers: int
    ping_pongs: int
    ping_pong_rate: float  # ping-pongs per handover
    shield_intervention_rate: float  # per decision
    unsafe_actions: int
    controls: int  # decisions that executed something other than no-op
    decision_ms: float  # mean wall clock per decision
    mean_return: float  # per episode (the gym's reward)

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def summarise(logs: list[EpisodeLog], ping_pong_window_s: float = 1.0) -> Metrics:
    """The headline metrics of one controller pooled over its episodes (one per seed)."""
    if not logs or not any(log.periods for log in logs):
        raise ValueError("no periods to summarise")
    thp, late, loads = [], [], []
    handovers = ping_pongs = 0
    all_periods = [p for log in logs for p in log.periods]
    for log in logs:
        measured = log.measured()
        thp += [p.embb_thp_kbps for p in measured]
        late += [p.urllc_late for p in measured]
        loads += [p.cell_load for p in measured]
        if log.periods:
            h, pp = count_handovers(
                np.array([p.time_s for p in log.periods]),
                np.stack([p.serving for p in log.periods]),
                np.stack([p.cell_active for p in log.periods]),
                ping_pong_window_s,
            )
            handovers, ping_pongs = handovers + h, ping_pongs + pp
    tput = np.concatenate(thp) if thp else np.zeros(0)
    lates = np.concatenate(late) if late else np.zeros(0, dtype=bool)
    mean_load = np.mean(np.stack(loads), axis=0) if loads else np.zeros(1)
    n = len(all_periods)
    return Metrics(
        episodes=len(logs),
        decisions=n,
        mean_tput_kbps=float(tput.mean()) if tput.size else 0.0,
        p5_tput_kbps=float(np.percentile(tput, 5)) if tput.size else 0.0,
        urllc_violations=int(lates.sum()),
        urllc_samples=int(lates.size),
        max_cell_load=float(mean_load.max()),
        min_cell_load=float(mean_load.min()),
        handovers=handovers,
        ping_pongs=ping_pongs,
        ping_pong_rate=ping_pongs / handovers if handovers else 0.0,
        shield_intervention_rate=sum(p.intervened for p in all_periods) / n,
        unsafe_actions=sum(p.unsafe for p in all_periods),
        controls=sum(p.action != 0 for p in all_periods),
        decision_ms=1e3 * float(np.mean([p.decision_s for p in all_periods])),
        mean_return=float(sum(p.reward for p in all_periods)) / len(logs),
    )
