"""Distribution measurements: bins, histograms, and percentiles/shares read back from counts."""

from __future__ import annotations

import numpy as np
import pytest

from ricproto.kpm_distribution import (
    BIN_EDGES,
    DELAY_DL_BIN_EDGES_MS,
    DELAY_DL_DIST,
    UE_THP_DL_BIN_EDGES_KBPS,
    UE_THP_DL_DIST,
    fraction_above,
    histogram,
    n_bins,
    percentile,
)


def test_bins_are_increasing_and_start_at_zero() -> None:
    for name in (UE_THP_DL_DIST, DELAY_DL_DIST):
        edges = np.asarray(BIN_EDGES[name])
        assert edges[0] == 0.0 and np.all(np.diff(edges) > 0) and n_bins(name) == edges.size
    assert {5.0, 10.0, 20.0, 50.0, 100.0} <= set(DELAY_DL_BIN_EDGES_MS)  # common budgets are edges


def test_histogram_counts_every_value_once_with_the_open_last_bin() -> None:
    values = np.array([0.0, 49.0, 50.0, 1e6, np.inf])
    counts = histogram(values, UE_THP_DL_BIN_EDGES_KBPS)
    assert counts.sum() == 5 and counts[0] == 2 and counts[1] == 1 and counts[-1] == 2


def test_percentile_of_counts_is_close_to_the_samples_percentile() -> None:
    rng = np.random.default_rng(0)
    samples = rng.lognormal(np.log(2000), 0.8, 5000)
    counts = histogram(samples, UE_THP_DL_BIN_EDGES_KBPS)
    exact = np.percentile(samples, 5)
    read = percentile(counts, UE_THP_DL_BIN_EDGES_KBPS, 5)
    assert read == pytest.approx(exact, rel=0.15)
    assert np.isnan(percentile(np.zeros(n_bins(UE_THP_DL_DIST)), UE_THP_DL_BIN_EDGES_KBPS, 5))


def test_percentile_in_the_open_bin_is_its_floor() -> None:
    counts = np.zeros(n_bins(UE_THP_DL_DIST))
    counts[-1] = 10
    assert percentile(counts, UE_THP_DL_BIN_EDGES_KBPS, 5) == UE_THP_DL_BIN_EDGES_KBPS[-1]


def test_fraction_above_a_budget() -> None:
    edges = DELAY_DL_BIN_EDGES_MS
    counts = histogram(np.array([0.5, 3.0, 12.0, 30.0, np.inf]), edges)
    assert fraction_above(counts, edges, 10.0) == pytest.approx(3 / 5)  # 10 ms is an edge: exact
    assert fraction_above(counts, edges, 1000.0) == pytest.approx(1 / 5)  # only the open bin's sample
    # inside a bin the samples count as spread evenly: half of the 10..20 ms bin is above 15 ms
    assert fraction_above(counts, edges, 15.0) == pytest.approx((0.5 + 2) / 5)
    assert np.isnan(fraction_above(np.zeros(len(edges)), edges, 10.0))
