"""Scenario files: the shipped ones load with the promised sizes; malformed ones name the field."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import yaml

from e2sim.scenario import ScenarioError, load_scenario, parse_scenario

_spec = importlib.util.spec_from_file_location("scenario_docs", Path(__file__).with_name("scenario_docs.py"))
docs = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(docs)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "cells", "ues"), [("small", 7, 70), ("medium", 21, 600), ("large", 57, 5000)]
)
def test_shipped_scenarios(name: str, cells: int, ues: int) -> None:
    sc = load_scenario(name)
    assert sc.name == name
    assert sc.topology.n_sites * sc.topology.sectors == cells
    assert sc.n_ues == ues
    kinds = {e.kind for e in sc.events}
    assert kinds == {"traffic_surge", "hotspot", "cell_outage"}
    assert [s.name for s in sc.slices] == ["embb", "urllc", "mmtc"]
    assert load_scenario(name, seed=99).seed == 99


def test_scenario_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(docs.doc(name="mine")))
    assert load_scenario(path).name == "mine"
    with pytest.raises(ScenarioError, match="not a shipped scenario"):
        load_scenario(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("topology: [unclosed")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(bad)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seed": -1}, "seed"),
        ({"topology": {"sites": 2, "sectors": 2}}, "topology"),
        ({"topology": {"sites": 2, "bandwidth_mhz": 7}}, "topology"),
        ({"channel": {"model": "RMa"}}, "channel.model"),
        ({"channel": {"colour": "blue"}}, "channel"),
        ({"ues": {"count": 0}}, "ues.count"),
        ({"slices": []}, "slices"),
        ({"events": [{"kind": "earthquake", "at_s": 1}]}, "events[0].kind"),
        ({"events": [{"kind": "cell_outage", "at_s": 1, "cell": 9}]}, "events[0].cells"),
        ({"events": [{"kind": "traffic_surge", "at_s": 1, "slice": "nope"}]}, "events[0].slice"),
        ({"handover": {"time_to_trigger_s": -1}}, "handover"),
    ],
)
def test_malformed_scenarios_name_the_field(change: dict, field: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(docs.doc(**change))
    assert info.value.field == field


def test_bad_slice_fields() -> None:
    d = docs.doc()
    d["slices"][0]["quota"] = {"min": 70, "max": 50}
    with pytest.raises(ScenarioError, match="dedicated <= min <= max"):
        parse_scenario(d)
    d = docs.doc()
    d["slices"][1]["quota"] = {"min": 70, "max": 80}
    with pytest.raises(ScenarioError, match="sum to <= 100"):
        parse_scenario(d)
    d = docs.doc()
    d["slices"][0]["traffic"] = {"kind": "cbr", "rate_bps": "4.0e6"}
    with pytest.raises(ScenarioError) as info:
        parse_scenario(d)
    assert info.value.field == "slices[0].traffic"
    d = docs.doc()
    d["slices"][1]["sst"] = 1
    d["slices"][1]["sd"] = 1
    with pytest.raises(ScenarioError, match="unique"):
        parse_scenario(d)


@pytest.mark.parametrize(("name", "cells", "small_cells"), [("crowd_small", 7, 0), ("hetnet_medium", 27, 6)])
def test_congested_scenarios_load_and_say_what_makes_them_hard(
    name: str, cells: int, small_cells: int
) -> None:
    sc = load_scenario(name)
    assert sc.name == name and sc.n_cells == cells and len(sc.topology.small_cells) == small_cells
    assert sc.clusters, "persistent crowds from the start"
    assert {e.kind for e in sc.events} == {"traffic_surge", "hotspot", "cell_outage"}
    assert max(e.at_s + (e.duration_s or 0) for e in sc.events) <= 20, "events fall inside short episodes"
    assert any(e.move_towards_cell is not None for e in sc.events), "a moving crowd"
    urllc = [s for s in sc.slices if s.snssai.sst == 2]
    assert urllc and all(s.delay_budget_ms for s in urllc)
    text = Path(__file__).parents[2].joinpath("e2sim", "scenarios", f"{name}.yaml").read_text()
    assert "hard" in text.split("name:")[0].lower()  # the header comment says what makes it hard


def test_congested_scenarios_are_deterministic_for_a_seed() -> None:
    from e2sim.ran.model import RanModel

    def run(seed: int) -> tuple[np.ndarray, np.ndarray]:
        m = RanModel(load_scenario("crowd_small"), seed=seed)
        period = m.start_period()
        m.run(4.0)  # past the moving crowd's start
        cell, _ = m.cell_table(period)
        return cell["DRB.RlcSduTransmittedVolumeDL"], m.mobility.xy.copy()

    a, b, c = run(5), run(5), run(6)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_bad_congestion_fields_name_the_field() -> None:
    d = docs.doc(ues={"count": 10, "clusters": [{"cell": 5, "fraction": 0.5}]})
    with pytest.raises(ScenarioError) as info:
        parse_scenario(d)
    assert info.value.field == "ues.clusters[0].cell"
    d = docs.doc(ues={"count": 10, "clusters": [{"cell": 0, "fraction": 1.5}]})
    with pytest.raises(ScenarioError) as info:
        parse_scenario(d)
    assert info.value.field == "ues.clusters[0].fraction"
    d = docs.doc(
        topology={"sites": 2, "small_cells": [{"anchor_cell": 0, "distance_m": 50, "range_expansion_db": 7}]}
    )
    with pytest.raises(ScenarioError) as info:
        parse_scenario(d)
    assert info.value.field == "topology.small_cells[0].range_expansion_db"
    d = docs.doc(topology={"sites": 2, "small_cells": [{"anchor_cell": 9, "distance_m": 50}]})
    with pytest.raises(ScenarioError) as info:
        parse_scenario(d)
    assert info.value.field == "topology"
    d = docs.doc(events=[{"kind": "hotspot", "at_s": 1, "cell": 0, "fraction": 0.2, "move_towards_cell": 4}])
    with pytest.raises(ScenarioError) as info:
        parse_scenario(d)
    assert info.value.field == "events[0].move_towards_cell"
    d = docs.doc()
    d["slices"][1]["delay_budget_ms"] = -3
    with pytest.raises(ScenarioError) as info:
        parse_scenario(d)
    assert info.value.field == "slices[1].delay_budget_ms"
