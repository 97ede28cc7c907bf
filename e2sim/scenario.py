"""Scenario files: YAML describing topology, channel, slices, UEs, handover and scripted events.

``load_scenario("small")`` reads a scenario shipped in ``e2sim/scenarios``; any other argument is a
path. Validation errors name the offending field (``ScenarioError``). A scenario plus its seed fully
determines a run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from e2sim.ran.channel import PathLossModel
from e2sim.ran.handover import HandoverConfig
from e2sim.ran.mobility import MobilityProfile
from e2sim.ran.topology import SmallCellConfig, TopologyConfig
from e2sim.ran.traffic import TrafficProfile
from ricproto.cell_offset import is_q_offset
from ricproto.ran_space import Snssai

# Scenarios where control matters (congested, persistently imbalanced; issue 20), next to the originals.
CONGESTED = ("crowd_small", "hetnet_medium")
SHIPPED = ("small", "medium", "large", *CONGESTED)
EventKind = Literal["traffic_surge", "hotspot", "cell_outage"]


class ScenarioError(ValueError):
    """A scenario file is malformed; ``field`` is the dotted path of what is wrong."""

    def __init__(self, field_path: str, reason: str) -> None:
        self.field = field_path
        self.reason = reason
        super().__init__(f"scenario field {field_path}: {reason}")


@dataclass(frozen=True)
class ChannelConfig:
    model: PathLossModel = "UMa"
    ue_height_m: float = 1.5
    noise_figure_db: float = 9.0
    antenna_gain_dbi: float = 8.0
    shadowing_sigma_db: float = 6.0
    shadowing_decorrelation_m: float = 50.0
    fast_fading: bool = True
    uplink_sinr_offset_db: float = -10.0  # UE transmit power is far below the cell's


@dataclass(frozen=True)
class SliceConfig:
    name: str
    snssai: Snssai
    share: float  # fraction of UEs in this slice
    scheduler: Literal["pf", "rr"]
    min_ratio: int
    max_ratio: int
    dedicated_ratio: int
    traffic: TrafficProfile
    mobility: MobilityProfile
    delay_budget_ms: float | None = None  # packet delay budget the slice's SLA promises (URLLC)


@dataclass(frozen=True)
class EventConfig:
    kind: EventKind
    at_s: float
    duration_s: float | None = None  # None = lasts to the end
    cells: tuple[int, ...] = ()  # cell indices the event concerns
    slice_name: str | None = None  # traffic_surge: only this slice (None = all); hotspot: draw from it
    factor: float = 1.0  # traffic_surge rate multiplier
    fraction: float = 0.0  # hotspot: share of the UEs (of the slice, if given) drawn to it
    radius_m: float = 50.0  # hotspot radius around its centre
    # hotspot centre: by default a third of the ISD into the first cell's sector (its site if omni);
    # with towards_cell, the point ``at`` of the way from the first cell's site to that cell's site
    towards_cell: int | None = None
    at: float = 0.5
    # a moving crowd: the centre walks toward this cell's site at speed_mps (and stops there)
    move_towards_cell: int | None = None
    speed_mps: float = 1.0


@dataclass(frozen=True)
class ClusterConfig:
    """UEs placed in a disc at start and kept wandering inside it: a persistent crowd.

    The centre is given as for a hotspot event (``cell``, optional ``towards_cell`` and ``at``)."""

    cell: int
    fraction: float  # share of the UEs (of the slice, if given)
    radius_m: float = 60.0
    towards_cell: int | None = None
    at: float = 0.5
    slice_name: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    step_s: float
    channel_update_s: float
    topology: TopologyConfig
    channel: ChannelConfig
    handover: HandoverConfig
    slices: tuple[SliceConfig, ...]
    n_ues: int
    ue_buffer_bytes: int
    events: tuple[EventConfig, ...] = field(default_factory=tuple)
    clusters: tuple[ClusterConfig, ...] = field(default_factory=tuple)
    kpm_version: int = 3  # E2SM-KPM version the E2 nodes offer: 3 (v03.00) or 2 (v2.0x)

    @property
    def n_cells(self) -> int:
        return self.topology.n_cells


def load_scenario(name_or_path: str | Path, seed: int | None = None) -> Scenario:
    """Load a shipped scenario by name or a YAML file by path; ``seed`` overrides the file's."""
    if str(name_or_path) in SHIPPED:
        text = resources.files("e2sim.scenarios").joinpath(f"{name_or_path}.yaml").read_text()
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise ScenarioError(
                "<file>", f"{path} is not a shipped scenario ({', '.join(SHIPPED)}) nor a file"
            )
        text = path.read_text()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError("<file>", f"not valid YAML: {exc}") from None
    scenario = parse_scenario(doc)
    if seed is not None:
        scenario = dataclasses.replace(scenario, seed=int(seed))
    return scenario


def _section(doc: dict[str, Any], key: str, required: bool = True) -> dict[str, Any]:
    value = doc.get(key, None if required else {})
    if value is None:
        raise ScenarioError(key, "is required")
    if not isinstance(value, dict):
        raise ScenarioError(key, f"must be a mapping, got {type(value).__name__}")
    return value


def _build(path: str, ctor: Any, values: dict[str, Any]) -> Any:
    try:
        return ctor(**values)
    except TypeError as exc:
        raise ScenarioError(path, f"unknown key, missing key or wrong value type ({exc})") from None
    except ValueError as exc:
        raise ScenarioError(path, str(exc)) from None


def _number(path: str, value: Any, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(path, f"must be a number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ScenarioError(path, f"{value} is outside [{lo}, {hi}]")
    return float(value)


def parse_scenario(doc: Any) -> Scenario:
    if not isinstance(doc, dict):
        raise ScenarioError("<root>", "a scenario is a YAML mapping")
    name = str(doc.get("name", "unnamed"))
    seed = doc.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ScenarioError("seed", f"must be a non-negative integer, got {seed!r}")
    step_s = _number("step_ms", doc.get("step_ms", 20), 1, 1000) / 1000.0
    channel_update_s = _number("channel_update_ms", doc.get("channel_update_ms", 100), 1, 10_000) / 1000.0
    kpm_version = doc.get("kpm_version", 3)
    if kpm_version not in (2, 3) or isinstance(kpm_version, bool):
        raise ScenarioError("kpm_version", f"must be 2 or 3 (E2SM-KPM v2.0x or v3.00), got {kpm_version!r}")

    topo = dict(_section(doc, "topology"))
    if "sites" in topo:
        topo["n_sites"] = topo.pop("sites")
    if "isd_m" in topo:
        topo["inter_site_distance_m"] = topo.pop("isd_m")
    raw_small = topo.pop("small_cells", []) or []
    if not isinstance(raw_small, list):
        raise ScenarioError("topology.small_cells", "must be a list")
    small_cells = []
    for i, raw in enumerate(raw_small):
        if not isinstance(raw, dict):
            raise ScenarioError(f"topology.small_cells[{i}]", "must be a mapping")
        small = _build(f"topology.small_cells[{i}]", SmallCellConfig, dict(raw))
        if not is_q_offset(small.range_expansion_db):
            raise ScenarioError(
                f"topology.small_cells[{i}].range_expansion_db",
                f"{small.range_expansion_db!r} is not a Q-OffsetRange value (integer dB, TS 38.331)",
            )
        small_cells.append(small)
    topo["small_cells"] = tuple(small_cells)
    topology = _build("topology", TopologyConfig, topo)
    channel = _build("channel", ChannelConfig, _section(doc, "channel", required=False))
    if channel.model not in ("UMa", "UMi"):
        raise ScenarioError("channel.model", f"must be UMa or UMi, got {channel.model!r}")
    handover = _build("handover", HandoverConfig, _section(doc, "handover", required=False))

    raw_slices = doc.get("slices")
    if not isinstance(raw_slices, list) or not raw_slices:
        raise ScenarioError("slices", "must be a non-empty list")
    slices: list[SliceConfig] = []
    for i, raw in enumerate(raw_slices):
        p = f"slices[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(p, "must be a mapping")
        try:
            snssai = Snssai(int(raw["sst"]), None if raw.get("sd") is None else int(raw["sd"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise ScenarioError(f"{p}.sst", f"needs a valid sst (and optional sd): {exc}") from None
        quota = raw.get("quota", {"min": 0, "max": 100, "dedicated": 0})
        ratios = []
        for key in ("min", "max", "dedicated"):
            v = quota.get(key, 0 if key != "max" else 100)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100:
                raise ScenarioError(f"{p}.quota.{key}", f"must be an integer percentage 0..100, got {v!r}")
            ratios.append(v)
        if not ratios[2] <= ratios[0] <= ratios[1]:
            raise ScenarioError(f"{p}.quota", "needs dedicated <= min <= max")
        scheduler = raw.get("scheduler", "pf")
        if scheduler not in ("pf", "rr"):
            raise ScenarioError(f"{p}.scheduler", f"must be pf or rr, got {scheduler!r}")
        traffic = _build(f"{p}.traffic", TrafficProfile, dict(raw.get("traffic", {"kind": "full_buffer"})))
        mobility = _build(f"{p}.mobility", MobilityProfile, dict(raw.get("mobility", {})))
        budget = raw.get("delay_budget_ms")
        if budget is not None:
            budget = _number(f"{p}.delay_budget_ms", budget, 0.1, 10_000)
        slices.append(
            SliceConfig(
                name=str(raw.get("name", f"slice{i}")),
                snssai=snssai,
                share=_number(f"{p}.share", raw.get("share", 1.0), 0.0, 1.0),
                scheduler=scheduler,
                min_ratio=ratios[0],
                max_ratio=ratios[1],
                dedicated_ratio=ratios[2],
                traffic=traffic,
                mobility=mobility,
                delay_budget_ms=budget,
            )
        )
    if sum(s.min_ratio for s in slices) > 100 or sum(s.dedicated_ratio for s in slices) > 100:
        raise ScenarioError("slices", "minimum (and dedicated) ratios of all slices must sum to <= 100")
    if len({s.snssai for s in slices}) != len(slices) or len({s.name for s in slices}) != len(slices):
        raise ScenarioError("slices", "slice names and S-NSSAIs must be unique")
    if sum(s.share for s in slices) <= 0:
        raise ScenarioError("slices", "shares must not all be zero")

    ues = _section(doc, "ues")
    n_ues = ues.get("count")
    if isinstance(n_ues, bool) or not isinstance(n_ues, int) or n_ues < 1:
        raise ScenarioError("ues.count", f"must be a positive integer, got {n_ues!r}")
    buffer_bytes = int(_number("ues.buffer_bytes", ues.get("buffer_bytes", 2_000_000), 1))

    n_cells = topology.n_cells
    slice_names = {s.name for s in slices}

    def check_cell(path: str, c: Any) -> None:
        if isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < n_cells:
            raise ScenarioError(path, f"cell index {c!r} is not in 0..{n_cells - 1}")

    clusters: list[ClusterConfig] = []
    raw_clusters = ues.get("clusters", []) or []
    if not isinstance(raw_clusters, list):
        raise ScenarioError("ues.clusters", "must be a list")
    for i, raw in enumerate(raw_clusters):
        p = f"ues.clusters[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(p, "must be a mapping")
        cl = dict(raw)
        if "slice" in cl:
            cl["slice_name"] = cl.pop("slice")
        cluster = _build(p, ClusterConfig, cl)
        check_cell(f"{p}.cell", cluster.cell)
        if cluster.towards_cell is not None:
            check_cell(f"{p}.towards_cell", cluster.towards_cell)
        _number(f"{p}.fraction", cluster.fraction, 0, 1)
        _number(f"{p}.radius_m", cluster.radius_m, 1)
        _number(f"{p}.at", cluster.at, 0, 1)
        if cluster.slice_name is not None and cluster.slice_name not in slice_names:
            raise ScenarioError(f"{p}.slice", f"unknown slice {cluster.slice_name!r}")
        clusters.append(cluster)
    events: list[EventConfig] = []
    for i, raw in enumerate(doc.get("events", []) or []):
        p = f"events[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(p, "must be a mapping")
        ev = dict(raw)
        if "slice" in ev:
            ev["slice_name"] = ev.pop("slice")
        if "cell" in ev:
            ev["cells"] = [ev.pop("cell")]
        ev["cells"] = tuple(ev.get("cells", ()))
        event = _build(p, EventConfig, ev)
        if event.kind not in ("traffic_surge", "hotspot", "cell_outage"):
            raise ScenarioError(f"{p}.kind", f"unknown event kind {event.kind!r}")
        _number(f"{p}.at_s", event.at_s, 0)
        if event.duration_s is not None:
            _number(f"{p}.duration_s", event.duration_s, 0)
        for c in event.cells:
            check_cell(f"{p}.cells", c)
        for key in ("towards_cell", "move_towards_cell"):
            if getattr(event, key) is not None:
                check_cell(f"{p}.{key}", getattr(event, key))
        _number(f"{p}.at", event.at, 0, 1)
        _number(f"{p}.speed_mps", event.speed_mps, 0)
        if event.kind in ("hotspot", "cell_outage") and not event.cells:
            raise ScenarioError(f"{p}.cells", f"a {event.kind} needs a cell")
        if event.slice_name is not None and event.slice_name not in slice_names:
            raise ScenarioError(f"{p}.slice", f"unknown slice {event.slice_name!r}")
        _number(f"{p}.factor", event.factor, 0)
        _number(f"{p}.fraction", event.fraction, 0, 1)
        events.append(event)

    return Scenario(
        name,
        seed,
        step_s,
        channel_update_s,
        topology,
        channel,
        handover,
        tuple(slices),
        n_ues,
        buffer_bytes,
        tuple(events),
        tuple(clusters),
        kpm_version,
    )
