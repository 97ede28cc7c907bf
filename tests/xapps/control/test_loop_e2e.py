"""The closed loop with real processes: e2sim (small scenario, real time) + e2term + submgr + the
control xApp, real Redis, and an RMR peer playing the PDP and the A1 mediator.

Checked: the xApp subscribes through submgr and its controls are applied by the simulated RAN
(RIC_CONTROL_ACK from the node); an A1 update changes exploration (mu) and the load limit live; the
shield blocks an overload action and says why; transitions carry mu and the policy version; a PDP
denial stops the controls.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from platform_peer import fixed_snapshot, promote
from xapp_process import start_control_xapp, write_routes

from ricproto import a1, access, mtypes
from ricproto.ran_space import QuotaStep, SteerUes
from ricproto.rmr import RmrContext
from ricproto.transition import ControlOutcome, decode_transition, stream_key
from twinric.ports import free_port, wait_for_port
from twinric.processes import ManagedProcess, wait_until
from xapps.control.control_policy import policy_type_id

pytestmark = pytest.mark.slow
TYPE = policy_type_id()
INSTANCE = "control-e2e"


class PdpAndA1:
    """Answers access requests with ``decision`` (ttl 0: every control asks) and sends A1 requests."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.rt = tmp_path / "pdp.rt"
        self.rt.write_text("newrt|start\nnewrt|end\n")
        self.ctx = RmrContext(
            self.port, src_id="127.0.0.1", bind_host="127.0.0.1", seed_rt=str(self.rt), route_client=False
        )
        self.decision = "PERMIT"
        self.asked = 0
        self.a1_answers: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            m = self.ctx.receive(0.2)
            if m is None:
                continue
            if m.mtype == mtypes.TWINRIC_ACCESS_REQ:
                req = access.decode_request(m.payload)
                self.asked += 1
                resp = access.AccessResponse(req.request_id, access.Decision(self.decision), "e2e pdp", 0.0)
                self.ctx.rts(m, access.encode_response(resp), mtypes.TWINRIC_ACCESS_RESP)
            elif m.mtype == mtypes.A1_POLICY_RESP:
                self.a1_answers.append(json.loads(m.payload))

    def a1(self, operation: str, instance: str, payload: dict) -> dict:
        before = len(self.a1_answers)
        req = a1.A1PolicyRequest(a1.A1Operation(operation), TYPE, instance, payload)
        assert self.ctx.send(mtypes.A1_POLICY_REQ, a1.encode_policy_request(req), sub_id=TYPE) == 0
        assert wait_until(lambda: len(self.a1_answers) > before, 5)
        return self.a1_answers[-1]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.ctx.close()


def transitions(redis_client) -> list:
    return [decode_transition(f[b"t"]) for _, f in redis_client.xrange(stream_key(INSTANCE))]


def since(redis_client, count: int) -> list:
    return transitions(redis_client)[count:]


def test_closed_loop(tmp_path, redis_url, redis_client, inventory, python_exe):
    pdp = PdpAndA1(tmp_path)
    procs: list[ManagedProcess] = []
    xapp = None
    try:
        e2_port, e2t_rmr, e2t_metrics, sub_http, sub_rmr = (free_port() for _ in range(5))
        # the xApp first (its RMR port is needed in the platform's route tables)
        routes = [
            (mtypes.RIC_CONTROL_REQ, -1, f"127.0.0.1:{e2t_rmr}"),
            (mtypes.TWINRIC_ACCESS_REQ, -1, pdp_endpoint(pdp)),
            (mtypes.A1_POLICY_RESP, -1, pdp_endpoint(pdp)),
            (mtypes.A1_POLICY_QUERY, -1, pdp_endpoint(pdp)),
        ]
        ctl = {"submgr_url": f"http://127.0.0.1:{sub_http}", "pep": {"timeout_ms": 200}}
        xapp = start_control_xapp(tmp_path, redis_url, routes, instance=INSTANCE, controls=ctl)
        xapp_ep = f"127.0.0.1:{xapp.rmr_port}"
        pdp.rt.write_text(f"newrt|start\nmse|{mtypes.A1_POLICY_REQ}|{TYPE}|{xapp_ep}\nnewrt|end\n")
        pdp.ctx.load_routes(pdp.rt.read_text())
        sub_ep = f"127.0.0.1:{sub_rmr}"
        e2t_rt = write_routes(
            tmp_path / "e2term.rt",
            [
                (mtypes.RIC_SUB_RESP, -1, sub_ep),
                (mtypes.RIC_SUB_FAILURE, -1, sub_ep),
                (mtypes.RIC_SUB_DEL_RESP, -1, sub_ep),
                (mtypes.RIC_SUB_DEL_FAILURE, -1, sub_ep),
                (mtypes.RIC_INDICATION, -1, xapp_ep),
                (mtypes.RIC_CONTROL_ACK, -1, xapp_ep),
                (mtypes.RIC_CONTROL_FAILURE, -1, xapp_ep),
            ],
        )
        sub_rt = write_routes(
            tmp_path / "submgr.rt",
            [
                (mtypes.RIC_SUB_REQ, -1, f"127.0.0.1:{e2t_rmr}"),
                (mtypes.RIC_SUB_DEL_REQ, -1, f"127.0.0.1:{e2t_rmr}"),
            ],
        )
        procs.append(
            ManagedProcess(
                "e2term",
                [
                    python_exe,
                    "-m",
                    "ricplt.e2term",
                    "--e2-host",
                    "127.0.0.1",
                    "--e2-port",
                    str(e2_port),
                    "--transport",
                    "tcp",
                    "--rmr-port",
                    str(e2t_rmr),
                    "--metrics-port",
                    str(e2t_metrics),
                    "--redis-url",
                    redis_url,
                    "--seed-rt",
                    str(e2t_rt),
                    "--src-id",
                    "127.0.0.1",
                ],
                log_path=tmp_path / "e2term.log",
            ).start()
        )
        procs.append(
            ManagedProcess(
                "submgr",
                [
                    python_exe,
                    "-m",
                    "ricplt.submgr",
                    "--http-host",
                    "127.0.0.1",
                    "--http-port",
                    str(sub_http),
                    "--rmr-port",
                    str(sub_rmr),
                    "--redis-url",
                    redis_url,
                    "--seed-rt",
                    str(sub_rt),
                    "--src-id",
                    "127.0.0.1",
                ],
                log_path=tmp_path / "submgr.log",
            ).start()
        )
        assert wait_for_port(e2_port, timeout=20) and wait_for_port(sub_http, timeout=20), logs(tmp_path)
        e2sim_argv = [python_exe, "-m", "e2sim", "--scenario", "small", "--e2t", f"127.0.0.1:{e2_port}"]
        e2sim_argv += ["--transport", "tcp", "--realtime"]
        procs.append(ManagedProcess("e2sim", e2sim_argv, log_path=tmp_path / "e2sim.log").start())

        space = inventory.space
        obs_dim = space.max_cells * space.n_features
        quota = space.encode(QuotaStep(0, 0, +1))
        promote(redis_client, INSTANCE, fixed_snapshot("v-quota", obs_dim, space.n_actions, quota))
        assert (
            pdp.a1("CREATE", "e2e", {"exploration": {"kind": "none"}, "cell_load_limit": 1.0})["status"]
            == "OK"
        )

        # 1. subscribed through submgr; controls applied by the simulated RAN (acknowledged by the node)
        def subscribed() -> bool:
            return xapp.ready()["checks"]["subscriptions"]["ok"]

        assert wait_until(subscribed, 30), xapp.ready()["checks"]["subscriptions"]
        # subscription ids are kept in Redis (per node: SubscriptionId and the E2 instance from submgr)
        sub_key = f"twinric:subscriptions:{INSTANCE}"
        stored = {k.decode(): json.loads(v) for k, v in redis_client.hgetall(sub_key).items()}
        assert set(stored) == set(inventory.nodes)
        assert all(r["SubscriptionId"] and r["instances"] for r in stored.values())
        n_cells = len(inventory.cells)

        def full_and_acked(t) -> bool:  # every cell reported in the round, and the node acknowledged
            present = sum(1 for x in t.s[:: space.n_features] if x > 0.5)
            return t.outcome == ControlOutcome.ACKNOWLEDGED and present == n_cells

        assert wait_until(lambda: any(full_and_acked(t) for t in transitions(redis_client)), 20), (
            logs(tmp_path) + xapp.log()[-3000:]
        )
        acked = next(t for t in transitions(redis_client) if full_and_acked(t))
        assert acked.policy_version == "v-quota" and acked.action == quota and acked.mu == pytest.approx(1.0)
        assert pdp.asked >= 1

        # 2. A1 update: exploration on (mu < 1 for the greedy action) and a load limit below every cell's
        #    load; a steering policy is promoted, so the shield must mute it and say why
        steer = space.encode(SteerUes(0, 0))
        promote(redis_client, INSTANCE, fixed_snapshot("v-steer", obs_dim, space.n_actions, steer))
        update = {"exploration": {"kind": "epsilon_greedy", "epsilon": 0.2}, "cell_load_limit": 0.01}
        assert pdp.a1("UPDATE", "e2e", update)["status"] == "OK"
        mark = len(transitions(redis_client))
        assert wait_until(
            lambda: any(t.policy_version == "v-steer" and t.intervened for t in since(redis_client, mark)), 20
        )
        muted = next(t for t in since(redis_client, mark) if t.policy_version == "v-steer" and t.intervened)
        assert muted.proposed_action != 0 and muted.action == 0
        assert muted.intervention_reason.startswith("overload") and "0.01" in muted.intervention_reason
        # exploration now gives every allowed action eps/|mask|; the muted steers' mass went to no-op
        mask_size = int(space.action_mask(inventory.layout).sum())
        assert muted.mu_all[quota] == pytest.approx(0.2 / mask_size, rel=1e-4)
        assert acked.mu_all[quota] == pytest.approx(1.0) and muted.mu_all[steer] == 0.0
        assert muted.mu == pytest.approx(muted.mu_all[0]) and muted.mu > 0.8
        assert muted.a1_policy_instance == "e2e"

        # 3. PDP denial stops controls: back to the quota policy, but the PDP now denies
        pdp.decision = "DENY"
        promote(redis_client, INSTANCE, fixed_snapshot("v-quota-2", obs_dim, space.n_actions, quota))
        assert (
            pdp.a1("UPDATE", "e2e", {"exploration": {"kind": "none"}, "cell_load_limit": 1.0})["status"]
            == "OK"
        )
        mark = len(transitions(redis_client))
        assert wait_until(
            lambda: sum(1 for t in since(redis_client, mark) if t.policy_version == "v-quota-2") >= 3, 20
        )
        denied = [t for t in since(redis_client, mark) if t.policy_version == "v-quota-2"]
        assert all(t.denied and t.outcome == ControlOutcome.DENIED for t in denied)
        assert all(t.timestamps.control_sent_ns == 0 for t in denied)
        assert all(p.alive() for p in procs) and xapp.process.alive()

        # 4. the xApp restarts on its addresses: same subscription ids (kept in Redis), numbering goes on
        pdp.decision = "PERMIT"
        xapp.process.stop()
        last_step = transitions(redis_client)[-1].step
        mark = len(transitions(redis_client))
        xapp = start_control_xapp(
            tmp_path,
            redis_url,
            routes,
            instance=INSTANCE,
            controls=ctl,
            ports=(xapp.http_port, xapp.rmr_port),
        )
        assert wait_until(subscribed, 30), xapp.ready()["checks"]["subscriptions"]
        again = {k.decode(): json.loads(v) for k, v in redis_client.hgetall(sub_key).items()}
        assert {m: r["SubscriptionId"] for m, r in again.items()} == {
            m: r["SubscriptionId"] for m, r in stored.items()
        }
        assert wait_until(lambda: len(since(redis_client, mark)) >= 3, 20)
        assert since(redis_client, mark)[0].step == last_step + 1

        # 5. the E2 nodes reconnect (e2sim restarts): the loop resumes with every cell reporting
        procs[-1].stop()
        procs[-1] = ManagedProcess("e2sim", e2sim_argv, log_path=tmp_path / "e2sim-2.log").start()
        mark = len(transitions(redis_client))
        assert wait_until(lambda: any(full_and_acked(t) for t in since(redis_client, mark)), 30), (
            logs(tmp_path) + xapp.log()[-3000:]
        )
    finally:
        if xapp is not None:
            xapp.process.stop()
        for p in reversed(procs):
            p.stop()
        pdp.close()


def pdp_endpoint(pdp: PdpAndA1) -> str:
    return f"127.0.0.1:{pdp.port}"


def logs(tmp_path: Path) -> str:
    out = []
    for name in ("e2term", "submgr", "e2sim"):
        path = tmp_path / f"{name}.log"
        if path.exists():
            out.append(f"--- {name}\n" + "\n".join(path.read_text().splitlines()[-15:]))
    return "\n".join(out)
