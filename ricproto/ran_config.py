"""The RAN geometry of a control xApp's descriptor (``controls.ran``): space, layout, cells and nodes.

Both the control xApp and its twin sidecar (a second container of the same pod, reading the same
ConfigMap) parse it here, so they agree on the observation's row order, the action space and which
E2 node serves which cell::

    {"max_cells": 21, "n_neighbours": 3, "steer_count": 3, "quota_step": 10, "plmn": "00101",
     "report_period_ms": 100, "offset_step_db": 2, "offset_limit_db": 6, "delay_budget_ms": 10.0,
     "slices": [{"sst": 1, "sd": 1, "quota": {"min": 40, "max": 100, "dedicated": 0}}, ...],
     "cells": [{"nr_cell_id": 1, "meid": "gnb_001_001_000001", "neighbours": [2, 4, 7]}, ...]}

The order of ``cells`` is the observation's row order; ``neighbours`` name NR cell identities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ricproto.ran_space import CellLayout, RanSpace, SliceQuota, Snssai


class RanConfigError(ValueError):
    """The ``controls.ran`` section is inconsistent."""


@dataclass(frozen=True)
class RanCell:
    index: int  # row of the observation
    nr_cell_id: int
    meid: str  # the E2 node serving the cell


@dataclass(frozen=True)
class RanConfig:
    space: RanSpace
    layout: CellLayout
    cells: tuple[RanCell, ...]
    plmn: str
    report_period_ms: int
    default_quotas: tuple[SliceQuota, ...]

    @property
    def meids(self) -> tuple[str, ...]:
        """The E2 nodes, in order of their first cell."""
        return tuple(dict.fromkeys(c.meid for c in self.cells))

    @classmethod
    def from_config(cls, ran: Mapping[str, Any]) -> RanConfig:
        try:
            slices = tuple(
                Snssai(int(s["sst"]), None if s.get("sd") is None else int(s["sd"])) for s in ran["slices"]
            )
            quotas = tuple(
                SliceQuota(int(q.get("min", 0)), int(q.get("max", 100)), int(q.get("dedicated", 0)))
                for q in (s.get("quota", {}) for s in ran["slices"])
            )
            raw_cells = list(ran["cells"])
            ids = [int(c["nr_cell_id"]) for c in raw_cells]
            position_of = {nr: i for i, nr in enumerate(ids)}
            neighbours = tuple(tuple(position_of[int(n)] for n in c.get("neighbours", [])) for c in raw_cells)
            space = RanSpace(
                max_cells=int(ran.get("max_cells", len(raw_cells))),
                n_neighbours=int(ran.get("n_neighbours", 3)),
                slices=slices,
                steer_count=int(ran.get("steer_count", 3)),
                quota_step=int(ran.get("quota_step", 10)),
                offset_step_db=int(ran.get("offset_step_db", RanSpace.offset_step_db)),
                offset_limit_db=int(ran.get("offset_limit_db", RanSpace.offset_limit_db)),
                delay_budget_ms=float(ran.get("delay_budget_ms", RanSpace.delay_budget_ms)),
            )
            layout = CellLayout(tuple(ids), neighbours)
            cells = tuple(RanCell(i, ids[i], str(c["meid"])) for i, c in enumerate(raw_cells))
            plmn = str(ran.get("plmn", "00101"))
            period = int(ran.get("report_period_ms", 100))
        except (KeyError, TypeError, ValueError) as exc:
            raise RanConfigError(f"controls.ran: {exc!r}") from None
        if len(raw_cells) > space.max_cells:
            raise RanConfigError(f"{len(raw_cells)} cells but max_cells={space.max_cells}")
        if period <= 0:
            raise RanConfigError(f"report_period_ms must be positive, not {period}")
        return cls(space, layout, cells, plmn, period, quotas)
