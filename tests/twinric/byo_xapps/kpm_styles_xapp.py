"""A KPM monitor that asks for every E2SM-KPM report style, in the way kpimon-go and the open-RAN-lab
Python monitors do: a ricxappframe ``Xapp`` that reads the node's RAN functions from e2mgr
(``/v1/nodeb/{name}``), takes the KPM version from the function's OID and the measurement names "by name"
from its RAN function definition, and subscribes through submgr's REST API with the RIC's standard
service names:

* first styles 1 (cell), 3 (condition-based: throughput of the UEs whose UL RSRP is above a level) and
  4 (UEs matching rSRP present);
* then, with UE ids learnt from the style-4 report, styles 2 (one UE) and 5 (two UEs).

It decodes every indication, checks each report has the format its style promises, and deletes both
subscriptions before it exits. JSON lines on stdout; exit code 0 when every style reported.
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

NAME = "kpm-styles"
SUBMGR = "http://service-ricplt-submgr-http.ricplt:8088/ric/v1/subscriptions"
E2MGR = "http://service-ricplt-e2mgr-http.ricplt:3800/v1/nodeb"
MY_SERVICE = f"service-ricxapp-{NAME}-http.ricxapp"
RIC_INDICATION = 12050
FORMATS = {
    1: kpm.IndicationMessageFormat1,
    2: kpm.IndicationMessageFormat1,
    3: kpm.IndicationMessageFormat2,
    4: kpm.IndicationMessageFormat3,
    5: kpm.IndicationMessageFormat3,
}
notifications = queue.Queue()


def emit(**event):
    print(json.dumps(event, default=str), flush=True)


class Notifications(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        notifications.put(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def kpm_function(meid):
    """(version, RAN function definition) of the node's KPM function, as e2mgr has it."""
    info = requests.get(f"{E2MGR}/{meid}", timeout=5).json()
    for function in info["gnb"]["ranFunctions"]:
        if function["ranFunctionId"] == kpm.RAN_FUNCTION_ID:
            version = kpm.version_of(function["ranFunctionOid"])
            definition = bytes.fromhex(function["ranFunctionDefinition"])
            return version, kpm.decode_ran_function_description(definition, version)
    raise SystemExit("no KPM RAN function")


def subscribe(meid, version, actions, instance):
    """POST one subscription of (action id, style, action definition) items; its SubscriptionId and
    the E2 instance id the notification names."""
    trigger = kpm.encode_event_trigger_definition(kpm.EventTriggerDefinition(100), version)
    body = {
        "ClientEndpoint": {"Host": MY_SERVICE, "HTTPPort": 8080, "RMRPort": 4560},
        "Meid": meid,
        "RANFunctionID": kpm.RAN_FUNCTION_ID,
        "SubscriptionDetails": [
            {
                "XappEventInstanceId": instance,
                "EventTriggers": list(trigger),
                "ActionToBeSetupList": [
                    {
                        "ActionID": action_id,
                        "ActionType": "report",
                        "ActionDefinition": list(
                            kpm.encode_action_definition(kpm.ActionDefinition(style, fmt), version)
                        ),
                        "SubsequentAction": {"SubsequentActionType": "continue", "TimeToWait": "w10ms"},
                    }
                    for action_id, style, fmt in actions
                ],
            }
        ],
    }
    reply = requests.post(SUBMGR, json=body, timeout=10)
    reply.raise_for_status()
    note = notifications.get(timeout=20)
    return reply.json()["SubscriptionId"], note["SubscriptionInstances"][0]["E2EventInstanceId"]


def entry(xapp):
    server = ThreadingHTTPServer(("0.0.0.0", 8080), Notifications)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    nodes = sorted(
        n["inventoryName"]
        for n in requests.get(f"{E2MGR}/states", timeout=5).json()
        if n.get("connectionStatus") == "CONNECTED"
    )
    meid = nodes[0]
    version, description = kpm_function(meid)
    offered = {s.ric_report_style_type: s for s in description.ric_report_style_list}
    emit(
        event="ran_function",
        meid=meid,
        version=version,
        styles=sorted(offered),
        style1=description.measurement_names(1),
        ue_level=description.measurement_names(4),
    )

    def measurements(style, wanted):
        names = set(description.measurement_names(style))
        return tuple(kpm.MeasurementInfoItem(n) for n in wanted if n in names)

    cell_names = (
        "DRB.UEThpDl",
        "DRB.UEThpUl",
        "RRU.PrbUsedDl",
        "RRU.PrbUsedUl",
        "RRU.PrbTotDl",
        "RRC.ConnMean",
    )
    ue_names = ("DRB.UEThpDl", "RSRP", "L1M.SS-RSRQ", "L1M.UL-SRS-RSRP", "CQI")
    strong_ul = kpm.MatchingCondItem(kpm.TestCondInfo("ul-rSRP", "greaterthan", ("valueInt", -140)))
    first = [
        (1, 1, kpm.ActionDefinitionFormat1(measurements(1, cell_names), 100)),
        (
            3,
            3,
            kpm.ActionDefinitionFormat3(
                (
                    kpm.MeasurementCondItem("DRB.UEThpDl", (strong_ul,)),
                    kpm.MeasurementCondItem("RSRP", (strong_ul,)),
                ),
                100,
            ),
        ),
        (
            4,
            4,
            kpm.ActionDefinitionFormat4(
                (kpm.MatchingUeCondPerSubItem(kpm.TestCondInfo("rSRP", "present")),),
                kpm.ActionDefinitionFormat1(measurements(4, ue_names), 100),
            ),
        ),
    ]
    subscriptions = {}
    sid, instance = subscribe(meid, version, first, 101)
    subscriptions[instance] = sid
    emit(event="subscribed", instance=instance, styles=[1, 3, 4])

    got = {}  # (instance, action) -> decoded messages
    wrong_format = []
    ues = []

    def pump(seconds, until):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not until():
            for summary, sbuf in xapp.rmr_get_messages():
                if summary[rmr.RMR_MS_MSG_TYPE] == RIC_INDICATION:
                    ind = e2ap.decode(summary[rmr.RMR_MS_PAYLOAD])
                    kpm.decode_indication_header(ind.ricIndicationHeader, version)
                    message = kpm.decode_indication_message(ind.ricIndicationMessage, version)
                    key = (summary[rmr.RMR_MS_SUB_ID], ind.ricActionID)
                    got.setdefault(key, []).append(message)
                xapp.rmr_free(sbuf)
            time.sleep(0.02)

    pump(60, lambda: (instance, 4) in got)
    for message in got.get((instance, 4), []):
        ues = [r.ue_id for r in message.ue_meas_report_list]
        if len(ues) >= 2:
            break
    emit(event="ues", count=len(ues))
    second = [
        (
            2,
            2,
            kpm.ActionDefinitionFormat2(ues[0], kpm.ActionDefinitionFormat1(measurements(2, ue_names), 100)),
        ),
        (
            5,
            5,
            kpm.ActionDefinitionFormat5(
                tuple(ues[:2]), kpm.ActionDefinitionFormat1(measurements(5, ue_names), 100)
            ),
        ),
    ]
    sid2, instance2 = subscribe(meid, version, second, 102)
    subscriptions[instance2] = sid2
    emit(event="subscribed", instance=instance2, styles=[2, 5])
    style_of = {(instance, 1): 1, (instance, 3): 3, (instance, 4): 4, (instance2, 2): 2, (instance2, 5): 5}
    pump(60, lambda: all(key in got for key in style_of))

    for key, style in style_of.items():
        messages = got.get(key, [])
        if any(not isinstance(m, FORMATS[style]) for m in messages):
            wrong_format.append(style)
        if not messages:
            continue
        last = messages[-1]
        if style == 1:
            summary = {str(t): v[-1] for (t, _), v in last.values_by_label().items()}
        elif style == 2:
            summary = {str(t): v[-1] for t, v in last.values_by_type().items()}
        elif style == 3:
            summary = {
                "values": list(last.meas_data[-1].meas_record),
                "matched": [len(c.matching_ueid_list) for c in last.meas_cond_ueid_list],
            }
        else:
            summary = {
                "ues": len(last.ue_meas_report_list),
                "names": sorted(
                    {str(t) for r in last.ue_meas_report_list for t in r.meas_report.values_by_type()}
                ),
            }
        emit(event="report", style=style, reports=len(messages), summary=summary)
    deleted = [requests.delete(f"{SUBMGR}/{sid}", timeout=10).status_code for sid in subscriptions.values()]
    styles_seen = sorted(style for key, style in style_of.items() if got.get(key))
    emit(event="summary", styles=styles_seen, wrong_format=wrong_format, deleted=deleted)
    ok = styles_seen == [1, 2, 3, 4, 5] and not wrong_format and deleted == [204, 204]
    os._exit(0 if ok else 1)


if __name__ == "__main__":
    Xapp(entry, rmr_port=4560).run()
