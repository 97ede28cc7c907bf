"""Records the control xApp would write, for the twin's tests: RAN-view rounds and transitions over
the shipped descriptor's RAN, from a simple known dynamic (each cell's load drifts toward a target).

Rounds are laid out as the xApp lays them out (``ricproto.ran_view.kpm_columns``: the per-slice
distributions one column per bin) and carry its kinds of control: a slice quota every round and, every
``offset_every`` rounds, an offset step (two cell_offset controls, cell 0 -> its first neighbour and
back); each is acknowledged in the next round."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import redis

from ricproto import ran_view, transition
from ricproto.kpm_distribution import DELAY_DL_BIN_EDGES_MS, UE_THP_DL_BIN_EDGES_KBPS, histogram
from ricproto.ran_config import RanConfig
from ricproto.ran_space import CellKpm
from ricproto.ran_view import ControlRecord, OutcomeUpdate, RanRound, encode_ran_round, kpm_columns
from ricproto.transition import ControlOutcome, Transition, encode_transition, floats

DESCRIPTOR = Path(__file__).resolve().parents[2] / "xapps" / "control" / "config-file.json"
T0_NS = 1_800_000_000_000_000_000


def descriptor() -> dict:
    return json.loads(DESCRIPTOR.read_text())


def ran_config() -> RanConfig:
    return RanConfig.from_config(descriptor()["controls"]["ran"])


CELL_COLUMNS = kpm_columns().cell
SLICE_COLUMNS = kpm_columns().slice


def slice_values(kpm: CellKpm, slices) -> np.ndarray:
    """[S, Ms] per-slice columns of one cell, as the xApp's RAN-view encoder fills them."""
    out = np.zeros((len(slices), len(SLICE_COLUMNS)), dtype=np.float32)
    for name, start, bins in kpm_columns().slice_fields:
        for k, s in enumerate(slices):
            v = getattr(kpm, name).get(s)
            if v is not None:
                out[k, start : start + max(bins, 1)] = v
    return out


@dataclass
class RanScript:
    """Deterministic rounds: load of cell i at round k is 0.2 + 0.6 * ((i + k) % 10) / 10."""

    cfg: RanConfig
    instance: str = "control-t"
    period_ns: int = 100_000_000
    ue_per_cell: int = 3
    moves: dict[int, int] = field(default_factory=dict)  # round -> UE that moves to the next cell
    offset_every: int = 10  # rounds k with k % offset_every == offset_every // 2 step an offset

    def load(self, i: int, k: int) -> float:
        return 0.2 + 0.6 * ((i + k) % 10) / 10

    def kpm(self, i: int, k: int) -> CellKpm:
        space = self.cfg.space
        load = self.load(i, k)
        # eMBB UEs slow down and URLLC packets wait longer as the cell loads up
        ue_kbps = np.array([4000.0 * (1.2 - load) * (u + 1) for u in range(5)])
        thp = histogram(ue_kbps, UE_THP_DL_BIN_EDGES_KBPS)
        delay = histogram(np.array([2.0 + 25.0 * load * u for u in range(4)]), DELAY_DL_BIN_EDGES_MS)
        return CellKpm(
            load * 100,
            1000.0 * (1 + i),
            10.0 + i,
            100.0,
            {s: load * 50 for s in space.slices},
            {s: 500.0 for s in space.slices},
            {s: tuple(map(float, thp)) for s in space.embb_slices},
            {s: tuple(map(float, delay)) for s in space.urllc_slices},
        )

    def offset_db(self, k: int) -> int | None:
        """The offset of relation (0, first neighbour of 0) commanded at round k (None: no offset step)."""
        if k % self.offset_every != self.offset_every // 2:
            return None
        return 2 * (k // self.offset_every % 4 + 1)

    def observation(self, k: int, cells: list[int] | None = None) -> np.ndarray:
        cells = list(range(len(self.cfg.cells))) if cells is None else cells
        kpms = [self.kpm(i, k) if i in cells else None for i in range(len(self.cfg.cells))]
        return self.cfg.space.observation(kpms)

    def round(self, k: int, cells: list[int] | None = None) -> RanRound:
        cfg = self.cfg
        cells = list(range(len(cfg.cells))) if cells is None else cells
        nodes = cfg.meids
        t = T0_NS + k * self.period_ns
        ue_ids, ue_cells = [], []
        for i in cells:
            for u in range(self.ue_per_cell):
                ue = 1000 * i + u
                moved = [r for r, who in self.moves.items() if who == ue and r <= k]
                ue_ids.append(ue)
                ue_cells.append((i + len(moved)) % len(cfg.cells))
        controls = [
            ControlRecord(
                k * 1024,
                k,
                1,
                "slice_quota",
                cfg.cells[0].meid,
                "",
                k % 65536 + 1,
                t,
                ControlOutcome.SENT,
                0,
                0,
                0,
                (),
                0,
                50,
                90,
                0,
            )
        ]
        outcomes = [OutcomeUpdate((k - 1) * 1024, ControlOutcome.ACKNOWLEDGED, t)] if k else []
        offset = self.offset_db(k)
        j = cfg.layout.neighbours[0][0]
        if offset is not None:
            for n, (cell, other, db) in enumerate(((0, j, offset), (j, 0, -offset)), start=1):
                controls.append(
                    ControlRecord(
                        k * 1024 + n,
                        k,
                        2,
                        "cell_offset",
                        cfg.cells[cell].meid,
                        sent_ns=t,
                        cell_index=cell,
                        neighbour_cell_index=other,
                        offset_db=db,
                    )
                )
        if k and self.offset_db(k - 1) is not None:
            outcomes += [OutcomeUpdate((k - 1) * 1024 + n, ControlOutcome.ACKNOWLEDGED, t) for n in (1, 2)]
        return RanRound(
            self.instance,
            k,
            k,
            cfg.cells[cells[-1]].meid if cells else "",
            t,
            observation=self.observation(k, cells),
            nodes=nodes,
            slices=cfg.space.slices,
            cell_measurements=CELL_COLUMNS,
            slice_measurements=SLICE_COLUMNS,
            cell_index=np.array(cells, dtype=np.uint32),
            nr_cell_id=np.array([cfg.cells[i].nr_cell_id for i in cells], dtype=np.uint64),
            cell_node=np.array([nodes.index(cfg.cells[i].meid) for i in cells], dtype=np.uint32),
            collection_ns=np.full(len(cells), t - 50_000_000, dtype=np.uint64),
            arrival_ns=np.full(len(cells), t - 1_000_000, dtype=np.uint64),
            cell_values=np.array(
                [[getattr(self.kpm(i, k), c) for c in CELL_COLUMNS] for i in cells], dtype=np.float32
            ).reshape(len(cells), len(CELL_COLUMNS)),
            slice_values=np.array(
                [slice_values(self.kpm(i, k), cfg.space.slices) for i in cells], dtype=np.float32
            ).reshape(len(cells), len(cfg.space.slices), len(SLICE_COLUMNS)),
            ue_id=np.array(ue_ids, dtype=np.uint64),
            ue_cell_index=np.array(ue_cells, dtype=np.uint32),
            ue_rsrp_dbm=np.full(len(ue_ids), -90.0, dtype=np.float32),
            controls=tuple(controls),
            outcomes=tuple(outcomes),
        )

    def transition(self, k: int) -> Transition:
        space = self.cfg.space
        s, s_next = self.observation(k), self.observation(k + 1)
        mu = np.full(space.n_actions, 1.0 / space.n_actions)
        return Transition(
            xapp_instance=self.instance,
            step=k,
            s=floats(s),
            action=k % space.n_actions,
            reward=space.reward(s_next),
            s_next=floats(s_next),
            mu=float(mu[0]),
            mu_all=floats(mu),
            policy_version="heuristic",
        )


def produce(client: redis.Redis, script: RanScript, rounds: range, *, maxlen: int = 100_000) -> None:
    """XADD both streams as the xApp's writers do."""
    pipe = client.pipeline(transaction=False)
    for k in rounds:
        pipe.xadd(
            ran_view.stream_key(script.instance),
            {ran_view.FIELD: encode_ran_round(script.round(k))},
            maxlen=maxlen,
            approximate=True,
        )
        pipe.xadd(
            transition.stream_key(script.instance),
            {transition.FIELD: encode_transition(script.transition(k))},
            maxlen=maxlen,
            approximate=True,
        )
    pipe.execute()
