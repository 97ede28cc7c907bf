"""``twinric a1``: the operator's client of the A1 mediator's A1-P v2 REST API.

Works against our local mediator and an OSC RIC alike (``--url http://<ingress>:32080/a1mediator``).
Results are printed as JSON on stdout; failures say what the mediator answered and exit non-zero
(1 = the mediator refused, 2 = the mediator could not be reached).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from twinric.ports import LOCAL_PORT_PLAN

A1_URL_ENV = "TWINRIC_A1_URL"
DEFAULT_URL = f"http://127.0.0.1:{LOCAL_PORT_PLAN['a1-http']}"
API = "/A1-P/v2"

a1_app = typer.Typer(help="Client of the A1 mediator (A1-P v2): policy types, policies, status.",
                     no_args_is_help=True)


def _base(url: str) -> str:
    url = url.rstrip("/")
    return url[: -len(API)] if url.endswith(API) else url


@a1_app.callback()
def _options(
    ctx: typer.Context,
    url: Annotated[str, typer.Option("--url", envvar=A1_URL_ENV,
                                     help="A1 mediator base URL (OSC through Kong: http://HOST:32080/a1mediator).")]
    = DEFAULT_URL,
    timeout: Annotated[float, typer.Option("--timeout", help="HTTP timeout in seconds.")] = 10.0,
) -> None:
    ctx.obj = {"base": _base(url), "timeout": timeout}


def _request(ctx: typer.Context, method: str, path: str, **kwargs: Any) -> httpx.Response:
    base, timeout = ctx.obj["base"], ctx.obj["timeout"]
    try:
        with httpx.Client(base_url=base, timeout=timeout) as client:
            return client.request(method, f"{API}{path}", **kwargs)
    except httpx.HTTPError as exc:
        typer.echo(f"error: cannot reach the A1 mediator at {base}: {exc}", err=True)
        raise typer.Exit(2) from None


def _check(resp: httpx.Response, what: str) -> httpx.Response:
    if resp.status_code < 400:
        return resp
    try:
        detail = resp.json().get("detail", resp.text)
    except (ValueError, AttributeError):
        detail = resp.text
    typer.echo(f"error: {what}: HTTP {resp.status_code}: {detail}".rstrip(": "), err=True)
    raise typer.Exit(1)


def _print(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True))


def _load_json(file: str | None, data: str | None, what: str) -> Any:
    if (file is None) == (data is None):
        raise typer.BadParameter(f"give the {what} as a FILE argument ('-' = stdin) or with --data, not both")
    try:
        if data is not None:
            return json.loads(data)
        text = sys.stdin.read() if file == "-" else Path(file).read_text()  # type: ignore[arg-type]
        return json.loads(text)
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {file}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"the {what} is not valid JSON: {exc}") from None


TypeId = Annotated[int, typer.Argument(help="Policy type id (1..2147483647).", min=1, max=2147483647)]
InstanceId = Annotated[str, typer.Argument(help="Policy instance id.")]
FileArg = Annotated[str | None, typer.Argument(help="JSON file ('-' = stdin).")]
DataOpt = Annotated[str | None, typer.Option("--data", help="The JSON inline instead of a file.")]


@a1_app.command("types")
def list_types(ctx: typer.Context) -> None:
    """List the policy type ids."""
    _print(_check(_request(ctx, "GET", "/policytypes"), "list policy types").json())


@a1_app.command("put-type")
def put_type(
    ctx: typer.Context, type_id: TypeId, file: FileArg = None, data: DataOpt = None,
    name: Annotated[str | None, typer.Option("--name", help="Type name when FILE holds only the schema.")]
    = None,
    description: Annotated[str, typer.Option("--description")] = "",
) -> None:
    """Create a policy type from a JSON file: the whole type object, or only its create_schema."""
    doc = _load_json(file, data, "policy type")
    if not isinstance(doc, dict):
        raise typer.BadParameter("the policy type must be a JSON object")
    if "create_schema" in doc:
        body = {**doc}
        body.setdefault("policy_type_id", type_id)
        body.setdefault("description", description)  # the A1 spec requires it (may be empty)
        if name is not None:
            body["name"] = name
        if description:
            body["description"] = description
    else:
        body = {"name": name or f"type-{type_id}", "description": description, "policy_type_id": type_id,
                "create_schema": doc}
    _check(_request(ctx, "PUT", f"/policytypes/{type_id}", json=body), f"create policy type {type_id}")
    typer.echo(f"created policy type {type_id}")


@a1_app.command("get-type")
def get_type(ctx: typer.Context, type_id: TypeId) -> None:
    """Show a policy type (name, description, create_schema)."""
    _print(_check(_request(ctx, "GET", f"/policytypes/{type_id}"), f"get policy type {type_id}").json())


@a1_app.command("delete-type")
def delete_type(ctx: typer.Context, type_id: TypeId) -> None:
    """Delete a policy type (it must have no instances)."""
    _check(_request(ctx, "DELETE", f"/policytypes/{type_id}"), f"delete policy type {type_id}")
    typer.echo(f"deleted policy type {type_id}")


@a1_app.command("policies")
def list_policies(ctx: typer.Context, type_id: TypeId) -> None:
    """List the instance ids of a policy type."""
    resp = _request(ctx, "GET", f"/policytypes/{type_id}/policies")
    _print(_check(resp, f"list policies of {type_id}").json())


@a1_app.command("put-policy")
def put_policy(
    ctx: typer.Context, type_id: TypeId, instance_id: InstanceId, file: FileArg = None, data: DataOpt = None,
    notify: Annotated[str | None, typer.Option("--notify", help="notificationDestination URL for status.")]
    = None,
) -> None:
    """Create or update a policy instance; the mediator validates it against the type's create_schema."""
    body = _load_json(file, data, "policy instance")
    params = {"notificationDestination": notify} if notify else None
    path = f"/policytypes/{type_id}/policies/{instance_id}"
    _check(_request(ctx, "PUT", path, json=body, params=params), f"put policy {type_id}/{instance_id}")
    typer.echo(f"accepted policy {type_id}/{instance_id}")


@a1_app.command("get-policy")
def get_policy(ctx: typer.Context, type_id: TypeId, instance_id: InstanceId) -> None:
    """Show a policy instance."""
    path = f"/policytypes/{type_id}/policies/{instance_id}"
    _print(_check(_request(ctx, "GET", path), f"get policy {type_id}/{instance_id}").json())


@a1_app.command("delete-policy")
def delete_policy(ctx: typer.Context, type_id: TypeId, instance_id: InstanceId) -> None:
    """Delete a policy instance (the handlers get a DELETE)."""
    path = f"/policytypes/{type_id}/policies/{instance_id}"
    _check(_request(ctx, "DELETE", path), f"delete policy {type_id}/{instance_id}")
    typer.echo(f"deleted policy {type_id}/{instance_id}")


@a1_app.command("status")
def status(
    ctx: typer.Context, type_id: TypeId, instance_id: InstanceId,
    wait: Annotated[float, typer.Option("--wait", help="Wait up to this many seconds for ENFORCED; "
                                                       "exit 1 if it is not reached.")] = 0.0,
) -> None:
    """Show a policy instance's enforce status (ENFORCED iff a handler answered OK)."""
    path = f"/policytypes/{type_id}/policies/{instance_id}/status"
    deadline = time.monotonic() + wait
    while True:
        body = _check(_request(ctx, "GET", path), f"status of {type_id}/{instance_id}").json()
        if body.get("enforceStatus") == "ENFORCED" or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    _print(body)
    if wait and body.get("enforceStatus") != "ENFORCED":
        raise typer.Exit(1)

