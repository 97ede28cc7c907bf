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

from ricproto.kpm_distribution import BIN_EDGES, UE_THP_DL_DIST, percentile
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
    out: dict[str, Any] = {"t": [], "load": [[] for _ in range(n)], "thp_mean_kbps": [], "thp_p5_kbps": []}
    col = {m: j for j, m in enumerate(cell_columns)}
    edges = BIN_EDGES[UE_THP_DL_DIST]
    for row in rows:
        values = row["cell_values"]
        out["t"].append(row["t_ns"] / 1e9)
        load = values[:, col["prb_tot_dl_pct"]] / 100.0 if "prb_tot_dl_pct" in col else np.zeros(n)
        for c in range(n):
            out["load"][c].append(round(float(load[c]), 5))
        if "ue_thp_dl_kbps" in col and "conn_mean" in col:
            thp, ues = values[:, col["ue_thp_dl_kbps"]], values[:, col["conn_mean"]]
            mean = float((thp * ues).sum() / ues.sum()) if ues.sum() > 0 else float(thp.mean())
        else:
            mean = 0.0
        out["thp_mean_kbps"].append(round(mean, 2))
        bins = dists.get(THP_DIST_FIELD)
        counts = row["slice_values"][:, :, bins].sum(axis=(0, 1)) if bins else np.zeros(0)
        p5 = percentile(counts, edges, LOW_PERCENTILE) if counts.sum() > 0 else 0.0
        out["thp_p5_kbps"].append(round(float(p5), 2))
    return out
