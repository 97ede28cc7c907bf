"""The RAN-view stream between the control xApp (writer) and the twin sidecar (reader).

One record per report round (``ran_view.proto``, generated ``ran_view_pb2``; regenerate with
``python -m grpc_tools.protoc -I. --python_out=. ricproto/ran_view.proto`` using a protoc no newer
than 3.21, e.g. from grpcio-tools 1.49 in a throw-away venv, so it loads on the protobuf 3.20
runtime). Each stream entry has one field, ``FIELD``, holding the serialized ``RanViewRecord``; the
stream is capped with ``XADD MAXLEN ~``; ``seq`` numbers an instance's records without gaps, so a
reader can tell a record it saw (``seq`` at or below its last) from one trimmed before it came
(a gap).

``RanRound`` is the typed value on both sides: numpy columns as the record lays them out. The KPM
columns are the fields of ``ricproto.ran_space.CellKpm`` (``kpm_columns``): scalars per cell, mappings
per slice, and the per-slice distributions (a sequence of counts per slice, field metadata
``DISTRIBUTION``) one column per bin, named ``"<field>[<bin>]"`` (``bin_column``, bins from 0 in
``distBinX`` order), so a reader finds them by name and regroups them (``slice_column_groups``).
``encode_ran_round`` writes the large packed columns directly (``protowire.encode_packed``) and
``decode_ran_round`` reads them as numpy views (``protowire.WireDecoder``): the Python protobuf
runtime of 3.20 is too slow for them. ``decode_ran_view`` gives the plain protobuf message.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ricproto.kpm_distribution import n_bins
from ricproto.protowire import WireDecodeError, WireDecoder, encode_packed
from ricproto.ran_space import DISTRIBUTION, CellKpm, Snssai
from ricproto.ran_view_pb2 import Control, ControlUpdate, Layout, RanViewRecord
from ricproto.ran_view_pb2 import Snssai as SnssaiMsg

SCHEMA_VERSION = 1
FIELD = b"v"
DEFAULT_MAXLEN = 100_000

__all__ = [
    "DEFAULT_MAXLEN",
    "FIELD",
    "SCHEMA_VERSION",
    "Control",
    "ControlRecord",
    "ControlUpdate",
    "KpmColumns",
    "Layout",
    "OutcomeUpdate",
    "RanRound",
    "RanViewCodecError",
    "RanViewRecord",
    "bin_column",
    "decode_ran_round",
    "decode_ran_view",
    "encode_ran_round",
    "kpm_columns",
    "slice_column_groups",
    "stream_key",
]


class RanViewCodecError(ValueError):
    """A stream entry that is not a RanViewRecord of a known schema version, or is inconsistent."""


def stream_key(xapp_instance: str) -> str:
    return f"twinric:ranview:{xapp_instance}"


@dataclass(frozen=True)
class ControlRecord:
    """A control request the xApp sent (field meanings: ``Control`` in ran_view.proto)."""

    control_id: int
    step: int
    action: int
    kind: str
    meid: str
    resource: str = ""
    ric_instance_id: int = 0
    sent_ns: int = 0
    outcome: int = 0  # ricproto.transition.ControlOutcome
    outcome_ns: int = 0
    cell_index: int = 0
    target_cell_index: int = 0
    ue_ids: tuple[int, ...] = ()
    slice_index: int = 0
    min_ratio: int = 0
    max_ratio: int = 0
    dedicated_ratio: int = 0
    neighbour_cell_index: int = 0  # cell_offset: the relation cell_index -> neighbour_cell_index
    offset_db: int = 0  # and its cell individual offset as commanded


@dataclass(frozen=True)
class OutcomeUpdate:
    control_id: int
    outcome: int
    outcome_ns: int


def bin_column(name: str, b: int) -> str:
    """Column name of bin ``b`` (from 0) of the per-slice distribution field ``name``."""
    return f"{name}[{b}]"


_BIN = re.compile(r"^(?P<name>.+)\[(?P<bin>\d+)\]$")


@dataclass(frozen=True)
class KpmColumns:
    """How ``CellKpm`` is laid out as record columns.

    ``cell``: the per-cell scalar fields (``cell_values`` columns); ``slice``: the per-slice columns
    (``slice_values``), a distribution field expanded to one per bin; ``slice_fields``: (field, first
    column, bins) per per-slice field in column order, bins 0 for a scalar field; ``distributions``:
    the 28.552 distribution (``ricproto.kpm_distribution``) each distribution field carries."""

    cell: tuple[str, ...]
    slice: tuple[str, ...]
    slice_fields: tuple[tuple[str, int, int], ...]
    distributions: Mapping[str, str]


@functools.cache
def kpm_columns(kpm_type: type = CellKpm) -> KpmColumns:
    """The columns of ``kpm_type``'s fields in declaration order: scalar fields per cell, mapping
    fields per slice; a mapping field whose metadata names a distribution (``DISTRIBUTION``) carries
    that distribution's counts per bin (``ricproto.kpm_distribution``), one column each."""
    hints = typing.get_type_hints(kpm_type)
    cell: list[str] = []
    slices: list[str] = []
    fields: list[tuple[str, int, int]] = []
    dists: dict[str, str] = {}
    for f in dataclasses.fields(kpm_type):
        if typing.get_origin(hints[f.name]) is not collections.abc.Mapping:
            cell.append(f.name)
            continue
        dist = f.metadata.get(DISTRIBUTION)
        width = n_bins(dist) if dist else 0
        fields.append((f.name, len(slices), width))
        slices.extend([bin_column(f.name, b) for b in range(width)] if width else [f.name])
        if dist:
            dists[f.name] = dist
    return KpmColumns(tuple(cell), tuple(slices), tuple(fields), MappingProxyType(dists))


def slice_column_groups(columns: Sequence[str]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Per-slice column names regrouped: ({scalar field: column}, {distribution field: columns of its
    bins in bin order}); a distribution whose bins are not all present keeps the ones that are."""
    scalars: dict[str, int] = {}
    bins: dict[str, dict[int, int]] = {}
    for j, name in enumerate(columns):
        m = _BIN.match(name)
        if m is None:
            scalars[name] = j
        else:
            bins.setdefault(m["name"], {})[int(m["bin"])] = j
    return scalars, {name: [by_bin[b] for b in sorted(by_bin)] for name, by_bin in bins.items()}


def _u32(n: int = 0) -> np.ndarray:
    return np.zeros(n, dtype=np.uint32)


def _u64(n: int = 0) -> np.ndarray:
    return np.zeros(n, dtype=np.uint64)


def _f32(*shape: int) -> np.ndarray:
    return np.zeros(shape or (0,), dtype=np.float32)


@dataclass
class RanRound:
    """One report round. Shapes: C cells reported, U UEs, Mc/Ms measurement columns, S slices."""

    xapp_instance: str
    seq: int
    step: int
    meid: str
    decided_ns: int
    observation: np.ndarray = field(default_factory=_f32)  # [D] float32
    nodes: tuple[str, ...] = ()
    slices: tuple[Snssai, ...] = ()
    cell_measurements: tuple[str, ...] = ()
    slice_measurements: tuple[str, ...] = ()
    cell_index: np.ndarray = field(default_factory=_u32)  # [C] uint32
    nr_cell_id: np.ndarray = field(default_factory=_u64)  # [C] uint64
    cell_node: np.ndarray = field(default_factory=_u32)  # [C] uint32, index into nodes
    collection_ns: np.ndarray = field(default_factory=_u64)  # [C] uint64
    arrival_ns: np.ndarray = field(default_factory=_u64)  # [C] uint64
    cell_values: np.ndarray = field(default_factory=lambda: _f32(0, 0))  # [C, Mc] float32
    slice_values: np.ndarray = field(default_factory=lambda: _f32(0, 0, 0))  # [C, S, Ms] float32
    ue_id: np.ndarray = field(default_factory=_u64)  # [U] uint64
    ue_cell_index: np.ndarray = field(default_factory=_u32)  # [U] uint32
    ue_rsrp_dbm: np.ndarray = field(default_factory=_f32)  # [U] float32
    controls: tuple[ControlRecord, ...] = ()
    outcomes: tuple[OutcomeUpdate, ...] = ()

    @property
    def n_cells(self) -> int:
        return int(self.cell_index.shape[0])

    def validate(self) -> RanRound:
        """Raise RanViewCodecError unless every column fits the others."""
        c = self.cell_index.shape[0]
        for name in ("nr_cell_id", "cell_node", "collection_ns", "arrival_ns"):
            if getattr(self, name).shape != (c,):
                raise RanViewCodecError(f"{name} has {getattr(self, name).shape[0]} entries for {c} cells")
        if self.cell_values.shape != (c, len(self.cell_measurements)):
            raise RanViewCodecError(
                f"cell_values {self.cell_values.shape} for {c} cells x {len(self.cell_measurements)} columns"
            )
        want = (c, len(self.slices), len(self.slice_measurements))
        if self.slice_values.shape != want:
            raise RanViewCodecError(f"slice_values {self.slice_values.shape}, expected {want}")
        if c and int(self.cell_node.max()) >= len(self.nodes):
            raise RanViewCodecError(f"cell_node refers past the {len(self.nodes)} nodes")
        u = self.ue_id.shape[0]
        if self.ue_cell_index.shape != (u,) or self.ue_rsrp_dbm.shape != (u,):
            raise RanViewCodecError("ue_id, ue_cell_index and ue_rsrp_dbm differ in length")
        for name in ("observation", "cell_values", "slice_values", "ue_rsrp_dbm"):
            if not _all_finite(getattr(self, name)):
                raise RanViewCodecError(f"{name} has non-finite values")
        return self


def _all_finite(values: np.ndarray) -> bool:
    """No NaN or inf: one pass (a float64 sum of float32 values cannot overflow, and a NaN or inf in
    the values makes it non-finite) instead of isfinite's boolean array and its reduction."""
    if values.dtype.itemsize <= 4:
        return bool(np.isfinite(values.sum(dtype=np.float64)))
    return bool(np.isfinite(values).all())


_SCALARS = ("xapp_instance", "seq", "step", "meid", "decided_ns")
# (field number, dtype) of the packed columns, from the descriptor so the .proto stays the definition
_PACKED = {
    name: (RanViewRecord.DESCRIPTOR.fields_by_name[name].number, dtype)
    for name, dtype in (
        ("observation", "<f4"),
        ("cell_index", "<u4"),
        ("nr_cell_id", "<u8"),
        ("cell_node", "<u4"),
        ("collection_ns", "<u8"),
        ("arrival_ns", "<u8"),
        ("cell_values", "<f4"),
        ("slice_values", "<f4"),
        ("ue_id", "<u8"),
        ("ue_cell_index", "<u4"),
        ("ue_rsrp_dbm", "<f4"),
    )
}
_WIRE = WireDecoder(RanViewRecord.DESCRIPTOR, raw=("layout",))
_LAYOUT = WireDecoder(Layout.DESCRIPTOR)


def encode_ran_round(r: RanRound) -> bytes:
    head = RanViewRecord(
        schema_version=SCHEMA_VERSION,
        **{k: getattr(r, k) for k in _SCALARS},
        layout=Layout(
            nodes=list(r.nodes),
            slices=[SnssaiMsg(sst=s.sst, has_sd=s.sd is not None, sd=s.sd or 0) for s in r.slices],
            cell_measurements=list(r.cell_measurements),
            slice_measurements=list(r.slice_measurements),
        ),
        controls=[Control(**{**c.__dict__, "ue_ids": list(c.ue_ids)}) for c in r.controls],
        outcomes=[ControlUpdate(**o.__dict__) for o in r.outcomes],
    )
    parts = [head.SerializeToString()]
    for name, (number, dtype) in _PACKED.items():
        parts.append(encode_packed(number, np.asarray(getattr(r, name)).reshape(-1), dtype))
    return b"".join(parts)


def decode_ran_round(data: bytes) -> RanRound:
    """The typed round; raises RanViewCodecError for anything but a consistent record of this schema."""
    try:
        f = _WIRE.decode(data)
    except WireDecodeError as exc:
        raise RanViewCodecError(f"not a RanViewRecord: {exc}") from None
    if f["schema_version"] != SCHEMA_VERSION:
        raise RanViewCodecError(f"schema_version {f['schema_version']}, expected {SCHEMA_VERSION}")
    c = f["cell_index"].shape[0]
    nodes, slices, cell_cols, slice_cols = _layout(f["layout"])
    mc, ms = len(cell_cols), len(slice_cols)
    try:
        cell_values = f["cell_values"].reshape(c, mc)
        slice_values = f["slice_values"].reshape(c, len(slices), ms)
        r = RanRound(
            **{k: f[k] for k in _SCALARS},
            observation=f["observation"],
            nodes=nodes,
            slices=slices,
            cell_measurements=cell_cols,
            slice_measurements=slice_cols,
            cell_index=f["cell_index"],
            nr_cell_id=f["nr_cell_id"],
            cell_node=f["cell_node"],
            collection_ns=f["collection_ns"],
            arrival_ns=f["arrival_ns"],
            cell_values=cell_values,
            slice_values=slice_values,
            ue_id=f["ue_id"],
            ue_cell_index=f["ue_cell_index"],
            ue_rsrp_dbm=f["ue_rsrp_dbm"],
            controls=tuple(_control(c) for c in f["controls"]),
            outcomes=tuple(OutcomeUpdate(**o) for o in f["outcomes"]),
        )
    except ValueError as exc:  # a reshape that does not fit, a bad slice id
        raise RanViewCodecError(str(exc)) from None
    return r.validate()


@functools.lru_cache(maxsize=64)
def _layout(raw: bytes) -> tuple[tuple[str, ...], tuple[Snssai, ...], tuple[str, ...], tuple[str, ...]]:
    """(nodes, slices, cell columns, slice columns): the same bytes on every record of an xApp, so
    decoded once. Raises RanViewCodecError (not cached) for a bad layout."""
    try:
        f = _LAYOUT.decode(raw)
        slices = tuple(Snssai(int(s["sst"]), int(s["sd"]) if s["has_sd"] else None) for s in f["slices"])
    except (WireDecodeError, ValueError) as exc:
        raise RanViewCodecError(f"layout: {exc}") from None
    return tuple(f["nodes"]), slices, tuple(f["cell_measurements"]), tuple(f["slice_measurements"])


def _control(fields: dict[str, Any]) -> ControlRecord:
    return ControlRecord(**{**fields, "ue_ids": tuple(int(u) for u in fields["ue_ids"])})


def decode_ran_view(data: bytes) -> RanViewRecord:
    """The protobuf message (slow for large records: tools and tests)."""
    msg = RanViewRecord()
    try:
        msg.ParseFromString(bytes(data))
    except Exception as exc:  # protobuf raises its own DecodeError (not a ValueError)
        raise RanViewCodecError(f"not a RanViewRecord: {exc}") from None
    if msg.schema_version != SCHEMA_VERSION:
        raise RanViewCodecError(f"schema_version {msg.schema_version}, expected {SCHEMA_VERSION}")
    return msg
