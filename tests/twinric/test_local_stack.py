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
    control = next(s for s in build_services(ports, "redis://127.0.0.1:1/0", options, tmp_path / "b")
                   if s.name == "control")
    assert json.loads(Path(control.env["CONFIG_FILE"]).read_text())["controls"]["twin_url"] == "http://127.0.0.1:9"
