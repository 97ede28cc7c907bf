"""Slice quotas (RRM policy ratios) and intra-slice sharing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e2sim.ran.scheduler import SliceQuotas, allocate_slices, allocate_ues, quota_problem


def quotas(rows: list[tuple[int, int, int]], n_cells: int = 1) -> SliceQuotas:
    mn = np.array([[r[0] for r in rows]] * n_cells)
    mx = np.array([[r[1] for r in rows]] * n_cells)
    ded = np.array([[r[2] for r in rows]] * n_cells)
    return SliceQuotas(mn, mx, ded)


def test_dedicated_prbs_are_never_lent_and_max_caps() -> None:
    q = quotas([(0, 100, 0), (20, 50, 20), (0, 30, 0)])
    alloc = allocate_slices(np.array([[500.0, 0.0, 500.0]]), np.array([100.0]), q, np.array([True]))
    assert alloc[0, 1] == 0.0  # idle slice uses nothing ...
    assert alloc[0].sum() == pytest.approx(80.0)  # ... but its 20 dedicated PRBs stay reserved
    assert alloc[0, 2] == pytest.approx(30.0)  # capped at max 30 %
    assert alloc[0, 0] == pytest.approx(50.0)


def test_minimum_is_guaranteed_under_contention() -> None:
    q = quotas([(60, 100, 0), (30, 100, 0), (0, 100, 0)])
    alloc = allocate_slices(np.array([[1000.0, 1000.0, 1000.0]]), np.array([100.0]), q, np.array([True]))
    assert alloc[0, 0] >= 60.0 - 1e-9 and alloc[0, 1] >= 30.0 - 1e-9
    assert alloc[0].sum() == pytest.approx(100.0)


def test_down_cell_grants_nothing() -> None:
    q = quotas([(0, 100, 0)], n_cells=2)
    alloc = allocate_slices(np.array([[50.0], [50.0]]), np.array([100.0, 100.0]), q, np.array([True, False]))
    assert alloc[:, 0].tolist() == [50.0, 0.0]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(0, 400), min_size=3, max_size=3),
    st.lists(st.tuples(st.integers(0, 33), st.integers(0, 100), st.integers(0, 33)), min_size=3, max_size=3),
)
def test_slice_allocation_conserves_prbs(demand: list[float], raw: list[tuple[int, int, int]]) -> None:
    rows = [(max(mn, ded), max(mx, mn, ded), ded) for mn, mx, ded in raw]
    q = quotas(rows)
    alloc = allocate_slices(np.array([demand]), np.array([106.0]), q, np.array([True]))[0]
    reserved = sum(max(min(d, r[0] / 100 * 106), r[2] / 100 * 106) for d, r in zip(demand, rows, strict=True))
    assert alloc.sum() <= 106.0 + 1e-6
    assert np.all(alloc <= np.array(demand) + 1e-6)
    assert np.all(alloc <= np.array([r[1] for r in rows]) / 100 * 106 + 1e-6)
    for s, r in enumerate(rows):
        assert alloc[s] >= min(demand[s], r[0] / 100 * 106) - 1e-6  # minimum guaranteed
    # Work conserving: leftover PRBs exist only if every slice is satisfied or capped.
    if (
        alloc.sum()
        < 106.0 - reserved + sum(min(d, r[0] / 100 * 106) for d, r in zip(demand, rows, strict=True)) - 1e-6
    ):
        for s, r in enumerate(rows):
            assert alloc[s] >= min(demand[s], r[1] / 100 * 106) - 1e-6


def test_round_robin_shares_equally_and_water_fills() -> None:
    group = np.array([0, 0, 0, 1])
    prb = allocate_ues(group, 2, np.array([30.0, 5.0]), np.array([100.0, 100.0, 4.0, 10.0]), np.ones(4))
    assert prb[2] == pytest.approx(4.0)  # small demand fully served
    assert prb[0] == pytest.approx(13.0) and prb[1] == pytest.approx(13.0)  # the rest split evenly
    assert prb[3] == pytest.approx(5.0)


def test_proportional_fair_weights_shares() -> None:
    prb = allocate_ues(np.array([0, 0]), 1, np.array([30.0]), np.array([100.0, 100.0]), np.array([2.0, 1.0]))
    assert prb.tolist() == pytest.approx([20.0, 10.0])


def test_quota_problems_are_named() -> None:
    assert quota_problem(10, 50, 5, 0, 0) is None
    assert "dedicated <= min <= max" in quota_problem(60, 50, 0, 0, 0)  # type: ignore[operator]
    assert "outside 0..100" in quota_problem(10, 150, 0, 0, 0)  # type: ignore[operator]
    assert "sum to 110" in quota_problem(30, 50, 0, 80, 0)  # type: ignore[operator]
    assert "integer" in quota_problem(10.5, 50, 0, 0, 0)  # type: ignore[arg-type,operator]
