"""What each UE got over a window of simulated time, read from the model's true per-UE counters.

The yardstick of ``bench/headroom.py`` and the oracle's objective: eMBB UE throughput (as 28.552's
DRB.UEThpDl: bits over the time the UE had data) and whether a URLLC UE met its slice's packet delay
budget (mean queueing delay over the window, Little's law as DRB.RlcSduDelayDl; a UE with data queued
and nothing served missed it). Benchmarks only: it reads simulator internals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from e2sim.ran.counters import Period
from e2sim.ran.model import RanModel
from ricproto.ran_space import SST_EMBB, SST_URLLC


@dataclass(frozen=True)
class UeOutcomes:
    embb_thp_kbps: np.ndarray  # throughput of each eMBB UE that had data in the window
    embb_cells: np.ndarray  # their serving cells at the window's end
    urllc_late: np.ndarray  # bool per URLLC UE (of a slice with a budget) that had data
    urllc_cells: np.ndarray  # their serving cells at the window's end


def ue_outcomes(model: RanModel, period: Period) -> UeOutcomes:
    d = model.sums.minus(period.start).ue
    bits, active, queued = d["bits_dl"], d["active_s_dl"], d["queue_bit_s_dl"]
    sst = np.array([s.sst for s in model.slices])[model.ue_slice]
    budget = np.array(
        [np.inf if s.delay_budget_ms is None else s.delay_budget_ms for s in model.scenario.slices]
    )[model.ue_slice]
    embb = (sst == SST_EMBB) & (active > 0)
    thp = np.divide(bits, active, out=np.zeros_like(bits), where=active > 0) / 1e3
    had_data = (bits > 0) | (queued > 0)
    urllc = (sst == SST_URLLC) & np.isfinite(budget) & had_data
    delay_ms = np.where(bits > 0, queued / np.maximum(bits, 1e-12) * 1e3, np.inf)
    return UeOutcomes(
        thp[embb],
        model.serving[embb].copy(),
        (delay_ms > budget)[urllc],
        model.serving[urllc].copy(),
    )
