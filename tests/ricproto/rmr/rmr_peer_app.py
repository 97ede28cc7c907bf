"""A ricxappframe RMRXapp used as a peer by the multi-process RMR tests (run as a script).

It imports ricxappframe exactly like a user's xApp would (the import hook must supply the RMR), and
behaves by message type:

* ``CMD`` (1000): the JSON payload lists sends (``{"send": [{"mtype", "payload", "sub_id", "meid"}]}``)
  and/or a call (``{"call": {"mtype", "payload", "timeout_ms"}}``) to make through the framework's
  ``rmr`` API; the outcome is returned to the sender by RTS with mtype ``CMD_DONE`` (1001).
* ``ECHO_FIRST``..``ECHO_LAST`` (2000-2999): RTS with mtype + 1 and payload ``<name>:<payload>``.
* 100 (health check): RMRXapp's own default handler.
* anything else: reported to mtype ``REPORT`` (999), routed by this peer's table, as JSON.

With a third argument ``generic`` the peer is a plain ``Xapp`` (no callbacks): its entrypoint polls
``rmr_get_messages()`` and answers ECHO types by RTS.

usage: rmr_peer_app.py NAME PORT [generic]
"""

from __future__ import annotations

import json
import sys
import time

from ricxappframe.rmr import rmr
from ricxappframe.xapp_frame import RMRXapp, Xapp

CMD, CMD_DONE, REPORT = 1000, 1001, 999
ECHO_FIRST, ECHO_LAST = 2000, 2999


def main() -> None:
    name, port = sys.argv[1], int(sys.argv[2])

    def send_all(xapp: RMRXapp, sends: list[dict]) -> list[int]:
        states = []
        for spec in sends:
            sbuf = rmr.rmr_alloc_msg(
                xapp._mrc,
                256,
                payload=spec.get("payload", "").encode(),
                gen_transaction_id=True,
                mtype=spec["mtype"],
                meid=spec.get("meid", "").encode() or None,
                sub_id=spec.get("sub_id"),
            )
            for _ in range(100):
                sbuf = rmr.rmr_send_msg(xapp._mrc, sbuf)
                if sbuf.contents.state != rmr.RMR_ERR_RETRY:
                    break
            states.append(sbuf.contents.state)
            rmr.rmr_free_msg(sbuf)
        return states

    def do_call(xapp: RMRXapp, spec: dict) -> dict:
        sbuf = rmr.rmr_alloc_msg(
            xapp._mrc, 256, payload=spec["payload"].encode(), gen_transaction_id=True, mtype=spec["mtype"]
        )
        xid = rmr.get_xaction(sbuf)
        if "timeout_ms" in spec:
            whid = rmr.rmr_wh_open(xapp._mrc, spec["target"].encode())
            reply = rmr.rmr_wh_call(xapp._mrc, whid, sbuf, 7, spec["timeout_ms"])
        else:
            reply = rmr.rmr_call(xapp._mrc, sbuf)
        if not reply:
            return {"timeout": True}
        summary = rmr.message_summary(reply)
        return {
            "state": summary[rmr.RMR_MS_MSG_STATE],
            "mtype": summary[rmr.RMR_MS_MSG_TYPE],
            "payload": summary[rmr.RMR_MS_PAYLOAD].decode(),
            "xid_match": summary[rmr.RMR_MS_TRN_ID] == xid,
        }

    def handler(xapp: RMRXapp, summary: dict, sbuf: object) -> None:
        mtype = summary[rmr.RMR_MS_MSG_TYPE]
        payload = summary[rmr.RMR_MS_PAYLOAD] or b""
        if mtype == CMD:
            command = json.loads(payload)
            result: dict = {"me": name}
            if "send" in command:
                result["states"] = send_all(xapp, command["send"])
            if "call" in command:
                result["call"] = do_call(xapp, command["call"])
            xapp.rmr_rts(sbuf, new_payload=json.dumps(result).encode(), new_mtype=CMD_DONE)
        elif ECHO_FIRST <= mtype <= ECHO_LAST:
            xapp.rmr_rts(sbuf, new_payload=name.encode() + b":" + payload, new_mtype=mtype + 1)
        else:
            report = {
                "me": name,
                "mtype": mtype,
                "sub_id": summary[rmr.RMR_MS_SUB_ID],
                "meid": summary[rmr.RMR_MS_MEID].decode(),
                "payload": payload.decode(errors="replace"),
                "src": summary[rmr.RMR_MS_MSG_SOURCE],
            }
            xapp.rmr_send(json.dumps(report).encode(), REPORT)
        xapp.rmr_free(sbuf)

    if sys.argv[3:] == ["generic"]:

        def entrypoint(xapp: Xapp) -> None:
            print(f"{name} ready on {port} backend={getattr(rmr, 'BACKEND', 'c')}", flush=True)
            while True:
                for summary, sbuf in xapp.rmr_get_messages():
                    mtype = summary[rmr.RMR_MS_MSG_TYPE]
                    if ECHO_FIRST <= mtype <= ECHO_LAST:
                        payload = name.encode() + b":" + summary[rmr.RMR_MS_PAYLOAD]
                        xapp.rmr_rts(sbuf, new_payload=payload, new_mtype=mtype + 1)
                    xapp.rmr_free(sbuf)
                time.sleep(0.005)

        Xapp(entrypoint, rmr_port=port, use_fake_sdl=True).run()
        return
    xapp = RMRXapp(handler, rmr_port=port, use_fake_sdl=True)
    print(f"{name} ready on {port} backend={getattr(rmr, 'BACKEND', 'c')}", flush=True)
    xapp.run()


if __name__ == "__main__":
    main()
