"""A policy-handler xApp written the way OSC xApps are: ricxappframe ``RMRXapp`` with an A1 callback.

Run as a process by test_a1_rmrxapp.py (``python rmrxapp_policy_handler.py PORT``, routes from
``RMR_SEED_RT``). Prints one JSON line per A1_POLICY_REQ received and answers it by RTS.
"""

from __future__ import annotations

import json
import sys

from ricxappframe.xapp_frame import RMRXapp

from ricproto import a1, mtypes


def on_policy(xapp: RMRXapp, summary: dict, sbuf) -> None:
    req = a1.decode_policy_request(summary["payload"])
    print(
        json.dumps(
            {
                "operation": str(req.operation),
                "policy_type_id": req.policy_type_id,
                "policy_instance_id": req.policy_instance_id,
                "payload": req.payload,
                "sub_id": summary["subscription id"],
            }
        ),
        flush=True,
    )
    status = a1.A1HandlerStatus.DELETED if req.operation is a1.A1Operation.DELETE else a1.A1HandlerStatus.OK
    resp = a1.A1PolicyResponse(req.policy_type_id, req.policy_instance_id, "rmrxapp-handler", status)
    xapp.rmr_rts(sbuf, new_payload=a1.encode_policy_response(resp), new_mtype=mtypes.A1_POLICY_RESP)
    xapp.rmr_free(sbuf)


def ignore(xapp: RMRXapp, summary: dict, sbuf) -> None:
    xapp.rmr_free(sbuf)


def main() -> None:
    xapp = RMRXapp(ignore, rmr_port=int(sys.argv[1]), use_fake_sdl=True)
    xapp.register_callback(on_policy, mtypes.A1_POLICY_REQ)
    print("ready", flush=True)
    xapp.run(rmr_timeout=1)


if __name__ == "__main__":
    main()
