"""Hex layout, NR-CGI/gNB inventory and PRB counts from numerology."""

from __future__ import annotations

import numpy as np
import pytest

from e2sim.ran.topology import NrCgi, TopologyConfig, build_topology, hex_site_positions, prb_count


@pytest.mark.parametrize(("sites", "sectors", "cells"), [(7, 1, 7), (7, 3, 21), (19, 3, 57)])
def test_cell_and_node_counts(sites: int, sectors: int, cells: int) -> None:
    topo = build_topology(TopologyConfig(n_sites=sites, sectors=sectors))
    assert topo.n_cells == cells and len(topo.nodes) == sites
    assert sum(len(n.cell_indices) for n in topo.nodes) == cells
    ids = {c.nr_cgi.nr_cell_id for c in topo.cells}
    assert len(ids) == cells
    for node in topo.nodes:
        for i in node.cell_indices:
            cell = topo.cells[i]
            assert cell.index == i and cell.gnb_id == node.gnb_id
            assert cell.nr_cgi.nr_cell_id >> (36 - node.gnb_id_bits) == node.gnb_id
            assert topo.cell_by_nr_cell_id(cell.nr_cgi.nr_cell_id) is cell


def test_hex_sites_are_one_isd_apart() -> None:
    pos = hex_site_positions(7, 500.0)
    d = np.hypot(*(pos[1:] - pos[0]).T)
    assert np.allclose(d, 500.0)
    assert len({tuple(np.round(p, 6)) for p in hex_site_positions(19, 500.0)}) == 19


def test_prbs_from_numerology_and_identity_checks() -> None:
    assert prb_count(40, 30) == 106 and prb_count(100, 30) == 273 and prb_count(10, 15) == 52
    with pytest.raises(ValueError):
        prb_count(7, 30)
    with pytest.raises(ValueError):
        NrCgi("00101", 1 << 36)
    with pytest.raises(ValueError):
        NrCgi("0010", 1)
    with pytest.raises(ValueError):
        build_topology(TopologyConfig(n_sites=3, sectors=2))


def test_ran_name_and_neighbours() -> None:
    topo = build_topology(TopologyConfig(n_sites=7, sectors=3, first_gnb_id=0x19B))
    assert topo.nodes[0].ran_name == "gnb_001_001_00019b"
    nb = topo.neighbours(3)
    assert nb.shape == (21, 3)
    assert set(nb[0][:2]) == {1, 2}  # co-sited sectors first
    assert all(i not in row for i, row in enumerate(nb))


def test_small_cells_have_their_own_gnb_and_sit_inside_their_anchor_sector() -> None:
    from e2sim.ran.topology import SmallCellConfig

    cfg = TopologyConfig(
        n_sites=7,
        sectors=3,
        small_cells=(SmallCellConfig(0, 200.0), SmallCellConfig(4, 150.0, bearing_deg=90.0)),
    )
    topo = build_topology(cfg)
    assert topo.n_cells == cfg.n_cells == 23 and len(topo.nodes) == 9
    small = topo.cells[21:]
    assert all(c.small and c.path_loss == "UMi" and c.azimuth_deg is None for c in small)
    assert [n.cell_indices for n in topo.nodes[7:]] == [(21,), (22,)]
    assert len({c.nr_cgi.nr_cell_id for c in topo.cells}) == 23
    anchor = topo.cells[0]  # azimuth 0: north of its site
    assert (small[0].x_m, small[0].y_m) == pytest.approx((anchor.x_m, anchor.y_m + 200.0))
    assert (small[1].x_m, small[1].y_m) == pytest.approx((topo.cells[4].x_m + 150.0, topo.cells[4].y_m))
    assert small[0].tx_power_dbm == 30.0 and small[0].n_prb == topo.cells[0].n_prb
    with pytest.raises(ValueError):
        TopologyConfig(n_sites=1, small_cells=(SmallCellConfig(3, 10.0),))  # anchor is not a macro cell


def test_coverage_relations_put_a_small_cell_next_to_the_macro_around_it() -> None:
    from e2sim.ran.model import RanModel
    from e2sim.scenario import load_scenario

    m = RanModel(load_scenario("hetnet_medium"))
    order = m.coverage_neighbours()
    assert order.shape == (27, 26)
    for small in range(21, 27):
        anchor = m.scenario.topology.small_cells[small - 21].anchor_cell
        assert order[small, 0] == anchor
        assert small not in order[small]
    layout = m.cell_layout(3)
    assert all(len(n) == 3 for n in layout.neighbours)
    # distance ranking (the default) keeps co-sited sectors first, as before
    assert set(RanModel(load_scenario("medium")).cell_layout(3).neighbours[0][:2]) == {1, 2}


def test_cells_sharing_no_coverage_follow_in_distance_order() -> None:
    from e2sim.ran.model import RanModel
    from e2sim.scenario import load_scenario

    m = RanModel(load_scenario("large"))
    order = m.coverage_neighbours()
    pos = m.topology.positions()
    for c in range(m.n_cells):
        dist = np.hypot(*(pos[order[c]] - pos[c]).T)
        # the far third of every row (57 cells) shares no coverage with c: there only distance ranks
        tail = dist[-m.n_cells // 3 :]
        assert np.all(np.diff(tail) >= 0), (c, tail)
