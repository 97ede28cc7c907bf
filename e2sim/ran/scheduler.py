"""Slice-aware PRB scheduler, a fluid (per step, time-averaged) model vectorized over cells and UEs.

Per cell, PRBs are split across slices by the RRM policy ratios of RC style 2 action 6 (TS 28.541
RRMPolicyRatio): a slice's *dedicated* PRBs are reserved for it even when idle; its *minimum* PRBs are
guaranteed while it has demand (and free for others when it has none); everything left is shared
among slices with demand, none exceeding its *maximum*. Inside a slice, PRBs go to backlogged UEs by
round robin (equal shares) or proportional fair (shares ~ instantaneous rate / average throughput),
water-filled so no UE gets more than it can use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_EPS = 1e-9
_WATERFILL_PASSES = 3


@dataclass
class SliceQuotas:
    """RRM policy ratios in percent, shape (n_cells, n_slices), integers 0..100."""

    min_ratio: np.ndarray
    max_ratio: np.ndarray
    dedicated_ratio: np.ndarray

    def copy(self) -> SliceQuotas:
        return SliceQuotas(self.min_ratio.copy(), self.max_ratio.copy(), self.dedicated_ratio.copy())


def quota_problem(
    min_ratio: int, max_ratio: int, dedicated_ratio: int, other_min_sum: int, other_dedicated_sum: int
) -> str | None:
    """Why a slice's new ratios are illegal given the other slices of the cell, or None when legal."""
    for name, value in (("min", min_ratio), ("max", max_ratio), ("dedicated", dedicated_ratio)):
        if not isinstance(value, int | np.integer) or isinstance(value, bool):
            return f"{name} ratio must be an integer percentage, got {value!r}"
        if not 0 <= value <= 100:
            return f"{name} ratio {value} is outside 0..100"
    if not dedicated_ratio <= min_ratio <= max_ratio:
        return (
            f"ratios must satisfy dedicated <= min <= max, got dedicated={dedicated_ratio} "
            f"min={min_ratio} max={max_ratio}"
        )
    if other_min_sum + min_ratio > 100:
        return f"minimum ratios of the cell's slices would sum to {other_min_sum + min_ratio} > 100"
    if other_dedicated_sum + dedicated_ratio > 100:
        total = other_dedicated_sum + dedicated_ratio
        return f"dedicated ratios of the cell's slices would sum to {total} > 100"
    return None


def allocate_slices(
    demand: np.ndarray, n_prb: np.ndarray, quotas: SliceQuotas, cell_active: np.ndarray
) -> np.ndarray:
    """PRBs granted per (cell, slice) for the PRB demand ``demand`` (n_cells, n_slices)."""
    n = (n_prb * cell_active)[:, None].astype(np.float64)
    dedicated = quotas.dedicated_ratio / 100.0 * n
    minimum = np.maximum(quotas.min_ratio, quotas.dedicated_ratio) / 100.0 * n
    maximum = quotas.max_ratio / 100.0 * n
    guaranteed = np.minimum(demand, minimum)
    reserved = np.maximum(guaranteed, dedicated)
    free = np.maximum(n[:, 0] - reserved.sum(axis=1), 0.0)
    want = np.maximum(np.minimum(demand, maximum) - guaranteed, 0.0)
    extra = np.zeros_like(want)
    for _ in range(demand.shape[1]):
        hungry = want > _EPS
        count = hungry.sum(axis=1)
        share = np.where(count > 0, free / np.maximum(count, 1), 0.0)
        give = np.minimum(want, share[:, None]) * hungry
        extra += give
        want -= give
        free -= give.sum(axis=1)
    return guaranteed + extra


def allocate_ues(
    group: np.ndarray, n_groups: int, budget: np.ndarray, demand: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """PRBs per UE: each group's ``budget`` shared by ``weight`` among UEs with ``demand`` > 0.

    ``group`` (n_ue,) is the flat (cell, slice) index of each UE; shares are capped at the UE's
    demand and the leftover is re-shared, a few water-filling passes.
    """
    remaining = budget.astype(np.float64).copy()
    need = demand.astype(np.float64).copy()
    granted = np.zeros_like(need)
    for _ in range(_WATERFILL_PASSES):
        active_w = np.where(need > _EPS, weight, 0.0)
        total_w = np.bincount(group, weights=active_w, minlength=n_groups)
        share = remaining[group] * active_w / np.maximum(total_w[group], _EPS)
        give = np.minimum(share, need)
        granted += give
        need -= give
        remaining -= np.bincount(group, weights=give, minlength=n_groups)
        if not np.any(remaining > _EPS):
            break
    return granted
