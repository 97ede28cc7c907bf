"""Route-table records (seed file / route manager) and endpoint selection."""

from __future__ import annotations

from ricproto.rmr.route_table import RoundRobinGroup, RouteEntry, RouteTable, RouteTableBuilder, records

TABLE = """
# a comment line
newrt | start | t-1
rte|100|a:1,b:1            # round robin
rte|101|a:1;b:1,c:1        # fan-out to two groups
mse|102|5|c:1
mse|102|-1|d:1
mse|12040|-1|%meid
rte|103,me:4560|x:1
rte|104,other:4560|y:1
rte|105|me:4560,z:1
rte|106|w:1|9
newrt|end|9
"""


def build(text: str = TABLE) -> RouteTableBuilder:
    b = RouteTableBuilder({"me:4560"})
    b.apply(text)
    return b


def test_records_trim_fields_and_strip_comments() -> None:
    got = list(records("  rte | 1 | a:1 # c\n#x\n\nmse|2|-1|b#c:1\r"))
    assert got == [["rte", "1", "a:1"], ["mse", "2", "-1", "b#c:1"]]


def test_round_robin_and_fan_out_groups() -> None:
    table = build().live
    entry = table.lookup(100, -1)
    assert [entry.groups[0].pick() for _ in range(4)] == ["a:1", "b:1", "a:1", "b:1"]
    fan = table.lookup(101, -1)
    assert [g.members for g in fan.groups] == [("a:1",), ("b:1", "c:1")]


def test_sub_id_exact_then_minus_one() -> None:
    table = build().live
    assert table.lookup(102, 5).endpoints() == ["c:1"]
    assert table.lookup(102, 6).endpoints() == ["d:1"]
    assert table.lookup(102, -1).endpoints() == ["d:1"]
    assert table.lookup(106, 9).endpoints() == ["w:1"]  # rte with a 4th field
    assert table.lookup(106, -1) is None
    assert table.lookup(999, -1) is None


def test_sender_qualifiers_and_self_pruning() -> None:
    table = build().live
    assert table.lookup(103, -1).endpoints() == ["x:1"]
    assert table.lookup(104, -1) is None  # qualified for another sender
    assert table.lookup(105, -1).endpoints() == ["z:1"]  # never to ourselves


def test_meid_map_blocks() -> None:
    b = build()
    b.apply("meid_map|start\nmme_ar|e2t:1|gnb1 gnb2\nmme_ar|e2t:2|gnb3\nmeid_map|end|2\n")
    assert b.live.lookup(12040, -1).by_meid
    assert b.live.meid_map == {"gnb1": "e2t:1", "gnb2": "e2t:1", "gnb3": "e2t:2"}
    b.apply("meid_map|start\nmme_del|gnb1\nmeid_map|end\n")
    assert b.live.meid_map == {"gnb2": "e2t:1", "gnb3": "e2t:2"}
    # a new table keeps the MEID map
    b.apply("newrt|start\nrte|1|a:1\nnewrt|end\n")
    assert b.live.meid_map == {"gnb2": "e2t:1", "gnb3": "e2t:2"}
    assert b.live.lookup(100, -1) is None


def test_count_mismatch_discards_the_table() -> None:
    b = build()
    events = b.apply("newrt|start|t-2\nrte|1|a:1\nnewrt|end|5\n")
    assert len(events) == 1 and not events[0].ok and events[0].ack_payload().startswith(b"ERR t-2 ")
    assert b.live.table_id == "t-1" and b.live.lookup(100, -1) is not None


def test_updates_need_a_route_manager_table_first() -> None:
    b = build()
    assert b.apply("updatert|start|u1\nmse|200|-1|n:1\nupdatert|end|1\n") == []
    assert b.live.lookup(200, -1) is None
    events = b.apply("newrt|start|rm-1\nrte|100|a:1\nmse|102|5|c:1\nnewrt|end|2\n", from_rtmgr=True)
    assert events[0].ok and events[0].ack_payload() == b"OK rm-1 \n\0"
    events = b.apply("updatert|start|u2\nmse|200|7|n:1\ndel|102|5\nupdatert|end|2\n", from_rtmgr=True)
    assert events[0].ok
    assert b.live.lookup(200, 7).endpoints() == ["n:1"]
    assert b.live.lookup(102, 5) is None and b.live.lookup(100, -1) is not None


def test_bad_records_are_skipped_not_fatal() -> None:
    b = RouteTableBuilder()
    events = b.apply("newrt|start\nrte|abc|a:1\nmse|1|x|b:1\nrte|2\nrte|3|c:1\nxyz|1|2\nnewrt|end\n")
    assert events[0].ok
    assert [e.mtype for e in b.live.routes.values()] == [3]


def test_entries_outside_a_block_are_ignored() -> None:
    b = RouteTableBuilder()
    assert b.apply("rte|1|a:1\n") == []
    assert b.live is None


def test_meid_map_end_is_acked_like_a_table() -> None:
    # C's meid_parser acks meid_map|end with its own mtype 22 message (send_rt_ack), OK or ERR.
    b = build()
    events = b.apply("meid_map|start|mm-1\nmme_ar|e2t:1|gnb1\nmeid_map|end|1\n")
    assert [(e.kind, e.table_id, e.ok) for e in events] == [("meid_map", "mm-1", True)]
    assert events[0].ack_payload() == b"OK mm-1 \n\0"
    events = b.apply("meid_map|start|mm-2\nmme_ar|e2t:9|gnb1\nmeid_map|end|4\n")
    assert not events[0].ok
    assert events[0].ack_payload() == b"ERR mm-2 missing table records: expected 4 got 1\n\n\0"
    assert b.live.meid_map["gnb1"] == "e2t:1"  # the refused map was not applied


def test_a_block_forced_out_by_a_new_start_is_refused() -> None:
    b = RouteTableBuilder()
    events = b.apply("newrt|start|t-a\nrte|1|a:1\nnewrt|start|t-b\nrte|2|b:1\nnewrt|end\n")
    assert [(e.table_id, e.ok, e.reason) for e in events] == [
        ("t-a", False, "table not complete"),
        ("t-b", True, ""),
    ]
    events = b.apply("newrt|start|t-c\nmeid_map|start|m-1\nmeid_map|end\n")
    assert [(e.kind, e.table_id, e.ok) for e in events] == [
        ("newrt", "t-c", False),
        ("meid_map", "m-1", True),
    ]
    assert b.live.lookup(2, -1) is not None and b.live.lookup(1, -1) is None  # t-b is still live


def test_ack_without_table_id_names_it_missing() -> None:
    events = RouteTableBuilder().apply("newrt|start\nnewrt|end\n")
    assert events[0].ack_payload() == b"OK <id-missing> \n\0"


def test_lists_are_split_like_uta_tokenise() -> None:
    # 66 groups: C keeps 63 and puts "g63;g64;g65" into the 64th token, which names no endpoint.
    groups = ";".join(f"g{i}:1" for i in range(66))
    b = RouteTableBuilder()
    b.apply(f"newrt|start\nrte|7|{groups}\nnewrt|end\n")
    entry = b.live.lookup(7, -1)
    assert len(entry.groups) == 64
    assert entry.groups[63].members == ("g63:1;g64:1;g65:1",)
    assert b.limit_warnings == 1
    # 130 MEIDs in one mme_ar: the 128th token is "m127 m128 m129".
    meids = " ".join(f"m{i}" for i in range(130))
    b.apply(f"meid_map|start\nmme_ar|e2t:1|{meids}\nmeid_map|end|1\n")
    assert "m126" in b.live.meid_map and "m127" not in b.live.meid_map
    assert "m127 m128 m129" in b.live.meid_map and b.limit_warnings == 2
    # 130 senders: the 127th token holds s125 onwards, so s125 is no longer recognised.
    senders = [f"s{i}:1" for i in range(130)]
    mine = RouteTableBuilder({"s124:1"})
    mine.apply(f"newrt|start\nmse|8,{','.join(senders)}|-1|x:1\nnewrt|end\n")
    assert mine.live.lookup(8, -1) is not None
    theirs = RouteTableBuilder({"s125:1"})
    theirs.apply(f"newrt|start\nmse|8,{','.join(senders)}|-1|x:1\nnewrt|end\n")
    assert theirs.live.lookup(8, -1) is None
    # 33 members in a group: 32 are used (MAX_EP_GROUP)
    big = ",".join(f"h{i}:1" for i in range(33))
    b.apply(f"newrt|start\nrte|9|{big}\nnewrt|end\n")
    assert len(b.live.lookup(9, -1).groups[0].members) == 32


def test_an_entry_routes_to_its_groups_unless_made_by_meid() -> None:
    table = RouteTable({1: RouteEntry(10, -1, (RoundRobinGroup(("a:1", "b:2")),))})
    assert table.describe() == ["mse|10|-1|a:1,b:2"]
