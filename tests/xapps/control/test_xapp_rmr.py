"""The control xApp process over real RMR and real Redis, against a peer speaking the platform's side.

A1 20010 -> 20011 (numeric type id) in both payload forms and the 20012 query at start; KPM
indications -> behaviour decision -> PEP over RMR -> RC control by meid; PDP deny and PDP silence
stop the control (counted); the shield mutes an overload action once A1 lowers the load limit;
transitions in the Redis stream carry mu, the policy version and the flags; bad input is survived.
"""

from __future__ import annotations

import json

import httpx
import pytest
from kpm_messages import cell_indication
from platform_peer import PlatformPeer, fixed_snapshot, promote, send_round
from xapp_process import start_control_xapp

from ricproto import e2ap, mtypes
from ricproto.e2sm import rc
from ricproto.ran_space import QuotaStep, SteerUes
from ricproto.transition import ControlOutcome, decode_transition, stream_key
from twinric.processes import wait_until
from xapps.control.control_policy import policy_type_id

pytestmark = pytest.mark.slow
TYPE = policy_type_id()
INSTANCE = "control-rmr"


def transitions(redis_client) -> list:
    return [decode_transition(f[b"t"]) for _, f in redis_client.xrange(stream_key(INSTANCE))]


@pytest.fixture
def rig(tmp_path, redis_url, redis_client, inventory):
    peer = PlatformPeer(tmp_path)
    xapp = None
    try:
        routes = [
            (m, -1, peer.endpoint)
            for m in (
                mtypes.RIC_CONTROL_REQ,
                mtypes.TWINRIC_ACCESS_REQ,
                mtypes.A1_POLICY_RESP,
                mtypes.A1_POLICY_QUERY,
            )
        ]
        xapp = start_control_xapp(
            tmp_path,
            redis_url,
            routes,
            instance=INSTANCE,
            report_period_ms=1000,  # rounds complete by reports, never by the round timer
            controls={"pep": {"enabled": True, "timeout_ms": 150, "fail_open": False}},
        )
        peer.route_to(f"127.0.0.1:{xapp.rmr_port}", TYPE)
        yield peer, xapp
    finally:
        if xapp is not None:
            xapp.process.stop()
        peer.close()


def test_a1_pep_control_and_transitions(rig, redis_client, inventory):
    peer, xapp = rig
    space = inventory.space
    query = peer.expect(mtypes.A1_POLICY_QUERY, 10)
    assert json.loads(query.payload) == {"policy_type_id": TYPE}

    quota_up = space.encode(QuotaStep(0, 0, +1))
    promote(
        redis_client,
        INSTANCE,
        fixed_snapshot("v-test-1", space.max_cells * space.n_features, space.n_actions, quota_up),
    )
    policy = {"exploration": {"kind": "none"}, "cell_load_limit": 1.0}
    answer = peer.a1("CREATE", "p1", policy, TYPE, form="go")
    assert answer == {
        "policy_type_id": TYPE,
        "policy_instance_id": "p1",
        "handler_id": INSTANCE,
        "status": "OK",
    }
    bad = peer.a1("CREATE", "p-bad", {"cell_load_limit": 3}, TYPE, form="object")
    assert bad["status"] == "ERROR" and isinstance(bad["policy_type_id"], int)
    assert wait_until(lambda: xapp.ready().get("policy_version") == "v-test-1", 10), xapp.log()[-2000:]
    assert xapp.ready()["mode"] == "last_promoted_policy"  # a snapshot, but no twin configured

    # round 1: PDP permits -> the quota control goes to the node of cell 0; the peer acknowledges
    send_round(peer, inventory, [0.5] * 7, cell_indication)
    req = peer.answer_access("PERMIT")
    assert (req.subject, req.action) == (f"xapp:{INSTANCE}", "rc.slice_quota")
    control = peer.expect(mtypes.RIC_CONTROL_REQ)
    assert control.meid == inventory.cells[0].meid
    pdu = e2ap.decode(control.payload)
    quota = rc.decode_control(pdu.ricControlHeader, pdu.ricControlMessage)
    assert isinstance(quota, rc.SliceQuotaControl)
    assert quota.rrm_policy_ratio_list[0].min_prb_policy_ratio == inventory.default_quotas[0].min_ratio + 10
    peer.acknowledge(control)

    # round 2: PDP denies -> no control
    send_round(peer, inventory, [0.5] * 7, cell_indication)
    peer.answer_access("DENY")
    assert peer.nothing(mtypes.RIC_CONTROL_REQ, 0.5)

    # round 3: the PDP stays silent -> deny by default, counted
    send_round(peer, inventory, [0.5] * 7, cell_indication)
    peer.expect(mtypes.TWINRIC_ACCESS_REQ)
    assert peer.nothing(mtypes.RIC_CONTROL_REQ, 0.5)
    assert xapp.metric('twinric_errors_total{component="control-xapp",reason="pdp_unreachable"}') >= 1
    assert xapp.metric('twinric_pep_decisions_total{cause="pdp_unreachable",decision="deny"}') >= 1

    # round 4 closes round 3's transition
    send_round(peer, inventory, [0.5] * 7, cell_indication)
    peer.answer_access("PERMIT")
    peer.expect(mtypes.RIC_CONTROL_REQ)
    assert wait_until(lambda: len(transitions(redis_client)) >= 3, 10)
    t = transitions(redis_client)
    assert [x.step for x in t[:3]] == [0, 1, 2]
    assert all(
        x.policy_version == "v-test-1" and x.action == quota_up and x.mu == pytest.approx(1.0) for x in t[:3]
    )
    assert t[0].outcome == ControlOutcome.ACKNOWLEDGED and not t[0].denied
    assert t[1].denied and "test says DENY" in t[1].deny_reason and t[1].outcome == ControlOutcome.DENIED
    assert t[2].denied and "PDP unreachable" in t[2].deny_reason
    assert t[0].a1_policy_instance == "p1" and len(t[0].s) == space.max_cells * space.n_features
    assert t[0].timestamps.indication_ns <= t[0].timestamps.decided_ns <= t[0].timestamps.control_sent_ns
    assert t[0].timestamps.next_indication_ns > t[0].timestamps.indication_ns


def test_a1_update_lowers_load_limit_and_the_shield_mutes(rig, redis_client, inventory):
    peer, xapp = rig
    space = inventory.space
    steer = space.encode(SteerUes(1, 0))  # cell 1 -> its first neighbour
    promote(
        redis_client,
        INSTANCE,
        fixed_snapshot("v-steer", space.max_cells * space.n_features, space.n_actions, steer),
    )
    assert (
        peer.a1("CREATE", "p2", {"exploration": {"kind": "none"}, "cell_load_limit": 1.0}, TYPE)["status"]
        == "OK"
    )
    assert wait_until(lambda: xapp.ready().get("policy_version") == "v-steer", 10)
    loads = [0.7] * 7
    send_round(peer, inventory, loads, cell_indication)  # limit 1.0: allowed
    assert (
        peer.a1(
            "UPDATE",
            "p2",
            {"exploration": {"kind": "epsilon_greedy", "epsilon": 0.0}, "cell_load_limit": 0.5},
            TYPE,
        )["status"]
        == "OK"
    )
    assert wait_until(lambda: xapp.ready()["settings"]["cell_load_limit"] == 0.5, 5)
    send_round(peer, inventory, loads, cell_indication)  # limit 0.5: the target is already over it
    send_round(peer, inventory, loads, cell_indication)
    assert wait_until(lambda: len(transitions(redis_client)) >= 2, 10)
    first, second = transitions(redis_client)[:2]
    assert not first.intervened and first.action == steer
    assert second.intervened and second.action == 0 and second.proposed_action == steer
    assert second.intervention_reason.startswith("overload") and "0.50" in second.intervention_reason
    assert xapp.metric('twinric_control_interventions_total{rule="overload"}') >= 1


def test_bad_input_is_counted_and_survived(rig, redis_client, inventory):
    peer, xapp = rig
    cell = inventory.cells[0]
    assert peer.ctx.send(mtypes.RIC_INDICATION, b"\x00\x01garbage", sub_id=7, meid=cell.meid) == 0
    assert peer.ctx.send(mtypes.A1_POLICY_REQ, b"{not json", sub_id=TYPE) == 0
    assert peer.ctx.send(mtypes.RIC_CONTROL_ACK, b"\xff", meid=cell.meid) == 0
    assert wait_until(
        lambda: xapp.metric('twinric_errors_total{component="control-xapp",reason="bad_indication"}') == 1, 5
    )
    assert wait_until(
        lambda: xapp.metric('twinric_errors_total{component="control-xapp",reason="a1_bad_request"}') == 1, 5
    )
    assert xapp.process.alive()
    assert peer.a1("CREATE", "p3", {}, TYPE)["status"] == "OK"  # still serving


def test_follow_promoted_policies_off_pins_the_snapshot(rig, redis_client, inventory):
    peer, xapp = rig
    space = inventory.space
    obs_dim = space.max_cells * space.n_features
    promote(redis_client, INSTANCE, fixed_snapshot("v-a", obs_dim, space.n_actions, 0))
    policy = {"exploration": {"kind": "none"}, "follow_promoted_policies": False}
    assert peer.a1("CREATE", "pin", policy, TYPE)["status"] == "OK"
    assert wait_until(lambda: xapp.ready().get("policy_version") == "v-a", 10)
    send_round(peer, inventory, [0.4] * 7, cell_indication)  # decides with v-a, which gets pinned
    assert wait_until(lambda: xapp.ready().get("decisions", 0) >= 1, 5)
    promote(redis_client, INSTANCE, fixed_snapshot("v-b", obs_dim, space.n_actions, 0))
    assert wait_until(lambda: xapp.metric("twinric_control_snapshot_swaps_total") >= 2, 5)
    send_round(peer, inventory, [0.4] * 7, cell_indication)
    assert peer.a1("UPDATE", "pin", {**policy, "follow_promoted_policies": True}, TYPE)["status"] == "OK"
    send_round(peer, inventory, [0.4] * 7, cell_indication)
    send_round(peer, inventory, [0.4] * 7, cell_indication)
    assert wait_until(lambda: len(transitions(redis_client)) >= 3, 10)
    versions = [t.policy_version for t in transitions(redis_client)]
    assert versions[:2] == ["v-a", "v-a"] and versions[2] == "v-b"


def test_config_change_is_applied_live(rig):
    _, xapp = rig
    config = json.loads(xapp.config_path.read_text())
    config["controls"]["defaults"] = {"exploration": {"kind": "boltzmann", "temperature": 2.0}}
    config["controls"]["pep"]["fail_open"] = True
    staged = xapp.config_path.with_suffix(".new")
    staged.write_text(json.dumps(config))
    staged.replace(xapp.config_path)  # a new file under the same name, as a ConfigMap update gives

    def applied() -> bool:
        settings = xapp.ready()["settings"]["exploration"]
        return settings["kind"] == "boltzmann" and settings["temperature"] == 2.0

    assert wait_until(applied, 10)
    served = httpx.get(f"{xapp.url}/ric/v1/config", timeout=5).json()
    assert served["controls"]["pep"]["fail_open"] is True
    broken = dict(config, controls={**config["controls"], "defaults": {"cell_load_limit": 9}})
    staged.write_text(json.dumps(broken))
    staged.replace(xapp.config_path)
    assert wait_until(
        lambda: xapp.metric('twinric_errors_total{component="control-xapp",reason="config_invalid"}') == 1, 10
    )
    assert xapp.ready()["settings"]["exploration"]["kind"] == "boltzmann"  # last good settings stay
