"""Control-loop latency: a RIC indication's arrival in the control xApp -> its RC control leaving.

Runs the stack exactly as ``twinric up --scenario medium`` builds it (``twinric.local_stack``: appmgr
as rtmgr, e2term, submgr, the A1 mediator, e2sim at real time with 21 cells on 7 E2 nodes reporting
every 100 ms, the control xApp; a private Redis), with what the box lacks added on top:

* the zero-trust PDP xApp as ``twinric up`` runs it (the default policy over A1, the operator's default
  trust, the control xApp's PEP signing its requests, e2term forwarding only granted controls), so
  the figures include asking the PDP on a cache miss and signing each control's grant proof;
* a twin stand-in on HTTP that answers planning requests at once (so the planning figure is the
  xApp's own overhead of asking, not a planner's search time);
* the control xApp told of the twin through ``StackOptions.control_overrides`` (``twin_url``),
  a promoted MLP snapshot (numpy, observation-64-64-actions, sized by the RAN space) in Redis and an
  A1 policy through the mediator's REST API: Boltzmann exploration, planning off (phase 1), then
  ``planner_budget_ms`` = 50 (phase 2).

The xApp records, per step, the arrival time of the indication that completed the report round and
the time its first control request left (``Transition.timestamps`` in the Redis stream); the bench
reads those.

    .venv/bin/python bench/loop_latency.py [--seconds 20] [--warmup 10] [--scenario medium] [--log-level INFO]

The last line printed is one JSON object: loop_p50_ms, loop_p99_ms, loop_p99_ms_planning (+ the
planning p50, decision_p50_ms/decision_p99_ms = indication -> decision taken, counts). A plot goes to
bench/out/loop_latency.png; the processes' logs stay in the printed run directory.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import redis
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ricproto import mtypes  # noqa: E402
from ricproto.policy_snapshot import encode_snapshot, random_snapshot, snapshot_key, version_key  # noqa: E402
from ricproto.ran_space import QuotaStep  # noqa: E402
from ricproto.transition import decode_transition, stream_key  # noqa: E402
from twinric import pdp_cmd, pdp_stack  # noqa: E402
from twinric.local_stack import (  # noqa: E402
    HOST,
    PLATFORM_ROLES,
    XAPP_ROLES,
    StackOptions,
    available_xapps,
    build_services,
    control_policy_type,
    ran_controls,
    urls,
)
from twinric.ports import allocate_ports, free_port, wait_for_port  # noqa: E402
from twinric.processes import wait_until  # noqa: E402
from twinric.redis_server import PrivateRedis  # noqa: E402
from twinric.stack import Stack  # noqa: E402
from twinric.up_cmd import create_policy_type  # noqa: E402
from xapps.control.ran_view import RanInventory  # noqa: E402

POLICY_INSTANCE = "bench"
console = Console(stderr=True)


class InstantTwin:
    """The twin sidecar's HTTP API, answering at once: plan -> a fixed action, predict -> zero loads."""

    def __init__(self, action: int, max_cells: int) -> None:
        self.port = free_port()
        app = FastAPI()

        @app.post("/v1/plan")
        def plan(body: dict[str, Any]) -> dict[str, Any]:
            return {"action": action}

        @app.post("/v1/predict")
        def predict(body: dict[str, Any]) -> dict[str, Any]:
            return {"predicted_load": [0.0] * max_cells}

        self.server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=self.port, log_level="warning"))
        threading.Thread(target=self.server.run, daemon=True).start()
        if not wait_for_port(self.port, timeout=10):
            raise RuntimeError("the twin stand-in did not start")

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True


def latencies_ms(client: redis.Redis, stream: str, start_id: str) -> tuple[list[float], list[float], int]:
    """(indication -> control leaving, indication -> decision taken) per step that sent a control, in ms;
    and the number of steps."""
    entries = client.xrange(stream, min=start_id)
    loop, decision = [], []
    for _, fields in entries:
        ts = decode_transition(fields[b"t"]).timestamps
        if ts.control_sent_ns:
            loop.append((ts.control_sent_ns - ts.indication_ns) / 1e6)
            decision.append((ts.decided_ns - ts.indication_ns) / 1e6)
    return loop, decision, len(entries)


Phase = tuple[list[float], list[float], int]


def run_phase(client: redis.Redis, stream: str, seconds: float, label: str) -> Phase:
    start = client.xinfo_stream(stream)["last-generated-id"]
    start = start.decode() if isinstance(start, bytes) else start
    wait(seconds, label)
    time.sleep(0.5)  # the last step's transition is written when the next round completes
    return latencies_ms(client, stream, f"({start}")


def wait(seconds: float, label: str) -> None:
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(label, total=seconds)
        t0 = time.monotonic()
        while (elapsed := time.monotonic() - t0) < seconds:
            time.sleep(0.25)
            progress.update(task, completed=min(elapsed, seconds))


def wait_for_routes(appmgr_url: str, prefixes: list[str], timeout: float = 30) -> None:
    """Until rtmgr's table routes A1 requests to the xApp and its access requests to the PDP
    (a policy PUT before that is not delivered: the mediator has no route yet)."""

    def routed() -> bool:
        table = httpx.get(f"{appmgr_url}/ric/v1/routes", timeout=2).json()["table"]
        return all(any(line.startswith(p) for line in table.splitlines()) for p in prefixes)

    if not wait_until(routed, timeout):
        raise RuntimeError(f"appmgr never routed {prefixes}")


def put_policy(a1_url: str, control_http: int, payload: dict[str, Any]) -> None:
    """An operator's A1 policy through the mediator; returns once the xApp acts on it."""
    type_id = control_policy_type()["policy_type_id"]
    resp = httpx.put(
        f"{a1_url}/A1-P/v2/policytypes/{type_id}/policies/{POLICY_INSTANCE}", json=payload, timeout=5
    )
    if resp.status_code != 202:
        raise RuntimeError(f"A1 policy refused: {resp.status_code} {resp.text}")

    def applied() -> bool:
        detail = httpx.get(f"http://{HOST}:{control_http}/ric/v1/health/ready", timeout=2).json()
        settings = detail.get("settings", {})
        return detail.get("a1_instance") == POLICY_INSTANCE and all(
            settings.get(k) == v for k, v in payload.items() if not isinstance(v, dict)
        )

    if not wait_until(applied, 20):
        raise RuntimeError(f"the control xApp did not apply A1 policy {payload}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="wall seconds per phase")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds after the PDP's first answer")
    parser.add_argument("--scenario", default="medium")
    parser.add_argument("--log-level", default="INFO", help="of the stack's processes (twinric up's default)")
    args = parser.parse_args()
    if "control" not in available_xapps():
        raise SystemExit("the control xApp is not installed")
    run_dir = Path(tempfile.mkdtemp(prefix="loop-latency-"))
    roles = PLATFORM_ROLES + XAPP_ROLES
    ports = allocate_ports(roles, free=True)
    server = PrivateRedis().start()
    client = redis.Redis.from_url(server.url)
    twin: InstantTwin | None = None
    stack: Stack | None = None
    try:
        ran = ran_controls(args.scenario)  # what `up` writes into the xApp's descriptor
        space = RanInventory.from_config(ran).space  # the sizes the xApp derives from it
        n_cells, n_feat, n_actions = len(ran["cells"]), space.n_features, space.n_actions
        twin = InstantTwin(space.encode(QuotaStep(0, 0, -1)), n_cells)  # plans a quota step down
        options = StackOptions(
            scenario=args.scenario,
            log_level=args.log_level,
            control_overrides={"twin_url": twin.url, "snapshot_poll_s": 0.2},
        )
        stack = Stack(build_services(ports, server.url, options, run_dir), run_dir)
        descriptor = json.loads((run_dir / "control-config.json").read_text())
        instance = str(descriptor["controls"].get("xapp_instance") or descriptor["name"])
        stream = stream_key(instance)
        console.print(
            f"[bold]loop latency[/]: twinric up --scenario {args.scenario} ({n_cells} cells) "
            f"+ the PDP + a twin stand-in; logs in {run_dir}"
        )
        with console.status("starting the stack"):
            pdp_stack.write_default_trust(server.url, pdp_stack.default_trust_subjects(ran))
            stack.start(extra_state={"urls": urls(ports), "redis_url": server.url, "scenario": args.scenario})
            create_policy_type(urls(ports)["a1"], control_policy_type())
            pdp_stack.put_default_policy(urls(ports)["a1"], urls(ports)["appmgr"])
            wait_for_routes(
                urls(ports)["appmgr"],
                [
                    f"mse|{mtypes.A1_POLICY_REQ}|{control_policy_type()['policy_type_id']}|",
                    f"mse|{mtypes.TWINRIC_ACCESS_REQ},",
                ],
            )
            snap = random_snapshot("bench-1", [n_cells * n_feat, 64, 64, n_actions], seed=1)
            client.set(snapshot_key(instance), encode_snapshot(snap))
            client.set(version_key(instance), snap.version)
            base = {"exploration": {"kind": "boltzmann", "temperature": 1.0}, "cell_load_limit": 0.95}
            put_policy(urls(ports)["a1"], ports["control-http"], {**base, "planner_budget_ms": 0})

            def permits() -> int:
                return (pdp_cmd.pdp_status(urls(ports)["pdp"]) or {}).get("permits", 0)

            if not wait_until(lambda: permits() > 0 and client.exists(stream), 60):
                raise RuntimeError(f"no permitted control yet (PDP permits {permits()}); see {run_dir}")
        wait(args.warmup, "warm-up")  # every node subscribed, the PDP cache warm
        off, off_decision, steps_off = run_phase(client, stream, args.seconds, "planning off")
        put_policy(urls(ports)["a1"], ports["control-http"], {**base, "planner_budget_ms": 50})
        time.sleep(0.5)
        on, _, steps_on = run_phase(client, stream, args.seconds, "planning on ")
        if stack.dead():
            raise RuntimeError(f"stopped during the run: {stack.dead()}; see {run_dir}")
    finally:
        if stack is not None:
            stack.stop()
        if twin is not None:
            twin.stop()
        server.stop()
    if len(off) < 10 or len(on) < 10:
        raise SystemExit(f"too few controls measured (off {len(off)}, on {len(on)}); see {run_dir}")
    result = {
        "loop_p50_ms": round(float(np.percentile(off, 50)), 3),
        "loop_p99_ms": round(float(np.percentile(off, 99)), 3),
        "loop_p50_ms_planning": round(float(np.percentile(on, 50)), 3),
        "loop_p99_ms_planning": round(float(np.percentile(on, 99)), 3),
        "loop_max_ms": round(float(np.max(off)), 3),
        "decision_p50_ms": round(float(np.percentile(off_decision, 50)), 3),  # indication -> decided
        "decision_p99_ms": round(float(np.percentile(off_decision, 99)), 3),
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
    ax.set_title("control xApp loop latency (twinric up --scenario medium)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
