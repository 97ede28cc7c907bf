"""Zero-trust PDP: decision latency in process and over RMR, decisions per second, raw cedarpy beside it.

The workload: the shipped default policy (compiled once), trust records for 40 xApps and 64 E2 nodes in a
private Redis (104 Cedar entities, as in the Cedar anchor of ``ml-anchors.md`` 5.2), and access requests
(handover and slice-quota controls of those xApps on cells of those nodes) drawn from a working set of 256
(xApp, action, node) triples, as a control loop keeps acting on the same nodes (a RAN grant is issued per
triple and reused while young); each request is signed by its xApp with a fresh nonce. The process-wide
GIL switch interval is the PDP xApp's own (0.5 ms). In the same run:

* ``cedar_p50_us``: raw ``cedarpy.is_authorized`` on the same compiled ``PolicySet``, the same
  ``Entities`` handle and the same Cedar requests the PDP builds, one call per request (the baseline);
* ``pdp_p50_us``/``pdp_p99_us``: ``PolicyDecisionPoint.decide_requests`` for one request in process:
  trust lookup and staleness, the Cedar call, the decision record queued to the decision log (a writer
  thread ships it to Redis and a JSON-lines file meanwhile), the grant (reused while young), the
  response. The request's Ed25519 signature check is *not* in this figure (it is the cost of identity,
  not of deciding); it is printed separately, and the same decisions *with* it are printed too;
* ``overhead_ratio``: pdp_p50_us / cedar_p50_us;
* ``pdp_rmr_p50_us``/``pdp_rmr_p99_us``: the PDP xApp as its own process (``python -m xapps.pdp``,
  ricxappframe RMRXapp), one signed request at a time from an RMR client to the answer arriving back,
  everything included (RMR both ways, decode, signature, replay check, decision, log, grant);
* ``decisions_per_s``: the same process under load: the client keeps a window of signed requests in
  flight and counts answers per second (the PDP batches whatever its receive loop has queued into one
  Cedar call).

    .venv/bin/python bench/pdp.py [--quick]

The last line printed is one JSON object with exactly the keys pdp_p50_us, pdp_p99_us, pdp_rmr_p50_us,
pdp_rmr_p99_us, decisions_per_s, cedar_p50_us, overhead_ratio. A plot goes to bench/out/pdp.png.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cedarpy  # noqa: E402
import httpx  # noqa: E402
import redis  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402

from ricproto import a1, access, identity, mtypes, trust  # noqa: E402
from ricproto.rmr import RmrContext  # noqa: E402
from twinric.ports import free_port, wait_for_port  # noqa: E402
from twinric.processes import ManagedProcess, wait_until  # noqa: E402
from twinric.redis_server import PrivateRedis  # noqa: E402
from xapps.common.metrics import XappMetrics  # noqa: E402
from xapps.pdp.cedar_request import cedar_request, parse_resource  # noqa: E402
from xapps.pdp.decision_log import DecisionLog  # noqa: E402
from xapps.pdp.decision_point import PolicyDecisionPoint  # noqa: E402
from xapps.pdp.trust_view import TrustView  # noqa: E402
from xapps.pdp.xapp import SWITCH_INTERVAL_S  # noqa: E402
from xapps.pdp.zero_trust_policy import default_policy_body, parse_policy, policy_type_id  # noqa: E402

console = Console(stderr=True)
N_XAPPS, N_NODES = 40, 64
KEYS = (
    "pdp_p50_us",
    "pdp_p99_us",
    "pdp_rmr_p50_us",
    "pdp_rmr_p99_us",
    "decisions_per_s",
    "cedar_p50_us",
    "overhead_ratio",
)


def xapp_names() -> list[str]:
    return [f"xapp-{i:02d}" for i in range(N_XAPPS)]


def meids() -> list[str]:
    return [f"gnb_001_001_{i:06x}" for i in range(1, N_NODES + 1)]


WORKING_SET = 256


def request_pool(n: int, rng: np.random.Generator) -> list[access.AccessRequest]:
    names, nodes = xapp_names(), meids()
    triples = [
        (names[rng.integers(len(names))], nodes[rng.integers(len(nodes))], rng.random() < 0.5)
        for _ in range(WORKING_SET)
    ]
    out = []
    for i in range(n):
        x, m, handover = triples[rng.integers(len(triples))]
        cell = int(rng.integers(1, 4)) * 16384 + 1
        if handover:
            action, resource = "rc.handover", f"e2node:{m}/cell:{cell}"
        else:
            action, resource = "rc.slice_quota", f"e2node:{m}/cell:{cell}/slice:{int(rng.integers(1, 4))}-1"
        out.append(access.AccessRequest(f"b{i}", f"xapp:{x}", action, resource, {"meid": m, "xapp": x}))
    return out


def sign_all(
    reqs: list[access.AccessRequest],
    keys: dict[str, identity.Ed25519PrivateKey],
    progress: Progress,
    label: str,
) -> list[access.AccessRequest]:
    task = progress.add_task(label, total=len(reqs))
    out = []
    for r in reqs:
        out.append(access.sign_request(r, keys[r.subject.partition(":")[2]]))
        progress.advance(task)
    progress.remove_task(task)
    return out


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1)


def timed(fn, items, progress: Progress, label: str) -> list[float]:
    task = progress.add_task(label, total=len(items))
    out = []
    for item in items:
        t0 = time.perf_counter_ns()
        fn(item)
        out.append((time.perf_counter_ns() - t0) / 1000.0)
        progress.advance(task)
    progress.remove_task(task)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (about a minute)")
    args = parser.parse_args()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    n_lat = 2000 if args.quick else 20_000
    n_rmr = 500 if args.quick else 5000
    n_load = 4000 if args.quick else 40_000
    window = 64
    rng = np.random.default_rng(7)
    work = Path(tempfile.mkdtemp(prefix="bench-pdp-"))
    server = PrivateRedis().start()
    client = redis.Redis.from_url(server.url)
    keys_dir = work / "keys"
    keys = {}
    for name in xapp_names():
        private, _ = identity.write_identity(work / "secrets", name)
        (keys_dir).mkdir(exist_ok=True)
        (keys_dir / f"{name}.pub").write_bytes((work / "secrets" / f"{name}.pub").read_bytes())
        keys[name] = identity.load_private_key(private)
    pdp_private, _ = identity.write_identity(work / "pdp", "twinric-pdp")
    pipe = client.pipeline()
    for subject in [f"xapp:{x}" for x in xapp_names()] + [f"e2node:{m}" for m in meids()]:
        rec = trust.make_record(subject, float(rng.uniform(0.55, 1.0)), "bench", ttl_s=86400)
        pipe.set(trust.key(subject), trust.encode_record(rec))
    pipe.execute()
    policy = parse_policy(default_policy_body(), "bench")
    metrics = XappMetrics("bench-pdp")
    view = TrustView(client, metrics).start()
    dlog = DecisionLog(client, metrics, file_path=work / "decisions.jsonl").start()
    point = PolicyDecisionPoint(
        view, identity.KeyRing(keys_dir), dlog, identity.load_private_key(pdp_private), metrics
    )
    point.set_policy(policy)
    console.print(
        f"[bold]PDP bench[/]: {len(view.subjects())} trust entities, default policy "
        f"{policy.version}, {n_lat} in-process / {n_rmr} RMR / {n_load} load requests; work in {work}"
    )
    proc: ManagedProcess | None = None
    rmr: RmrContext | None = None
    try:
        with Progress(console=console, transient=True) as progress:
            plain = request_pool(n_lat, rng)
            cedar_reqs = [
                cedar_request(
                    r, ref := parse_resource(r.resource), policy.min_trust_milli(ref.resource_class)
                )
                for r in plain
            ]
            entities = view.entities
            allowed = sum(
                cedarpy.is_authorized(c, policy.policy_set, entities).allowed for c in cedar_reqs[:200]
            )
            # interleave the two so both see the same machine state
            cedar_us, pdp_us = [], []
            half = len(plain) // 2
            for chunk in (slice(0, half), slice(half, None)):
                cedar_us += timed(
                    lambda c: cedarpy.is_authorized(c, policy.policy_set, entities),
                    cedar_reqs[chunk],
                    progress,
                    "raw cedarpy",
                )
                pdp_us += timed(
                    lambda r: point.decide_requests([r], "bench", authenticate=False, grants=True),
                    plain[chunk],
                    progress,
                    "PDP in process",
                )
            signed = sign_all(request_pool(n_lat // 4, rng), keys, progress, "signing")
            payloads = [access.encode_request(r) for r in signed]
            full_us = timed(
                lambda p: point.decide_payloads([p], "bench"),
                payloads,
                progress,
                "PDP in process, bytes to bytes with the signature check",
            )
            verify_us = timed(
                lambda r: access.verify_request(r, keys[r.subject[5:]].public_key()),
                signed[:500],
                progress,
                "Ed25519 verify",
            )
            batched = [
                access.encode_request(r)
                for r in sign_all(request_pool(n_lat // 2, rng), keys, progress, "signing")
            ]
            t_batch = time.perf_counter()
            for i in range(0, len(batched), 64):
                point.decide_payloads(batched[i : i + 64], "bench")
            batch_per_s = len(batched) / (time.perf_counter() - t_batch)
            dlog.flush(30)

            # --- the PDP xApp as a process, over RMR ---------------------------------------------------
            rmr_port, http_port, client_port = free_port(), free_port(), free_port()
            descriptor = json.loads((ROOT / "xapps" / "pdp" / "config-file.json").read_text())
            descriptor["controls"].update(
                rmr_port=rmr_port,
                http_port=http_port,
                redis_url=server.url,
                register=False,
                identity={"key_file": str(pdp_private), "xapp_keys_dir": str(keys_dir)},
                decision_log={"file": str(work / "pdp-process-decisions.jsonl")},
            )
            (work / "pdp.json").write_text(json.dumps(descriptor))
            (work / "pdp.rt").write_text(
                f"newrt|start\nmse|{mtypes.A1_POLICY_RESP}|-1|127.0.0.1:{client_port}\nnewrt|end\n"
            )
            proc = ManagedProcess(
                "pdp",
                [sys.executable, "-m", "xapps.pdp"],
                env={
                    **os.environ,
                    "CONFIG_FILE": str(work / "pdp.json"),
                    "RMR_SEED_RT": str(work / "pdp.rt"),
                    "RMR_SRC_ID": "127.0.0.1",
                    "RMR_RTG_SVC": "-1",
                    "TWINRIC_HTTP_HOST": "127.0.0.1",
                    "TWINRIC_LOG_LEVEL": "WARNING",
                },
                log_path=work / "pdp.log",
            ).start()
            if not wait_for_port(http_port, timeout=60):
                raise SystemExit(f"the PDP xApp did not start; see {work / 'pdp.log'}")
            rmr = RmrContext(client_port, src_id="127.0.0.1", bind_host="127.0.0.1", route_client=False)
            rmr.load_routes(
                f"newrt|start\nmse|{mtypes.TWINRIC_ACCESS_REQ}|-1|127.0.0.1:{rmr_port}\n"
                f"mse|{mtypes.A1_POLICY_REQ}|{policy_type_id()}|127.0.0.1:{rmr_port}\nnewrt|end\n"
            )
            create = a1.A1PolicyRequest(
                a1.A1Operation.CREATE, policy_type_id(), "bench", default_policy_body()
            )
            if not wait_until(
                lambda: (
                    rmr.send(
                        mtypes.A1_POLICY_REQ, a1.encode_policy_request(create, "go"), sub_id=policy_type_id()
                    )
                    == 0
                ),
                30,
            ):
                raise SystemExit("cannot reach the PDP over RMR")
            answer = rmr.receive(10)
            if answer is None or json.loads(answer.payload)["status"] != "OK":
                raise SystemExit(f"the PDP refused the policy: {answer}")
            rmr_reqs = [
                access.encode_request(r)
                for r in sign_all(request_pool(n_rmr + 200, rng), keys, progress, "signing")
            ]
            for p in rmr_reqs[:200]:  # warm-up
                rmr.send(mtypes.TWINRIC_ACCESS_REQ, p)
                rmr.receive(5)
            task = progress.add_task("over RMR, one at a time", total=n_rmr)
            rmr_us, permits = [], 0
            for p in rmr_reqs[200:]:
                t0 = time.perf_counter_ns()
                rmr.send(mtypes.TWINRIC_ACCESS_REQ, p)
                m = rmr.receive(5)
                rmr_us.append((time.perf_counter_ns() - t0) / 1000.0)
                if m is None:
                    raise SystemExit("the PDP stopped answering")
                permits += access.decode_response(m.payload).permitted
                progress.advance(task)
            progress.remove_task(task)

            load = [
                access.encode_request(r)
                for r in sign_all(request_pool(n_load, rng), keys, progress, "signing")
            ]
            task = progress.add_task(f"over RMR, {window} in flight", total=n_load)
            sent = got = 0
            t0 = time.perf_counter()
            while got < n_load:
                while sent < n_load and sent - got < window:
                    if rmr.send(mtypes.TWINRIC_ACCESS_REQ, load[sent]) == 0:
                        sent += 1
                    else:
                        break
                m = rmr.receive(5)
                if m is None:
                    raise SystemExit(f"answers stopped at {got}/{n_load}")
                got += m.mtype == mtypes.TWINRIC_ACCESS_RESP
                progress.advance(task)
            load_s = time.perf_counter() - t0
            progress.remove_task(task)
            scraped = httpx.get(f"http://127.0.0.1:{http_port}/metrics", timeout=5).text
            sums = {
                k: float(v)
                for k, v in (
                    line.split(" ")
                    for line in scraped.splitlines()
                    if line.startswith("twinric_pdp_batch_size_")
                )
                if k.endswith(("_sum", "_count"))
            }
            mean_batch = sums.get("twinric_pdp_batch_size_sum", 0) / max(
                1, sums.get("twinric_pdp_batch_size_count", 1)
            )
    finally:
        if rmr is not None:
            rmr.close()
        if proc is not None:
            proc.stop()
        view.stop()
        dlog.stop()
        server.stop()

    cedar_p50 = pct(cedar_us, 50)
    result = {
        "pdp_p50_us": pct(pdp_us, 50),
        "pdp_p99_us": pct(pdp_us, 99),
        "pdp_rmr_p50_us": pct(rmr_us, 50),
        "pdp_rmr_p99_us": pct(rmr_us, 99),
        "decisions_per_s": round(n_load / load_s, 1),
        "cedar_p50_us": cedar_p50,
        "overhead_ratio": round(pct(pdp_us, 50) / cedar_p50, 3),
    }
    detail = {
        "cedar_p99_us": pct(cedar_us, 99),
        "pdp_with_signature_check_p50_us": pct(full_us, 50),
        "pdp_with_signature_check_p99_us": pct(full_us, 99),
        "overhead_ratio_with_signature_check": round(pct(full_us, 50) / cedar_p50, 3),
        "ed25519_verify_p50_us": pct(verify_us, 50),
        "in_process_batch64_decisions_per_s": round(batch_per_s, 1),
        "rmr_permitted": permits,
        "rmr_requests": len(rmr_us),
        "cedar_allowed_of_first_200": int(allowed),
        "decisions_logged": dlog.written,
        "mean_rmr_batch": round(mean_batch, 1),
    }
    plot(cedar_us, pdp_us, full_us, rmr_us, ROOT / "bench" / "out" / "pdp.png")
    console.print(
        f"raw Cedar p50 {cedar_p50} us; PDP p50 {result['pdp_p50_us']} us "
        f"(x{result['overhead_ratio']}); with the signature check p50 "
        f"{detail['pdp_with_signature_check_p50_us']} us; over RMR p50 {result['pdp_rmr_p50_us']} us, "
        f"p99 {result['pdp_rmr_p99_us']} us; {result['decisions_per_s']} decisions/s under load"
    )
    print(json.dumps({"detail": detail}))
    assert tuple(result) == KEYS
    print(json.dumps(result))


def plot(cedar_us, pdp_us, full_us, rmr_us, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4))
    for values, label in (
        (cedar_us, "raw cedarpy"),
        (pdp_us, "PDP decision"),
        (full_us, "PDP incl. signature check"),
        (rmr_us, "PDP xApp over RMR"),
    ):
        xs = np.sort(values)
        ax.plot(
            xs, np.arange(1, len(xs) + 1) / len(xs), label=f"{label} (p50 {np.percentile(xs, 50):.0f} us)"
        )
    ax.set_xscale("log")
    ax.set_xlabel("latency (us)")
    ax.set_ylabel("CDF")
    ax.set_title("zero-trust PDP decision latency")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
