"""The platform side of the control xApp in tests: one real RMR endpoint standing in for the A1
mediator, the PDP and the E2 side (it sends indications and receives controls), plus helpers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ricproto import a1, access, e2ap, mtypes
from ricproto.e2sm import kpm
from ricproto.policy_snapshot import PolicySnapshot, encode_snapshot, snapshot_key, version_key
from ricproto.rmr import RmrContext, RmrMessage
from twinric.ports import free_port


class PlatformPeer:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.rt = tmp_path / "peer.rt"
        self.rt.write_text("newrt|start\nnewrt|end\n")
        self.ctx = RmrContext(
            self.port, src_id="127.0.0.1", bind_host="127.0.0.1", seed_rt=str(self.rt), route_client=False
        )
        self.backlog: list[RmrMessage] = []

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def route_to(self, xapp_endpoint: str, policy_type_id: int) -> None:
        self.rt.write_text(
            "newrt|start\n"
            f"mse|{mtypes.A1_POLICY_REQ}|{policy_type_id}|{xapp_endpoint}\n"
            f"mse|{mtypes.RIC_INDICATION}|-1|{xapp_endpoint}\n"
            f"mse|{mtypes.RIC_CONTROL_ACK}|-1|{xapp_endpoint}\n"
            f"mse|{mtypes.RIC_CONTROL_FAILURE}|-1|{xapp_endpoint}\n"
            "newrt|end\n"
        )
        self.ctx.load_routes(self.rt.read_text())

    def expect(self, mtype: int, timeout: float = 5.0) -> RmrMessage:
        for i, m in enumerate(self.backlog):
            if m.mtype == mtype:
                return self.backlog.pop(i)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            m = self.ctx.receive(left)
            if m is None:
                break
            if m.mtype == mtype:
                return m
            self.backlog.append(m)
        raise AssertionError(f"no RMR {mtype} within {timeout}s (got {[m.mtype for m in self.backlog]})")

    def nothing(self, mtype: int, wait: float) -> bool:
        try:
            self.expect(mtype, wait)
        except AssertionError:
            return True
        return False

    def a1(self, operation: str, instance: str, payload: dict | None, type_id: int, form: str = "go") -> dict:
        req = a1.A1PolicyRequest(a1.A1Operation(operation), type_id, instance, payload)
        assert self.ctx.send(mtypes.A1_POLICY_REQ, a1.encode_policy_request(req, form), sub_id=type_id) == 0
        return json.loads(self.expect(mtypes.A1_POLICY_RESP).payload)

    def answer_access(self, decision: str, ttl_s: float = 0.0, timeout: float = 5.0) -> access.AccessRequest:
        m = self.expect(mtypes.TWINRIC_ACCESS_REQ, timeout)
        req = access.decode_request(m.payload)
        resp = access.AccessResponse(
            req.request_id, access.Decision(decision), f"test says {decision}", ttl_s
        )
        self.ctx.rts(m, access.encode_response(resp), mtypes.TWINRIC_ACCESS_RESP)
        return req

    def acknowledge(self, control: RmrMessage) -> None:
        pdu = e2ap.decode(control.payload)
        ack = e2ap.RICcontrolAcknowledge(pdu.ricRequestID, pdu.ranFunctionID)
        assert self.ctx.send(mtypes.RIC_CONTROL_ACK, e2ap.encode(ack), meid=control.meid) == 0

    def close(self) -> None:
        self.ctx.close()


def send_round(peer: PlatformPeer, inventory, loads: list[float], indication) -> None:
    """One report period: a format-1 cell indication for every cell (action 2k+1 of its node)."""
    for cell, load in zip(inventory.cells, loads, strict=True):
        payload = indication(2 * cell.position + 1, load * 100.0, 8000.0, 10.0, inventory.space.slices)
        assert peer.ctx.send(mtypes.RIC_INDICATION, payload, sub_id=7, meid=cell.meid) == 0


def fixed_snapshot(version: str, obs_dim: int, n_actions: int, action: int) -> PolicySnapshot:
    """A promoted policy whose greedy action is always ``action``."""
    b = np.zeros(n_actions, dtype=np.float32)
    b[action] = 5.0
    return PolicySnapshot(version, (np.zeros((obs_dim, n_actions), dtype=np.float32),), (b,))


def promote(redis_client, xapp: str, snap: PolicySnapshot) -> None:
    redis_client.set(snapshot_key(xapp), encode_snapshot(snap))
    redis_client.set(version_key(xapp), snap.version)


__all__ = ["PlatformPeer", "fixed_snapshot", "kpm", "promote", "send_round"]
