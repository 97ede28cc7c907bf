"""e2term as a real process enforcing PDP grants: a control without a grant is answered with a RIC
control failure and never reaches the node; one with a grant is forwarded; revocations apply at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from control_messages import handover, issue, revocation
from e2node_double import E2NodeDouble
from ricbox_processes import metric, start_e2term
from test_e2term_e2e import Peer

from ricproto import grant, identity, mtypes
from ricproto.e2ap import CauseMisc, RICcontrolFailure, RICcontrolRequest, decode
from twinric.processes import wait_until


@pytest.fixture
def keys(tmp_path: Path):
    private, public = identity.write_identity(tmp_path, "twinric-pdp")
    return identity.load_private_key(private), public, identity.generate_key()


@pytest.fixture
def node() -> Iterator[E2NodeDouble]:
    double = E2NodeDouble()
    yield double
    double.close()


def test_e2term_forwards_only_granted_controls(tmp_path, redis_url, redis_client, keys, node):
    pdp_key, pdp_public, xapp_key = keys
    xapp = Peer()
    e2term = start_e2term(
        tmp_path,
        redis_url,
        {mtypes.RIC_CONTROL_ACK: xapp.endpoint},
        extra_args=["--control-grants", "enforce", "--pdp-public-key", str(pdp_public)],
    )
    sender = Peer(
        {mtypes.RIC_CONTROL_REQ: e2term.rmr_endpoint, mtypes.TWINRIC_ACCESS_REVOKE: e2term.rmr_endpoint}
    )
    try:
        node.setup(e2term.e2_port)
        # a rogue sender that never asked the PDP: refused, answered, logged, counted
        sender.send_until_ok(mtypes.RIC_CONTROL_REQ, handover(instance=11), node.ran_name)
        failure = sender.expect(mtypes.RIC_CONTROL_FAILURE)
        answer = decode(failure.payload)
        assert isinstance(answer, RICcontrolFailure) and answer.ricRequestID.ricInstanceID == 11
        assert answer.cause == CauseMisc.om_intervention and failure.meid == node.ran_name
        assert wait_until(lambda: "refused: no_grant" in e2term.log(), 5), e2term.log()
        assert metric(e2term.metrics_port, "twinric_e2term_control_gate_total", outcome="no_grant") == 1

        # with the PDP's grant and the holder's proof: forwarded verbatim
        payload = handover(instance=12)
        g = issue(pdp_key, xapp_key, node.ran_name)
        assert (
            sender.ctx.send(
                mtypes.RIC_CONTROL_REQ,
                payload,
                meid=node.ran_name,
                trace=grant.control_trace(g, payload, xapp_key),
            )
            == 0
        )
        assert node.wait_for(RICcontrolRequest).ricRequestID.ricInstanceID == 12
        assert node.raw_inbox[-1] == payload
        assert metric(e2term.metrics_port, "twinric_e2_controls_total") == 1

        # the PDP revokes the xApp: the same grant no longer opens the path
        time.sleep(0.01)
        assert sender.ctx.send(mtypes.TWINRIC_ACCESS_REVOKE, revocation(pdp_key)) == 0
        assert wait_until(lambda: "PDP revoked xapp:twinric-control" in e2term.log(), 5), e2term.log()
        late = handover(instance=13)
        sender.ctx.send(
            mtypes.RIC_CONTROL_REQ, late, meid=node.ran_name, trace=grant.control_trace(g, late, xapp_key)
        )
        assert decode(sender.expect(mtypes.RIC_CONTROL_FAILURE).payload).ricRequestID.ricInstanceID == 13
        assert metric(e2term.metrics_port, "twinric_e2term_control_gate_total", outcome="grant_revoked") == 1
        assert [c.ricRequestID.ricInstanceID for c in node.received(RICcontrolRequest)] == [12]
    finally:
        sender.ctx.close()
        xapp.ctx.close()
        e2term.process.stop()


def test_enforcing_without_the_pdp_key_refuses_to_start(redis_url):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ricplt.e2term",
            "--control-grants",
            "enforce",
            "--redis-url",
            redis_url,
            "--e2-port",
            "0",
            "--rmr-port",
            "0",
            "--metrics-port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TWINRIC_PDP_PUBLIC_KEY": ""},
    )
    assert out.returncode == 2 and "needs --pdp-public-key" in out.stderr
