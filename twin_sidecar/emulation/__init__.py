"""The emulation model: the mirror of nodes, cells, slices, UEs and controls, with time travel."""

from twin_sidecar.emulation.history import RoundHistory
from twin_sidecar.emulation.mirror import Mirror, RanChange

__all__ = ["Mirror", "RanChange", "RoundHistory"]
