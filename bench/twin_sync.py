"""Twin sidecar: ingest rate, one-step PRB-load prediction error vs persistence and a linear model,
calibration of the 90 % interval, and ``/v1/predict`` latency while ingesting at full rate.

1. ``ingest_per_s``: a private Redis pre-filled with transitions and RAN-view records (1:1, as the
   control xApp writes them; scenario medium's geometry, 21 cells, 10 UEs per cell) is drained by the
   sidecar's stream consumer with its own sinks (mirror, replay, fidelity), training off; records/s.
2. ``pred_err_ratio_vs_persistence``: data from ``e2sim.gym`` scenario medium (the simulator model the
   real loop runs, stepped directly rather than over E2), behaviour = the xApp's heuristic balancer
   with epsilon-greedy exploration (0.3) over the meaningful actions. The sidecar's ensemble
   (``EnsembleTrainer``, default ``TrainingSettings``) is trained on the training seeds; on fresh
   evaluation seeds the RMSE of its one-step PRB-load prediction (ensemble mean, cells of the layout)
   is divided by persistence's (next = now): Theil's U2. ``linear_err_ratio_vs_persistence``: ridge
   regression of s' - s on [s, one-hot(a), 1] fitted on the same training data.
3. ``interval_coverage_90``: share of the evaluation PRB loads inside the ensemble's central 90 %
   interval (mean +- 1.645 std, std calibrated on held-out training transitions).
4. ``predict_p99_ms``: a real sidecar process (``python -m twin_sidecar``, training on, its default
   duty cycle) ingests a large pre-filled backlog; meanwhile a client POSTs ``/v1/predict`` with a
   scenario-medium observation back to back and times each answer.

    .venv/bin/python bench/twin_sync.py [--quick] [--seed 0]

The last line printed is one JSON object with ingest_per_s, pred_err_ratio_vs_persistence,
linear_err_ratio_vs_persistence, interval_coverage_90, predict_p99_ms. A plot goes to
bench/out/twin_sync.png. Targets (issue 10): ingest >= 20,000 records/s; ensemble ratio <= 0.7 and
below the linear model's; coverage 0.85-0.95; predict p99 <= 5 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import redis
import torch
from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from e2sim.gym import RanSlicingEnv  # noqa: E402
from ricproto import ran_view, transition  # noqa: E402
from ricproto.protowire import encode_packed  # noqa: E402
from ricproto.ran_config import RanConfig  # noqa: E402
from ricproto.ran_space import (  # noqa: E402
    BASE_FEATURES,
    CONNECTED_COLUMN,
    PRB_USAGE_COLUMN,
    THROUGHPUT_COLUMN,
)
from ricproto.ran_view import RanRound, encode_ran_round, kpm_columns  # noqa: E402
from ricproto.transition import Transition  # noqa: E402
from twin_sidecar.app import build_parts  # noqa: E402
from twin_sidecar.predictive.baselines import LinearDynamics  # noqa: E402
from twin_sidecar.predictive.calibration import ConformalScale  # noqa: E402
from twin_sidecar.predictive.replay import TransitionReplay  # noqa: E402
from twin_sidecar.predictive.training import Z90, EnsembleTrainer  # noqa: E402
from twin_sidecar.settings import TrainingSettings, TwinSettings  # noqa: E402
from twinric.local_stack import control_xapp_config  # noqa: E402
from twinric.ports import free_port, wait_for_port  # noqa: E402
from twinric.processes import ManagedProcess, wait_until  # noqa: E402
from twinric.redis_server import PrivateRedis  # noqa: E402
from xapps.control.heuristic import HeuristicBalancer  # noqa: E402

console = Console(stderr=True)
INSTANCE = "bench-control"
EPSILON = 0.3
PRB = 1
SCORE_EVERY = 100  # fresh transitions per conformal update (a model version's worth at 10 reports/s)


# --- data -----------------------------------------------------------------------------------------
def collect(seeds: list[int], steps: int, progress: Progress, label: str) -> dict[str, np.ndarray]:
    """(s, a, r, s') from e2sim.gym medium under the heuristic balancer with epsilon exploration."""
    rows: dict[str, list] = {"s": [], "action": [], "reward": [], "s_next": [], "step": []}
    task = progress.add_task(label, total=len(seeds) * steps)
    for seed in seeds:
        env = RanSlicingEnv("medium", episode_s=1e9)
        obs, _ = env.reset(seed=seed)
        heuristic = HeuristicBalancer(env.space, env.layout)
        valid = np.flatnonzero(env.action_masks())
        rng = np.random.default_rng(seed + 1000)
        for k in range(steps):
            if rng.random() < EPSILON:
                a = int(rng.choice(valid))
            else:
                a = int(np.argmax(heuristic.action_values(obs)))
            nxt, r, _, _, _ = env.step(a)
            for key, v in (("s", obs), ("action", a), ("reward", r), ("s_next", nxt), ("step", k)):
                rows[key].append(v)
            obs = nxt
            progress.advance(task)
    out = {k: np.asarray(v) for k, v in rows.items()}
    out["s"], out["s_next"] = out["s"].astype(np.float32), out["s_next"].astype(np.float32)
    out["reward"] = out["reward"].astype(np.float32)
    return out


class Rows:
    """A TransitionBatch-shaped view of a dict of columns (what TransitionReplay.add reads)."""

    def __init__(self, d: dict[str, np.ndarray]) -> None:
        self.__dict__.update(d)

    def __len__(self) -> int:
        return len(self.step)


def prb(x: np.ndarray, space, n_cells: int) -> np.ndarray:
    return x.reshape(len(x), space.max_cells, space.n_features)[:, :n_cells, PRB]


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a.astype(np.float64) - b) ** 2)))


def prediction(args: argparse.Namespace, progress: Progress) -> dict[str, float]:
    steps = 2500 if args.quick else 6000
    train_seeds = [args.seed + i for i in range(1 if args.quick else 3)]
    eval_seeds = [args.seed + 100 + i for i in range(2)]
    train = collect(train_seeds, steps, progress, "gym medium: training data")
    fresh = collect(eval_seeds, 800 if args.quick else 2000, progress, "gym medium: fresh evaluation seeds")
    env = RanSlicingEnv("medium")
    env.reset(seed=args.seed)
    space, layout = env.space, env.layout
    n_cells = len(layout.nr_cell_ids)
    cfg = TrainingSettings(seed=args.seed)
    held = train["step"] % cfg.holdout_every == 0  # as the sidecar holds out
    replay = TransitionReplay(len(held), space.max_cells * space.n_features)
    replay.add(Rows(train), ~held)
    trainer = EnsembleTrainer(space, layout, cfg)
    trainer.fit_normalisation(replay.all())
    updates = 800 if args.quick else 4000
    task = progress.add_task(
        f"ensemble: {updates} updates (batch {cfg.batch_size} x {cfg.n_members})", total=updates
    )
    for _ in range(updates):
        trainer.update(replay)
        progress.advance(task)
    trainer.calibrate({k: v[held] for k, v in train.items()})
    model = trainer.snapshot(1)
    with torch.no_grad():
        mean, std = model.uncertainty(torch.as_tensor(fresh["s"]), torch.as_tensor(fresh["action"]))
    truth = prb(fresh["s_next"], space, n_cells)
    err_ens = rmse(prb(mean.numpy(), space, n_cells), truth)
    err_pers = rmse(prb(fresh["s"], space, n_cells), truth)
    linear = LinearDynamics(space.n_actions).fit(
        train["s"][~held], train["action"][~held], train["s_next"][~held]
    )
    err_lin = rmse(prb(linear.predict(fresh["s"], fresh["action"]), space, n_cells), truth)
    inside_held = np.abs(prb(mean.numpy(), space, n_cells) - truth) <= Z90 * prb(std.numpy(), space, n_cells)
    inside = online_coverage(model, fresh, space, n_cells, mean.numpy(), std.numpy())
    console.print(
        f"one-step PRB-load RMSE on {len(truth)} fresh steps x {n_cells} cells: ensemble {err_ens:.4f}, "
        f"linear {err_lin:.4f}, persistence {err_pers:.4f}; {len(train['step'])} training transitions"
    )
    console.print(
        f"90 % interval coverage on fresh seeds: {inside.mean():.4f} with the online conformal factor "
        f"(as the sidecar serves it), {inside_held.mean():.4f} with the held-out calibration alone"
    )
    return {
        "pred_err_ratio_vs_persistence": err_ens / err_pers,
        "linear_err_ratio_vs_persistence": err_lin / err_pers,
        "interval_coverage_90": float(inside.mean()),
        "_rmse": {"ensemble": err_ens, "linear": err_lin, "persistence": err_pers},
        "_fresh": fresh,
    }


def online_coverage(
    model, fresh: dict[str, np.ndarray], space, n_cells: int, mean: np.ndarray, std: np.ndarray
) -> np.ndarray:
    """Which fresh PRB loads fall inside the interval the sidecar would have served: the fresh data
    arrive in chunks of ``SCORE_EVERY`` transitions (the sidecar's publication cadence); each chunk is
    predicted with the conformal factor from the chunks before it, then scored (``SyncEngine``)."""
    conformal = ConformalScale(space.n_features)
    f = space.n_features
    truth = fresh["s_next"].reshape(-1, space.max_cells, f)[:, :n_cells]
    mu = mean.reshape(-1, space.max_cells, f)[:, :n_cells]
    sd = std.reshape(-1, space.max_cells, f)[:, :n_cells]
    inside = []
    for start in range(0, len(truth), SCORE_EVERY):
        chunk = slice(start, start + SCORE_EVERY)
        factor = conformal.multiplier[PRB]
        err = np.abs(mu[chunk] - truth[chunk])
        inside.append(err[..., PRB] <= Z90 * sd[chunk][..., PRB] * factor)
        conformal.add(err.reshape(-1, f), sd[chunk].reshape(-1, f))
    return np.concatenate(inside)


# --- records as the xApp writes them ------------------------------------------------------------
COLUMNS = kpm_columns()  # the record layout the control xApp writes
_T_FIELDS = {name: Transition.DESCRIPTOR.fields_by_name[name].number for name in ("s", "s_next", "mu_all")}


def transition_bytes(k: int, s: np.ndarray, a: int, r: float, s_next: np.ndarray, n_actions: int) -> bytes:
    """A Transition as protobuf bytes; arrays appended as packed runs (same bytes protobuf would read)."""
    head = Transition(
        schema_version=1,
        xapp_instance=INSTANCE,
        step=k,
        action=a,
        reward=r,
        mu=1.0 / n_actions,
        policy_version="heuristic",
    ).SerializeToString()
    mu = np.full(n_actions, 1.0 / n_actions, dtype=np.float32)
    return b"".join(
        [
            head,
            encode_packed(_T_FIELDS["s"], s, "<f4"),
            encode_packed(_T_FIELDS["s_next"], s_next, "<f4"),
            encode_packed(_T_FIELDS["mu_all"], mu, "<f4"),
        ]
    )


def round_bytes(k: int, cfg: RanConfig, obs: np.ndarray, ues_per_cell: int = 10) -> bytes:
    space = cfg.space
    rows = obs.reshape(space.max_cells, space.n_features)
    c, n_s = len(cfg.cells), len(space.slices)
    nodes = cfg.meids
    t = 1_800_000_000_000_000_000 + k * 100_000_000
    cells = np.column_stack(
        [
            rows[:c, PRB_USAGE_COLUMN] * 100,
            10 ** (rows[:c, THROUGHPUT_COLUMN] * 6) - 1,
            rows[:c, CONNECTED_COLUMN] * space.conn_ref,
            np.full(c, 100.0),
        ]
    ).astype(np.float32)
    # per-slice scalars from the observation; the distributions' bins (which the observation does not
    # keep) as zeros: the record has the width the xApp's has, so ingest is measured on that
    slices = np.zeros((c, n_s, len(COLUMNS.slice)), dtype=np.float32)
    share, thp = BASE_FEATURES, BASE_FEATURES + n_s
    slices[:, :, COLUMNS.slice.index("slice_prb_used_dl")] = rows[:c, share : share + n_s] * 100
    slices[:, :, COLUMNS.slice.index("slice_ue_thp_dl_kbps")] = 10 ** (rows[:c, thp : thp + n_s] * 6) - 1
    ue = np.arange(c * ues_per_cell, dtype=np.uint64) + 10_000
    return encode_ran_round(
        RanRound(
            INSTANCE,
            k,
            k,
            cfg.cells[-1].meid,
            t,
            observation=obs.astype(np.float32),
            nodes=nodes,
            slices=space.slices,
            cell_measurements=COLUMNS.cell,
            slice_measurements=COLUMNS.slice,
            cell_index=np.arange(c, dtype=np.uint32),
            nr_cell_id=np.array([x.nr_cell_id for x in cfg.cells], dtype=np.uint64),
            cell_node=np.array([nodes.index(x.meid) for x in cfg.cells], dtype=np.uint32),
            collection_ns=np.full(c, t - 50_000_000, dtype=np.uint64),
            arrival_ns=np.full(c, t, dtype=np.uint64),
            cell_values=cells,
            slice_values=slices,
            ue_id=ue,
            ue_cell_index=(np.arange(len(ue)) // ues_per_cell).astype(np.uint32),
            ue_rsrp_dbm=np.full(len(ue), -95.0, dtype=np.float32),
        )
    )


def prefill(
    client: redis.Redis,
    cfg: RanConfig,
    data: dict[str, np.ndarray],
    rounds: int,
    progress: Progress,
    label: str,
) -> None:
    n = len(data["step"])
    task = progress.add_task(label, total=rounds)
    for start in range(0, rounds, 500):
        pipe = client.pipeline(transaction=False)
        for k in range(start, min(rounds, start + 500)):
            i = k % n
            pipe.xadd(
                transition.stream_key(INSTANCE),
                {
                    transition.FIELD: transition_bytes(
                        k,
                        data["s"][i],
                        int(data["action"][i]),
                        float(data["reward"][i]),
                        data["s_next"][i],
                        cfg.space.n_actions,
                    )
                },
                maxlen=10_000_000,
                approximate=True,
            )
            pipe.xadd(
                ran_view.stream_key(INSTANCE),
                {ran_view.FIELD: round_bytes(k, cfg, data["s"][i])},
                maxlen=10_000_000,
                approximate=True,
            )
        pipe.execute()
        progress.advance(task, min(500, rounds - start))


def ingest_rate(args, cfg: RanConfig, descriptor: dict, data, progress: Progress) -> float:
    rounds = 10_000 if args.quick else 50_000
    server = PrivateRedis().start()
    try:
        client = redis.Redis.from_url(server.url)
        prefill(client, cfg, data, rounds, progress, f"pre-fill {2 * rounds} records")
        settings = TwinSettings.from_descriptor(
            descriptor,
            env={},
            redis_url=server.url,
            xapp_instance=INSTANCE,
            state_dir=Path(tempfile.mkdtemp(prefix="twin-bench-")),
        )
        parts = build_parts(settings, train=False)
        parts.consumer.ensure_groups()
        task = progress.add_task("ingest (consumer + mirror + replay + fidelity)", total=2 * rounds)
        started, cpu = time.perf_counter(), time.process_time()
        done = 0
        while done < 2 * rounds:
            n = parts.consumer.poll(block_ms=50)
            done += n
            progress.advance(task, n)
            if n == 0:
                break
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert parts.mirror.rounds == rounds and parts.sync.received == rounds, "not everything was ingested"
        console.print(
            f"ingest: {2 * rounds} records in {elapsed:.2f} s ({2 * rounds / elapsed:.0f}/s; "
            f"{2 * rounds / cpu:.0f}/s of the process's CPU time, Redis aside)"
        )
        return 2 * rounds / elapsed
    finally:
        server.stop()


def predict_latency(args, cfg: RanConfig, run_dir: Path, data, progress: Progress) -> np.ndarray:
    rounds = 50_000 if args.quick else 150_000  # a backlog that outlasts the requests
    n_requests = 1000 if args.quick else 5000
    server = PrivateRedis().start()
    twin = None
    try:
        client = redis.Redis.from_url(server.url)
        prefill(client, cfg, data, rounds, progress, f"pre-fill {2 * rounds} records (backlog)")
        port = free_port()
        config = control_xapp_config("medium", run_dir)
        descriptor = json.loads(config.read_text())
        descriptor["controls"]["xapp_instance"] = INSTANCE
        config.write_text(json.dumps(descriptor))
        twin = ManagedProcess(
            "twin",
            [sys.executable, "-m", "twin_sidecar"],
            env={
                **os.environ,
                "CONFIG_FILE": str(config),
                "TWINRIC_REDIS_URL": server.url,
                "TWINRIC_TWIN_PORT": str(port),
                "TWINRIC_TWIN_STATE_DIR": str(run_dir / "twin"),
                "TWINRIC_LOG_LEVEL": "WARNING",
            },
            log_path=run_dir / "twin.log",
        ).start()
        assert wait_for_port(port, timeout=120), twin.log_tail()
        base = f"http://127.0.0.1:{port}"
        http = httpx.Client(timeout=5)

        def consumed() -> int:
            return http.get(f"{base}/health").json()["streams"]["transitions"]["consumed"]

        assert wait_until(lambda: consumed() > 0, 60), twin.log_tail()
        obs = {"observation": data["s"][0].tolist()}
        for _ in range(50):  # warm up the connection and the handler
            http.post(f"{base}/v1/predict", json=obs).raise_for_status()
        before = consumed()
        lat = np.empty(n_requests)
        task = progress.add_task(f"/v1/predict x {n_requests} while ingesting", total=n_requests)
        for i in range(n_requests):
            t0 = time.perf_counter()
            http.post(f"{base}/v1/predict", json=obs).raise_for_status()
            lat[i] = time.perf_counter() - t0
            progress.advance(task)
        after = consumed()
        health = http.get(f"{base}/health").json()
        lag, sync = health["streams"]["transitions"]["lag"], health["sync"]
        console.print(
            f"during the requests the sidecar ingested {2 * (after - before)} records "
            f"({2 * (after - before) / lat.sum():.0f}/s), lag at the end {lag} transitions; "
            f"model version {sync['model_version']}, {sync['updates']} updates"
        )
        if after >= rounds:
            console.print(
                "[yellow]the backlog ran out during the measurement: part of it was not under load[/]"
            )
        return lat * 1000
    finally:
        if twin is not None:
            twin.stop(timeout=30)
        server.stop()


def plot(result: dict, rmse_: dict, lat_ms: np.ndarray) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.bar(list(rmse_), list(rmse_.values()), color=["tab:blue", "tab:orange", "tab:gray"])
    a.set_title("one-step PRB-load RMSE, fresh seeds (medium)")
    a.set_ylabel("RMSE")
    b.hist(lat_ms, bins=60, color="tab:green")
    b.axvline(result["predict_p99_ms"], color="k", ls="--", label=f"p99 {result['predict_p99_ms']:.2f} ms")
    b.set_title("/v1/predict latency while ingesting")
    b.set_xlabel("ms")
    b.legend()
    fig.tight_layout()
    path = out / "twin_sync.png"
    fig.savefig(path, dpi=110)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data, fewer updates and requests")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    run_dir = Path(tempfile.mkdtemp(prefix="twin-sync-"))
    descriptor = json.loads(control_xapp_config("medium", run_dir).read_text())
    cfg = RanConfig.from_config(descriptor["controls"]["ran"])
    with Progress(console=console, transient=False) as progress:
        pred = prediction(args, progress)
        fresh = pred.pop("_fresh")
        rmse_ = pred.pop("_rmse")
        ingest = ingest_rate(args, cfg, descriptor, fresh, progress)
        lat = predict_latency(args, cfg, run_dir, fresh, progress)
    result = {
        "ingest_per_s": round(ingest, 1),
        "pred_err_ratio_vs_persistence": round(pred["pred_err_ratio_vs_persistence"], 4),
        "linear_err_ratio_vs_persistence": round(pred["linear_err_ratio_vs_persistence"], 4),
        "interval_coverage_90": round(pred["interval_coverage_90"], 4),
        "predict_p99_ms": round(float(np.percentile(lat, 99)), 3),
    }
    console.print(
        f"/v1/predict p50 {np.percentile(lat, 50):.2f} ms, p99 {result['predict_p99_ms']:.2f} ms; "
        f"data: e2sim.gym scenario medium (not the E2 loop); logs in {run_dir}"
    )
    path = plot(result, rmse_, lat)
    if path:
        console.print(f"plot: {path}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
