"""A KPM monitor in the style of the Python KPM xApps published with open RAN labs: a ricxappframe ``Xapp``
that finds the E2 nodes through e2mgr, subscribes through submgr's REST API with the RIC's standard
service names (PascalCase body, ClientEndpoint = its own Kubernetes service), takes the notification on
its HTTP port, decodes the KPM indications it gets, and deletes its subscription before it exits.

JSON lines on stdout say what it did and received; exit code 0 when it got what it asked for.
"""

import json
import os
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from ricxappframe.xapp_frame import Xapp, rmr

from ricproto import e2ap
from ricproto.e2sm import kpm

NAME = "kpm-monitor"
SUBMGR = "http://service-ricplt-submgr-http.ricplt:8088/ric/v1/subscriptions"
E2MGR = "http://service-ricplt-e2mgr-http.ricplt:3800/v1/nodeb/states"
MY_SERVICE = f"service-ricxapp-{NAME}-http.ricxapp"
RIC_INDICATION, RIC_CONTROL_ACK, RIC_CONTROL_FAILURE = 12050, 12041, 12042
WANTED = int(os.environ.get("KPM_REPORTS", "8"))
notifications = queue.Queue()


def emit(**event):
    print(json.dumps(event), flush=True)


class Notifications(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        notifications.put(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def subscription(meid):
    trigger = kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(100))
    cell = kpm.ActionDefinition(
        1,
        kpm.ActionDefinitionFormat1(
            (kpm.MeasurementInfoItem("DRB.UEThpDl"), kpm.MeasurementInfoItem("RRU.PrbUsedDl")), 100
        ),
    )
    ues = kpm.ActionDefinition(
        4,
        kpm.ActionDefinitionFormat4(
            (kpm.MatchingUeCondPerSubItem(kpm.TestCondInfo("rSRP", "present")),),
            kpm.ActionDefinitionFormat1((kpm.MeasurementInfoItem("SINR"),), 100),
        ),
    )
    return {
        "ClientEndpoint": {"Host": MY_SERVICE, "HTTPPort": 8080, "RMRPort": 4560},
        "Meid": meid,
        "RANFunctionID": 2,
        "SubscriptionDetails": [
            {
                "XappEventInstanceId": 12345,
                "EventTriggers": list(trigger),
                "ActionToBeSetupList": [
                    {
                        "ActionID": 1,
                        "ActionType": "report",
                        "ActionDefinition": list(kpm.encode_action_definition(cell)),
                        "SubsequentAction": {"SubsequentActionType": "continue", "TimeToWait": "zero"},
                    },
                    {
                        "ActionID": 2,
                        "ActionType": "report",
                        "ActionDefinition": list(kpm.encode_action_definition(ues)),
                    },
                ],
            }
        ],
        "XappName": NAME,  # not in the spec: submgr ignores fields it does not know
    }


def entry(xapp):
    server = ThreadingHTTPServer(("0.0.0.0", 8080), Notifications)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    nodes = [
        n["inventoryName"]
        for n in requests.get(E2MGR, timeout=5).json()
        if n.get("connectionStatus") == "CONNECTED"
    ]
    meid = sorted(nodes)[0]
    reply = requests.post(SUBMGR, json=subscription(meid), timeout=10)
    emit(event="subscribed", status=reply.status_code, body=reply.json(), meid=meid)
    subscription_id = reply.json()["SubscriptionId"]
    note = notifications.get(timeout=20)
    instance = note["SubscriptionInstances"][0]["E2EventInstanceId"]
    emit(event="notification", instance=instance)
    listing = requests.get(SUBMGR, timeout=5).json()
    emit(event="listing", mine=[s for s in listing if s["SubscriptionId"] == instance])
    cell_reports, ue_reports, foreign = 0, 0, 0
    deadline = time.monotonic() + 60
    while (cell_reports < WANTED or ue_reports < 1) and time.monotonic() < deadline:
        for summary, sbuf in xapp.rmr_get_messages():
            mtype = summary[rmr.RMR_MS_MSG_TYPE]
            if mtype == RIC_INDICATION:
                ind = e2ap.decode(summary[rmr.RMR_MS_PAYLOAD])
                header = kpm.decode_indication_header(ind.ricIndicationHeader)
                message = kpm.decode_indication_message(ind.ricIndicationMessage)
                if isinstance(message, kpm.IndicationMessageFormat1):
                    cell_reports += 1
                    values = {str(t): v[-1] for (t, _), v in message.values_by_label().items()}
                    emit(
                        event="cell_report",
                        sub_id=summary[rmr.RMR_MS_SUB_ID],
                        action=ind.ricActionID,
                        meid=summary[rmr.RMR_MS_MEID].decode(),
                        values=values,
                        collected=kpm.unix_seconds(header.collet_start_time),
                    )
                else:
                    ue_reports += 1
                    emit(
                        event="ue_report",
                        sub_id=summary[rmr.RMR_MS_SUB_ID],
                        action=ind.ricActionID,
                        ues=len(message.values_by_ue()),
                    )
            elif mtype in (RIC_CONTROL_ACK, RIC_CONTROL_FAILURE):
                foreign += 1  # it never sends a control: any answer would be someone else's
            xapp.rmr_free(sbuf)
        time.sleep(0.05)
    deleted = requests.delete(f"{SUBMGR}/{subscription_id}", timeout=10)
    emit(
        event="summary",
        cell_reports=cell_reports,
        ue_reports=ue_reports,
        control_answers=foreign,
        deleted=deleted.status_code,
    )
    os._exit(0 if cell_reports >= WANTED and ue_reports >= 1 and deleted.status_code == 204 else 1)


if __name__ == "__main__":
    Xapp(entry, rmr_port=4560).run()
