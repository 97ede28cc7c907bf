"""The target policy through the sidecar on real HTTP and a real Redis: the learner runs in the
background, a candidate asked for over the API passes the (lenient) gate, lands in Redis where the
xApp's snapshot source picks it up, a live regression under it rolls it back, and GET /v1/policy shows
all of it with its evidence; bad requests are refused and counted. The twinric-twin A1 policy is read
from a real A1 mediator process."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest
from test_api import errors
from test_target_policy import LEARNER, LENIENT_GATE, ROLLBACK
from twin_harness import twin_settings
from twin_records import produce

from ricproto import transition
from ricproto.transition import encode_transition
from twin_sidecar.app import build_parts
from twin_sidecar.gate import GateSettings, RollbackSettings
from twin_sidecar.metrics import TwinMetrics
from twin_sidecar.settings import SettingsError
from twin_sidecar.twin_a1_policy import A1TwinPolicySource, Thresholds, policy_type, thresholds_from_policy
from twinric.ports import free_port, wait_for_port
from twinric.processes import wait_until
from xapps.common.metrics import XappMetrics
from xapps.control.snapshot_source import SnapshotSource

POLICY = {
    "learner": LEARNER,
    "gate": LENIENT_GATE,
    "rollback": ROLLBACK,
    "holdout_every": 3,
    "gate_min_updates": 5,
    "gate_every_s": 3600,  # candidates only when asked, so the test knows which one it judges
    "duty": 1.0,
}


def xadd(redis_client, script, rounds: range, version: str, shift: float) -> None:
    pipe = redis_client.pipeline(transaction=False)
    for k in rounds:
        msg = script.transition(k)
        msg.policy_version = version
        msg.reward += shift
        pipe.xadd(transition.stream_key(script.instance), {transition.FIELD: encode_transition(msg)})
    pipe.execute()


def test_promotion_reaches_the_xapp_and_a_regression_rolls_it_back(twin_server, redis_client, script) -> None:
    twin = twin_server(train=True, policy=POLICY)
    base = twin.url
    body = httpx.get(f"{base}/v1/policy").json()
    assert body["in_force"] is None and body["history"] == [] and body["learner"]["updates"] == 0
    refused = httpx.post(f"{base}/v1/policy/evaluate")
    assert refused.status_code == 409 and "no candidate yet" in refused.json()["reason"]

    produce(redis_client, script, range(300))

    def learning() -> bool:
        learner = httpx.get(f"{base}/v1/policy").json()["learner"]
        return learner["updates"] >= 5 and learner["held_out"] == 100  # every third block of 5 steps

    assert wait_until(learning, 60), httpx.get(f"{base}/v1/policy").json()["learner"]
    assert wait_until(lambda: twin.parts.dynamics.version >= 1, 60)
    assert httpx.post(f"{base}/v1/policy/evaluate").status_code == 202
    assert wait_until(lambda: httpx.get(f"{base}/v1/policy").json()["in_force"] is not None, 60)

    body = httpx.get(f"{base}/v1/policy").json()
    version = body["in_force"]["version"]
    promotion = body["history"][-1]
    assert (
        promotion["kind"] == "promotion" and promotion["version"] == version and body["lineage"] == [version]
    )
    assert body["candidate"]["version"] == version
    assert {e["estimator"] for e in promotion["gate"]["ope"]} == {"wis", "pdwis", "dr", "fqe"}
    assert {p["name"] for p in promotion["gate"]["plans"]} == {"recent", "surge", "hotspot", "outage"}
    assert body["learner"]["watching"] == version and body["behaviour_version"] == "heuristic"
    diagnostics = body["learner"]["diagnostics"]
    assert {"policy_lag", "ess", "truncation_rate", "td_error", "updates_per_s"} <= set(diagnostics)

    space = script.cfg.space
    xapp = SnapshotSource(
        redis_client, "control-t", space.max_cells * space.n_features, space.n_actions, XappMetrics("t")
    )
    assert xapp.poll() and xapp.current is not None and xapp.current.version == version

    xadd(redis_client, script, range(300, 340), version, shift=-1.0)  # the xApp under it: reward collapses
    assert wait_until(lambda: httpx.get(f"{base}/v1/policy").json()["in_force"] is None, 30)
    rollbacks = httpx.get(f"{base}/v1/policy", params={"kind": "rollback"}).json()["history"]
    assert len(rollbacks) == 1 and rollbacks[0]["version"] == version and rollbacks[0]["in_force"] is None
    evidence = rollbacks[0]["rollback"]
    assert evidence["reward_after"] < evidence["reward_before"] and evidence["reward_z"] < 0
    assert xapp.poll() and xapp.current is None  # withdrawn: the xApp is back on its heuristic
    assert httpx.get(f"{base}/v1/policy", params={"history": 0}).json()["history"] == []

    metrics = httpx.get(f"{base}/metrics").text
    for name in (
        "twinric_twin_policy_updates_total",
        "twinric_twin_policy_lag_updates",
        "twinric_twin_policy_ess",
        "twinric_twin_policy_truncation_rate",
        "twinric_twin_policy_td_error",
        "twinric_twin_policy_updates_per_second",
    ):
        assert f"\n{name} " in metrics, name
    assert 'twinric_twin_policy_decisions_total{kind="promotion"} 1.0' in metrics
    assert 'twinric_twin_policy_decisions_total{kind="rollback"} 1.0' in metrics


def test_bad_policy_requests_are_refused_and_counted(twin_server) -> None:
    twin = twin_server(policy=POLICY)
    base = twin.url
    for params in ({"history": -1}, {"history": 501}, {"kind": "bogus"}, {"history": "many"}):
        r = httpx.get(f"{base}/v1/policy", params=params)
        assert r.status_code == 422 and r.json()["reason"], params
    assert errors(base)['{route="/v1/policy",status="422"}'] == 4
    assert httpx.get(f"{base}/v1/policy").status_code == 200
    assert httpx.post(f"{base}/v1/policy/evaluate").status_code == 409
    assert errors(base)['{route="/v1/policy/evaluate",status="409"}'] == 1
    assert httpx.get(f"{base}/v1/policy/evaluate").status_code == 405


def test_policy_settings_that_cannot_work_are_refused_at_start(redis_url, tmp_path) -> None:
    for policy, reason in (
        ({"learner": {"nope": 1}}, "unknown learner settings"),
        ({"learner": {"batch_size": 30, "sequence_length": 8}}, "multiple of sequence_length"),
        ({"gate": {"plans": [{"name": "x", "kind": "hotspot", "cell": 42}]}}, "cell 42"),
    ):
        with pytest.raises(SettingsError, match=reason):
            build_parts(twin_settings(redis_url, tmp_path, policy=policy), train=False)


# --- the twinric-twin A1 policy type ----------------------------------------------------------------
def test_a1_payloads_are_validated_against_the_schema() -> None:
    t = thresholds_from_policy(
        {
            "promotion_gate": {"confidence": 0.9, "min_segments": 5},
            "rollback": {"z": 3.0},
            "candidate_every_s": 60,
        },
        "p1",
        {"horizon": 5},
        {},
    )
    assert t.gate.confidence == 0.9 and t.gate.min_segments == 5 and t.gate.horizon == 5
    assert t.rollback.z == 3.0 and t.candidate_every_s == 60 and t.instance == "p1"
    assert thresholds_from_policy({}, "empty", {}, {}).gate == GateSettings()
    for bad, where in (
        ({"promotion_gate": {"confidence": 1.5}}, "promotion_gate/confidence"),
        ({"promotion_gate": {"decision_estimator": "guess"}}, "promotion_gate/decision_estimator"),
        ({"rollback": {"window": 5}}, "rollback/window"),
        ({"unknown": 1}, "(root)"),
        ([], "(root)"),
    ):
        with pytest.raises(ValueError, match=where.replace("(", r"\(").replace(")", r"\)")):
            thresholds_from_policy(bad, "x", {}, {})
    assert policy_type()["policy_type_id"] == 21030


@pytest.fixture
def a1_mediator(redis_url):
    http, rmr = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ricplt.a1mediator", "--http-port", str(http), "--rmr-port", str(rmr),
         "--redis-url", redis_url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_for_port(http, timeout=30)
        yield f"http://127.0.0.1:{http}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_thresholds_follow_the_twinric_twin_policies_on_the_mediator(a1_mediator) -> None:
    applied: list[Thresholds] = []
    metrics = TwinMetrics()
    source = A1TwinPolicySource(a1_mediator, {"horizon": 5}, {}, applied.append, metrics)
    type_url = f"{a1_mediator}/A1-P/v2/policytypes/21030"
    with httpx.Client(timeout=5) as client:
        assert not source.poll(client) and source.reachable  # no type yet: nothing to apply
        assert client.put(type_url, json=policy_type()).status_code == 201
        assert (
            client.put(f"{type_url}/policies/p1", json={"promotion_gate": {"confidence": 0.9}}).status_code
            == 202
        )
        assert source.poll(client) and applied[-1].instance == "p1" and applied[-1].gate.confidence == 0.9
        assert applied[-1].gate.horizon == 5  # the settings' own values stay under the policy's
        assert not source.poll(client)  # unchanged: nothing applied again
        assert client.put(f"{type_url}/policies/p2", json={"rollback": {"z": 3.0}}).status_code == 202
        assert source.poll(client) and applied[-1].instance == "p2" and applied[-1].gate.confidence == 0.95
        assert client.delete(f"{type_url}/policies/p2").status_code == 202
        assert source.poll(client) and applied[-1].instance == "p1"
        assert client.delete(f"{type_url}/policies/p1").status_code == 202
        assert (
            source.poll(client) and applied[-1].instance == "" and applied[-1].rollback == RollbackSettings()
        )
        assert source.status()["in_force"] is None
    unreachable = A1TwinPolicySource(f"http://127.0.0.1:{free_port()}", {}, {}, applied.append, metrics)
    with httpx.Client(timeout=2) as client:
        assert not unreachable.poll(client) and unreachable.reachable is False
    assert (
        metrics.sample("twinric_errors_total", {"component": "twin-sidecar", "reason": "a1_unreachable"}) == 1
    )
    assert json.dumps(source.status())
