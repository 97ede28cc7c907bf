"""How fast the RAN model runs: simulated seconds per wall second, with reports every 100 ms.

For each shipped scenario the model steps on its simulated clock and every 100 ms of simulated time
reads a cell report (every cell, all 28.552 measurements, per slice) for a fresh granularity period.
The "with E2 encoding" variant runs the E2 agent's nodes instead (one per gNB, detached from any
connection) with KPM report styles 1 to 5 subscribed through real E2AP subscription requests, every
100 ms with 100 ms granularity, and counts the RICindications they encode (real APER):

* style 1, one action per cell: every cell measurement (noLabel) and every per-slice one (sliceID);
* style 2, one UE of the node: every UE-level measurement;
* style 3, the node's first cell: DL throughput, UL volume and RSRP of the UEs with UL RSRP below
  -115 dBm (the cell edge), and DL throughput of each slice's UEs (matched UE ids listed);
* style 4, the node's first cell: five measurements of the UEs with CQI below 4 (a cell-edge monitor);
* style 5, two UEs of the node: every UE-level measurement.

That is the load of a cell-level monitor (kpimon-go's style-1 action per cell) plus UE-level
monitors that follow a few UEs, as xApps use styles 2-5; a style-4 action over every UE of every
cell would be a different (per-UE tracing) workload.

    .venv/bin/python bench/e2sim_speed.py [--quick]

Targets (issue 5; issue 15 with styles 1-5 subscribed): medium >= 50x, large >= 5x real time. Both
wall-clock and CPU-time factors are printed: on a shared machine the wall clock also counts time other
processes held the cores.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from e2sim.agent import AgentConfig, E2Node  # noqa: E402
from e2sim.ran.counters import CELL_MEASUREMENTS, SLICE_MEASUREMENTS, UE_MEASUREMENTS  # noqa: E402
from e2sim.ran.model import RanModel  # noqa: E402
from e2sim.rc_control import ue_identity  # noqa: E402
from e2sim.scenario import load_scenario  # noqa: E402
from ricproto import e2ap  # noqa: E402
from ricproto.e2sm import kpm  # noqa: E402
from ricproto.e2sm.identities import NrCgi, SNssai, plmn_from_digits  # noqa: E402

REPORT_PERIOD_S = 0.1
TARGETS = {"medium": 50.0, "large": 5.0}
WARMUP_S = 1.0
KPM_RAN_FUNCTION_ID = 2
GRANULE_MS = 100


def _info(names: tuple[str, ...], cgi: NrCgi | None = None) -> kpm.ActionDefinitionFormat1:
    return kpm.ActionDefinitionFormat1(tuple(kpm.MeasurementInfoItem(n) for n in names), GRANULE_MS, cgi)


def styles_1_to_5(model: RanModel, node: E2Node) -> list[kpm.ActionDefinition]:
    """The bench's REPORT actions for one node (module docstring)."""
    spec = node.spec
    plmn = plmn_from_digits(spec.plmn)
    cgis = [NrCgi(plmn, model.cells[c].nr_cgi.nr_cell_id) for c in spec.cell_indices]
    slice_labels = tuple(kpm.MeasurementLabel(slice_id=SNssai(s.sst, s.sd)) for s in model.slices)
    actions = [
        kpm.ActionDefinition(1, kpm.ActionDefinitionFormat1(
            tuple(kpm.MeasurementInfoItem(n) for n in CELL_MEASUREMENTS)
            + tuple(kpm.MeasurementInfoItem(n, slice_labels) for n in SLICE_MEASUREMENTS),
            GRANULE_MS, cgi))
        for cgi in cgis
    ]
    served = [u for u in range(model.n_ues) if model.serving[u] in spec.cell_indices] or [0, 1]
    ues = [ue_identity(u, spec.plmn) for u in (served * 2)[:2]]
    actions.append(kpm.ActionDefinition(2, kpm.ActionDefinitionFormat2(ues[0], _info(UE_MEASUREMENTS))))
    weak_ul = kpm.MatchingCondItem(kpm.TestCondInfo("ul-rSRP", "lessthan", ("valueInt", -115)))
    conditions = [
        kpm.MeasurementCondItem("DRB.UEThpDl", (weak_ul,)),
        kpm.MeasurementCondItem("DRB.RlcSduTransmittedVolumeUL", (weak_ul,)),
        kpm.MeasurementCondItem("RSRP", (weak_ul,)),
    ] + [kpm.MeasurementCondItem("DRB.UEThpDl", (kpm.MatchingCondItem(label),)) for label in slice_labels]
    by_condition = kpm.ActionDefinitionFormat3(tuple(conditions), GRANULE_MS, cgis[0])
    actions.append(kpm.ActionDefinition(3, by_condition))
    edge = (kpm.MatchingUeCondPerSubItem(kpm.TestCondInfo("cQI", "lessthan", ("valueInt", 4))),)
    edge_names = ("DRB.UEThpDl", "DRB.UEThpUl", "RSRP", "CQI", "L1M.SS-SINR")
    actions.append(kpm.ActionDefinition(4, kpm.ActionDefinitionFormat4(edge, _info(edge_names, cgis[0]))))
    if ues[0] != ues[1]:
        listed = kpm.ActionDefinitionFormat5(tuple(ues), _info(UE_MEASUREMENTS))
        actions.append(kpm.ActionDefinition(5, listed))
    return actions


def subscribed_nodes(model: RanModel, styles: tuple[int, ...] = (1, 2, 3, 4, 5)) -> list[E2Node]:
    """One detached E2 node per gNB, each with the bench's actions of ``styles`` subscribed (every
    action admitted)."""
    nodes = []
    trigger = kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(round(REPORT_PERIOD_S * 1000)))
    for spec in model.nodes:
        node = E2Node(spec, model, AgentConfig("127.0.0.1", 0))
        node.serve_detached()
        actions = [a for a in styles_1_to_5(model, node) if a.ric_style_type in styles]
        items = [
            e2ap.RICactionToBeSetupItem(n, e2ap.RICactionType.report, kpm.encode_action_definition(a))
            for n, a in enumerate(actions, start=1)
        ]
        reply = node.handle(e2ap.RICsubscriptionRequest(
            e2ap.RICrequestID(1, 1), KPM_RAN_FUNCTION_ID, e2ap.RICsubscriptionDetails(trigger, items)))
        if not isinstance(reply, e2ap.RICsubscriptionResponse) or reply.ricActionsNotAdmitted:
            raise SystemExit(f"{spec.ran_name}: the bench's subscription was not fully admitted: {reply}")
        nodes.append(node)
    return nodes


def measure(
    name: str, sim_s: float, e2: bool, progress: Progress, styles: tuple[int, ...] = (1, 2, 3, 4, 5)
) -> tuple[float, float, list[float], int]:
    """Realtime factors (wall clock, CPU time), wall ms per 100 ms period, E2 bytes encoded."""
    model = RanModel(load_scenario(name))
    model.run(WARMUP_S)
    nodes = subscribed_nodes(model, styles) if e2 else []
    periods = round(sim_s / REPORT_PERIOD_S)
    label = "raw" if not e2 else "E2 " + "".join(map(str, styles))
    task = progress.add_task(f"{name:6s} {label}", total=periods)
    per_period_ms: list[float] = []
    encoded = 0
    steps = round(REPORT_PERIOD_S / model.dt)
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(periods):
        t0 = time.perf_counter()
        if e2:
            for _ in range(steps):  # as E2Agent.run_clock: every node looks at every step
                model.step()
                for node in nodes:
                    node.on_tick(model.now_s)
            encoded += sum(len(pdu) for node in nodes for pdu in node.take_sent())
        else:
            period = model.start_period()
            model.run(REPORT_PERIOD_S)
            model.cell_reports(period)
        per_period_ms.append((time.perf_counter() - t0) * 1e3)
        progress.advance(task)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return sim_s / wall, sim_s / cpu, per_period_ms, encoded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (about half a minute in total)")
    args = parser.parse_args()
    if args.quick:
        durations = {"small": 10.0, "medium": 10.0, "large": 4.0}
    else:
        durations = {"small": 60.0, "medium": 60.0, "large": 20.0}
    console = Console(stderr=True, width=150)
    wall: dict[tuple[str, bool], float] = {}
    cpu: dict[tuple[str, bool], float] = {}
    traces: dict[tuple[str, bool], list[float]] = {}
    e2_bytes: dict[str, int] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} periods"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        for name, sim_s in durations.items():
            for e2 in (False, True):
                key = (name, e2)
                wall[key], cpu[key], traces[key], encoded = measure(name, sim_s, e2, progress)
                if e2:
                    e2_bytes[name] = encoded
        # the same-run baseline for the styles' cost: medium with the style-1 (cell) actions alone
        style1_wall, style1_cpu, _, _ = measure("medium", durations["medium"], True, progress, (1,))

    load = os.getloadavg()[0]
    table = Table(
        title=f"e2sim speed, reports every 100 ms (load average {load:.1f} on {os.cpu_count()} CPUs)"
    )
    for col in (
        "scenario",
        "cells",
        "UEs",
        "step ms",
        "sim s",
        "x real",
        "x real (CPU)",
        "x real E2",
        "x real E2 (CPU)",
        "E2 kB/s sim",
        "target",
    ):
        table.add_column(col)
    for name in durations:
        sc = load_scenario(name)
        table.add_row(
            name,
            str(sc.topology.n_sites * sc.topology.sectors),
            str(sc.n_ues),
            f"{sc.step_s * 1e3:.0f}",
            f"{durations[name]:.0f}",
            f"{wall[(name, False)]:.1f}",
            f"{cpu[(name, False)]:.1f}",
            f"{wall[(name, True)]:.1f}",
            f"{cpu[(name, True)]:.1f}",
            f"{e2_bytes[name] / durations[name] / 1e3:.1f}",
            f">= {TARGETS[name]:.0f}" if name in TARGETS else "-",
        )
    console.print(table)
    console.print(
        f"medium, E2 with style 1 only (same run): x real {style1_wall:.1f} (CPU {style1_cpu:.1f}); "
        f"styles 1-5 run at {wall[('medium', True)] / style1_wall:.2f} of that"
    )

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    names = list(durations)
    x = range(len(names))
    ax1.bar([i - 0.2 for i in x], [wall[(n, False)] for n in names], 0.4, label="model + reports")
    ax1.bar([i + 0.2 for i in x], [wall[(n, True)] for n in names], 0.4, label="+ E2 encoding")
    for n, target in TARGETS.items():
        i = names.index(n)
        ax1.hlines(target, i - 0.45, i + 0.45, colors="tab:red", linestyles="--")
    ax1.set_xticks(list(x), names)
    ax1.set_yscale("log")
    ax1.set_ylabel("simulated s per wall s")
    ax1.set_title("realtime factor (red dashes: targets)")
    ax1.legend()
    for n in names:
        for e2, style in ((False, "-"), (True, ":")):
            ys = traces[(n, e2)]
            ax2.plot(
                [REPORT_PERIOD_S * (i + 1) for i in range(len(ys))],
                ys,
                style,
                lw=0.8,
                label=f"{n}{' E2' if e2 else ''}",
            )
    ax2.axhline(REPORT_PERIOD_S * 1e3, color="grey", lw=0.6)
    ax2.set_xlabel("simulated time (s)")
    ax2.set_ylabel("wall ms per 100 ms period (grey: real time)")
    ax2.set_yscale("log")
    ax2.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(out / "e2sim_speed.png", dpi=120)
    console.print(f"plot: {out / 'e2sim_speed.png'}")

    result: dict[str, object] = {}
    for name in names:
        result[f"realtime_factor_{name}"] = round(wall[(name, False)], 2)
    for name in names:
        result[f"realtime_factor_{name}_e2"] = round(wall[(name, True)], 2)
    for name in names:
        result[f"cpu_realtime_factor_{name}"] = round(cpu[(name, False)], 2)
        result[f"cpu_realtime_factor_{name}_e2"] = round(cpu[(name, True)], 2)
    result["realtime_factor_medium_e2_style1"] = round(style1_wall, 2)
    result["cpu_realtime_factor_medium_e2_style1"] = round(style1_cpu, 2)
    result["medium_e2_styles_1_5_vs_style1"] = round(wall[("medium", True)] / style1_wall, 3)
    result["load_average"] = round(load, 2)
    result["quick"] = args.quick
    print(json.dumps(result))


if __name__ == "__main__":
    main()
