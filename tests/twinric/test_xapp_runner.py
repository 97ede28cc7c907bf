"""What `twinric xapp run` gives an xApp (pure parts): environment, ports, seed routes, registration."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from ricxappframe.xapp_frame import _BaseXapp

from ricplt.appmgr.registration import parse_register
from ricproto.service_resolver import LISTEN_ENV, MAP_ENV, ServiceMap, parse_listen_ports
from twinric.box_service_map import (
    ABSENT_OTHER,
    XappPort,
    add_xapp,
    platform_service_map,
    remove_xapp,
    write_platform_map,
)
from twinric.xapp_runner import (
    BoxInfo,
    XappLaunch,
    XappRun,
    XappRunError,
    descriptor_ports,
    kubernetes_service_env,
    registration_body,
    seed_route_table,
    xapp_name,
)

DESCRIPTOR = {
    "name": "hw-python",
    "version": "1.2.3",
    "messaging": {
        "ports": [
            {"name": "http", "container": "c", "port": 8080},
            {
                "name": "rmrdata",
                "container": "c",
                "port": 4560,
                "rxMessages": ["RIC_SUB_RESP", "A1_POLICY_REQ"],
                "txMessages": ["RIC_SUB_REQ", "A1_POLICY_RESP"],
                "policies": [20008],
            },
            {"name": "rmrroute", "container": "c", "port": 4561},
        ]
    },
}


@pytest.fixture
def box(tmp_path: Path) -> BoxInfo:
    write_platform_map(
        tmp_path, {"appmgr-http": 9001, "submgr-http": 9002, "absent-http": 9009}, "redis://127.0.0.1:6390/0"
    )
    (tmp_path / "state.json").write_text(
        json.dumps({"urls": {"appmgr": "http://127.0.0.1:9001"}, "redis_url": "redis://127.0.0.1:6390/0"})
    )
    return BoxInfo.of(tmp_path)


def test_name_and_ports_come_from_the_descriptor() -> None:
    assert xapp_name(DESCRIPTOR, None) == "hw-python"
    assert xapp_name({"xapp_name": "legacy"}, None) == "legacy"
    assert xapp_name(DESCRIPTOR, "other") == "other"
    with pytest.raises(XappRunError, match="needs a name"):
        xapp_name({}, None)
    assert descriptor_ports(DESCRIPTOR) == [("http", 8080), ("rmrdata", 4560), ("rmrroute", 4561)]
    assert descriptor_ports({}) == [("rmrdata", 4560), ("rmrroute", 4561), ("http", 8080)]  # the chart's
    with pytest.raises(XappRunError, match="integer port"):
        descriptor_ports({"messaging": {"ports": [{"name": "x", "port": "4560"}]}})


def test_no_box_no_run(tmp_path: Path) -> None:
    with pytest.raises(XappRunError, match=r"no box is running .* start `twinric up` first"):
        BoxInfo.of(tmp_path)


def test_environment_is_the_osc_deployments(box: BoxInfo, tmp_path: Path) -> None:
    descriptor_path = tmp_path / "config-file.json"
    descriptor_path.write_text(json.dumps(DESCRIPTOR))
    run = XappRun(XappLaunch(["true"], "hw-python", DESCRIPTOR, descriptor_path, env={"EXTRA": "1"}), box)
    env = run.environment({"PATH": "/bin", "RMR_SRC_ID": "overridden-by-the-box"})
    assert env["HOSTNAME"] == "hw-python"
    assert env["RMR_SRC_ID"] == "service-ricxapp-hw-python-rmr.ricxapp"
    assert env["RMR_RTG_SVC"] == "4561"
    assert env["CONFIG_FILE"] == str(descriptor_path) and env["XAPP_DESCRIPTOR_PATH"] == str(tmp_path)
    assert env["DBAAS_SERVICE_HOST"] == "service-ricplt-dbaas-tcp.ricplt.svc.cluster.local"
    assert env["DBAAS_SERVICE_PORT"] == env["DBAAS_PORT_6379_TCP_PORT"] == "6379"
    assert env["SERVICE_RICXAPP_HW_PYTHON_RMR_PORT"] == "tcp://service-ricxapp-hw-python-rmr.ricxapp:4560"
    assert env["SERVICE_RICXAPP_HW_PYTHON_HTTP_PORT"] == "tcp://service-ricxapp-hw-python-http.ricxapp:8080"
    assert env["SERVICE_RICXAPP_HW_PYTHON_RMR_SERVICE_PORT_RMRROUTE"] == "4561"
    assert env["RMR_SEED_RT"].endswith("xapp-hw-python-seed.rt") and env["TWINRIC_RMR"] == "python"
    assert (
        env[MAP_ENV] == str(box.run_dir / "service-map.json")
        and env["EXTRA"] == "1"
        and env["PATH"] == "/bin"
    )
    listen = parse_listen_ports(env[LISTEN_ENV])
    assert set(listen) == {8080, 4560, 4561} and len(set(listen.values())) == 3
    # what the xApp brings wins: its own seed table, the C RMR, any --env
    mine = XappRun(XappLaunch(["true"], "x", {}, None, env={"HOSTNAME": "mine"}), box)
    own = mine.environment({"RMR_SEED_RT": "/opt/route/local.rt", "TWINRIC_RMR": "c"})
    assert (own["RMR_SEED_RT"], own["TWINRIC_RMR"], own["HOSTNAME"]) == ("/opt/route/local.rt", "c", "mine")
    assert "CONFIG_FILE" not in own


def test_ricxappframe_registers_with_the_service_names(box: BoxInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    """ricxappframe's own get_service() on the environment xapp run gives: the endpoints appmgr stores
    are the names submgr derives from a ClientEndpoint, so subscription routes find the xApp."""
    run = XappRun(XappLaunch(["true"], "hw-python", DESCRIPTOR), box)
    for key, value in run.environment({}).items():
        monkeypatch.setenv(key, value)
    frame = SimpleNamespace(_config_data=DESCRIPTOR, logger=SimpleNamespace(debug=lambda *a: None))
    rmr = _BaseXapp.get_service(frame, os.environ["HOSTNAME"], "SERVICE_{}_{}_RMR_PORT")
    http = _BaseXapp.get_service(frame, os.environ["HOSTNAME"], "SERVICE_{}_{}_HTTP_PORT")
    assert (rmr, http) == (
        "service-ricxapp-hw-python-rmr.ricxapp:4560",
        "service-ricxapp-hw-python-http.ricxapp:8080",
    )
    assert registration_body("hw-python", DESCRIPTOR, run.ports)["rmrEndpoint"] == rmr


def test_registration_from_the_descriptor_is_what_appmgr_routes(box: BoxInfo) -> None:
    run = XappRun(XappLaunch(["true"], "hw-python", DESCRIPTOR), box)
    reg = parse_register(registration_body("hw-python", DESCRIPTOR, run.ports))
    assert (reg.instance_name, reg.version) == ("hw-python", "1.2.3")
    assert reg.rmr_endpoint == "service-ricxapp-hw-python-rmr.ricxapp:4560"
    assert reg.route_endpoint == "service-ricxapp-hw-python-rmr.ricxapp:4561"  # resolved by appmgr
    assert (reg.tx, reg.rx, reg.policies) == (
        ("RIC_SUB_REQ", "A1_POLICY_RESP"),
        ("RIC_SUB_RESP", "A1_POLICY_REQ"),
        (20008,),
    )


def test_kubernetes_variables_per_service() -> None:
    env = kubernetes_service_env(
        "kpimon", [XappPort("rmrdata", 4560, 1), XappPort("rmrroute", 4561, 2), XappPort("http", 8080, 3)]
    )
    assert env["SERVICE_RICXAPP_KPIMON_RMR_SERVICE_HOST"] == "service-ricxapp-kpimon-rmr.ricxapp"
    assert env["SERVICE_RICXAPP_KPIMON_RMR_SERVICE_PORT"] == "4560"  # the first port, rmrdata
    assert env["SERVICE_RICXAPP_KPIMON_RMR_PORT_4561_TCP_ADDR"] == "service-ricxapp-kpimon-rmr.ricxapp"
    assert (
        env["SERVICE_RICXAPP_KPIMON_HTTP_PORT_8080_TCP"] == "tcp://service-ricxapp-kpimon-http.ricxapp:8080"
    )


def test_seed_routes_name_the_platform() -> None:
    table = seed_route_table()
    assert table.startswith("newrt|start\n") and table.endswith("newrt|end\n")
    assert "mse|12040|-1|service-ricplt-e2term-rmr-alpha.ricplt:38000" in table
    assert "mse|12010|-1|service-ricplt-submgr-rmr.ricplt:4560" in table


def test_platform_map_and_xapp_entries(tmp_path: Path) -> None:
    ports = {"appmgr-http": 9001, "submgr-http": 9002, "submgr-rmr": 9003, "absent-http": 9009}
    book = platform_service_map(ports, "redis://10.0.0.5:6390/2")
    assert book.services["service-ricplt-appmgr-http.ricplt"].ports == {8080: "127.0.0.1:9001"}
    assert book.services["service-ricplt-rtmgr-http.ricplt"].ports == {3800: "127.0.0.1:9001"}
    assert book.services["service-ricplt-submgr-http.ricplt"].ports == {
        8088: "127.0.0.1:9002",
        3800: "127.0.0.1:9002",
    }
    assert book.services["service-ricplt-dbaas-tcp.ricplt"].ports == {6379: "10.0.0.5:6390"}
    assert book.services["service-ricplt-alarmmanager-http.ricplt"].ports == {8080: "127.0.0.1:9009"}
    assert "service-ricplt-e2mgr-http.ricplt" not in book.services  # not in these ports
    assert book.absent == {k: v for k, v in ABSENT_OTHER.items()}
    write_platform_map(tmp_path, ports, "redis://127.0.0.1:6390/0")
    xapp = [XappPort("rmrdata", 4560, 5000), XappPort("rmrroute", 4561, 5001), XappPort("http", 8080, 5002)]
    add_xapp(tmp_path, "kpimon", xapp)
    loaded = ServiceMap.load(tmp_path / "service-map.json")
    assert loaded.services["service-ricxapp-kpimon-rmr.ricxapp"].ports == {
        4560: "127.0.0.1:5000",
        4561: "127.0.0.1:5001",
    }
    assert loaded.services["service-ricxapp-kpimon-http.ricxapp"].ports == {8080: "127.0.0.1:5002"}
    remove_xapp(tmp_path, "kpimon", xapp)
    assert not any("kpimon" in n for n in ServiceMap.load(tmp_path / "service-map.json").services)


def test_a_name_runs_once_per_box(box: BoxInfo) -> None:
    add_xapp(box.run_dir, "twice", [XappPort("rmrdata", 4560, 5000)])
    (box.run_dir / "xapp-twice.pid").write_text(str(os.getpid()))  # a live `xapp run` holds the name
    with pytest.raises(XappRunError, match="already running"):
        XappRun(XappLaunch(["true"], "twice"), box).start()
    with pytest.raises(XappRunError, match="no command"):
        XappRun(XappLaunch([], "empty"), box)


def test_what_a_killed_run_left_is_taken_over_and_a_bad_command_cleans_up(box: BoxInfo) -> None:
    add_xapp(box.run_dir, "crashed", [XappPort("rmrdata", 4560, 5000), XappPort("http", 8080, 5001)])
    (box.run_dir / "xapp-crashed.pid").write_text("999999999")  # no such process
    said: list[str] = []
    with pytest.raises(XappRunError, match="cannot start '/no/such/xapp'"):
        XappRun(XappLaunch(["/no/such/xapp"], "crashed"), box, say=said.append).start()
    assert any("previous run of crashed" in line for line in said)
    assert not any("crashed" in name for name in ServiceMap.load(box.run_dir / "service-map.json").services)
    assert not (box.run_dir / "xapp-crashed.pid").exists()


def test_a_bad_descriptor_is_refused_with_its_reason(tmp_path: Path) -> None:
    from twinric.xapp_runner import load_descriptor

    broken = tmp_path / "config-file.json"
    broken.write_text("{not json")
    with pytest.raises(XappRunError, match=r"cannot read descriptor .*config-file.json"):
        load_descriptor(broken)
    broken.write_text("[1, 2]")
    with pytest.raises(XappRunError, match="not a JSON object"):
        load_descriptor(broken)
    assert load_descriptor(None) == {}
