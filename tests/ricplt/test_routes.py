"""Route-table generation from registrations (pure logic)."""

from __future__ import annotations

from ricplt.routes import PlatformEndpoints, SubscriptionRoute, XappRoutes, generate_route_table

PLATFORM = PlatformEndpoints(
    submgr="submgr:4560",
    e2term=("e2term:38000",),
    e2mgr="e2mgr:3801",
    a1mediator="a1:4562",
)
CONTROL = XappRoutes(
    "control",
    "control:4560",
    tx=("RIC_SUB_REQ", "RIC_CONTROL_REQ", "TWINRIC_ACCESS_REQ"),
    rx=("RIC_SUB_RESP", "RIC_INDICATION", "RIC_CONTROL_ACK", "TWINRIC_ACCESS_RESP"),
    policies=(20008,),
)
PDP = XappRoutes(
    "pdp", "pdp:4560", tx=("TWINRIC_ACCESS_RESP",), rx=("TWINRIC_ACCESS_REQ",), policies=(20008, 30)
)


def records(text: str) -> list[str]:
    return text.splitlines()


def test_table_block_has_start_end_and_exact_count() -> None:
    table = generate_route_table([CONTROL, PDP], PLATFORM, table_id="t1")
    lines = records(table.text())
    assert lines[0] == "newrt|start|t1"
    end = lines.index(f"newrt|end|{len(table.entries)}")
    assert all(line.startswith("mse|") for line in lines[1:end])
    assert end - 1 == len(table.entries)


def test_platform_routes() -> None:
    lines = records(generate_route_table([], PLATFORM).text())
    assert "mse|12010,submgr:4560|-1|%meid" in lines
    assert "mse|12020,submgr:4560|-1|%meid" in lines
    assert "mse|12011,e2term:38000|-1|submgr:4560" in lines
    assert "mse|12012,e2term:38000|-1|submgr:4560" in lines
    assert "mse|12001,e2term:38000|-1|e2mgr:3801" in lines
    assert "mse|20011|-1|a1:4562" in lines
    assert "mse|20012|-1|a1:4562" in lines


def test_absent_platform_parts_give_no_routes_to_them() -> None:
    table = generate_route_table([CONTROL], PlatformEndpoints(a1mediator="a1:4562"))
    text = table.text()
    assert "%meid" not in text and "12010" not in text and "20011" in text


def test_xapp_routes_to_submgr_e2term_and_back() -> None:
    lines = records(generate_route_table([CONTROL], PLATFORM).text())
    assert "mse|12010,control:4560|-1|submgr:4560" in lines
    assert "mse|12020,control:4560|-1|submgr:4560" in lines
    assert "mse|12040,control:4560|-1|%meid" in lines
    # No -1 routes for control answers: e2term returns each to the xApp that sent the request, and a
    # fan-out to every xApp would hand third-party xApps answers to controls they never sent.
    assert not any(line.startswith(("mse|12041", "mse|12042")) for line in lines)


def test_policy_types_fan_out_to_every_handler() -> None:
    lines = records(generate_route_table([PDP, CONTROL], PLATFORM).text())
    assert "mse|20010|20008|control:4560;pdp:4560" in lines
    assert "mse|20010|30|pdp:4560" in lines


def test_rx_routes_come_from_the_xapps_that_transmit_them() -> None:
    lines = records(generate_route_table([CONTROL, PDP], PLATFORM).text())
    assert "mse|30100,control:4560|-1|pdp:4560" in lines
    assert "mse|30101,pdp:4560|-1|control:4560" in lines
    # subscription-routed names are not routed xApp-to-xApp
    assert not any(line.startswith("mse|12050|") or line.startswith("mse|12011|") for line in lines)


def test_rx_without_any_transmitter_accepts_any_sender() -> None:
    alone = XappRoutes("kpi", "kpi:4560", rx=("RIC_METRICS",))
    assert "mse|120|-1|kpi:4560" in records(generate_route_table([alone], PLATFORM).text())


def test_unknown_message_names_are_reported_not_routed() -> None:
    odd = XappRoutes("odd", "odd:4560", tx=("NOT_A_TYPE",), rx=("ALSO_NOT",))
    table = generate_route_table([odd], PLATFORM)
    assert len(table.warnings) == 2 and "NOT_A_TYPE" in table.warnings[0]
    assert "NOT_A_TYPE" not in table.text()


def test_subscription_routes_are_keyed_by_sub_id() -> None:
    subs = [
        SubscriptionRoute(7, "control:4560"),
        SubscriptionRoute(7, "pdp:4560"),
        SubscriptionRoute(9, "ghost:4560"),
    ]
    table = generate_route_table([CONTROL, PDP], PLATFORM, subs)
    lines = records(table.text())
    assert "mse|12050,e2term:38000|7|control:4560;pdp:4560" in lines
    assert "mse|12011,submgr:4560|7|control:4560;pdp:4560" in lines
    assert "mse|12041,e2term:38000|7|control:4560;pdp:4560" in lines
    assert not any("|9|" in line for line in lines)
    assert any("ghost:4560" in w for w in table.warnings)


def test_meid_map_block() -> None:
    table = generate_route_table([CONTROL], PLATFORM, meids={"e2term:38000": ["gnb2", "gnb1"]}, table_id="x")
    lines = records(table.text())
    assert lines[-3:] == ["meid_map|start|x", "mme_ar|e2term:38000|gnb1 gnb2", "meid_map|end|1"]


def test_generation_is_deterministic_regardless_of_registration_order() -> None:
    a = generate_route_table([CONTROL, PDP], PLATFORM).text()
    b = generate_route_table([PDP, CONTROL], PLATFORM).text()
    assert a == b


def view(text: str, own: str):
    """The live table a process named ``own`` builds from ``text`` (our RMR's own parser)."""
    from ricproto.rmr.route_table import RouteTableBuilder

    builder = RouteTableBuilder({own})
    events = builder.apply(text)
    assert events and all(e.ok for e in events), events
    return builder.live


def targets(table, mtype: int, sub_id: int = -1) -> list[str] | str | None:
    entry = table.lookup(mtype, sub_id)
    if entry is None:
        return None
    return "%meid" if entry.by_meid else [";".join(g.members) for g in entry.groups]


def test_each_process_sees_all_its_targets_for_a_key() -> None:
    """RMR keys by (sub_id, mtype): a sender with several receivers must get them in one record."""
    a = XappRoutes("a", "a:1", rx=("TWINRIC_ACCESS_REQ",))
    b = XappRoutes("b", "b:1", tx=("TWINRIC_ACCESS_REQ",))
    c = XappRoutes("c", "c:1", rx=("TWINRIC_ACCESS_REQ",))
    d = XappRoutes("d", "d:1", tx=("TWINRIC_ACCESS_REQ",))
    text = generate_route_table([a, b, c, d], PLATFORM).text()
    assert targets(view(text, "b:1"), 30100) == ["a:1", "c:1"]
    assert targets(view(text, "d:1"), 30100) == ["a:1", "c:1"]
    assert targets(view(text, "a:1"), 30100) is None  # a never sends it


def test_generated_table_parses_and_routes_per_process() -> None:
    subs = [SubscriptionRoute(7, "control:4560")]
    table = generate_route_table(
        [CONTROL, PDP], PLATFORM, subs, meids={"e2term:38000": ["gnb1"]}, table_id="full"
    )
    text = table.text()
    submgr = view(text, "submgr:4560")
    assert targets(submgr, 12010) == "%meid"
    assert targets(submgr, 12011, 7) == ["control:4560"]
    assert submgr.meid_map == {"gnb1": "e2term:38000"}
    e2term = view(text, "e2term:38000")
    assert targets(e2term, 12011) == ["submgr:4560"]
    assert targets(e2term, 12050, 7) == ["control:4560"]
    assert targets(e2term, 12050, 8) is None  # no subscription 8: nothing routed
    control = view(text, "control:4560")
    assert targets(control, 12010) == ["submgr:4560"]
    assert targets(control, 12040) == "%meid"
    assert targets(control, 20011) == ["a1:4562"]
    a1 = view(text, "a1:4562")
    assert targets(a1, 20010, 20008) == ["control:4560", "pdp:4560"]
    assert targets(a1, 20010, 30) == ["pdp:4560"]


# ---- what C RMR parses (ricproto.rmr.route_table follows C's uta_tokenise limits) ---------------


def parse_as(own_name: str, text: str):
    from ricproto.rmr.route_table import RouteTableBuilder

    builder = RouteTableBuilder({own_name})
    builder.apply(text)
    return builder


def test_more_than_64_fan_out_groups_is_refused_with_a_clear_error() -> None:
    import pytest

    from ricplt.routes import RouteLimitError

    handlers = [XappRoutes(f"h{i:02d}", f"h{i:02d}:4560", policies=(7,)) for i in range(65)]
    with pytest.raises(RouteLimitError, match=r"message type 20010 \(sub id 7\) must reach 65 receivers.*64"):
        generate_route_table(handlers, PLATFORM)
    # 65 xApps that send controls: their answers go back to each sender (return to sender), so no
    # fan-out route for 12041/12042 exists that C would have to parse
    on_rmr = [XappRoutes(f"x{i:02d}", f"x{i:02d}:4560", tx=("RIC_CONTROL_REQ",)) for i in range(65)]
    assert "mse|12041|" not in generate_route_table(on_rmr, PLATFORM).text()
    table = generate_route_table(handlers[:64], PLATFORM)  # 64 is what C parses: fine
    entry = parse_as("a1:4562", table.text()).live.lookup(20010, 7)
    assert len(entry.groups) == 64 and entry.groups[-1].members == ("h63:4560",)


def test_long_sender_lists_are_split_so_every_sender_finds_its_route() -> None:
    senders = [XappRoutes(f"s{i:03d}", f"s{i:03d}:4560", tx=("TWINRIC_ACCESS_REQ",)) for i in range(300)]
    pdp = XappRoutes("pdp", "pdp:4560", rx=("TWINRIC_ACCESS_REQ",))
    table = generate_route_table([*senders, pdp], PlatformEndpoints(a1mediator="a1:4562"))
    lines = [line for line in records(table.text()) if line.startswith("mse|30100,")]
    assert len(lines) == 3 and all(line.split("|")[1].count(",") <= 126 for line in lines)
    for name in ("s000:4560", "s125:4560", "s126:4560", "s299:4560"):
        builder = parse_as(name, table.text())
        assert builder.live.lookup(30100, -1).endpoints() == ["pdp:4560"], name
        assert builder.limit_warnings == 0


def test_long_meid_lists_are_split_into_several_mme_ar_records() -> None:
    meids = {"e2term:38000": [f"gnb{i:04d}" for i in range(300)]}
    text = generate_route_table([], PLATFORM, meids=meids).text()
    lines = records(text)
    mme = [line for line in lines if line.startswith("mme_ar|")]
    assert [len(line.split("|")[2].split()) for line in mme] == [128, 128, 44]
    assert lines[-1] == "meid_map|end|3"
    builder = parse_as("submgr:4560", text)
    assert len(builder.live.meid_map) == 300 and builder.limit_warnings == 0
    assert generate_route_table([], PLATFORM, meids=meids).blocks() == ["newrt", "meid_map"]
    assert generate_route_table([], PLATFORM).blocks() == ["newrt"]
