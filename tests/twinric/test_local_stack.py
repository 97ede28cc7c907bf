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


def test_without_the_pdp_the_pep_is_off_and_there_is_no_twin(tmp_path: Path) -> None:
    descriptor = json.loads(control_xapp_config("small", tmp_path).read_text())
    controls = descriptor["controls"]
    assert controls["pep"]["enabled"] is False and controls["twin_url"] is None
    assert controls["identity"]["key_file"] is None
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
    control = next(
        s for s in build_services(ports, "redis://127.0.0.1:1/0", options, tmp_path) if s.name == "control"
    )
    descriptor = json.loads(Path(control.env["CONFIG_FILE"]).read_text())
    assert descriptor["controls"]["pep"]["enabled"] is True
    # appmgr pushes route tables to the descriptor's rmrroute port: it must be where the xApp listens
    assert _route_port(descriptor) == ports["control-rtg"] == int(control.env["RMR_RTG_SVC"])


def test_up_runs_the_pdp_with_identities_and_e2term_enforcing_grants(tmp_path: Path) -> None:
    from ricproto import identity

    ports = allocate_ports(PLATFORM_ROLES + XAPP_ROLES)
    options = StackOptions(allow_ungranted=("127.0.0.1:46*",))
    services = {s.name: s for s in build_services(ports, "redis://127.0.0.1:1/0", options, tmp_path)}
    names = list(services)  # the PDP answers (and the twin listens) before the first control
    assert names[-1] == "control" and names.index("pdp") < names.index("twin") < names.index("control")
    control = json.loads(Path(services["control"].env["CONFIG_FILE"]).read_text())["controls"]
    pdp = json.loads(Path(services["pdp"].env["CONFIG_FILE"]).read_text())
    assert control["pep"]["enabled"] is True
    xapp_key = identity.load_private_key(control["identity"]["key_file"])
    ring = identity.KeyRing(pdp["controls"]["identity"]["xapp_keys_dir"])
    assert ring.names() == ["twinric-control"]  # public keys only, the PDP holds no private key of ours
    assert ring.raw("twinric-control") == identity.raw_public_key(xapp_key)
    pdp_key = identity.load_private_key(pdp["controls"]["identity"]["key_file"])
    pdp_public = identity.load_public_key(control["pep"]["pdp_public_key"])
    assert identity.raw_public_key(pdp_public) == identity.raw_public_key(pdp_key)
    argv = services["e2term"].argv
    assert argv[argv.index("--control-grants") + 1] == "enforce"
    assert argv[argv.index("--pdp-public-key") + 1] == control["pep"]["pdp_public_key"]
    assert argv[argv.index("--allow-ungranted") + 1] == "127.0.0.1:46*"
    assert _route_port(pdp) == ports["pdp-rtg"] == int(services["pdp"].env["RMR_RTG_SVC"])
    again = {s.name: s for s in build_services(ports, "redis://127.0.0.1:1/0", options, tmp_path)}
    control_again = json.loads(Path(again["control"].env["CONFIG_FILE"]).read_text())["controls"]
    assert identity.raw_public_key(
        identity.load_private_key(control_again["identity"]["key_file"])
    ) == identity.raw_public_key(xapp_key)  # the identities of a run directory are kept


def test_a_congested_scenario_gives_the_xapp_its_cells_relations_and_delay_budget(tmp_path: Path) -> None:
    from xapps.control.ran_view import RanInventory

    controls = json.loads(control_xapp_config("hetnet_medium", tmp_path).read_text())["controls"]
    ran = controls["ran"]
    assert ran["max_cells"] == len(ran["cells"]) == 27 and ran["delay_budget_ms"] == 10.0
    inventory = RanInventory.from_config(ran)
    assert inventory.space.delay_budget_ms == 10.0 and len(inventory.nodes) == 13
    small = next(c for c in ran["cells"] if c["meid"] == inventory.cells[21].meid)
    assert small["neighbours"][0] == ran["cells"][0]["nr_cell_id"]  # the macro sector around it


def test_one_twin_sidecar_per_control_xapp_on_its_descriptor(tmp_path: Path) -> None:
    from twinric.local_stack import urls

    ports = allocate_ports(PLATFORM_ROLES + XAPP_ROLES, free=True)
    services = {s.name: s for s in build_services(ports, "redis://127.0.0.1:1/0", StackOptions(), tmp_path)}
    twin, control = services["twin"], services["control"]
    names = list(services)
    assert names.index("twin") < names.index("control")  # up before the xApp asks it
    assert twin.argv[1:] == ["-m", "twin_sidecar"] and twin.ready_port == ports["twin-http"]
    assert twin.env["CONFIG_FILE"] == control.env["CONFIG_FILE"]  # the same descriptor (controls.ran)
    assert twin.env["TWINRIC_TWIN_HOST"] == "127.0.0.1"
    assert Path(twin.env["TWINRIC_TWIN_STATE_DIR"]) == tmp_path / "twin"
    controls = json.loads(Path(control.env["CONFIG_FILE"]).read_text())["controls"]
    assert controls["twin_url"] == f"http://127.0.0.1:{ports['twin-http']}" == urls(ports)["twin"]
    # a bench's own twin still wins over the box's
    options = StackOptions(control_overrides={"twin_url": "http://127.0.0.1:9"})
    control = next(
        s
        for s in build_services(ports, "redis://127.0.0.1:1/0", options, tmp_path / "b")
        if s.name == "control"
    )
    descriptor = json.loads(Path(control.env["CONFIG_FILE"]).read_text())
    assert descriptor["controls"]["twin_url"] == "http://127.0.0.1:9"
