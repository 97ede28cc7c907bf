"""Security analytics against the shipped attack scenarios (issue 14).

For every attack scenario (``e2sim/scenarios/attacks``) on a fresh seed, three runs of the e2sim
security loop (``bench.security_loop``: the twin's own detectors and trust scores, the real PDP over a
real Redis, the load-balancing control xApp): the attack with the defence, the attack without it
(every subject published at trust 1, no training guard), and the same seed without the attack (the
reference for the objective). Measured per scenario:

* detection AUC: attacked subjects against every other subject of the same kind, by their lowest
  trust during the attack; time to detect: from the attack's start until the attacked subject's trust
  is below the PDP's deny level (simulated seconds);
* recovery: seconds after the attack until its subjects are above the deny level again;
* false denies: the control xApp's requests whose subject, node and UE are all benign, denied by the
  PDP (all scenarios, with the defence);
* objective loss: the benign UEs' utility (mean log DL volume per round, from the attack's start)
  against the run without the attack, relative, with and without the defence.

The impersonation scenario is caught by the PDP's signature check, not by a score: its "auc" is the
share of the impersonator's requests denied as ``bad_signature`` and it stays out of ``auc_min``.

Last line: JSON with ``auc_min``, ``detect_s_max``, ``false_deny_rate``,
``objective_loss_with_defence``, ``objective_loss_without_defence`` (means over the scenarios whose
attack costs anything) and the per-scenario rows. ``--quick`` runs one seed, the full run three.
Plot: ``bench/out/security.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import redis
from rich.progress import Progress

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.security_loop import (  # noqa: E402
    PdpHarness,
    SecurityLoop,
    benign_distrusted,
    detection,
    recovery_s,
    utility,
)
from e2sim.attacks import SHIPPED_ATTACKS, load_attack_scenario  # noqa: E402
from twinric.redis_server import PrivateRedis, configured_url  # noqa: E402

OUT = ROOT / "bench" / "out"


def run_scenario(
    name: str, seed: int, duration_s: float | None, client: redis.Redis, work: Path
) -> dict[str, Any]:
    spec = load_attack_scenario(name)
    if duration_s is not None:
        spec = dataclasses.replace(spec, duration_s=duration_s)
    xapps = tuple(sorted({spec.control_xapp, *(a.xapp for a in spec.attacks if a.kind == "rogue_xapp")}))
    runs = {}
    for label, defence, attacks in (
        ("defended", True, True),
        ("undefended", False, True),
        ("clean", False, False),
    ):
        client.flushdb()
        pdp = PdpHarness(client, work / f"{name}-{seed}-{label}", xapps)
        try:
            loop = SecurityLoop(spec, pdp, seed=seed, defence=defence, attacks=attacks)
            loop.run_all()
        finally:
            pdp.close()
        runs[label] = loop
    d = runs["defended"]
    labels = d.labels
    start = min((lbl.start_s for lbl in labels), default=0.0)
    u_clean = utility(runs["clean"].log, start)
    loss = {
        k: max(0.0, (u_clean - utility(runs[k].log, start)) / max(abs(u_clean), 1e-9))
        for k in ("defended", "undefended")
    }
    row: dict[str, Any] = {
        "scenario": name,
        "seed": seed,
        "subjects_attacked": [lbl.subject for lbl in labels],
        "benign_requests": sum(e.benign_requests for e in d.log),
        "benign_denied": sum(e.benign_denied for e in d.log),
        "benign_distrusted": benign_distrusted(d.log, labels),
        "rogue_requests": sum(e.rogue_requests for e in d.log),
        "rogue_permitted": sum(e.rogue_permitted for e in d.log),
        "rogue_permitted_undefended": sum(e.rogue_permitted for e in runs["undefended"].log),
        "loss_with_defence": round(loss["defended"], 5),
        "loss_without_defence": round(loss["undefended"], 5),
        "excluded_reports": sum(d.analytics.guard.excluded.values()),
        "forecast_mae_defended": _mean(d.forecast_error),
        "forecast_mae_undefended": _mean(runs["undefended"].forecast_error),
        "trace": [
            {"t_s": e.t_s, **{s: round(e.scores.get(s, 1.0), 4) for s in {lbl.subject for lbl in labels}}}
            for e in d.log
        ],
    }
    impersonating = any(lbl.claimed for lbl in labels)
    if impersonating:
        denied_sig = sum(e.denied_codes.get("bad_signature", 0) for e in d.log)
        row.update(auc=denied_sig / max(row["rogue_requests"], 1), detect_s=0.0, caught_by="signature")
    elif labels:
        det = detection(d.log, labels)
        row.update(
            auc=det["auc"], detect_s=det["detect_s"], caught_by="twin", recovery_s=recovery_s(d.log, labels)
        )
    return row


def _finite(value: Any) -> Any:
    """JSON has no infinity: a never-detected attack's time (inf) is written as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 5) if values else None


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    attacked = [r for r in rows if r["subjects_attacked"] and r["caught_by"] == "twin"]
    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    for r in attacked:
        subject = r["subjects_attacked"][0]
        axes[0].plot([p["t_s"] for p in r["trace"]], [p[subject] for p in r["trace"]], label=r["scenario"])
    axes[0].axvline(15, color="grey", ls=":")
    axes[0].axhline(0.5, color="red", ls="--", lw=0.8)
    axes[0].set(
        xlabel="simulated s", ylabel="trust of the (first) attacked subject", title="trust under attack"
    )
    axes[0].legend(fontsize=7)
    names = [r["scenario"] for r in rows if "loss_with_defence" in r and r["subjects_attacked"]]
    x = range(len(names))
    with_d = [r["loss_with_defence"] for r in rows if r["subjects_attacked"]]
    without = [r["loss_without_defence"] for r in rows if r["subjects_attacked"]]
    axes[1].bar([i - 0.2 for i in x], without, 0.4, label="without defence")
    axes[1].bar([i + 0.2 for i in x], with_d, 0.4, label="with defence")
    axes[1].set_xticks(list(x), names, rotation=45, ha="right", fontsize=7)
    axes[1].set(ylabel="relative utility loss vs no attack", title="objective loss (busy machine, one seed)")
    axes[1].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=101, help="first seed (fresh: not the scenario files')")
    ap.add_argument("--scenarios", nargs="*", default=list(SHIPPED_ATTACKS))
    args = ap.parse_args(argv)
    seeds = [args.seed] if args.quick else [args.seed + k for k in range(3)]
    duration = None
    url = configured_url()
    private = None if url else PrivateRedis().start()
    client = redis.Redis.from_url(url or private.url)  # type: ignore[union-attr]
    rows: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp, Progress() as progress:
            task = progress.add_task("attack scenarios", total=len(args.scenarios) * len(seeds))
            for seed in seeds:
                for name in args.scenarios:
                    rows.append(run_scenario(name, seed, duration, client, Path(tmp)))
                    progress.advance(task)
    finally:
        client.close()
        if private is not None:
            private.stop()
    for r in rows:
        print(
            f"{r['scenario']:<26} seed {r['seed']}  auc {r.get('auc', math.nan):.3f}  "
            f"detect {r.get('detect_s', math.nan):5.1f}s  recover {r.get('recovery_s', math.nan):5.1f}s  "
            f"benign denied {r['benign_denied']}/{r['benign_requests']}  "
            f"distrusted {r['benign_distrusted']}  rogue permitted {r['rogue_permitted']}/"
            f"{r['rogue_requests']} (undefended {r['rogue_permitted_undefended']})  "
            f"loss {r['loss_with_defence']:.4f} vs {r['loss_without_defence']:.4f} undefended"
        )
    plot(rows, OUT / "security.png")
    scored = [r for r in rows if r["subjects_attacked"] and r["caught_by"] == "twin"]
    attacked = [r for r in rows if r["subjects_attacked"]]
    requests = sum(r["benign_requests"] for r in rows)
    result = {
        "auc_min": min(r["auc"] for r in scored) if scored else None,
        "detect_s_max": max(r["detect_s"] for r in scored) if scored else None,  # inf (null): missed
        "false_deny_rate": sum(r["benign_denied"] for r in rows) / requests if requests else 0.0,
        "objective_loss_with_defence": _mean([r["loss_with_defence"] for r in attacked]),
        "objective_loss_without_defence": _mean([r["loss_without_defence"] for r in attacked]),
        "impersonation_denied_share": min(
            (r["auc"] for r in attacked if r["caught_by"] == "signature"), default=None
        ),
        "benign_subjects_distrusted": sorted({s for r in rows for s in r["benign_distrusted"]}),
        "quick": args.quick,
        "seeds": seeds,
        "rows": [{k: v for k, v in r.items() if k != "trace"} for r in rows],
    }
    print(json.dumps(_finite(result)))
    return result


if __name__ == "__main__":
    main()
