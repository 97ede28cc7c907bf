"""RMR throughput and latency: a sender process -> an RMRXapp (ricxappframe) receiver on 127.0.0.1.

One-way: the sender (an ``RmrContext``) sends N messages of 64 B, 1 KiB and 16 KiB as fast as the
receiver takes them (RMR_ERR_RETRY means "try again", as for any careful xApp); the receiver's
RMRXapp callback counts them. The rate is N over the time from the sender's first send to the
receiver's last callback (both read CLOCK_MONOTONIC); the rate between the receiver's first and
last callback is reported too. Round trip: sequential calls answered by an RMRXapp handler with
``rmr_rts`` (1 KiB).

    .venv/bin/python bench/rmr_throughput.py [--quick]

The last line printed is one JSON object: oneway_msgs_per_s_64, oneway_msgs_per_s_1k,
oneway_msgs_per_s_16k, lost, rtt_p50_us, rtt_p90_us, rtt_p99_us (+ backend and counts).
A plot goes to bench/out/rmr_throughput.png.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

DATA, STATS, STATS_REPLY, ECHO, ECHO_REPLY = 30001, 30002, 30003, 30004, 30005
ROOT = Path(__file__).resolve().parent.parent


def receiver(port: int) -> None:
    """The measured side: a plain ricxappframe RMRXapp (RMR chosen by the import hook)."""
    from ricxappframe.rmr import rmr
    from ricxappframe.xapp_frame import RMRXapp

    state = {"count": 0, "first": 0.0, "last": 0.0}

    def on_data(xapp: RMRXapp, summary: dict, sbuf: object) -> None:
        now = time.perf_counter()
        if state["count"] == 0:
            state["first"] = now
        state["last"] = now
        state["count"] += 1
        xapp.rmr_free(sbuf)

    def on_stats(xapp: RMRXapp, summary: dict, sbuf: object) -> None:
        body = json.dumps(
            {"count": state["count"], "seconds": state["last"] - state["first"], "last": state["last"]}
        ).encode()
        state.update(count=0, first=0.0, last=0.0)
        xapp.rmr_rts(sbuf, new_payload=body, new_mtype=STATS_REPLY)
        xapp.rmr_free(sbuf)

    def on_echo(xapp: RMRXapp, summary: dict, sbuf: object) -> None:
        xapp.rmr_rts(sbuf, new_mtype=ECHO_REPLY)
        xapp.rmr_free(sbuf)

    xapp = RMRXapp(lambda x, s, b: x.rmr_free(b), rmr_port=port, use_fake_sdl=True)
    xapp.register_callback(on_data, DATA)
    xapp.register_callback(on_stats, STATS)
    xapp.register_callback(on_echo, ECHO)
    print(f"receiver ready backend={getattr(rmr, 'BACKEND', 'c')}", flush=True)
    xapp.run()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer messages (under 30 s)")
    parser.add_argument("--role", choices=["sender", "receiver"], default="sender", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "receiver":
        receiver(args.port)
        return

    sys.path.insert(0, str(ROOT))
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ricproto.rmr import RmrContext
    from ricproto.rmr.states import RMR_ERR_RETRY, RMR_OK
    from twinric.ports import free_port
    from twinric.processes import ManagedProcess, wait_until

    sizes = {"64": 64, "1k": 1024, "16k": 16384}
    counts = (
        {"64": 20_000, "1k": 20_000, "16k": 5_000}
        if args.quick
        else {"64": 100_000, "1k": 100_000, "16k": 25_000}
    )
    rtt_n = 1_000 if args.quick else 5_000

    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="rmr-bench-"))
    sender = RmrContext(0, src_id="127.0.0.1", seed_rt="", rtg_port=-1)
    seed = workdir / "receiver.rt"
    seed.write_text(f"newrt|start\nrte|{STATS_REPLY}|127.0.0.1:{sender.port}\nnewrt|end\n")
    env = {
        **os.environ,
        "RMR_SEED_RT": str(seed),
        "RMR_SRC_ID": "127.0.0.1",
        "RMR_RTG_SVC": "-1",
        "PYTHONUNBUFFERED": "1",
    }
    proc = ManagedProcess(
        "rmr-bench-receiver",
        [sys.executable, __file__, "--role", "receiver", "--port", str(port)],
        env=env,
        log_path=workdir / "receiver.log",
    )
    sender.load_routes(
        f"newrt|start\nrte|{DATA}|127.0.0.1:{port}\nrte|{STATS}|127.0.0.1:{port}\n"
        f"rte|{ECHO}|127.0.0.1:{port}\nnewrt|end\n"
    )
    proc.start()
    results: dict = {}
    window: dict = {}
    lost = 0
    rtts: list[float] = []
    try:
        started = wait_until(lambda: "receiver ready" in proc.log_tail(5) or not proc.alive(), 30)
        if not started or not proc.alive():
            raise SystemExit(f"receiver did not start:\n{proc.log_tail()}")
        backend = proc.log_tail(5).split("backend=")[-1].split()[0]
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns) as progress:
            for label, size in sizes.items():
                n = counts[label]
                task = progress.add_task(f"one-way {label:>3}", total=n)
                payload = bytes(size)
                send = sender.send
                i = 0
                started = time.perf_counter()  # CLOCK_MONOTONIC: the same clock in both processes
                while i < n:
                    state = send(DATA, payload)
                    if state == RMR_OK:
                        i += 1
                        if not i & 1023:
                            progress.update(task, completed=i)
                    elif state == RMR_ERR_RETRY:
                        time.sleep(0.0002)
                    else:
                        raise SystemExit(f"send failed with state {state}")
                progress.update(task, completed=n)
                reply = sender.call(STATS, b"", timeout=60)
                if reply is None:
                    raise SystemExit("receiver did not report")
                stats = json.loads(reply.payload)
                lost += n - stats["count"]
                # From our first send to the receiver's last callback: nothing buffered is counted early.
                results[label] = stats["count"] / (stats["last"] - started)
                window[label] = (stats["count"] - 1) / stats["seconds"] if stats["seconds"] > 0 else 0.0
            task = progress.add_task("round trip 1k", total=rtt_n)
            payload = bytes(1024)
            for i in range(rtt_n + 100):
                t0 = time.perf_counter()
                reply = sender.call(ECHO, payload, timeout=2)
                elapsed = time.perf_counter() - t0
                if reply is None or reply.mtype != ECHO_REPLY:
                    lost += 1
                    continue
                if i >= 100:  # warm-up excluded
                    rtts.append(elapsed * 1e6)
                if not i & 127:
                    progress.update(task, completed=max(0, i - 100))
            progress.update(task, completed=rtt_n)
    finally:
        proc.stop()
        sender.close()

    quantiles = statistics.quantiles(rtts, n=100)
    out = {
        "oneway_msgs_per_s_64": round(results["64"]),
        "oneway_msgs_per_s_1k": round(results["1k"]),
        "oneway_msgs_per_s_16k": round(results["16k"]),
        "lost": lost,
        "rtt_p50_us": round(quantiles[49], 1),
        "rtt_p90_us": round(quantiles[89], 1),
        "rtt_p99_us": round(quantiles[98], 1),
        "callback_window_msgs_per_s": {k: round(v) for k, v in window.items()},
        "backend": backend,
        "messages": counts,
        "round_trips": len(rtts),
    }
    plot(out, rtts)
    print(json.dumps(out))


def plot(out: dict, rtts: list[float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target = ROOT / "bench" / "out" / "rmr_throughput.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    labels = ["64 B", "1 KiB", "16 KiB"]
    values = [out["oneway_msgs_per_s_64"], out["oneway_msgs_per_s_1k"], out["oneway_msgs_per_s_16k"]]
    left.bar(labels, values, color="#3b7dd8")
    left.axhline(20_000, color="grey", linestyle="--", label="target at 1 KiB")
    left.set_ylabel("messages/s received by an RMRXapp callback")
    left.set_title(f"one-way ({out['backend']} RMR), lost {out['lost']}")
    left.legend()
    right.hist(rtts, bins=80, color="#d8823b")
    for key, style in (("rtt_p50_us", "-"), ("rtt_p99_us", "--")):
        right.axvline(out[key], color="black", linestyle=style, label=f"{key[4:7]} {out[key]} µs")
    right.set_xlabel("round trip µs (1 KiB, call -> rmr_rts)")
    right.set_title("round trip through an RMRXapp handler")
    right.legend()
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
