"""The built-in load balancer moves load from the most loaded cell to its least loaded neighbour."""

from __future__ import annotations

import numpy as np

from ricproto.ran_space import CellLayout, OffsetStep, RanSpace, Snssai, SteerUes
from xapps.control.heuristic import HeuristicBalancer

SPACE = RanSpace(max_cells=3, n_neighbours=2, slices=(Snssai(1),))
LAYOUT = CellLayout((1, 2, 3), ((1, 2), (0, 2), (0, 1)))


def obs(loads):
    rows = np.zeros((3, SPACE.n_features), dtype=np.float32)
    rows[:, 0] = 1
    rows[:, 1] = loads
    return rows.reshape(-1)


def test_shifts_the_boundary_to_least_loaded_neighbour_then_steers():
    values = HeuristicBalancer(SPACE, LAYOUT).action_values(obs([0.3, 0.9, 0.5]))
    # cell 1 -> its neighbour 0 (load 0.3): an offset step first (it holds), steering second
    assert int(np.argmax(values)) == SPACE.encode(OffsetStep(1, 0, +1))
    ranked = np.argsort(-values)
    assert ranked[1] == SPACE.encode(SteerUes(1, 0)) and ranked[2] == 0


def test_balanced_network_keeps_noop():
    values = HeuristicBalancer(SPACE, LAYOUT).action_values(obs([0.5, 0.55, 0.5]))
    assert int(np.argmax(values)) == 0
