"""``twinric rmr send|recv|probe``: small RMR diagnostic tools on the pure-Python RMR.

* ``send``: send N messages of a type (name or number), sub_id and meid, straight to an endpoint
  (a wormhole, like RMR's tools) or by a route table; ``--call`` waits for each reply.
* ``recv``: listen on a port and print one summary per message (``--json`` for JSON lines);
  ``--echo`` answers every message by RTS.
* ``probe``: health-check an endpoint like RMR's ``rmr_probe``: mtype 100, healthy when the 101
  reply starts with ``OK``. Exit status 0 when healthy, 1 otherwise.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ricproto import mtypes
from ricproto.rmr import RmrContext, RmrMessage
from ricproto.rmr.states import RMR_ERR_RETRY, RMR_OK, state_name

rmr_app = typer.Typer(help="RMR diagnostics: send, receive and health-probe RMR endpoints.",
                      no_args_is_help=True)
console = Console(stderr=True)

TargetOpt = Annotated[str | None, typer.Option("--target", "-t", help="host:port to send to directly.")]
RoutesOpt = Annotated[Path | None, typer.Option("--routes", help="Route table file to send by instead.")]
PortOpt = Annotated[int, typer.Option("--port", "-p", help="Our listen port (0: any free port).")]
SrcIdOpt = Annotated[str | None, typer.Option("--src-id", help="Name peers answer to (default RMR_SRC_ID, "
                                                             "else the short hostname).")]


def _mtype(text: str) -> int:
    try:
        return mtypes.parse(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--mtype") from exc


def summary(msg: RmrMessage) -> dict:
    """What the tools print about one message."""
    names = mtypes.by_value()
    return {
        "mtype": msg.mtype,
        "name": names.get(msg.mtype, ""),
        "sub_id": msg.sub_id,
        "meid": msg.meid,
        "xid": msg.xid_text.decode("utf-8", "replace"),
        "src": msg.src,
        "srcip": msg.srcip,
        "len": len(msg.payload),
        "call_id": msg.call_id,
        "payload": msg.payload[:64].decode("utf-8", "replace"),
    }


def _open(port: int, src_id: str | None) -> RmrContext:
    try:
        return RmrContext(port, src_id=src_id, rtg_port=-1, seed_rt="")
    except OSError as exc:
        console.print(f"[red]cannot start RMR on port {port}: {exc}[/red]")
        raise typer.Exit(2) from exc


@rmr_app.command()
def send(
    mtype: Annotated[str, typer.Option("--mtype", "-m", help="Message type: number or name.")],
    target: TargetOpt = None,
    routes: RoutesOpt = None,
    payload: Annotated[str, typer.Option("--payload", help="Payload text ({i} becomes the counter).")] = "",
    count: Annotated[int, typer.Option("--count", "-n", min=1)] = 1,
    sub_id: Annotated[int, typer.Option("--sub-id")] = -1,
    meid: Annotated[str, typer.Option("--meid")] = "",
    call: Annotated[bool, typer.Option("--call", help="Wait for a reply to each message.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each reply.")] = 1.0,
    port: PortOpt = 0,
    src_id: SrcIdOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send COUNT messages (to --target, or by --routes) and report the RMR states."""
    if (target is None) == (routes is None):
        raise typer.BadParameter("give exactly one of --target and --routes")
    mt = _mtype(mtype)
    ctx = _open(port, src_id)
    try:
        whid = -1
        if target is not None:
            whid = ctx.wh_open(target)
            if whid < 0:
                console.print(f"[red]cannot connect to {target}[/red]")
                raise typer.Exit(1)
        else:
            ctx.load_routes(routes.read_text())  # type: ignore[union-attr]
        states: dict[str, int] = {}
        replies = []
        for i in range(count):
            data = payload.replace("{i}", str(i)).encode()
            if call:
                msg = RmrMessage(mt, data, sub_id, meid)
                reply = ctx.call_msg(msg, timeout, wormhole=whid if whid >= 0 else None)
                state = msg.state
                if reply is not None:
                    replies.append(summary(reply))
            else:
                while True:  # back-pressure: keep trying, like a careful xApp would
                    state = (ctx.wh_send(whid, mt, data, sub_id=sub_id, meid=meid) if whid >= 0
                             else ctx.send(mt, data, sub_id=sub_id, meid=meid))
                    if state != RMR_ERR_RETRY:
                        break
                    time.sleep(0.001)
            states[state_name(state)] = states.get(state_name(state), 0) + 1
        result = {"sent": states.get("RMR_OK", 0), "states": states, "replies": replies}
        if as_json:
            print(json.dumps(result))
        else:
            console.print(f"sent {result['sent']} of {count} (mtype {mt}): {states}")
            for reply in replies:
                console.print(reply)
        if states.get("RMR_OK", 0) != count:
            raise typer.Exit(1)
    finally:
        ctx.close()


@rmr_app.command()
def recv(
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")] = 4560,
    count: Annotated[int, typer.Option("--count", "-n", help="Stop after this many (0: never).")] = 0,
    timeout: Annotated[float, typer.Option("--timeout", help="Stop after this many idle seconds (0: never).")
                       ] = 0,
    echo: Annotated[bool, typer.Option("--echo", help="Answer each message by RTS (mtype + 1).")] = False,
    src_id: SrcIdOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Receive messages and print a summary of each."""
    ctx = _open(port, src_id)
    console.print(f"listening on {ctx.port} as {ctx.src}")
    received = 0
    try:
        while count == 0 or received < count:
            msg = ctx.receive(timeout or None)
            if msg is None:
                break
            received += 1
            info = summary(msg)
            if as_json:
                print(json.dumps(info), flush=True)
            else:
                print(f"{info['mtype']:>6} {info['name']:<24} sub={info['sub_id']:<6} meid={info['meid']!r} "
                      f"src={info['src']} len={info['len']} {info['payload']!r}", flush=True)
            if echo:
                ctx.rts(msg, msg.payload, msg.mtype + 1)
    except KeyboardInterrupt:
        pass
    finally:
        ctx.close()
    if count and received < count:
        raise typer.Exit(1)


@rmr_app.command()
def probe(
    target: Annotated[str, typer.Option("--target", "-t", help="host:port of the RMR endpoint.")],
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each answer.")] = 1.0,
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="Health checks to send.")] = 1,
    src_id: SrcIdOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Health-check an endpoint (RIC_HEALTH_CHECK_REQ 100 -> 101 "OK"); exit 0 when healthy."""
    ctx = _open(0, src_id)
    try:
        whid = ctx.wh_open(target)
        results = []
        for _ in range(count if whid >= 0 else 0):
            started = time.perf_counter()
            reply = ctx.wh_call(whid, mtypes.RIC_HEALTH_CHECK_REQ, b"health check", timeout=timeout)
            elapsed_ms = (time.perf_counter() - started) * 1000
            healthy = (reply is not None and reply.mtype == mtypes.RIC_HEALTH_CHECK_RESP
                       and reply.payload.split()[:1] == [b"OK"])
            results.append({"healthy": healthy, "ms": round(elapsed_ms, 3),
                            "answer": reply.payload.decode("utf-8", "replace").strip() if reply else None})
        ok = bool(results) and all(r["healthy"] for r in results)
        if as_json:
            print(json.dumps({"target": target, "healthy": ok, "connected": whid >= 0, "checks": results}))
        elif whid < 0:
            console.print(f"[red]{target}: cannot connect[/red]")
        else:
            for r in results:
                colour = "green" if r["healthy"] else "red"
                console.print(f"[{colour}]{target}: {'healthy' if r['healthy'] else 'unhealthy'}[/{colour}] "
                              f"{r['ms']} ms answer={r['answer']!r}")
        raise typer.Exit(0 if ok else 1)
    finally:
        ctx.close()


__all__ = ["RMR_OK", "rmr_app"]
