"""`twinric pdp`: trust records written as the PDP reads them, decisions asked over REST (dry run and
signed), the decision log, the default policy; clear exits when something cannot be reached."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from ricproto import identity, mtypes, trust
from twinric.cli import app
from twinric.ports import free_port
from xapps.pdp.zero_trust_policy import default_policy_body, policy_type_id

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "xapps" / "pdp"))
from pdp_process import RmrPeer, start_pdp

runner = CliRunner()


def test_trust_set_show_delete(redis_url, redis_client):
    out = runner.invoke(
        app,
        [
            "pdp",
            "trust",
            "set",
            "xapp:x",
            "0.7",
            "--ttl",
            "30",
            "--explanation",
            "why",
            "--redis-url",
            redis_url,
        ],
    )
    assert out.exit_code == 0, out.output
    rec = trust.decode_record(redis_client.get(trust.key("xapp:x")))
    assert (rec.score, rec.ttl_s, rec.source, rec.explanation) == (0.7, 30.0, "operator", "why")
    shown = json.loads(runner.invoke(app, ["pdp", "trust", "show", "--redis-url", redis_url]).stdout)
    assert shown[0]["subject"] == "xapp:x" and shown[0]["age_s"] >= 0
    bad = runner.invoke(app, ["pdp", "trust", "set", "router:x", "0.5", "--redis-url", redis_url])
    assert bad.exit_code != 0 and "subject" in bad.output
    assert runner.invoke(app, ["pdp", "trust", "delete", "xapp:x", "--redis-url", redis_url]).exit_code == 0
    assert redis_client.get(trust.key("xapp:x")) is None
    assert (
        runner.invoke(
            app, ["pdp", "trust", "show", "--redis-url", f"redis://127.0.0.1:{free_port()}/0"]
        ).exit_code
        == 2
    )


def test_decide_dry_run_and_signed_then_the_log(tmp_path, redis_url, redis_client):
    keys_dir = tmp_path / "keys"
    xapp_key, _ = identity.write_identity(keys_dir, "twinric-control")
    pdp_key, _ = identity.write_identity(tmp_path / "pdp", "twinric-pdp")
    peer = RmrPeer()
    proc = start_pdp(tmp_path, redis_url, pdp_key, keys_dir, [(mtypes.A1_POLICY_RESP, peer.endpoint)])
    try:
        peer.route_to(proc.endpoint, policy_type_id())
        assert peer.a1("CREATE", "zt", default_policy_body(), policy_type_id())["status"] == "OK"
        for subject in ("xapp:twinric-control", "e2node:gnb_1"):
            runner.invoke(app, ["pdp", "trust", "set", subject, "0.9", "--redis-url", redis_url])
        args = [
            "pdp",
            "decide",
            "xapp:twinric-control",
            "rc.handover",
            "e2node:gnb_1/cell:5",
            "-c",
            "meid=gnb_1",
            "--url",
            proc.url,
        ]
        dry = runner.invoke(app, args)
        assert dry.exit_code == 0, dry.output
        assert json.loads(dry.stdout)["decision"] == "PERMIT" and "grant" not in json.loads(dry.stdout)
        signed = runner.invoke(app, [*args, "--key", str(xapp_key)])
        assert signed.exit_code == 0 and json.loads(signed.stdout)["grant"].endswith("...")
        forged = runner.invoke(app, [*args, "--key", str(pdp_key)])  # the wrong key
        assert forged.exit_code == 1 and "bad_signature" in json.loads(forged.stdout)["reason"]
        log = runner.invoke(app, ["pdp", "log", "--url", proc.url, "--since", "-60s"])
        lines = log.stdout.strip().splitlines()
        assert len(lines) == 3 and "PERMIT" in lines[0] and "[bad_signature]" in lines[2]
        shown = json.loads(runner.invoke(app, ["pdp", "policy", "show", "--url", proc.url]).stdout)
        assert shown["instance_id"] == "zt" and "cedar_policies" not in shown
    finally:
        proc.process.stop()
        peer.close()
    assert runner.invoke(app, ["pdp", "log", "--url", proc.url]).exit_code == 2  # nothing answers now
    assert json.loads(runner.invoke(app, ["pdp", "policy", "default"]).stdout)["cedar_schema"]
