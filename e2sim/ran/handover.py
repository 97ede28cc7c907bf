"""Connected-mode mobility: event A3 with time-to-trigger, commanded handovers, re-establishment.

Event A3 (TS 38.331 §5.5.4.4): a neighbour becomes better than the serving cell by offset + hysteresis
and stays so for time-to-trigger; the handover then executes. The entering condition is
``Mn + Ocn - Hys > Mp + Off`` with ``Ocn`` the cell individual offset the serving cell configures for
that neighbour (``cio_db[serving, neighbour]``, 0 dB unless a mobility-load-balancing control set it;
the serving cell's own offset Ocp and the frequency offsets are 0 on one carrier). A commanded
handover (RC style 3 action 1) executes after ``execution_delay_s``. Every executed handover leaves
the UE without service for the interruption gap. A handover back to the previous cell within
``ping_pong_window_s`` is a ping-pong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HandoverConfig:
    a3_offset_db: float = 3.0
    hysteresis_db: float = 1.0
    time_to_trigger_s: float = 0.16
    execution_delay_s: float = 0.05
    interruption_s: float = 0.03
    ping_pong_window_s: float = 1.0

    def __post_init__(self) -> None:
        if self.a3_offset_db + self.hysteresis_db < 0:
            raise ValueError("a3_offset_db + hysteresis_db must not be negative")
        for name in (
            "time_to_trigger_s",
            "execution_delay_s",
            "interruption_s",
            "ping_pong_window_s",
            "hysteresis_db",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"handover {name} must not be negative")


@dataclass
class HandoverOutcome:
    """Per-cell counts of one step's handover executions (indexed by source cell)."""

    attempted: np.ndarray
    succeeded: np.ndarray
    ping_pong: np.ndarray
    reestablished: np.ndarray  # UEs moved off a cell that went down (radio link failure)

    @property
    def any(self) -> bool:
        return bool(self.attempted.any() or self.reestablished.any())


class HandoverState:
    """Serving cell of every UE plus the A3 timers, pending commands and interruption windows."""

    def __init__(self, serving: np.ndarray, n_cells: int, cfg: HandoverConfig) -> None:
        n = serving.shape[0]
        self.cfg = cfg
        self.n_cells = n_cells
        self.serving = serving.astype(np.intp)
        self.previous = np.full(n, -1, dtype=np.intp)
        self.last_ho_s = np.full(n, -np.inf)
        self.ttt_elapsed = np.zeros(n)
        self.a3_candidate = np.full(n, -1, dtype=np.intp)
        self.pending_target = np.full(n, -1, dtype=np.intp)
        self.pending_at_s = np.full(n, np.inf)
        self.interrupted_until_s = np.full(n, -np.inf)
        # Cell individual offsets per (serving, neighbour) relation in dB; float32 like the RSRP matrix.
        self.cio_db = np.zeros((n_cells, n_cells), dtype=np.float32)
        self._cio_set = False  # any nonzero offset: A3 then needs the biased search

    def set_cio(self, serving: int, neighbour: int, offset_db: float) -> None:
        """Set Ocn of the relation serving -> neighbour (validated by the caller)."""
        self.cio_db[serving, neighbour] = offset_db
        self._cio_set = bool(self.cio_db.any())

    def in_service(self, now_s: float) -> np.ndarray:
        return self.interrupted_until_s <= now_s

    def command(self, ue: int, target: int, now_s: float) -> None:
        """Schedule a commanded handover of one UE; a newer command replaces a pending one."""
        self.pending_target[ue] = target
        self.pending_at_s[ue] = now_s + self.cfg.execution_delay_s

    def step(
        self, rsrp_dbm: np.ndarray, best_cell: np.ndarray, cell_active: np.ndarray, now_s: float, dt_s: float
    ) -> HandoverOutcome:
        """Advance one step. ``best_cell`` (n_ue,) is each UE's strongest *active* cell.

        A3 compares that strongest cell with the serving one: when the strongest is the serving cell
        no neighbour can satisfy A3 (offset + hysteresis >= 0), which spares a masked search.
        """
        rows = np.arange(self.serving.shape[0])
        zeros = np.zeros(self.n_cells, dtype=np.int64)
        # A UE whose serving cell went down re-establishes on the best active cell at once.
        lost = ~cell_active[self.serving]
        reestablished = zeros
        if lost.any() and cell_active.any():
            reestablished = np.bincount(self.serving[lost], minlength=self.n_cells)
            self.serving[lost] = best_cell[lost]
            self.interrupted_until_s[lost] = now_s + self.cfg.interruption_s
            self.pending_target[lost] = -1
            self.pending_at_s[lost] = np.inf
            self.ttt_elapsed[lost] = 0.0
            self.a3_candidate[lost] = -1

        # Event A3 (not while a commanded handover is pending).
        margin = self.cfg.a3_offset_db + self.cfg.hysteresis_db
        if self._cio_set:
            # Each UE's neighbours as its serving cell sees them: RSRP + that relation's offset. The
            # serving cell's own column has offset 0, so when it wins no neighbour meets A3.
            biased = rsrp_dbm + self.cio_db[self.serving]
            if not cell_active.all():
                biased[:, ~cell_active] = -np.inf
            best = np.argmax(biased, axis=1)
            candidate = biased[rows, best]
        else:
            best = best_cell
            candidate = rsrp_dbm[rows, best]
        entering = (
            (best != self.serving)
            & (candidate > rsrp_dbm[rows, self.serving] + margin)
            & (self.pending_target < 0)
        )
        self.ttt_elapsed = np.where(
            entering, np.where(best == self.a3_candidate, self.ttt_elapsed + dt_s, dt_s), 0.0
        )
        self.a3_candidate = np.where(entering, best, -1)
        a3_fire = entering & (self.ttt_elapsed >= self.cfg.time_to_trigger_s - 1e-9)

        commanded = self.pending_at_s <= now_s + 1e-9  # pending_at_s is inf when nothing is pending
        execute = a3_fire | commanded
        if not execute.any():
            return HandoverOutcome(zeros, zeros, zeros, reestablished)
        target = np.where(commanded, self.pending_target, best)
        ok = execute & cell_active[np.maximum(target, 0)] & (target != self.serving)
        attempted = np.bincount(self.serving[execute], minlength=self.n_cells)
        succeeded = np.bincount(self.serving[ok], minlength=self.n_cells)
        pp = ok & (target == self.previous) & (now_s - self.last_ho_s <= self.cfg.ping_pong_window_s)
        ping_pong = np.bincount(self.serving[pp], minlength=self.n_cells)
        self.previous = np.where(ok, self.serving, self.previous)
        self.serving = np.where(ok, target, self.serving)
        self.last_ho_s = np.where(ok, now_s, self.last_ho_s)
        self.interrupted_until_s = np.where(ok, now_s + self.cfg.interruption_s, self.interrupted_until_s)
        self.pending_target = np.where(commanded, -1, self.pending_target)
        self.pending_at_s = np.where(commanded, np.inf, self.pending_at_s)
        self.ttt_elapsed = np.where(execute, 0.0, self.ttt_elapsed)
        self.a3_candidate = np.where(execute, -1, self.a3_candidate)
        return HandoverOutcome(attempted, succeeded, ping_pong, reestablished)
