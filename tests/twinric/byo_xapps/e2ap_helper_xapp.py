"""An xApp that does its E2AP with ricxappframe's helpers (``ricxappframe.e2ap.asn1``: ``IndicationMsg``
to decode indications, ``ControlRequestMsg`` to build a control), as xApps written for OSC's libe2ap do.
An ``RMRXapp`` that registers itself and subscribes over REST.

JSON lines on stdout; exit code 0 when indications decoded and the control was acknowledged.
"""

import json
import os
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from ricxappframe.e2ap import asn1clib
from ricxappframe.e2ap.asn1 import ControlRequestMsg, IndicationMsg
from ricxappframe.xapp_frame import RMRXapp, rmr

from ricproto import e2ap
from ricproto.e2sm import kpm, rc
from ricproto.e2sm.identities import SNssai, plmn_from_digits
from ricproto.e2sm.ueid import UeIdGnbDu

SUBMGR = "http://service-ricplt-submgr-http.ricplt:8088/ric/v1/subscriptions"
E2MGR = "http://service-ricplt-e2mgr-http.ricplt:3800/v1/nodeb/states"
RIC_INDICATION, RIC_CONTROL_REQ, RIC_CONTROL_ACK, RIC_CONTROL_FAILURE = 12050, 12040, 12041, 12042
events = queue.Queue()


def emit(**event):
    print(json.dumps(event), flush=True)


class Notifications(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        events.put(("notification", json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def on_indication(xapp, summary, sbuf):
    indication = IndicationMsg()
    indication.decode(summary[rmr.RMR_MS_PAYLOAD])
    message = kpm.decode_indication_message(indication.indication_message)
    events.put(
        (
            "indication",
            {
                "sub_id": summary[rmr.RMR_MS_SUB_ID],
                "sequence_number": indication.request_sequence_number,
                "function_id": indication.function_id,
                "action_id": indication.action_id,
                "type": indication.indication_type,
                "measurements": sorted({str(t) for t, _ in message.values_by_label()}),
            },
        )
    )
    xapp.rmr_free(sbuf)


def on_answer(xapp, summary, sbuf):
    pdu = e2ap.decode(summary[rmr.RMR_MS_PAYLOAD])
    events.put(
        (
            "answer",
            {
                "mtype": summary[rmr.RMR_MS_MSG_TYPE],
                "instance": pdu.ricRequestID.ricInstanceID,
                "requestor": pdu.ricRequestID.ricRequestorID,
            },
        )
    )
    xapp.rmr_free(sbuf)


def ignore(xapp, summary, sbuf):
    xapp.rmr_free(sbuf)


def main():
    import ricxappframe.e2ap.asn1clib.asn1clib as library

    emit(event="library", module=library.__name__, asn1clib=asn1clib.__name__)
    server = ThreadingHTTPServer(("0.0.0.0", 8080), Notifications)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    xapp = RMRXapp(ignore, rmr_port=4560)
    xapp.register_callback(on_indication, RIC_INDICATION)
    xapp.register_callback(on_answer, RIC_CONTROL_ACK)
    xapp.register_callback(on_answer, RIC_CONTROL_FAILURE)
    xapp.run(thread=True, rmr_timeout=1)

    meid = sorted(n["inventoryName"] for n in requests.get(E2MGR, timeout=5).json())[1]
    trigger = kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(100))
    action = kpm.encode_action_definition(
        kpm.ActionDefinition(1, kpm.ActionDefinitionFormat1((kpm.MeasurementInfoItem("RRU.PrbTotDl"),), 100))
    )
    me = {"Host": "service-ricxapp-e2ap-helper-http.ricxapp", "HTTPPort": 8080, "RMRPort": 4560}
    body = {
        "ClientEndpoint": me,
        "Meid": meid,
        "RANFunctionID": 2,
        "SubscriptionDetails": [
            {
                "XappEventInstanceId": 7,
                "EventTriggers": list(trigger),
                "ActionToBeSetupList": [
                    {"ActionID": 3, "ActionType": "report", "ActionDefinition": list(action)}
                ],
            }
        ],
    }
    reply = requests.post(SUBMGR, json=body, timeout=10)
    subscription_id = reply.json()["SubscriptionId"]
    indications, instance, answer = [], None, None
    deadline = time.monotonic() + 40
    control_sent = False
    while time.monotonic() < deadline and (len(indications) < 3 or answer is None):
        try:
            kind, data = events.get(timeout=0.5)
        except queue.Empty:
            continue
        if kind == "notification":
            instance = data["SubscriptionInstances"][0]["E2EventInstanceId"]
        elif kind == "indication":
            indications.append(data)
        elif kind == "answer":
            answer = data
        if len(indications) >= 1 and not control_sent:
            control = rc.SliceQuotaControl.single(
                UeIdGnbDu(1), plmn_from_digits("00101"), SNssai(1, 1), 5, 95, 0
            )
            header, message = control.encode()
            size, payload = ControlRequestMsg().encode(99, 5, 3, b"", header, message, 1)
            sbuf = rmr.rmr_alloc_msg(
                xapp._mrc,
                size,
                payload=payload[:size],
                gen_transaction_id=True,
                mtype=RIC_CONTROL_REQ,
                meid=meid.encode(),
            )
            sbuf = rmr.rmr_send_msg(xapp._mrc, sbuf)
            emit(event="control_sent", state=sbuf.contents.state, size=size)
            rmr.rmr_free_msg(sbuf)
            control_sent = True
    deleted = requests.delete(f"{SUBMGR}/{subscription_id}", timeout=10).status_code
    emit(event="summary", instance=instance, indications=indications[:3], answer=answer, deleted=deleted)
    ok = (
        len(indications) >= 3
        and answer is not None
        and answer["mtype"] == RIC_CONTROL_ACK
        and all(i["sequence_number"] == instance == i["sub_id"] for i in indications)
    )
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    main()
