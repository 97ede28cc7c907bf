"""`twinric up` end to end: real processes, real Redis, real RMR route pushes, real E2 over framed TCP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import redis

from ricproto.transition import decode_transition
from ricproto.transition_pb2 import ActionSource
from twinric.ports import LOCAL_PORT_PLAN, port_is_free
from twinric.processes import pid_alive, wait_until


def _twinric(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "twinric", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def test_up_runs_the_platform_and_e2sim_then_stops_cleanly(tmp_path, redis_url: str) -> None:
    run_dir = tmp_path / "run"
    env = dict(os.environ, TWINRIC_REDIS_URL=redis_url)
    argv = ["up", "--for", "300", "--json", "--free-ports", "--run-dir", str(run_dir), "--status-every", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "twinric", *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        state_file = run_dir / "state.json"
        def started() -> bool:
            return state_file.exists() and any(
                s["name"] == "e2sim" for s in json.loads(state_file.read_text())["services"])

        assert wait_until(started, 120), proc.stderr.read() if proc.poll() is not None else "no stack"
        state = json.loads(state_file.read_text())

        # `twinric status` from another process sees every E2 node of the small scenario (7 gNBs), the
        # control xApp's subscription per node, and the loop turning: indications in, controls out.
        def status() -> dict:
            out = _twinric("status", "--json", "--run-dir", str(run_dir), env=env)
            return json.loads(out.stdout)

        assert wait_until(lambda: (r := status())["e2_nodes"] == 7 and r["subscriptions"] == 7, 90), status()
        assert wait_until(lambda: (r := status())["indications"] > 50 and r["controls"] > 0, 30), status()
        state = json.loads(state_file.read_text())  # every service by now (it grows as they start)
        report = status()
        assert report["running"] is True and all(report["services"].values())
        assert set(report["services"]) == {
            "appmgr", "e2term", "submgr", "a1mediator", "e2mgr", "absent", "e2sim", "pdp", "twin", "control"}
        assert report["errors"] == 0

        # zero trust: the default policy is in force, the control xApp's controls were permitted by the
        # PDP (signed, with grants e2term accepted), every decision is in the log
        assert report["pdp"]["policy_version"].startswith("twinric-default-1@"), report
        assert report["pdp"]["decisions"] > 0
        out = _twinric("pdp", "log", "--run-dir", str(run_dir), "--json", "--limit", "500", env=env)
        decisions = [json.loads(line) for line in out.stdout.splitlines()]
        assert any(d["result"] == "PERMIT" and d["request"]["subject"] == "xapp:twinric-control"
                   for d in decisions), out.stdout[-2000:]
        assert [d["seq"] for d in decisions] == sorted(d["seq"] for d in decisions)

        # the twin sidecar beside the control xApp: it mirrors and learns from the xApp's streams, the
        # xApp leaves its degraded mode, receives load forecasts and uses them (state intervention)
        stream = "twinric:transitions:twinric-control"

        def intervened() -> bool:
            return any(decode_transition(f[b"t"]).state_intervened
                       for _, f in redis.Redis.from_url(redis_url).xrevrange(stream, count=50))

        assert wait_until(intervened, 40), status()
        twin = status()["twin"]
        assert twin["up"] and twin["url"] == state["urls"]["twin"]
        assert twin["consumed"]["transitions"] > 0 and twin["consumed"]["ran_view"] > 0
        assert set(twin["lag"]) == {"transitions", "ran_view"} and twin["model_version"] >= 0
        mirrored = json.loads(_twinric("twin", "state", "--json", "--run-dir", str(run_dir), env=env).stdout)
        assert len(mirrored["cells"]) == 7 and {n["status"] for n in mirrored["nodes"]} == {"connected"}
        # the RAN view carries what issue 20 added: per-slice distributions, and controls as what they are
        assert set(mirrored["distribution_bins"]) == {"slice_ue_thp_dl_dist", "slice_delay_dl_dist"}
        assert any(any(sl["distributions"]["slice_ue_thp_dl_dist"])
                   for c in mirrored["cells"] for sl in c["slices"]), mirrored["cells"][0]
        neighbours = {c["index"]: {o["neighbour"] for o in c["offsets"]} for c in mirrored["cells"]}
        for control in mirrored["controls"]:
            assert control["kind"] in ("handover", "slice_quota", "cell_offset"), control
            if control["kind"] == "cell_offset":
                assert control["neighbour_cell_index"] in neighbours[control["cell_index"]], control
                assert not control["ue_ids"] and abs(control["offset_db"]) <= 8, control
        out = _twinric("twin", "state", "--run-dir", str(run_dir), env=env)
        assert out.returncode == 0 and "offsets: cell individual offset" in " ".join(out.stdout.split()), out
        fc = json.loads(_twinric("twin", "forecast", "--json", "--horizon", "3", "--run-dir", str(run_dir),
                                 env=env).stdout)
        assert len(fc["cells"]) == 7 and len(fc["cells"][0]["load"]) == 3
        out = _twinric("twin", "fidelity", "--run-dir", str(run_dir), env=env)
        assert out.returncode == 0 and "model version" in out.stdout, out.stderr

        # appmgr (as rtmgr) learnt which e2term serves each node: the MEID map routes controls by %meid.
        routes = httpx.get(f"{state['urls']['appmgr']}/ric/v1/routes", timeout=5).json()["table"]
        e2term_rmr = next(s for s in state["services"] if s["name"] == "e2term")["argv"]
        e2term_rmr = "127.0.0.1:" + e2term_rmr[e2term_rmr.index("--rmr-port") + 1]
        mme = [line for line in routes.splitlines() if line.startswith("mme_ar|")]
        assert mme and mme[0].split("|")[1] == e2term_rmr
        assert sorted(mme[0].split("|")[2].split()) == [f"gnb_001_001_{i:06x}" for i in range(1, 8)]

        # `up` created the control xApp's A1 policy type; an operator's policy through `twinric a1`
        # reaches the xApp and is enforced.
        a1 = state["urls"]["a1"]
        assert "21010" in _twinric("a1", "--url", a1, "types", env=env).stdout
        policy = tmp_path / "policy.json"
        policy.write_text(json.dumps({"cell_load_limit": 0.8, "exploration": {"kind": "none"}}))
        out = _twinric("a1", "--url", a1, "put-policy", "21010", "op-1", str(policy), env=env)
        assert out.returncode == 0, out.stderr
        assert wait_until(lambda: status()["a1_policies_enforced"] == 2, 20), status()  # + the zero-trust one

        # the operator distrusts the control xApp: the PDP revokes, the PEP drops its cached permits,
        # and no control reaches the RAN any more
        out = _twinric("pdp", "trust", "set", "xapp:twinric-control", "0.1", "--run-dir", str(run_dir),
                       env=env)
        assert out.returncode == 0, out.stderr
        assert wait_until(lambda: status()["pdp"]["deny_reasons"].get("forbidden", 0) > 0, 20), status()
        time.sleep(1.0)  # controls already in flight
        frozen = status()["controls"]
        time.sleep(2.0)
        assert status()["controls"] == frozen

        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    lines = [json.loads(line) for line in stdout.strip().splitlines()]
    summary = lines[-1]
    assert summary["e2_nodes"] == 7 and summary["subscriptions"] == 7 and summary["controls"] > 0
    # while it ran: a JSON status line every 2 s (stdout is a pipe here, not a terminal)
    progress = [line for line in lines[:-1] if line.get("event") == "status"]
    assert len(progress) >= 3 and progress[-1]["indications"] > 0 and progress[-1]["down"] == []
    elapsed = [p["elapsed_s"] for p in progress]
    assert elapsed == sorted(elapsed) and elapsed[1] - elapsed[0] < 5
    assert summary["dead"] == []
    assert proc.returncode == 0
    assert not state_file.exists()
    for svc in state["services"]:
        assert wait_until(lambda pid=svc["pid"]: not pid_alive(pid), 10), svc["name"]
    time.sleep(0.2)
    assert port_is_free(int(state["urls"]["e2term_e2"].rsplit(":", 1)[1]))




def test_up_off_a_terminal_prints_status_lines_while_it_runs(tmp_path, redis_url: str) -> None:
    import re

    env = dict(os.environ, TWINRIC_REDIS_URL=redis_url)
    argv = ["up", "--for", "60", "--free-ports", "--run-dir", str(tmp_path / "run"), "--status-every", "1"]
    proc = subprocess.Popen([sys.executable, "-m", "twinric", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, start_new_session=True)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        while len(lines) < 3:
            line = proc.stdout.readline()
            assert line, "up ended before printing 3 status lines"
            assert proc.poll() is None  # printed while running, not at the end
            lines.append(line.strip())
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    pattern = (r"twinric up: \d+s e2_nodes=\d+ subscriptions=\d+ indications=\d+ \([\d.]+/s\) "
               r"controls=\d+ \([\d.]+/s\) a1_policies_enforced=\d+ errors=\d+")
    assert all(re.fullmatch(pattern, line) for line in lines), lines
    assert proc.returncode == 0


def test_up_refuses_busy_planned_ports(redis_url: str) -> None:
    import socket

    port = LOCAL_PORT_PLAN["a1-http"]
    if not port_is_free(port):
        out = _twinric("up", "--for", "1", "--json", env=dict(os.environ, TWINRIC_REDIS_URL=redis_url))
    else:
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", port))
            holder.listen()
            out = _twinric("up", "--for", "1", "--json", env=dict(os.environ, TWINRIC_REDIS_URL=redis_url))
    assert out.returncode == 2
    assert f"a1-http:{port}" in out.stderr


def test_status_without_a_stack(tmp_path) -> None:
    out = _twinric("status", "--json", "--run-dir", str(tmp_path), env=dict(os.environ))
    assert out.returncode == 1
    assert json.loads(out.stdout)["running"] is False


# The gate's data requirements lowered for a test (the path is the real one): a small learner and FQE,
# a candidate every 5 s, the predictive model published early; the thresholds come over A1 below.
SMALL_TWIN = {
    "policy": {
        "learner": {"min_replay": 100, "batch_size": 64, "sequence_length": 4, "hidden": [64]},
        "gate_min_updates": 20, "gate_every_s": 5, "a1_poll_s": 1,
        "gate": {"fqe_iterations": 200, "bootstrap_samples": 100, "fqe_hidden": [32], "plan_states": 16},
    },
    "training": {"min_samples": 50, "updates_per_version": 20},
}
LENIENT_GATE_POLICY = {
    "promotion_gate": {"min_improvement": -100, "min_segments": 4, "horizon": 5,
                       "plan_violation_tolerance": 1, "plan_return_tolerance": 10},
    "candidate_every_s": 5,
}


def test_up_promotes_a_target_policy_that_the_xapp_follows(tmp_path, redis_url: str) -> None:
    run_dir = tmp_path / "run"
    env = dict(os.environ, TWINRIC_REDIS_URL=redis_url, TWINRIC_TWIN_OVERRIDES=json.dumps(SMALL_TWIN))
    argv = ["up", "--for", "600", "--json", "--free-ports", "--run-dir", str(run_dir), "--status-every", "5"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "twinric", *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        state_file = run_dir / "state.json"

        def started() -> bool:
            return state_file.exists() and any(
                s["name"] == "control" for s in json.loads(state_file.read_text())["services"])

        assert wait_until(started, 90), proc.stderr.read() if proc.poll() is not None else "no stack"
        state = json.loads(state_file.read_text())
        a1 = state["urls"]["a1"]

        # `up` created the twin's A1 policy type; an operator's twinric-twin policy sets the gate's thresholds
        assert wait_until(lambda: "21030" in _twinric("a1", "--url", a1, "types", env=env).stdout, 30)
        policy = tmp_path / "gate.json"
        policy.write_text(json.dumps(LENIENT_GATE_POLICY))
        out = _twinric("a1", "--url", a1, "put-policy", "21030", "lenient", str(policy), env=env)
        assert out.returncode == 0, out.stderr

        def twin_policy() -> dict:
            out = _twinric("twin", "policy", "--json", "--run-dir", str(run_dir), env=env)
            return json.loads(out.stdout) if out.returncode == 0 else {}

        assert wait_until(lambda: twin_policy().get("learner", {}).get("thresholds_from") == "lenient", 60)

        # the learner learns from the xApp's transitions, a candidate passes the gate and is promoted
        def promoted() -> list[dict]:
            return [r for r in twin_policy().get("history", []) if r["kind"] == "promotion"]

        assert wait_until(promoted, 150), twin_policy()
        record = promoted()[0]
        version = record["version"]
        assert record["gate"]["ope"] and {p["name"] for p in record["gate"]["plans"]} >= {"surge", "outage"}

        # the promoted version reaches the xApp: its transitions carry it as policy_version
        stream = "twinric:transitions:twinric-control"

        def logged_under_it() -> bool:
            return any(decode_transition(f[b"t"]).policy_version == version
                       for _, f in redis.Redis.from_url(redis_url).xrevrange(stream, count=500))

        assert wait_until(logged_under_it, 30), twin_policy()
        report = twin_policy()
        assert report["learner"]["updates"] > 0 and report["learner"]["diagnostics"]["td_error"] >= 0
        # `twinric status` shows the version in force (or the one after it, should the watch roll it back)
        twin = json.loads(_twinric("status", "--json", "--run-dir", str(run_dir), env=env).stdout)["twin"]
        in_force = report["in_force"]["version"] if report["in_force"] else None
        assert twin["policy_version"] in {in_force, version, None} and twin["policy_updates"] > 0
        if any(r["kind"] == "rollback" for r in report["history"]):  # the live watch judged it: evidence kept
            rollback = next(r for r in report["history"] if r["kind"] == "rollback")
            assert rollback["rollback"]["n_after"] >= 200 and rollback["reasons"]
        out = _twinric("twin", "policy", "--run-dir", str(run_dir), env=env)
        assert out.returncode == 0 and "promotion" in out.stdout, out.stdout

        # planning: with an A1 planner budget the xApp asks its twin sidecar (POST /v1/plan, MCTS on the
        # twin's model with the learner's Q-network) at every decision and takes the planned action
        # (the fall-back on a plan that cannot meet its budget is tested with the client,
        # tests/xapps/control/test_twin_client.py: in a stack it would depend on the machine's load)
        control_http = next(s for s in state["services"] if s["name"] == "control")["metrics_port"]

        def plans() -> dict[str, float]:
            out: dict[str, float] = {}
            for line in httpx.get(f"http://127.0.0.1:{control_http}/metrics", timeout=5).text.splitlines():
                if line.startswith("twinric_control_plans_total{"):
                    labels, value = line.rsplit(" ", 1)
                    out[labels.split('outcome="')[1].split('"')[0]] = float(value)
            return out

        def planned_recently() -> bool:
            return any(decode_transition(f[b"t"]).source == ActionSource.PLANNER
                       for _, f in redis.Redis.from_url(redis_url).xrevrange(stream, count=30))

        control = tmp_path / "control.json"
        control.write_text(json.dumps(
            {"cell_load_limit": 0.8, "exploration": {"kind": "none"}, "planner_budget_ms": 500}))
        out = _twinric("a1", "--url", a1, "put-policy", "21010", "op-plan", str(control), env=env)
        assert out.returncode == 0, out.stderr
        assert wait_until(planned_recently, 30), plans()
        assert plans().get("planned", 0) > 0

        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0
