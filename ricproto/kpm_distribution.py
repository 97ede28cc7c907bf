"""Distribution measurements of TS 28.552: the bins twinric's E2 nodes count in, and reading them back.

Two per-slice distributions carry the objective a user cares about, as cell-level KPM (one value per
bin, labelled ``sliceID`` + ``distBinX``):

* ``DRB.UEThpDlDist`` (28.552 §5.1.1.3.2, distribution of DL UE throughput): how many UEs of the
  slice had a granularity-period throughput in each bin (kbit/s), so a low percentile per cell is
  read from the cell report alone;
* ``DRB.DelayDlNgranUeDist`` (28.552 §5.1.1.1.6, distribution of DL delay between NG-RAN and UE):
  how many delay samples of the slice fell in each bin (ms).

28.552 leaves the bin widths to the vendor; these edges are what twinric's nodes use and what the
xApp assumes (a real deployment reads them from the node's documentation). ``distBinX`` numbers the
bins from 1; the last bin is open-ended. Everything here is pure arithmetic on counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

UE_THP_DL_DIST = "DRB.UEThpDlDist"
DELAY_DL_DIST = "DRB.DelayDlNgranUeDist"
WB_CQI_DIST = "CARR.WBCQIDist"

# Lower edges of the bins (the last bin runs to infinity): kbit/s, roughly log-spaced.
UE_THP_DL_BIN_EDGES_KBPS: tuple[float, ...] = (
    0.0, 50.0, 100.0, 200.0, 350.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0, 3000.0, 5000.0,
    7500.0, 10000.0, 20000.0, 50000.0,
)  # fmt: skip
# ms; budgets of 5, 10, 20, 50 and 100 ms fall on edges.
DELAY_DL_BIN_EDGES_MS: tuple[float, ...] = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0)

# Wideband CQI (28.552 CARR.WBCQIDist): one bin per CQI index 0..15, distBinX = CQI + 1.
WB_CQI_BIN_EDGES: tuple[float, ...] = tuple(float(c) for c in range(16))

BIN_EDGES: dict[str, tuple[float, ...]] = {
    UE_THP_DL_DIST: UE_THP_DL_BIN_EDGES_KBPS,
    DELAY_DL_DIST: DELAY_DL_BIN_EDGES_MS,
    WB_CQI_DIST: WB_CQI_BIN_EDGES,
}


def n_bins(name: str) -> int:
    return len(BIN_EDGES[name])


def bin_index(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """0-based bin of each value (values below the first edge go to bin 0, inf to the last)."""
    return np.maximum(np.searchsorted(np.asarray(edges), values, side="right") - 1, 0)


def histogram(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Counts per bin of ``values``."""
    return np.bincount(bin_index(np.asarray(values, dtype=np.float64), edges), minlength=len(edges))


def percentile(counts: Sequence[float], edges: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of the samples a histogram counts, NaN without samples.

    Inside a bin the samples are taken as spread evenly between its edges; the open last bin is
    read at its lower edge (a floor: the value is at least that)."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    if total <= 0:
        return float("nan")
    rank = q / 100.0 * total
    cum = np.cumsum(c)
    b = int(np.searchsorted(cum, rank, side="left"))
    b = min(b, len(c) - 1)
    if b == len(edges) - 1:
        return float(edges[b])
    below = cum[b] - c[b]
    within = (rank - below) / c[b] if c[b] > 0 else 0.0
    return float(edges[b] + min(max(within, 0.0), 1.0) * (edges[b + 1] - edges[b]))


def fraction_above(counts: Sequence[float], edges: Sequence[float], threshold: float) -> float:
    """Share of the samples above ``threshold`` (linear inside the bin it falls in), NaN without samples.

    Samples of the open last bin count as above a threshold inside it: the distribution cannot tell,
    and for a delay budget a late packet is the safe assumption."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    if total <= 0:
        return float("nan")
    e = np.asarray(edges, dtype=np.float64)
    upper = np.append(e[1:], np.inf)
    above = c[e >= threshold].sum()
    inside = (e < threshold) & (upper > threshold)
    if inside.any():
        b = int(np.flatnonzero(inside)[0])
        if np.isfinite(upper[b]):
            above += c[b] * (upper[b] - threshold) / (upper[b] - e[b])
        else:
            above += c[b]
    return float(above / total)
