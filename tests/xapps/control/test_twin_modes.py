"""Degraded modes with a real xApp process and a twin on real HTTP: planning within the A1 budget,
state intervention from predicted loads, and the fall-back to the last promoted policy when the
twin goes away; every mode visible in /ric/v1/health/ready and /metrics."""

from __future__ import annotations

import pytest
from kpm_messages import cell_indication
from platform_peer import PlatformPeer, fixed_snapshot, promote, send_round
from twin_double import TwinDouble
from xapp_process import start_control_xapp

from ricproto import mtypes
from ricproto.ran_space import QuotaStep
from ricproto.transition import ActionSource, decode_transition, stream_key
from twinric.processes import wait_until
from xapps.control.control_policy import policy_type_id

pytestmark = pytest.mark.slow
TYPE = policy_type_id()
INSTANCE = "control-twin"


def test_planning_state_intervention_and_modes(tmp_path, redis_url, redis_client, inventory):
    space = inventory.space
    planned = space.encode(QuotaStep(2, 1, -1))
    twin = TwinDouble(space.max_cells, plan_action=planned, predicted=0.6).start()
    peer = PlatformPeer(tmp_path)
    xapp = None
    try:
        routes = [(m, -1, peer.endpoint) for m in (mtypes.RIC_CONTROL_REQ, mtypes.A1_POLICY_RESP)]
        xapp = start_control_xapp(
            tmp_path,
            redis_url,
            routes,
            instance=INSTANCE,
            report_period_ms=1000,  # rounds complete by reports, never by the round timer
            controls={"twin_url": twin.url, "pep": {"enabled": False}},
        )
        peer.route_to(f"127.0.0.1:{xapp.rmr_port}", TYPE)
        assert xapp.ready()["mode"] == "heuristic"
        assert xapp.metric('twinric_xapp_mode{mode="heuristic"}') == 1
        promote(
            redis_client,
            INSTANCE,
            fixed_snapshot("v-t", space.max_cells * space.n_features, space.n_actions, 0),
        )
        policy = {"exploration": {"kind": "none"}, "planner_budget_ms": 300, "cell_load_limit": 1.0}
        assert peer.a1("CREATE", "plan", policy, TYPE)["status"] == "OK"
        for _ in range(3):
            send_round(peer, inventory, [0.3] * 7, cell_indication)
            peer.expect(mtypes.RIC_CONTROL_REQ)  # the planned quota step goes out
        assert wait_until(lambda: xapp.ready()["mode"] == "promoted_policy", 10), xapp.ready()
        assert twin.plans and twin.plans[0]["budget_ms"] == 300
        assert twin.predictions >= 1
        stream = [decode_transition(f[b"t"]) for _, f in redis_client.xrange(stream_key(INSTANCE))]
        assert stream and all(t.source == ActionSource.PLANNER and t.action == planned for t in stream)
        assert any(t.state_intervened for t in stream)

        twin.stop()  # the twin goes away: keep acting with the last promoted policy
        for _ in range(3):
            send_round(peer, inventory, [0.3] * 7, cell_indication)
        assert wait_until(lambda: xapp.ready()["mode"] == "last_promoted_policy", 10), xapp.ready()
        ready = xapp.ready()
        assert ready["policy_version"] == "v-t" and ready["checks"]["twin"]["ok"] is False
        assert xapp.metric('twinric_xapp_mode{mode="last_promoted_policy"}') == 1
        assert xapp.process.alive()
    finally:
        if xapp is not None:
            xapp.process.stop()
        peer.close()
        twin.stop()
