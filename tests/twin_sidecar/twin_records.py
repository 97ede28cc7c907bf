"""Records the control xApp would write, for the twin's tests: RAN-view rounds and transitions over
the shipped descriptor's RAN, from a simple known dynamic (each cell's load drifts toward a target)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import redis

from ricproto import ran_view, transition
from ricproto.ran_config import RanConfig
from ricproto.ran_space import CellKpm
from ricproto.ran_view import ControlRecord, OutcomeUpdate, RanRound, encode_ran_round
from ricproto.transition import ControlOutcome, Transition, encode_transition, floats

DESCRIPTOR = Path(__file__).resolve().parents[2] / "xapps" / "control" / "config-file.json"
T0_NS = 1_800_000_000_000_000_000


def descriptor() -> dict:
    return json.loads(DESCRIPTOR.read_text())


def ran_config() -> RanConfig:
    return RanConfig.from_config(descriptor()["controls"]["ran"])


CELL_COLUMNS = ("prb_tot_dl_pct", "ue_thp_dl_kbps", "conn_mean", "prb_avail_dl")
SLICE_COLUMNS = ("slice_prb_used_dl", "slice_ue_thp_dl_kbps")


@dataclass
class RanScript:
    """Deterministic rounds: load of cell i at round k is 0.2 + 0.6 * ((i + k) % 10) / 10."""

    cfg: RanConfig
    instance: str = "control-t"
    period_ns: int = 100_000_000
    ue_per_cell: int = 3
    moves: dict[int, int] = field(default_factory=dict)  # round -> UE that moves to the next cell

    def load(self, i: int, k: int) -> float:
        return 0.2 + 0.6 * ((i + k) % 10) / 10

    def kpm(self, i: int, k: int) -> CellKpm:
        space = self.cfg.space
        load = self.load(i, k)
        return CellKpm(
            load * 100,
            1000.0 * (1 + i),
            10.0 + i,
            100.0,
            {s: load * 50 for s in space.slices},
            {s: 500.0 for s in space.slices},
        )

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
        controls = (
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
            ),
        )
        outcomes = (OutcomeUpdate((k - 1) * 1024, ControlOutcome.ACKNOWLEDGED, t),) if k else ()
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
                [[[self.kpm(i, k).slice_prb_used_dl[s], 500.0] for s in cfg.space.slices] for i in cells],
                dtype=np.float32,
            ).reshape(len(cells), len(cfg.space.slices), 2),
            ue_id=np.array(ue_ids, dtype=np.uint64),
            ue_cell_index=np.array(ue_cells, dtype=np.uint32),
            ue_rsrp_dbm=np.full(len(ue_ids), -90.0, dtype=np.float32),
            controls=controls,
            outcomes=outcomes,
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
