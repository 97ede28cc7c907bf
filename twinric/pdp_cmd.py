"""``twinric pdp``: the operator's side of the zero-trust PDP.

* ``decide SUBJECT ACTION RESOURCE [--context k=v] [--key FILE]``: ask the PDP. With the subject's
  private key the request is signed and decided for real (grant included); without, it is a dry run
  (what the policy would say; no grant, nothing cached).
* ``log [--subject] [--since] [--limit]``: the decision log (``GET /v1/decisions``).
* ``policy show | put FILE | default``: the zero-trust policy in force (and why an A1 instance was
  refused), a new one over A1 (type 21020), the one that ships with twinric.
* ``trust set SUBJECT SCORE | show [SUBJECT] | delete SUBJECT``: the trust namespace in Redis, written
  as the twin's security analytics will (the operator's stand-in until then).
* ``revoke SUBJECT``: revoke a subject at every PEP now.

The PDP and Redis of a running ``twinric up`` are found through its run directory; ``--url``,
``--redis-url`` (or ``TWINRIC_PDP_URL``, ``TWINRIC_REDIS_URL``) point elsewhere, e.g. at a RIC.
Exit codes: 0 done, 1 refused/denied where that is the answer asked for, 2 cannot reach.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import redis
import typer

from ricproto import access, identity, trust
from twinric.ports import LOCAL_PORT_PLAN
from twinric.stack import default_run_dir

pdp_app = typer.Typer(
    help="The zero-trust PDP: decide, decision log, policy, trust scores.", no_args_is_help=True
)
policy_app = typer.Typer(help="The zero-trust policy (A1 type 21020).", no_args_is_help=True)
trust_app = typer.Typer(help="Trust scores in the SDL namespace the PDP reads.", no_args_is_help=True)
pdp_app.add_typer(policy_app, name="policy")
pdp_app.add_typer(trust_app, name="trust")

DEFAULT_PDP_URL = f"http://127.0.0.1:{LOCAL_PORT_PLAN['pdp-http']}"


@pdp_app.callback()
def _quiet_http() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request is noise here


def _state(run_dir: Path | None) -> dict[str, Any]:
    path = (run_dir or default_run_dir()) / "state.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _pdp_url(url: str | None, run_dir: Path | None) -> str:
    return (url or _state(run_dir).get("urls", {}).get("pdp") or DEFAULT_PDP_URL).rstrip("/")


def _redis(url: str | None, run_dir: Path | None) -> redis.Redis:
    return redis.Redis.from_url(url or _state(run_dir).get("redis_url") or "redis://127.0.0.1:6379/0")


def pdp_status(url: str | None, timeout: float = 1.0) -> dict[str, Any] | None:
    """The PDP's ``/v1/status`` (for ``twinric up``/``status``), None when it does not answer."""
    if not url:
        return None
    try:
        resp = httpx.get(f"{url.rstrip('/')}/v1/status", timeout=timeout)
        return resp.json() if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def _call(method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return httpx.request(method, url, timeout=10, **kwargs)
    except httpx.HTTPError as exc:
        typer.echo(f"error: cannot reach {url}: {exc}", err=True)
        raise typer.Exit(2) from None


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True))


UrlOpt = Annotated[str | None, typer.Option("--url", envvar="TWINRIC_PDP_URL", help="PDP base URL")]
RunDirOpt = Annotated[Path | None, typer.Option("--run-dir", help="run directory of the `twinric up` to use")]
RedisOpt = Annotated[
    str | None, typer.Option("--redis-url", envvar="TWINRIC_REDIS_URL", help="Redis (SDL) URL")
]


def _context(pairs: list[str]) -> dict[str, access.ContextValue]:
    out: dict[str, access.ContextValue] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"context must be KEY=VALUE, got {pair!r}")
        try:
            parsed = json.loads(value)
            out[key] = parsed if isinstance(parsed, str | int | float | bool) else value
        except json.JSONDecodeError:
            out[key] = value
    return out


@pdp_app.command()
def decide(
    subject: Annotated[str, typer.Argument(help="e.g. xapp:twinric-control")],
    action: Annotated[str, typer.Argument(help="e.g. rc.handover")],
    resource: Annotated[str, typer.Argument(help="e.g. e2node:gnb_001_001_000001/cell:32769")],
    context: Annotated[
        list[str] | None, typer.Option("--context", "-c", help="KEY=VALUE, repeatable")
    ] = None,
    key: Annotated[
        Path | None, typer.Option("--key", help="the subject's private key: sign and decide")
    ] = None,
    url: UrlOpt = None,
    run_dir: RunDirOpt = None,
) -> None:
    """Ask the PDP (a dry run unless --key signs the request as the subject)."""
    req = access.AccessRequest(
        f"cli-{uuid.uuid4().hex[:12]}", subject, action, resource, _context(context or [])
    )
    if key is not None:
        try:
            req = access.sign_request(req, identity.load_private_key(key))
        except identity.IdentityError as exc:
            raise typer.BadParameter(str(exc), param_hint="--key") from None
    body = json.loads(access.encode_request(req))
    resp = _call("POST", f"{_pdp_url(url, run_dir)}/v1/decide", params={"dry_run": key is None}, json=body)
    if resp.status_code != 200:
        typer.echo(f"error: PDP answered {resp.status_code}: {resp.text}", err=True)
        raise typer.Exit(1)
    answer = resp.json()
    if answer.get("grant"):
        answer["grant"] = answer["grant"][:24] + "..."
    _print(answer)
    raise typer.Exit(0 if answer.get("decision") == "PERMIT" else 1)


@pdp_app.command("log")
def decision_log(
    subject: Annotated[str | None, typer.Option(help="only this subject")] = None,
    since: Annotated[
        str | None, typer.Option(help="ISO 8601 with time zone, Unix seconds, or -Ns (last N s)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON record per line")] = False,
    url: UrlOpt = None,
    run_dir: RunDirOpt = None,
) -> None:
    """The decision log, oldest first."""
    params: dict[str, Any] = {"limit": limit}
    if subject:
        params["subject"] = subject
    if since:
        params["since"] = (
            str(time.time() - float(since[1:-1])) if since.startswith("-") and since.endswith("s") else since
        )
    resp = _call("GET", f"{_pdp_url(url, run_dir)}/v1/decisions", params=params)
    if resp.status_code != 200:
        typer.echo(f"error: PDP answered {resp.status_code}: {resp.text}", err=True)
        raise typer.Exit(1)
    for rec in resp.json()["decisions"]:
        if as_json:
            typer.echo(json.dumps(rec, sort_keys=True))
        else:
            r = rec["request"]
            trust_text = ",".join(f"{s}={v:g}" for s, v in rec["trust"].items())
            typer.echo(
                f"{rec['ts']} {rec['decision_id']} {rec['result']:6} {r['subject']} {r['action']} "
                f"{r['resource']} [{rec['code']}] {','.join(rec['policies'])} {trust_text}"
            )


@policy_app.command("show")
def policy_show(
    full: Annotated[bool, typer.Option("--full", help="include the Cedar policies and schema")] = False,
    url: UrlOpt = None,
    run_dir: RunDirOpt = None,
) -> None:
    """The zero-trust policy in force, and the A1 instances the PDP refused (with why)."""
    base = _pdp_url(url, run_dir)
    resp = _call("GET", f"{base}/v1/policy")
    status = _call("GET", f"{base}/v1/status").json()
    if resp.status_code == 200:
        out = resp.json()
        if not full:
            out.pop("cedar_policies", None)
            out.pop("cedar_schema", None)
    else:
        out = {"in_force": None, "detail": resp.json().get("error")}
    out["refused_instances"] = status.get("refused_instances", {})
    _print(out)
    raise typer.Exit(0 if resp.status_code == 200 else 1)


@policy_app.command("default")
def policy_default() -> None:
    """Print the zero-trust policy that ships with twinric (an A1 instance body)."""
    from xapps.pdp.zero_trust_policy import default_policy_body

    _print(default_policy_body())


@policy_app.command("put")
def policy_put(
    file: Annotated[Path, typer.Argument(help="the A1 instance body (JSON), e.g. from `policy default`")],
    instance: Annotated[str, typer.Option(help="A1 policy instance id")] = "twinric-default",
    a1_url: Annotated[str | None, typer.Option("--a1-url", envvar="TWINRIC_A1_URL")] = None,
    url: UrlOpt = None,
    run_dir: RunDirOpt = None,
) -> None:
    """Put a zero-trust policy over A1 and report whether the PDP enforces it (and if not, why)."""
    from xapps.pdp.zero_trust_policy import policy_type_id

    try:
        body = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc}") from None
    a1 = (
        a1_url
        or _state(run_dir).get("urls", {}).get("a1")
        or f"http://127.0.0.1:{LOCAL_PORT_PLAN['a1-http']}"
    )
    target = f"{a1.rstrip('/')}/A1-P/v2/policytypes/{policy_type_id()}/policies/{instance}"
    resp = _call("PUT", target, json=body)
    if resp.status_code >= 400:
        typer.echo(f"error: the A1 mediator refused it: {resp.status_code} {resp.text}", err=True)
        raise typer.Exit(1)
    deadline = time.monotonic() + 10
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = _call("GET", f"{target}/status").json()
        if status.get("enforceStatus") == "ENFORCED":
            break
        refused = (pdp_status(_pdp_url(url, run_dir)) or {}).get("refused_instances", {})
        if instance in refused:
            status["pdp_reason"] = refused[instance]
            break
        time.sleep(0.2)
    _print(status)
    raise typer.Exit(0 if status.get("enforceStatus") == "ENFORCED" else 1)


@trust_app.command("set")
def trust_set(
    subject: Annotated[str, typer.Argument(help="xapp:<name>, e2node:<meid> or ue:<id>")],
    score: Annotated[float, typer.Argument(min=0.0, max=1.0, help="0 (untrusted) .. 1 (fully trusted)")],
    ttl: Annotated[
        float | None, typer.Option(help="seconds the score is good for (default: the policy's)")
    ] = 86400.0,
    source: Annotated[str, typer.Option(help="who scored it")] = "operator",
    explanation: Annotated[str | None, typer.Option(help="why")] = None,
    redis_url: RedisOpt = None,
    run_dir: RunDirOpt = None,
) -> None:
    """Write a trust score (and announce it, so the PDP revokes at once if it fell)."""
    from twinric.pdp_stack import write_trust

    try:
        rec = write_trust(
            _redis(redis_url, run_dir), subject, score, source, ttl_s=ttl, explanation=explanation
        )
    except trust.TrustRecordError as exc:
        raise typer.BadParameter(str(exc)) from None
    except redis.RedisError as exc:
        typer.echo(f"error: Redis: {exc}", err=True)
        raise typer.Exit(2) from None
    _print(json.loads(trust.encode_record(rec)))


@trust_app.command("show")
def trust_show(
    subject: Annotated[str | None, typer.Argument(help="one subject (default: all)")] = None,
    redis_url: RedisOpt = None,
    run_dir: RunDirOpt = None,
) -> None:
    """The trust records (with their age)."""
    client = _redis(redis_url, run_dir)
    try:
        keys = [trust.key(subject)] if subject else sorted(client.scan_iter(match=trust.KEY_PREFIX + "*"))
        values = client.mget(keys) if keys else []
    except trust.TrustRecordError as exc:
        raise typer.BadParameter(str(exc)) from None
    except redis.RedisError as exc:
        typer.echo(f"error: Redis: {exc}", err=True)
        raise typer.Exit(2) from None
    now = time.time()
    out = []
    for k, raw in zip(keys, values, strict=True):
        if raw is None:
            continue
        try:
            rec = trust.decode_record(raw)
            out.append({**json.loads(trust.encode_record(rec)), "age_s": round(rec.age_s(now), 1)})
        except trust.TrustRecordError as exc:
            out.append({"key": k.decode() if isinstance(k, bytes) else k, "invalid": str(exc)})
    _print(out)
    raise typer.Exit(0 if out or not subject else 1)


@trust_app.command("delete")
def trust_delete(subject: str, redis_url: RedisOpt = None, run_dir: RunDirOpt = None) -> None:
    """Remove a subject's record (the PDP then denies it: trust_missing)."""
    client = _redis(redis_url, run_dir)
    client.delete(trust.key(subject))
    client.publish(trust.UPDATES_CHANNEL, subject)
    typer.echo(f"deleted {subject}")


@pdp_app.command()
def revoke(
    subject: str,
    reason: Annotated[str, typer.Option()] = "operator",
    url: UrlOpt = None,
    run_dir: RunDirOpt = None,
) -> None:
    """Revoke a subject at every PEP now (cached permits dropped, grants refused)."""
    resp = _call("POST", f"{_pdp_url(url, run_dir)}/v1/revoke", json={"subject": subject, "reason": reason})
    _print(resp.json())
    raise typer.Exit(0 if resp.status_code == 200 else 1)
