"""The RAN-view record: a round trip of every column, the protobuf view of the same bytes, and
refusal of foreign, inconsistent or non-finite records."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ricproto.kpm_distribution import (
    DELAY_DL_BIN_EDGES_MS,
    DELAY_DL_DIST,
    UE_THP_DL_BIN_EDGES_KBPS,
    UE_THP_DL_DIST,
)
from ricproto.ran_space import Snssai
from ricproto.ran_view import (
    ControlRecord,
    Layout,
    OutcomeUpdate,
    RanRound,
    RanViewCodecError,
    RanViewRecord,
    bin_column,
    decode_ran_round,
    decode_ran_view,
    encode_ran_round,
    kpm_columns,
    slice_column_groups,
    stream_key,
)
from ricproto.transition import ControlOutcome


def sample_round(seq: int = 3) -> RanRound:
    rng = np.random.default_rng(seq)
    c, s = 3, 2
    return RanRound(
        xapp_instance="control-1",
        seq=seq,
        step=seq + 10,
        meid="gnb_b",
        decided_ns=1_700_000_000_000_000_000,
        observation=rng.random(12, dtype=np.float32),
        nodes=("gnb_a", "gnb_b"),
        slices=(Snssai(1, 1), Snssai(2)),
        cell_measurements=("prb_tot_dl_pct", "ue_thp_dl_kbps"),
        slice_measurements=("slice_prb_used_dl",),
        cell_index=np.array([0, 2, 5], dtype=np.uint32),
        nr_cell_id=np.array([16385, 32769, 2**40], dtype=np.uint64),
        cell_node=np.array([0, 0, 1], dtype=np.uint32),
        collection_ns=np.array([1, 2, 3], dtype=np.uint64),
        arrival_ns=np.array([4, 5, 6], dtype=np.uint64),
        cell_values=rng.random((c, 2), dtype=np.float32),
        slice_values=rng.random((c, s, 1), dtype=np.float32),
        ue_id=np.array([7, 2**63 + 1], dtype=np.uint64),
        ue_cell_index=np.array([0, 5], dtype=np.uint32),
        ue_rsrp_dbm=np.array([-90.5, -101.0], dtype=np.float32),
        controls=(
            ControlRecord(
                11,
                seq + 10,
                4,
                "handover",
                "gnb_a",
                "e2node:gnb_a/cell:32769",
                9,
                123,
                ControlOutcome.SENT,
                0,
                0,
                2,
                (7, 8),
            ),
            ControlRecord(
                12, seq + 10, 40, "slice_quota", "gnb_b", slice_index=1, min_ratio=30, max_ratio=70
            ),
            ControlRecord(
                13, seq + 10, 61, "cell_offset", "gnb_b", cell_index=5, neighbour_cell_index=2, offset_db=-6
            ),
        ),
        outcomes=(OutcomeUpdate(10, ControlOutcome.ACKNOWLEDGED, 99),),
    )


def test_round_trip_of_every_column() -> None:
    r = sample_round()
    back = decode_ran_round(encode_ran_round(r))
    for f in dataclasses.fields(RanRound):
        a, b = getattr(r, f.name), getattr(back, f.name)
        if isinstance(a, np.ndarray):
            assert a.shape == b.shape and np.array_equal(a, b), f.name
        else:
            assert a == b, f.name
    assert stream_key("control-1") == "twinric:ranview:control-1"


def test_protobuf_reads_the_same_bytes() -> None:
    r = sample_round()
    msg = decode_ran_view(encode_ran_round(r))
    assert isinstance(msg, RanViewRecord)
    assert msg.seq == 3 and list(msg.layout.nodes) == ["gnb_a", "gnb_b"] and list(msg.ue_id) == [7, 2**63 + 1]
    assert msg.layout.slices[1].has_sd is False and msg.layout.slices[0].sd == 1
    assert np.allclose(msg.cell_values, r.cell_values.reshape(-1))
    assert msg.controls[0].ue_ids == [7, 8] and msg.outcomes[0].outcome == ControlOutcome.ACKNOWLEDGED
    offset = msg.controls[2]
    assert (offset.kind, offset.cell_index, offset.neighbour_cell_index, offset.offset_db) == (
        "cell_offset",
        5,
        2,
        -6,
    )


def test_a_record_of_the_earlier_schema_reads_with_no_offset() -> None:
    """Fields 18/19 are an addition: a Control written without them (an xApp of before) decodes with
    offset 0 toward cell 0, and its other fields are intact."""
    old = RanViewRecord(schema_version=1, seq=4)
    old.controls.add(control_id=1, kind="slice_quota", cell_index=3, slice_index=1, min_ratio=20)
    (c,) = decode_ran_round(old.SerializeToString()).controls
    assert (c.cell_index, c.slice_index, c.min_ratio, c.neighbour_cell_index, c.offset_db) == (3, 1, 20, 0, 0)


def test_kpm_columns_carry_each_distribution_bin_by_name() -> None:
    cols = kpm_columns()
    assert cols.cell == ("prb_tot_dl_pct", "ue_thp_dl_kbps", "conn_mean", "prb_avail_dl")
    assert cols.distributions == {
        "slice_ue_thp_dl_dist": UE_THP_DL_DIST,
        "slice_delay_dl_dist": DELAY_DL_DIST,
    }
    thp_bins, delay_bins = len(UE_THP_DL_BIN_EDGES_KBPS), len(DELAY_DL_BIN_EDGES_MS)
    assert len(cols.slice) == 2 + thp_bins + delay_bins
    assert cols.slice_fields == (
        ("slice_prb_used_dl", 0, 0),
        ("slice_ue_thp_dl_kbps", 1, 0),
        ("slice_ue_thp_dl_dist", 2, thp_bins),
        ("slice_delay_dl_dist", 2 + thp_bins, delay_bins),
    )
    assert cols.slice[2] == bin_column("slice_ue_thp_dl_dist", 0) == "slice_ue_thp_dl_dist[0]"
    scalars, dists = slice_column_groups(cols.slice)
    assert scalars == {"slice_prb_used_dl": 0, "slice_ue_thp_dl_kbps": 1}
    assert dists["slice_ue_thp_dl_dist"] == list(range(2, 2 + thp_bins))
    assert dists["slice_delay_dl_dist"] == list(range(2 + thp_bins, 2 + thp_bins + delay_bins))
    # columns out of order regroup by bin number
    assert slice_column_groups(("d[1]", "x", "d[0]", "d[10]")) == ({"x": 1}, {"d": [2, 0, 3]})


def test_an_empty_round_round_trips() -> None:
    r = RanRound("x", 0, 0, "", 0)
    back = decode_ran_round(encode_ran_round(r))
    assert back.n_cells == 0 and back.cell_values.shape == (0, 0) and back.slice_values.shape == (0, 0, 0)


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"cell_node": np.array([0, 0, 7], dtype=np.uint32)}, "past the 2 nodes"),
        ({"arrival_ns": np.array([1], dtype=np.uint64)}, "arrival_ns has 1 entries"),
        ({"ue_rsrp_dbm": np.array([-90.0], dtype=np.float32)}, "differ in length"),
        ({"observation": np.array([np.nan], dtype=np.float32)}, "non-finite"),
        ({"ue_rsrp_dbm": np.array([-90.0, -np.inf], dtype=np.float32)}, "ue_rsrp_dbm has non-finite"),
        ({"cell_values": np.full((3, 2), np.inf, dtype=np.float32)}, "cell_values has non-finite"),
    ],
)
def test_inconsistent_records_are_refused(change: dict, reason: str) -> None:
    data = encode_ran_round(dataclasses.replace(sample_round(), **change))
    with pytest.raises(RanViewCodecError, match=reason):
        decode_ran_round(data)


def test_foreign_bytes_and_wrong_version_are_refused() -> None:
    with pytest.raises(RanViewCodecError, match="not a RanViewRecord"):
        decode_ran_round(b"\xff\xff\xff")
    with pytest.raises(RanViewCodecError, match="schema_version"):
        decode_ran_round(RanViewRecord(schema_version=2).SerializeToString())
    with pytest.raises(RanViewCodecError, match="schema_version"):
        decode_ran_view(RanViewRecord(schema_version=0, seq=1).SerializeToString())
    # a cell_values run that does not fill cells x columns
    bad = RanViewRecord(
        schema_version=1,
        cell_index=[0],
        nr_cell_id=[1],
        cell_node=[0],
        layout=Layout(nodes=["a"], cell_measurements=["x", "y"]),
        collection_ns=[1],
        arrival_ns=[1],
        cell_values=[1.0],
    )
    with pytest.raises(RanViewCodecError):
        decode_ran_round(bad.SerializeToString())
    # a layout that does not decode
    broken = (
        RanViewRecord(schema_version=1).SerializeToString() + b"\x42\x02\x0a\x05"
    )  # layout: nodes cut short
    with pytest.raises(RanViewCodecError, match="layout"):
        decode_ran_round(broken)


def test_the_largest_finite_values_are_accepted() -> None:
    """The finiteness check sums in float64: float32's largest values do not overflow into a refusal."""
    big = np.finfo(np.float32).max
    r = sample_round()
    r = dataclasses.replace(r, slice_values=np.full(r.slice_values.shape, big, dtype=np.float32))
    assert decode_ran_round(encode_ran_round(r)).slice_values.max() == big
