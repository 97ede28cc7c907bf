"""Control-loop latency: a RIC indication's arrival in the control xApp -> its RC control leaving.

Runs a local loop with real processes: e2sim (scenario ``medium``: 21 cells on 7 E2 nodes, reports
every 100 ms, real time) -> e2term -> the control xApp (RMR, subscriptions through submgr) -> RC
control back to the node, with real Redis, a PDP peer on RMR (answers cached for 60 s, as a PDP
would allow) and a twin stand-in on HTTP that answers planning requests at once (so the planning
figure is the xApp's own overhead of asking, not a planner's search time).

The xApp records, per step, the arrival time of the indication that completed the report round and
the time its first control request left (``Transition.timestamps`` in the Redis stream); the bench
reads those. Phase 1: a promoted MLP snapshot (numpy, 210-64-64-190) with Boltzmann exploration,
planning off. Phase 2: the same with ``planner_budget_ms`` = 50 (planning on).

    .venv/bin/python bench/loop_latency.py [--seconds 20] [--warmup 10] [--scenario medium]

The last line printed is one JSON object: loop_p50_ms, loop_p99_ms, loop_p99_ms_planning (+ counts).
A plot goes to bench/out/loop_latency.png. (``twinric up`` does not start the control xApp yet, so
the bench starts the same processes itself.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import redis
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from e2sim.ran.model import RanModel  # noqa: E402
from e2sim.scenario import load_scenario  # noqa: E402
from ricproto import a1, access, mtypes  # noqa: E402
from ricproto.policy_snapshot import encode_snapshot, random_snapshot, snapshot_key, version_key  # noqa: E402
from ricproto.rmr import RmrContext  # noqa: E402
from ricproto.transition import decode_transition, stream_key  # noqa: E402
from twinric.ports import free_port, wait_for_port  # noqa: E402
from twinric.processes import ManagedProcess, wait_until  # noqa: E402
from twinric.redis_server import PrivateRedis  # noqa: E402
from xapps.control.control_policy import policy_type_id  # noqa: E402

INSTANCE = "control-bench"
console = Console(stderr=True)


def ran_controls(scenario: str, n_neighbours: int = 3) -> dict[str, Any]:
    """``controls.ran`` of the control xApp for an e2sim scenario (cells, nodes, neighbours, slices)."""
    sc = load_scenario(scenario)
    model = RanModel(sc)
    layout = model.cell_layout(n_neighbours)
    meid = {i: node.ran_name for node in model.nodes for i in node.cell_indices}
    return {
        "max_cells": len(model.cells),
        "n_neighbours": n_neighbours,
        "plmn": sc.topology.plmn,
        "report_period_ms": 100,
        "slices": [
            {
                "sst": s.snssai.sst,
                "sd": s.snssai.sd,
                "quota": {"min": s.min_ratio, "max": s.max_ratio, "dedicated": s.dedicated_ratio},
            }
            for s in sc.slices
        ],
        "cells": [
            {
                "nr_cell_id": c.nr_cgi.nr_cell_id,
                "meid": meid[c.index],
                "neighbours": [layout.nr_cell_ids[j] for j in layout.neighbours[c.index]],
            }
            for c in model.cells
        ],
    }


def routes(path: Path, table: list[tuple[int, int, str]]) -> Path:
    path.write_text("newrt|start\n" + "".join(f"mse|{m}|{s}|{e}\n" for m, s, e in table) + "newrt|end\n")
    return path


class Peer:
    """PDP (PERMIT, ttl 60 s) and A1 sender on one RMR endpoint."""

    def __init__(self, rt: Path) -> None:
        self.port = free_port()
        self.rt = rt
        rt.write_text("newrt|start\nnewrt|end\n")
        self.ctx = RmrContext(
            self.port, src_id="127.0.0.1", bind_host="127.0.0.1", seed_rt=str(rt), route_client=False
        )
        self.answers: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            m = self.ctx.receive(0.2)
            if m is None:
                continue
            if m.mtype == mtypes.TWINRIC_ACCESS_REQ:
                req = access.decode_request(m.payload)
                resp = access.AccessResponse(req.request_id, access.Decision.PERMIT, "bench", 60.0)
                self.ctx.rts(m, access.encode_response(resp), mtypes.TWINRIC_ACCESS_RESP)
            elif m.mtype == mtypes.A1_POLICY_RESP:
                self.answers.append(json.loads(m.payload))

    def policy(self, instance: str, payload: dict, operation: str = "CREATE") -> None:
        n = len(self.answers)
        req = a1.A1PolicyRequest(a1.A1Operation(operation), policy_type_id(), instance, payload)
        self.ctx.send(mtypes.A1_POLICY_REQ, a1.encode_policy_request(req), sub_id=policy_type_id())
        if not wait_until(lambda: len(self.answers) > n, 5) or self.answers[-1]["status"] != "OK":
            raise RuntimeError(f"A1 policy not enforced: {self.answers[-1:]}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.ctx.close()


class InstantPlanner:
    def __init__(self, action: int, max_cells: int) -> None:
        self.port = free_port()
        app = FastAPI()

        @app.post("/v1/plan")
        def plan(body: dict[str, Any]) -> dict[str, Any]:
            return {"action": action}

        @app.post("/v1/predict")
        def predict(body: dict[str, Any]) -> dict[str, Any]:
            return {"predicted_load": [0.0] * max_cells}

        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        threading.Thread(target=self.server.run, daemon=True).start()
        wait_for_port(self.port, timeout=10)

    def stop(self) -> None:
        self.server.should_exit = True


def latencies_ms(client: redis.Redis, start_id: str = "-") -> tuple[list[float], str, int]:
    entries = client.xrange(stream_key(INSTANCE), min=start_id)
    out = []
    for _, fields in entries:
        t = decode_transition(fields[b"t"])
        if t.timestamps.control_sent_ns:
            out.append((t.timestamps.control_sent_ns - t.timestamps.indication_ns) / 1e6)
    last = entries[-1][0].decode() if entries else start_id
    return out, last, len(entries)


def run_phase(client: redis.Redis, seconds: float, label: str) -> tuple[list[float], int]:
    start = (
        client.xinfo_stream(stream_key(INSTANCE))["last-generated-id"]
        if client.exists(stream_key(INSTANCE))
        else "0-0"
    )
    start = start.decode() if isinstance(start, bytes) else start
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=seconds)
        t0 = time.monotonic()
        while (elapsed := time.monotonic() - t0) < seconds:
            time.sleep(0.5)
            progress.update(task, completed=min(elapsed, seconds))
    time.sleep(0.5)
    values, _, steps = latencies_ms(client, f"({start}")
    return values, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="wall seconds per phase")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before measuring")
    parser.add_argument("--scenario", default="medium")
    args = parser.parse_args()
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="loop-latency-"))
    ran = ran_controls(args.scenario)
    n_cells, n_slices = len(ran["cells"]), len(ran["slices"])
    n_feat = 4 + 2 * n_slices
    n_actions = 1 + n_cells * 3 + n_cells * n_slices * 2
    procs: list[ManagedProcess] = []
    server = PrivateRedis().start()
    client = redis.Redis.from_url(server.url)
    peer = Peer(tmp / "peer.rt")
    planner = InstantPlanner(1 + n_cells * 3 + 1, n_cells)  # a quota step down of cell 0, slice 0
    try:
        e2_port, e2t_rmr, e2t_metrics, sub_http, sub_rmr, x_http, x_rmr = (free_port() for _ in range(7))
        x_ep, sub_ep, e2t_ep = f"127.0.0.1:{x_rmr}", f"127.0.0.1:{sub_rmr}", f"127.0.0.1:{e2t_rmr}"
        descriptor = json.loads((ROOT / "xapps/control/config-file.json").read_text())
        descriptor["controls"].update(
            {
                "xapp_instance": INSTANCE,
                "rmr_port": x_rmr,
                "http_port": x_http,
                "redis_url": server.url,
                "submgr_url": f"http://127.0.0.1:{sub_http}",
                "twin_url": f"http://127.0.0.1:{planner.port}",
                "register": False,
                "ran": ran,
                "snapshot_poll_s": 0.2,
            }
        )
        (tmp / "x.json").write_text(json.dumps(descriptor))
        x_rt = routes(
            tmp / "x.rt",
            [(mtypes.RIC_CONTROL_REQ, -1, e2t_ep)]
            + [
                (m, -1, f"127.0.0.1:{peer.port}")
                for m in (mtypes.TWINRIC_ACCESS_REQ, mtypes.A1_POLICY_RESP, mtypes.A1_POLICY_QUERY)
            ],
        )
        peer.ctx.load_routes(routes(peer.rt, [(mtypes.A1_POLICY_REQ, policy_type_id(), x_ep)]).read_text())
        e2t_rt = routes(
            tmp / "e2t.rt",
            [
                (mtypes.RIC_SUB_RESP, -1, sub_ep),
                (mtypes.RIC_SUB_FAILURE, -1, sub_ep),
                (mtypes.RIC_SUB_DEL_RESP, -1, sub_ep),
                (mtypes.RIC_SUB_DEL_FAILURE, -1, sub_ep),
                (mtypes.RIC_INDICATION, -1, x_ep),
                (mtypes.RIC_CONTROL_ACK, -1, x_ep),
                (mtypes.RIC_CONTROL_FAILURE, -1, x_ep),
            ],
        )
        sub_rt = routes(
            tmp / "sub.rt", [(mtypes.RIC_SUB_REQ, -1, e2t_ep), (mtypes.RIC_SUB_DEL_REQ, -1, e2t_ep)]
        )
        env = {**os.environ, "TWINRIC_RMR": "python", "RMR_SRC_ID": "127.0.0.1", "RMR_RTG_SVC": "-1"}
        console.print(f"[bold]loop latency[/]: scenario {args.scenario}, {n_cells} cells, logs in {tmp}")
        procs.append(
            ManagedProcess(
                "e2term",
                [
                    py,
                    "-m",
                    "ricplt.e2term",
                    "--e2-host",
                    "127.0.0.1",
                    "--e2-port",
                    str(e2_port),
                    "--transport",
                    "tcp",
                    "--rmr-port",
                    str(e2t_rmr),
                    "--metrics-port",
                    str(e2t_metrics),
                    "--redis-url",
                    server.url,
                    "--seed-rt",
                    str(e2t_rt),
                    "--src-id",
                    "127.0.0.1",
                    "--log-level",
                    "WARNING",
                ],
                log_path=tmp / "e2term.log",
            ).start()
        )
        procs.append(
            ManagedProcess(
                "submgr",
                [
                    py,
                    "-m",
                    "ricplt.submgr",
                    "--http-host",
                    "127.0.0.1",
                    "--http-port",
                    str(sub_http),
                    "--rmr-port",
                    str(sub_rmr),
                    "--redis-url",
                    server.url,
                    "--seed-rt",
                    str(sub_rt),
                    "--src-id",
                    "127.0.0.1",
                    "--log-level",
                    "WARNING",
                ],
                log_path=tmp / "submgr.log",
            ).start()
        )
        procs.append(
            ManagedProcess(
                "control",
                [py, "-m", "xapps.control"],
                env={
                    **env,
                    "CONFIG_FILE": str(tmp / "x.json"),
                    "RMR_SEED_RT": str(x_rt),
                    "TWINRIC_HTTP_HOST": "127.0.0.1",
                    "TWINRIC_CLIENT_HOST": "127.0.0.1",
                    "TWINRIC_LOG_LEVEL": "WARNING",
                },
                log_path=tmp / "control.log",
            ).start()
        )
        for port in (e2_port, sub_http, x_http):
            if not wait_for_port(port, timeout=30):
                raise RuntimeError(f"a component did not start; see {tmp}")
        procs.append(
            ManagedProcess(
                "e2sim",
                [
                    py,
                    "-m",
                    "e2sim",
                    "--scenario",
                    args.scenario,
                    "--e2t",
                    f"127.0.0.1:{e2_port}",
                    "--transport",
                    "tcp",
                    "--realtime",
                ],
                log_path=tmp / "e2sim.log",
            ).start()
        )

        snap = random_snapshot("bench-1", [n_cells * n_feat, 64, 64, n_actions], seed=1)
        client.set(snapshot_key(INSTANCE), encode_snapshot(snap))
        client.set(version_key(INSTANCE), snap.version)
        base = {"exploration": {"kind": "boltzmann", "temperature": 1.0}, "cell_load_limit": 0.95}
        time.sleep(1.0)
        peer.policy("bench", {**base, "planner_budget_ms": 0})
        if not wait_until(lambda: client.exists(stream_key(INSTANCE)), 30):
            raise RuntimeError(f"no transitions: the loop did not start; see {tmp}")
        with Progress(console=console, transient=True) as progress:  # every node subscribed, PDP cache warm
            task = progress.add_task("warm-up", total=args.warmup)
            for i in range(int(args.warmup * 2)):
                time.sleep(0.5)
                progress.update(task, completed=(i + 1) / 2)
        off, steps_off = run_phase(client, args.seconds, "planning off")
        peer.policy("bench", {**base, "planner_budget_ms": 50}, "UPDATE")
        time.sleep(1.0)
        on, steps_on = run_phase(client, args.seconds, "planning on ")
    finally:
        for p in reversed(procs):
            p.stop()
        peer.close()
        planner.stop()
        server.stop()
    if len(off) < 10 or len(on) < 10:
        raise SystemExit(f"too few controls measured (off {len(off)}, on {len(on)}); see {tmp}")
    result = {
        "loop_p50_ms": round(float(np.percentile(off, 50)), 3),
        "loop_p99_ms": round(float(np.percentile(off, 99)), 3),
        "loop_p50_ms_planning": round(float(np.percentile(on, 50)), 3),
        "loop_p99_ms_planning": round(float(np.percentile(on, 99)), 3),
        "controls_measured": len(off),
        "controls_measured_planning": len(on),
        "steps": steps_off,
        "steps_planning": steps_on,
        "scenario": args.scenario,
    }
    plot(off, on, ROOT / "bench" / "out" / "loop_latency.png")
    console.print(
        f"planning off: p50 {result['loop_p50_ms']} ms, p99 {result['loop_p99_ms']} ms "
        f"({len(off)} controls); planning on: p99 {result['loop_p99_ms_planning']} ms ({len(on)})"
    )
    print(json.dumps(result))


def plot(off: list[float], on: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    for values, label in ((off, "planning off"), (on, "planning on (instant twin)")):
        xs = np.sort(values)
        ax.plot(xs, np.arange(1, len(xs) + 1) / len(xs), label=f"{label}, n={len(xs)}")
    ax.axvline(10, color="grey", linestyle="--", label="10 ms target")
    ax.set_xscale("log")
    ax.set_xlabel("indication arrival -> control leaving (ms)")
    ax.set_ylabel("CDF")
    ax.set_title("control xApp loop latency")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
