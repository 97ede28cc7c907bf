"""A KPM/RC test xApp written the way OSC xApps are (ricxappframe ``RMRXapp``), for the RIC-in-a-box tests.

``python kpm_probe_xapp.py RMR_PORT HTTP_PORT`` (routes: seed table ``RMR_SEED_RT``, then whatever the
route manager pushes to ``RMR_RTG_SVC``). It prints one JSON line per event on stdout:

* ``{"event": "notification", "body": ...}`` for each submgr notification POSTed to HTTP_PORT;
* ``{"event": "indication", "sub_id", "meid", "values": {"<name>" or "<name>|<sst>-<sd>": value}}``;
* ``{"event": "control_ack" | "control_failure", "sub_id", "meid"}``;
* ``{"event": "sent", "state"}`` after each control it was told to send.

Commands arrive as JSON lines on stdin: ``{"cmd": "quota", "meid", "sst", "sd", "min", "max",
"dedicated"}`` sends an E2SM-RC slice PRB quota control (RIC_CONTROL_REQ, routed by meid).
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ricxappframe.rmr import rmr
from ricxappframe.xapp_frame import RMRXapp

from ricproto import e2ap, mtypes
from ricproto.e2sm import kpm, rc
from ricproto.e2sm.identities import SNssai, plmn_from_digits
from ricproto.e2sm.ueid import UeIdGnbDu

_print_lock = threading.Lock()


def emit(event: dict) -> None:
    with _print_lock:
        print(json.dumps(event), flush=True)


def on_indication(xapp: RMRXapp, summary: dict, sbuf) -> None:
    ind = e2ap.decode(summary[rmr.RMR_MS_PAYLOAD])
    message = kpm.decode_indication_message(ind.ricIndicationMessage)
    values = {}
    for (name, label), records in message.values_by_label().items():
        key = name if label.slice_id is None else f"{name}|{label.slice_id.sst}-{label.slice_id.sd}"
        values[key] = records[-1]
    emit(
        {
            "event": "indication",
            "sub_id": summary[rmr.RMR_MS_SUB_ID],
            "meid": summary[rmr.RMR_MS_MEID].decode(),
            "values": values,
        }
    )
    xapp.rmr_free(sbuf)


def on_control_outcome(xapp: RMRXapp, summary: dict, sbuf) -> None:
    kind = "control_ack" if summary[rmr.RMR_MS_MSG_TYPE] == mtypes.RIC_CONTROL_ACK else "control_failure"
    emit({"event": kind, "sub_id": summary[rmr.RMR_MS_SUB_ID], "meid": summary[rmr.RMR_MS_MEID].decode()})
    xapp.rmr_free(sbuf)


def ignore(xapp: RMRXapp, summary: dict, sbuf) -> None:
    xapp.rmr_free(sbuf)


def send_quota(xapp: RMRXapp, cmd: dict) -> None:
    control = rc.SliceQuotaControl.single(
        UeIdGnbDu(1),
        plmn_from_digits("00101"),
        SNssai(cmd["sst"], cmd["sd"]),
        cmd["min"],
        cmd["max"],
        cmd["dedicated"],
    )
    header, message = control.encode()
    pdu = e2ap.encode(
        e2ap.RICcontrolRequest(
            e2ap.RICrequestID(77, 0),
            rc.RAN_FUNCTION_ID,
            header,
            message,
            ricControlAckRequest=e2ap.RICcontrolAckRequest.ack,
        )
    )
    sbuf = rmr.rmr_alloc_msg(
        xapp._mrc,
        len(pdu),
        payload=pdu,
        gen_transaction_id=True,
        mtype=mtypes.RIC_CONTROL_REQ,
        meid=cmd["meid"].encode(),
    )
    for _ in range(100):
        sbuf = rmr.rmr_send_msg(xapp._mrc, sbuf)
        if sbuf.contents.state == rmr.RMR_OK:
            break
    emit({"event": "sent", "state": sbuf.contents.state})
    rmr.rmr_free_msg(sbuf)


class Notifications(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        emit({"event": "notification", "path": self.path, "body": json.loads(body or b"null")})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    rmr_port, http_port = int(sys.argv[1]), int(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", http_port), Notifications)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    xapp = RMRXapp(ignore, rmr_port=rmr_port, use_fake_sdl=True)
    xapp.register_callback(on_indication, mtypes.RIC_INDICATION)
    xapp.register_callback(on_control_outcome, mtypes.RIC_CONTROL_ACK)
    xapp.register_callback(on_control_outcome, mtypes.RIC_CONTROL_FAILURE)
    xapp.run(thread=True, rmr_timeout=1)
    emit({"event": "ready"})
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd.get("cmd") == "quota":
            send_quota(xapp, cmd)


if __name__ == "__main__":
    main()
