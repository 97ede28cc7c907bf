"""Scenario files: the shipped ones load with the promised sizes; malformed ones name the field."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
