"""``twinric twin state|forecast|fidelity``, the twin sidecar's service in ``twinric up``, and its line
in ``twinric status``.

The commands ask a running sidecar over HTTP: ``--url`` (default: the twin of the ``twinric up`` whose
run directory is given, or the default one), ``--token`` (or ``TWINRIC_TWIN_TOKEN``) when the sidecar
requires one.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from twinric.stack import Service, default_run_dir

twin_app = typer.Typer(
    help="Query a twin sidecar: mirrored state (and time travel), forecasts, fidelity.", no_args_is_help=True
)
console = Console()
HOST = "127.0.0.1"


def twin_service(port: int, redis_url: str, config_file: Path, run_dir: Path, log_level: str,
                 a1_url: str | None = None) -> Service:
    """The sidecar beside the control xApp: the same descriptor, its own state directory; ``a1_url``:
    the A1 mediator it reads its ``twinric-twin`` policies (gate thresholds) from."""
    return Service(
        "twin",
        [sys.executable, "-m", "twin_sidecar"],
        ready_port=port,
        metrics_port=port,
        env={
            "CONFIG_FILE": str(config_file),
            "TWINRIC_TWIN_HOST": HOST,
            "TWINRIC_TWIN_PORT": str(port),
            "TWINRIC_REDIS_URL": redis_url,
            "TWINRIC_TWIN_STATE_DIR": str(run_dir / "twin"),
            "TWINRIC_LOG_LEVEL": log_level,
            **({"TWINRIC_A1_URL": a1_url} if a1_url else {}),
        },
    )


def twin_summary(
    urls: dict[str, str], token: str | None = None, timeout: float = 2.0
) -> dict[str, Any] | None:
    """Lag, fidelity and model version of the stack's twin (None when the stack has none)."""
    url = urls.get("twin")
    if not url:
        return None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        health = httpx.get(f"{url}/health", timeout=timeout).json()
        fidelity = httpx.get(
            f"{url}/v1/fidelity", params={"versions": 0}, headers=headers, timeout=timeout
        ).json()
    except (httpx.HTTPError, ValueError) as exc:
        return {"url": url, "up": False, "error": str(exc) or type(exc).__name__}
    try:  # a twin without a target policy (older sidecar) answers 404: no policy figures then
        resp = httpx.get(f"{url}/v1/policy", params={"history": 0}, headers=headers, timeout=timeout)
        policy = resp.json() if resp.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        policy = {}
    latest = fidelity.get("latest") or {}
    streams = health.get("streams", {})
    return {
        "url": url,
        "dashboard": f"{url}/dashboard/",
        "up": True,
        "ready": health.get("ready"),
        "lag": {name: s.get("lag") for name, s in streams.items()},
        "consumed": {name: s.get("consumed") for name, s in streams.items()},
        "model_version": fidelity.get("model_version"),
        "fidelity_prb_ratio_1": latest.get("prb_ratio_1"),
        "fidelity_prb_ratio_k": latest.get("prb_ratio_k"),
        "coverage_90": latest.get("coverage_90"),
        "forecaster": fidelity.get("sync", {}).get("forecaster"),
        "policy_version": (policy.get("in_force") or {}).get("version"),  # None: the heuristic
        "policy_candidate": (policy.get("candidate") or {}).get("kind"),
        "policy_updates": policy.get("learner", {}).get("updates"),
    }


UrlOpt = Annotated[str | None, typer.Option("--url", help="the sidecar (default: the running twinric up's)")]
RunDirOpt = Annotated[Path | None, typer.Option(help="run directory of the twinric up to ask")]
TokenOpt = Annotated[str | None, typer.Option(help="bearer token (default: $TWINRIC_TWIN_TOKEN)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the JSON answer")]


def _url(url: str | None, run_dir: Path | None) -> str:
    if url:
        return url.rstrip("/")
    state = (run_dir or default_run_dir()) / "state.json"
    try:
        found = json.loads(state.read_text()).get("urls", {}).get("twin")
    except (OSError, ValueError):
        found = None
    if not found:
        console.print(
            f"[red]no twin URL: no running `twinric up` with a twin in {state.parent}; pass --url[/red]"
        )
        raise typer.Exit(2)
    return found


def _get(url: str, path: str, token: str | None, params: dict[str, Any] | None = None) -> dict[str, Any]:
    token = token or os.environ.get("TWINRIC_TWIN_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        resp = httpx.get(f"{url}{path}", params=params, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        console.print(f"[red]{url} does not answer: {exc}[/red]")
        raise typer.Exit(1) from exc
    if resp.status_code != 200:
        try:
            reason = resp.json().get("reason") or resp.json().get("detail")
        except ValueError:
            reason = resp.text
        console.print(f"[red]{path}: {resp.status_code} {reason}[/red]")
        raise typer.Exit(1)
    return resp.json()


@twin_app.command()
def state(
    url: UrlOpt = None,
    run_dir: RunDirOpt = None,
    token: TokenOpt = None,
    at: Annotated[float | None, typer.Option(help="Unix seconds: the state as it was then")] = None,
    ues: Annotated[bool, typer.Option(help="list every UE")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The mirrored RAN: nodes, cells (KPM, quotas, offsets, handovers, UEs), now or at a past time."""
    base = _url(url, run_dir)
    params: dict[str, Any] = {"include_ues": ues}
    if at is not None:
        params["t"] = at
    body = _get(base, "/v1/state/at" if at is not None else "/v1/state", token, params)
    if as_json:
        print(json.dumps(body))
        return
    table = Table(title=f"twin state at {body['t_ns'] / 1e9:.3f} (record {body['seq']})")
    for col in ("cell", "node", "reported", "PRB %", "UEs", "HO in/out", "offsets dB"):
        table.add_column(col)
    for c in body["cells"]:
        table.add_row(
            str(c["nr_cell_id"]),
            c["meid"],
            "yes" if c["reported"] else "no",
            f"{c['kpm'].get('prb_tot_dl_pct', float('nan')):.1f}",
            str(c["ues"]),
            f"{c['handovers_in']}/{c['handovers_out']}",
            _offsets(c.get("offsets", [])),
        )
    console.print(table)
    lost = [n["meid"] for n in body["nodes"] if n["status"] != "connected"]
    console.print(
        f"nodes: {len(body['nodes'])}, not connected: {', '.join(lost) or 'none'}; "
        f"history {body['history']['rounds']} rounds; offsets: cell individual offset toward each neighbour "
        "as acknowledged (* another one commanded, not yet acknowledged)"
    )


def _offsets(offsets: list[dict[str, Any]]) -> str:
    """A cell's non-zero offsets toward its neighbours, e.g. ``32769:+2 49153:-4*``."""
    out = []
    for o in offsets:
        if o["acknowledged_db"] or o["commanded_db"]:
            pending = "*" if o["commanded_db"] != o["acknowledged_db"] else ""
            out.append(f"{o['nr_cell_id']}:{o['acknowledged_db']:+d}{pending}")
    return " ".join(out)


@twin_app.command()
def forecast(
    url: UrlOpt = None,
    run_dir: RunDirOpt = None,
    token: TokenOpt = None,
    horizon: Annotated[int | None, typer.Option(help="report periods ahead")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Each cell's PRB load for the next report periods, with spread."""
    base = _url(url, run_dir)
    body = _get(base, "/v1/forecast", token, {"horizon": horizon} if horizon else None)
    if as_json:
        print(json.dumps(body))
        return
    table = Table(title=f"PRB load forecast ({body['model']}, {body['period_ms']} ms periods)")
    table.add_column("cell")
    for h in range(body["horizon"]):
        table.add_column(f"+{h + 1}", justify="right")
    for c in body["cells"]:
        table.add_row(
            str(c["nr_cell_id"]), *(f"{x:.2f}±{s:.2f}" for x, s in zip(c["load"], c["std"], strict=True))
        )
    console.print(table)


@twin_app.command()
def fidelity(
    url: UrlOpt = None,
    run_dir: RunDirOpt = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Prediction error of the model in service on fresh data, vs persistence; versions and drift."""
    base = _url(url, run_dir)
    body = _get(base, "/v1/fidelity", token)
    if as_json:
        print(json.dumps(body))
        return
    latest = body.get("latest")
    console.print(
        f"model version {body['model_version']}; forecaster {body['sync'].get('forecaster')}; "
        f"{body['sync'].get('transitions')} transitions, {body['sync'].get('updates')} updates"
    )
    if not latest:
        console.print("no fidelity yet (no fresh data since the model in service was published)")
        return
    table = Table(
        title=f"fidelity of version {latest['model_version']} on {latest['samples']} fresh transitions"
    )
    for col in (
        "feature",
        "RMSE 1-step",
        "persistence",
        f"RMSE {latest['k']}-step",
        "persistence",
        "similarity",
    ):
        table.add_column(col, justify="right")

    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.4f}"

    for name, f in latest["features"].items():
        table.add_row(
            name,
            fmt(f["rmse_1"]),
            fmt(f["persistence_rmse_1"]),
            fmt(f["rmse_k"]),
            fmt(f["persistence_rmse_k"]),
            fmt(f["similarity"]),
        )
    console.print(table)
    console.print(
        f"PRB load ratio to persistence: 1-step {fmt(latest['prb_ratio_1'])}, "
        f"{latest['k']}-step {fmt(latest['prb_ratio_k'])}; 90 % interval coverage "
        f"{fmt(latest['coverage_90'])}; drift events: {len(body['drift_events'])}"
    )


@twin_app.command()
def policy(
    url: UrlOpt = None,
    run_dir: RunDirOpt = None,
    token: TokenOpt = None,
    as_json: JsonOpt = False,
    history: Annotated[int, typer.Option(help="newest gate and rollback records to show")] = 10,
    evaluate: Annotated[bool, typer.Option("--evaluate", help="put the current network to the gate now")]
    = False,
) -> None:
    """The target policy: version in force and candidate, learner diagnostics, gate and rollback history."""
    base = _url(url, run_dir)
    nan = float("nan")
    if evaluate:
        token = token or os.environ.get("TWINRIC_TWIN_TOKEN")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            resp = httpx.post(f"{base}/v1/policy/evaluate", headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            console.print(f"[red]{base} does not answer: {exc}[/red]")
            raise typer.Exit(1) from exc
        if resp.status_code != 202:
            console.print(f"[red]not queued: {resp.json().get('reason', resp.text)}[/red]")
            raise typer.Exit(1)
        console.print("candidate queued for the gate")
    body = _get(base, "/v1/policy", token, {"history": history})
    if as_json:
        print(json.dumps(body))
        return
    in_force = body.get("in_force")
    learner = body["learner"]
    d = dict.fromkeys(("td_error", "ess_fraction", "truncation_rate", "policy_lag", "updates_per_s"), nan)
    d.update(learner.get("diagnostics") or {})
    console.print(
        f"in force: {in_force['version'] if in_force else 'none (heuristic)'}; the xApp runs "
        f"{body['behaviour_version'] or '?'}; lineage {' -> '.join(body['lineage']) or '-'}"
    )
    console.print(
        f"learner: {learner['updates']} updates, replay {learner['replay']}, held out {learner['held_out']}; "
        f"TD error {d['td_error']:.4f}, ESS {d['ess_fraction']:.2f}, truncated {d['truncation_rate']:.1%}, "
        f"policy lag {d['policy_lag']:.0f}, {d['updates_per_s']:.0f} updates/s; "
        f"thresholds from {learner['thresholds_from']}"
        + (f"; waiting: {learner['waiting']}" if learner["waiting"] else "")
    )
    table = Table(title="gate and rollback history (newest last)")
    for col in ("when", "kind", "version", "in force after", "evidence"):
        table.add_column(col)
    for rec in body["history"]:
        evidence = "; ".join(rec["reasons"])
        gate = rec.get("gate")
        if gate:
            dec = next((e for e in gate["ope"] if e["estimator"] == gate["decision_estimator"]), None)
            if dec and dec["lcb"] is not None:
                ope = f"{dec['estimator']} {dec['improvement']:+.4f} (lcb {dec['lcb']:+.4f})"
                evidence = f"{ope}; {evidence}"
        table.add_row(
            time.strftime("%H:%M:%S", time.localtime(rec["at"])),
            rec["kind"],
            rec["version"],
            str(rec["in_force"] or "heuristic"),
            evidence,
        )
    console.print(table)
