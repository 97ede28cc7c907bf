"""Network layout: hex sites with 1 or 3 sectors, each sector a cell owned by one E2 node (gNB),
plus optional small cells (omni, low power, one gNB each) placed inside macro cells.

A cell is identified on E2 by its NR-CGI: PLMN (BCD MCC/MNC, default "00101") + 36-bit NR cell
identity, whose leading ``gnb_id_bits`` bits are the gNB id and the remaining bits the local cell id
(TS 38.413 NR Cell Identity). Positions are metres on a plane; azimuth is degrees clockwise from +y
(north), the usual RF-planning convention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

NR_CELL_ID_BITS = 36
SUBCARRIERS_PER_PRB = 12

# Max PRBs (TS 38.101-1 Table 5.3.2-1, FR1) for (bandwidth MHz, SCS kHz); numerology mu = log2(SCS/15).
PRB_TABLE: dict[tuple[int, int], int] = {
    (5, 15): 25,
    (10, 15): 52,
    (15, 15): 79,
    (20, 15): 106,
    (25, 15): 133,
    (30, 15): 160,
    (40, 15): 216,
    (50, 15): 270,
    (10, 30): 24,
    (15, 30): 38,
    (20, 30): 51,
    (25, 30): 65,
    (30, 30): 78,
    (40, 30): 106,
    (50, 30): 133,
    (60, 30): 162,
    (80, 30): 217,
    (100, 30): 273,
}


def prb_count(bandwidth_mhz: int, scs_khz: int) -> int:
    """Transmission bandwidth in PRBs for a carrier, or ValueError for a combination 38.101-1 lacks."""
    try:
        return PRB_TABLE[(bandwidth_mhz, scs_khz)]
    except KeyError:
        raise ValueError(f"no FR1 PRB count for {bandwidth_mhz} MHz at {scs_khz} kHz SCS") from None


def numerology(scs_khz: int) -> int:
    mu = {15: 0, 30: 1, 60: 2, 120: 3}.get(scs_khz)
    if mu is None:
        raise ValueError(f"subcarrier spacing {scs_khz} kHz is not an NR numerology")
    return mu


@dataclass(frozen=True)
class NrCgi:
    """NR Cell Global Identity: PLMN as 5 or 6 digits (MCC+MNC) and the 36-bit NR cell identity."""

    plmn: str
    nr_cell_id: int

    def __post_init__(self) -> None:
        if not (self.plmn.isdigit() and len(self.plmn) in (5, 6)):
            raise ValueError(f"PLMN must be 5 or 6 digits, got {self.plmn!r}")
        if not 0 <= self.nr_cell_id < (1 << NR_CELL_ID_BITS):
            raise ValueError(f"NR cell identity {self.nr_cell_id} does not fit 36 bits")

    def __str__(self) -> str:
        return f"{self.plmn}-{self.nr_cell_id:09x}"


@dataclass(frozen=True)
class CellSpec:
    """One cell (sector) as configured."""

    index: int  # position in every per-cell array of the model
    nr_cgi: NrCgi
    gnb_id: int
    pci: int
    x_m: float
    y_m: float
    azimuth_deg: float | None  # None = omnidirectional
    height_m: float
    tx_power_dbm: float
    carrier_ghz: float
    bandwidth_mhz: int
    scs_khz: int
    n_prb: int
    path_loss: Literal["UMa", "UMi"] | None = None  # None: the scenario's channel model
    small: bool = False  # a small cell (not one of the hex grid's macro cells)


@dataclass(frozen=True)
class E2NodeSpec:
    """One E2 node (a gNB) and the cells it serves."""

    gnb_id: int
    gnb_id_bits: int
    plmn: str
    cell_indices: tuple[int, ...]

    @property
    def ran_name(self) -> str:
        """The inventory name OSC e2mgr derives from the GlobalE2node-ID (gnb_MCC_MNC_<id hex>)."""
        mcc, mnc = self.plmn[:3], self.plmn[3:]
        octets = (self.gnb_id_bits + 7) // 8
        return f"gnb_{mcc}_{mnc.zfill(3)}_{self.gnb_id:0{2 * octets}x}"


@dataclass(frozen=True)
class SmallCellConfig:
    """A small cell inside macro cell ``anchor_cell``: ``distance_m`` from its site along
    ``bearing_deg`` (default: the anchor sector's azimuth), co-channel with the macros, street-level
    (38.901 UMi path loss), in its own gNB."""

    anchor_cell: int
    distance_m: float
    bearing_deg: float | None = None
    tx_power_dbm: float = 30.0
    height_m: float = 10.0
    bandwidth_mhz: int | None = None  # None: the macros' bandwidth
    # configured cell range expansion: every macro cell's offset toward this cell (and this cell's
    # offset toward every macro, negated) at start, a Q-OffsetRange value in dB
    range_expansion_db: int = 0

    def __post_init__(self) -> None:
        if self.anchor_cell < 0:
            raise ValueError("anchor_cell must be a macro cell index")
        if self.distance_m < 0 or self.height_m <= 0:
            raise ValueError("distance_m must not be negative and height_m must be positive")


@dataclass(frozen=True)
class TopologyConfig:
    n_sites: int
    sectors: int = 3  # 1 (omni) or 3
    inter_site_distance_m: float = 500.0
    height_m: float = 25.0
    tx_power_dbm: float = 46.0
    carrier_ghz: float = 3.5
    bandwidth_mhz: int = 40
    scs_khz: int = 30
    plmn: str = "00101"
    gnb_id_bits: int = 22
    first_gnb_id: int = 1
    small_cells: tuple[SmallCellConfig, ...] = field(default_factory=tuple)
    # How each cell's neighbour list is ranked: by site distance, or by how much coverage the two
    # cells share (what ANR learns from UE measurement reports; needed when cell sizes differ).
    neighbour_relations: Literal["distance", "coverage"] = "distance"

    @property
    def n_cells(self) -> int:
        return self.n_sites * self.sectors + len(self.small_cells)

    def __post_init__(self) -> None:
        if self.neighbour_relations not in ("distance", "coverage"):
            raise ValueError(
                f"neighbour_relations must be distance or coverage, got {self.neighbour_relations!r}"
            )
        for small in self.small_cells:
            if not isinstance(small, SmallCellConfig):
                raise ValueError("small_cells must be small cell configurations")
            if small.anchor_cell >= self.n_sites * self.sectors:
                raise ValueError(f"small cell anchor {small.anchor_cell} is not a macro cell")
            prb_count(small.bandwidth_mhz or self.bandwidth_mhz, self.scs_khz)
        if self.sectors not in (1, 3):
            raise ValueError(f"sectors must be 1 or 3, got {self.sectors}")
        if self.n_sites < 1:
            raise ValueError("a topology needs at least one site")
        if not 22 <= self.gnb_id_bits <= 32:
            raise ValueError(f"gNB id length must be 22..32 bits, got {self.gnb_id_bits}")
        n_nodes = self.n_sites + len(self.small_cells)
        if self.first_gnb_id < 0 or self.first_gnb_id + n_nodes > (1 << self.gnb_id_bits):
            raise ValueError(f"gNB ids from {self.first_gnb_id} do not fit {self.gnb_id_bits} bits")
        prb_count(self.bandwidth_mhz, self.scs_khz)
        NrCgi(self.plmn, 0)


@dataclass(frozen=True)
class Topology:
    cells: tuple[CellSpec, ...]
    nodes: tuple[E2NodeSpec, ...]
    area: tuple[float, float, float, float]  # x_min, y_min, x_max, y_max where UEs roam

    @property
    def n_cells(self) -> int:
        return len(self.cells)

    def positions(self) -> np.ndarray:
        return np.array([[c.x_m, c.y_m] for c in self.cells], dtype=np.float64)

    def cell_by_nr_cell_id(self, nr_cell_id: int) -> CellSpec | None:
        for cell in self.cells:
            if cell.nr_cgi.nr_cell_id == nr_cell_id:
                return cell
        return None

    def neighbours(self, k: int) -> np.ndarray:
        """(n_cells, k) indices of each cell's k nearest other cells by site distance then index.

        Co-sited sectors are nearest (distance 0); ties break by cell index so the order is stable.
        """
        pos = self.positions()
        d = np.hypot(pos[:, None, 0] - pos[None, :, 0], pos[:, None, 1] - pos[None, :, 1])
        np.fill_diagonal(d, np.inf)
        k = min(k, self.n_cells - 1)
        return np.argsort(d, axis=1, kind="stable")[:, :k]


def hex_site_positions(n_sites: int, isd_m: float) -> np.ndarray:
    """Site centres on a hexagonal grid, filled ring by ring around the origin (1, 7, 19, 37 ...)."""
    axial: list[tuple[int, int]] = [(0, 0)]
    ring = 1
    directions = [(1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1)]
    while len(axial) < n_sites:
        q, r = -ring, ring  # start corner of the ring
        for dq, dr in directions:
            for _ in range(ring):
                axial.append((q, r))
                q, r = q + dq, r + dr
        ring += 1
    axial = axial[:n_sites]
    qa = np.array([a[0] for a in axial], dtype=np.float64)
    ra = np.array([a[1] for a in axial], dtype=np.float64)
    x = isd_m * (qa + ra / 2.0)
    y = isd_m * (np.sqrt(3.0) / 2.0) * ra
    return np.stack([x, y], axis=1)


def build_topology(cfg: TopologyConfig) -> Topology:
    n_prb = prb_count(cfg.bandwidth_mhz, cfg.scs_khz)
    numerology(cfg.scs_khz)
    local_bits = NR_CELL_ID_BITS - cfg.gnb_id_bits
    sites = hex_site_positions(cfg.n_sites, cfg.inter_site_distance_m)  # small cells lie inside them
    cells: list[CellSpec] = []
    nodes: list[E2NodeSpec] = []
    for s, (x, y) in enumerate(sites):
        gnb_id = cfg.first_gnb_id + s
        if gnb_id >= (1 << cfg.gnb_id_bits):
            raise ValueError(f"gNB id {gnb_id} does not fit {cfg.gnb_id_bits} bits")
        indices = []
        for sector in range(cfg.sectors):
            index = len(cells)
            nr_cell_id = (gnb_id << local_bits) | (sector + 1)
            cells.append(
                CellSpec(
                    index=index,
                    nr_cgi=NrCgi(cfg.plmn, nr_cell_id),
                    gnb_id=gnb_id,
                    pci=(3 * s + sector) % 1008,
                    x_m=float(x),
                    y_m=float(y),
                    azimuth_deg=None if cfg.sectors == 1 else 120.0 * sector,
                    height_m=cfg.height_m,
                    tx_power_dbm=cfg.tx_power_dbm,
                    carrier_ghz=cfg.carrier_ghz,
                    bandwidth_mhz=cfg.bandwidth_mhz,
                    scs_khz=cfg.scs_khz,
                    n_prb=n_prb,
                )
            )
            indices.append(index)
        nodes.append(E2NodeSpec(gnb_id, cfg.gnb_id_bits, cfg.plmn, tuple(indices)))
    for k, small in enumerate(cfg.small_cells):
        anchor = cells[small.anchor_cell]
        bearing = small.bearing_deg if small.bearing_deg is not None else (anchor.azimuth_deg or 0.0)
        x = anchor.x_m + small.distance_m * np.sin(np.radians(bearing))
        y = anchor.y_m + small.distance_m * np.cos(np.radians(bearing))
        gnb_id = cfg.first_gnb_id + cfg.n_sites + k
        index = len(cells)
        bandwidth = small.bandwidth_mhz or cfg.bandwidth_mhz
        cells.append(
            CellSpec(
                index=index,
                nr_cgi=NrCgi(cfg.plmn, (gnb_id << local_bits) | 1),
                gnb_id=gnb_id,
                pci=(3 * cfg.n_sites + k) % 1008,
                x_m=float(x),
                y_m=float(y),
                azimuth_deg=None,
                height_m=small.height_m,
                tx_power_dbm=small.tx_power_dbm,
                carrier_ghz=cfg.carrier_ghz,
                bandwidth_mhz=bandwidth,
                scs_khz=cfg.scs_khz,
                n_prb=prb_count(bandwidth, cfg.scs_khz),
                path_loss="UMi",
                small=True,
            )
        )
        nodes.append(E2NodeSpec(gnb_id, cfg.gnb_id_bits, cfg.plmn, (index,)))
    margin = cfg.inter_site_distance_m / 2.0
    area = (
        float(sites[:, 0].min() - margin),
        float(sites[:, 1].min() - margin),
        float(sites[:, 0].max() + margin),
        float(sites[:, 1].max() + margin),
    )
    return Topology(tuple(cells), tuple(nodes), area)
