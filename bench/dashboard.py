"""The twin's dashboard: what a snapshot costs the sidecar, and whether an open page slows the xApp's
``/v1/predict`` (the request on its control loop's path).

Against a real ``twinric up`` (scenario small, private Redis, free ports), once the twin mirrors the RAN:

* ``snapshot_p50_ms``/``snapshot_p99_ms``: ``GET /dashboard/v1/snapshot`` one at a time, each past the
  feed's reuse interval, so every answer is a fresh build (RAN view, series over the minute, markers,
  forecasts against what happened, decision and trust tails) plus its transfer;
* ``event_interval_p50_s``/``event_interval_max_s``: the gaps between events of one open
  ``/dashboard/v1/events`` stream (the page's live updates; 1 s by design);
* ``predict_p99_ms_closed``/``predict_p99_ms_open`` and their ratio ``predict_p99_ratio``:
  ``POST /v1/predict`` with the twin's own current observation, back to back for the same time, first
  with no page open, then with two event streams open (two browser tabs), in the same run.

    .venv/bin/python bench/dashboard.py [--quick]

The last line printed is one JSON object with those keys. A plot goes to bench/out/dashboard_bench.png.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twinric.processes import wait_until  # noqa: E402

OUT = ROOT / "bench" / "out"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def predict_latencies(twin: str, observation: list[float], seconds: float) -> list[float]:
    out = []
    with httpx.Client(base_url=twin, timeout=10) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.perf_counter()
            client.post("/v1/predict", json={"observation": observation}).raise_for_status()
            out.append((time.perf_counter() - t0) * 1000)
    return out


def read_events(twin: str, stop: threading.Event, arrivals: list[float]) -> None:
    with httpx.stream("GET", f"{twin}/dashboard/v1/events", timeout=30) as resp:
        for line in resp.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.monotonic())
            if stop.is_set():
                return


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer samples (a few minutes)")
    args = ap.parse_args()
    console = Console(stderr=True)
    n_snap, predict_s = (40, 10.0) if args.quick else (200, 30.0)
    run_dir = Path(tempfile.mkdtemp(prefix="twinric-dashboard-bench-"))
    env = {k: v for k, v in os.environ.items() if k != "TWINRIC_REDIS_URL"}  # a private Redis
    argv = ["up", "--for", "900", "--json", "--free-ports", "--run-dir", str(run_dir), "--status-every", "30"]
    up_log = (run_dir / "up.stderr").open("w")  # why a stack did not start, if it does not
    up = subprocess.Popen(
        [sys.executable, "-m", "twinric", *argv],
        stdout=subprocess.DEVNULL,
        stderr=up_log,
        env=env,
        start_new_session=True,
    )
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("starting twinric up", total=None)
            state = run_dir / "state.json"
            if not wait_until(
                lambda: state.exists() and "twin" in json.loads(state.read_text())["urls"], 180
            ):
                raise SystemExit(f"twinric up did not start (see {run_dir}/up.stderr)")
            twin = json.loads(state.read_text())["urls"]["twin"]

            def mirrored() -> bool:
                try:
                    return httpx.get(f"{twin}/v1/state", timeout=5).status_code == 200
                except httpx.HTTPError:
                    return False

            if not wait_until(mirrored, 240):
                raise SystemExit(f"the twin mirrored nothing (see {run_dir}/up.stderr)")
            time.sleep(20 if args.quick else 60)  # a minute of series, markers and forecasts to build
            progress.remove_task(task)

            task = progress.add_task("snapshots", total=n_snap)
            snaps = []
            with httpx.Client(base_url=twin, timeout=30) as client:
                for _ in range(n_snap):
                    time.sleep(0.3)  # past the feed's reuse interval: a fresh build every time
                    t0 = time.perf_counter()
                    client.get("/dashboard/v1/snapshot").raise_for_status()
                    snaps.append((time.perf_counter() - t0) * 1000)
                    progress.advance(task)
            progress.remove_task(task)

            obs = httpx.get(f"{twin}/v1/state", params={"include_observation": True}, timeout=10).json()
            observation = obs["observation"]
            task = progress.add_task("/v1/predict, no page open", total=None)
            closed = predict_latencies(twin, observation, predict_s)
            progress.remove_task(task)

            task = progress.add_task("/v1/predict, two event streams open", total=None)
            stop = threading.Event()
            arrivals: list[list[float]] = [[], []]
            readers = [
                threading.Thread(target=read_events, args=(twin, stop, a), daemon=True) for a in arrivals
            ]
            for r in readers:
                r.start()
            time.sleep(2.0)
            opened = predict_latencies(twin, observation, predict_s)
            stop.set()
            for r in readers:
                r.join(timeout=10)
            progress.remove_task(task)
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
            try:
                up.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(up.pid, signal.SIGKILL)
    gaps = np.diff(arrivals[0]).tolist()
    result = {
        "snapshot_p50_ms": round(pct(snaps, 50), 1),
        "snapshot_p99_ms": round(pct(snaps, 99), 1),
        "event_interval_p50_s": round(pct(gaps, 50), 3),
        "event_interval_max_s": round(max(gaps), 3) if gaps else None,
        "predict_p99_ms_closed": round(pct(closed, 99), 2),
        "predict_p99_ms_open": round(pct(opened, 99), 2),
        "predict_p99_ratio": round(pct(opened, 99) / pct(closed, 99), 2),
    }
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        OUT.mkdir(parents=True, exist_ok=True)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        axes[0].hist(snaps, bins=30)
        axes[0].set_title("GET /dashboard/v1/snapshot (ms)")
        axes[1].boxplot([closed, opened], tick_labels=["no page", "2 streams open"], showfliers=False)
        axes[1].set_title("POST /v1/predict (ms)")
        fig.tight_layout()
        fig.savefig(OUT / "dashboard_bench.png", dpi=100)
    except ImportError:
        console.print("matplotlib missing: no plot")
    console.print(f"snapshots: {len(snaps)}, predict samples: closed {len(closed)}, open {len(opened)}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
