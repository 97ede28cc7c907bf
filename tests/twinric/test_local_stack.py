"""What `twinric up` writes for the control xApp: its defaults, the overrides hook, the route port."""

from __future__ import annotations

import json
from pathlib import Path

from twinric.local_stack import (
    PLATFORM_ROLES,
    XAPP_ROLES,
    StackOptions,
    build_services,
    control_xapp_config,
)
from twinric.ports import allocate_ports


def _route_port(descriptor: dict) -> int:
    return next(p["port"] for p in descriptor["messaging"]["ports"] if "route" in p["name"])


def test_up_defaults_have_no_pdp_and_no_twin(tmp_path: Path) -> None:
    descriptor = json.loads(control_xapp_config("small", tmp_path).read_text())
    controls = descriptor["controls"]
    assert controls["pep"]["enabled"] is False and controls["twin_url"] is None
    assert len(controls["ran"]["cells"]) == 7
    assert _route_port(descriptor) == 4561  # the descriptor's own, when no local port is given


def test_overrides_are_merged_over_controls_key_by_key(tmp_path: Path) -> None:
    overrides = {"twin_url": "http://127.0.0.1:9", "pep": {"enabled": True}, "snapshot_poll_s": 0.2}
    controls = json.loads(control_xapp_config("small", tmp_path, overrides).read_text())["controls"]
    assert controls["twin_url"] == "http://127.0.0.1:9" and controls["snapshot_poll_s"] == 0.2
    assert controls["pep"]["enabled"] is True
    assert controls["pep"]["timeout_ms"] == 50  # the rest of the nested object is kept
    assert len(controls["ran"]["cells"]) == 7
    assert overrides == {"twin_url": "http://127.0.0.1:9", "pep": {"enabled": True}, "snapshot_poll_s": 0.2}


def test_build_services_passes_overrides_and_the_route_port(tmp_path: Path) -> None:
    ports = allocate_ports(PLATFORM_ROLES + XAPP_ROLES)
    options = StackOptions(scenario="small", control_overrides={"pep": {"enabled": True}})
    control = next(s for s in build_services(ports, "redis://127.0.0.1:1/0", options, tmp_path)
                   if s.name == "control")
    descriptor = json.loads(Path(control.env["CONFIG_FILE"]).read_text())
    assert descriptor["controls"]["pep"]["enabled"] is True
    # appmgr pushes route tables to the descriptor's rmrroute port: it must be where the xApp listens
    assert _route_port(descriptor) == ports["control-rtg"] == int(control.env["RMR_RTG_SVC"])
    plain = next(s for s in build_services(ports, "redis://127.0.0.1:1/0", StackOptions(), tmp_path / "up")
                 if s.name == "control")
    assert json.loads(Path(plain.env["CONFIG_FILE"]).read_text())["controls"]["pep"]["enabled"] is False


def test_a_congested_scenario_gives_the_xapp_its_cells_relations_and_delay_budget(tmp_path: Path) -> None:
    from xapps.control.ran_view import RanInventory

    controls = json.loads(control_xapp_config("hetnet_medium", tmp_path).read_text())["controls"]
    ran = controls["ran"]
    assert ran["max_cells"] == len(ran["cells"]) == 27 and ran["delay_budget_ms"] == 10.0
    inventory = RanInventory.from_config(ran)
    assert inventory.space.delay_budget_ms == 10.0 and len(inventory.nodes) == 13
    small = next(c for c in ran["cells"] if c["meid"] == inventory.cells[21].meid)
    assert small["neighbours"][0] == ran["cells"][0]["nr_cell_id"]  # the macro sector around it
