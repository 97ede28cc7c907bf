"""The RAN as the dashboard draws it, read from the mirror's history rows (no UE lists: cheap enough to
build every second).

``ran_at`` has the shape of ``/v1/state``'s nodes and cells (KPM scalars per cell and slice, quotas,
handovers), so the page draws the live snapshot and a time-travel answer with the same code.
``series`` gives, for the rounds in a time window (thinned to at most ``max_points``), each cell's PRB
load and the UE throughput: the mean over cells weighted by connected UEs, and the 5th percentile of
the per-UE throughput distribution over every cell and slice. (The reward is the xApp's own, from its
transitions: ``stream_tails``.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ricproto.kpm_distribution import BIN_EDGES, UE_THP_DL_DIST
from ricproto.ran_view import slice_column_groups
from twin_sidecar.emulation.mirror import Mirror

THP_DIST_FIELD = "slice_ue_thp_dl_dist"  # the mirror's per-slice column group of DRB.UEThpDlDist
LOW_PERCENTILE = 5.0


def neighbour_edges(mirror: Mirror) -> list[list[int]]:
    """Each neighbour relation once, as [i, j] with i < j."""
    edges = {
        (min(i, j), max(i, j)) for i, ns in enumerate(mirror.config.layout.neighbours) for j in ns if i != j
    }
    return [list(e) for e in sorted(edges)]


def _status(row: dict[str, Any], j: int) -> str:
    if row["node_lost"][j]:
        return "lost"
    return "connected" if row["node_first_ns"][j] else "unseen"


def ran_at(mirror: Mirror, t_ns: int | None = None) -> dict[str, Any] | None:
    """Nodes and cells at the round at or before t (now when None); None before the history."""
    with mirror.lock:
        h = mirror.history
        if not len(h):
            return None
        i = len(h) - 1 if t_ns is None else h.index_at(t_ns)
        if i is None:
            return None
        row = h.row(i)
        nodes = list(mirror.nodes)
        cell_columns = mirror.cell_measurements
        scalars, _ = slice_column_groups(mirror.slice_measurements)
    cells = []
    for c, cell in enumerate(mirror.config.cells):
        last = int(row["cell_last_ns"][c])
        values = row["slice_values"][c]
        cells.append(
            {
                "index": c,
                "nr_cell_id": cell.nr_cell_id,
                "meid": cell.meid,
                "reported": bool(row["cell_reported"][c]),
                "kpm": {m: float(row["cell_values"][c, j]) for j, m in enumerate(cell_columns)}
                if last
                else {},
                "slices": [
                    {
                        "sst": s.sst,
                        "sd": s.sd,
                        "kpm": {m: float(values[k, j]) for m, j in scalars.items()},
                        "quota": dict(
                            zip(("min", "max", "dedicated"), map(int, row["quotas"][c, k]), strict=True)
                        ),
                    }
                    for k, s in enumerate(mirror.space.slices)
                ],
                "handovers_in": int(row["ho_in"][c]),
                "handovers_out": int(row["ho_out"][c]),
            }
        )
    return {
        "t_ns": row["t_ns"],
        "seq": row["seq"],
        "nodes": [
            {"meid": m, "status": _status(row, j)} for j, m in enumerate(nodes[: len(row["node_lost"])])
        ],
        "cells": cells,
    }


def series(mirror: Mirror, end_ns: int, window_s: float, max_points: int) -> dict[str, Any]:
    """Per round in (end - window, end], thinned evenly to at most ``max_points`` rounds (the newest
    always kept): ``t`` (Unix s), ``load`` [cells][points] (0..1), ``thp_mean_kbps``, ``thp_p5_kbps``."""
    with mirror.lock:
        h = mirror.history
        last = h.index_at(end_ns)
        first = h.index_at(end_ns - int(window_s * 1e9))
        if last is None:
            rows: list[dict[str, Any]] = []
        else:
            lo = 0 if first is None else first + 1
            idx = np.unique(np.linspace(lo, last, num=min(max_points, last - lo + 1)).round().astype(int))
            rows = [h.row(int(i)) for i in idx] if last >= lo else []
        cell_columns = mirror.cell_measurements
        _, dists = slice_column_groups(mirror.slice_measurements)
    n = mirror.n_cells
    if not rows:
        return {"t": [], "load": [[] for _ in range(n)], "thp_mean_kbps": [], "thp_p5_kbps": []}
    col = {m: j for j, m in enumerate(cell_columns)}
    values = np.stack([r["cell_values"] for r in rows]).astype(np.float64)  # [P, C, M]
    zeros = np.zeros(values.shape[:2])
    load = values[:, :, col["prb_tot_dl_pct"]] / 100.0 if "prb_tot_dl_pct" in col else zeros
    thp = values[:, :, col["ue_thp_dl_kbps"]] if "ue_thp_dl_kbps" in col else zeros
    ues = values[:, :, col["conn_mean"]] if "conn_mean" in col else zeros
    total = ues.sum(axis=1)
    mean = np.where(total > 0, (thp * ues).sum(axis=1) / np.maximum(total, 1e-12), thp.mean(axis=1))
    bins = dists.get(THP_DIST_FIELD)
    if bins:
        counts = np.stack([r["slice_values"][:, :, bins] for r in rows]).sum(axis=(1, 2))  # [P, B]
        p5 = percentiles(counts, BIN_EDGES[UE_THP_DL_DIST], LOW_PERCENTILE)
    else:
        p5 = np.zeros(len(rows))
    return {
        "t": [r["t_ns"] / 1e9 for r in rows],
        "load": _json_list(np.round(load.T, 5)),
        "thp_mean_kbps": _json_list(np.round(mean, 2)),
        "thp_p5_kbps": _json_list(np.round(p5, 2)),
    }


def _json_list(a: np.ndarray) -> list[Any]:
    """Nested lists for JSON, a non-finite value (a producer's NaN KPM) as None."""
    if np.isfinite(a).all():
        return a.tolist()
    return np.where(np.isfinite(a), a, None).tolist()


def percentiles(counts: np.ndarray, edges: tuple[float, ...], q: float) -> np.ndarray:
    """``kpm_distribution.percentile`` of each row of counts ([P, B]) at once; 0 for a row without
    samples (the chart draws no gap for a round nobody was measured in)."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum(axis=1)
    rank = q / 100.0 * total
    cum = np.cumsum(c, axis=1)
    b = np.minimum((cum < rank[:, None]).sum(axis=1), c.shape[1] - 1)  # searchsorted left, per row
    rows = np.arange(len(c))
    e = np.asarray(edges, dtype=np.float64)
    width = np.diff(e, append=e[-1])  # the open last bin: read at its lower edge
    here = c[rows, b]
    within = np.where(here > 0, (rank - (cum[rows, b] - here)) / np.where(here > 0, here, 1.0), 0.0)
    value = e[b] + np.clip(within, 0.0, 1.0) * width[b]
    return np.where(total > 0, value, 0.0)
