"""A hello-world xApp in the style of OSC's hw-python: a ricxappframe ``RMRXapp`` that registers itself
(ricxappframe's ``register()``), reads the R-NIB with ricxappframe's helpers, follows RAN state changes
(RMR RAN_CONNECTED and SDL channel RAN_CONNECTION_STATUS_CHANGE), and calls e2mgr's REST API and the
alarm manager by their service names. Nothing in it knows about twinric.

It prints one JSON line per thing it learns; SIGTERM stops it with ricxappframe's ``stop()``.
"""

import json
import signal
import sys

import requests
from ricxappframe.xapp_frame import RMRXapp, rmr

E2MGR = "http://service-ricplt-e2mgr-http.ricplt:3800"
ALARM_MANAGER = "http://service-ricplt-alarmmanager-http.ricplt:8080"
KPM_OID = "1.3.6.1.4.1.53148.1.3.2.2"  # E2SM-KPM v3
RAN_CONNECTED = 1200


def emit(**event):
    print(json.dumps(event), flush=True)


def default_handler(xapp, summary, sbuf):
    emit(event="rmr", mtype=summary[rmr.RMR_MS_MSG_TYPE])
    xapp.rmr_free(sbuf)


def ran_connected(xapp, summary, sbuf):
    emit(
        event="ran_connected",
        meid=summary[rmr.RMR_MS_MEID].decode(),
        payload=json.loads(summary[rmr.RMR_MS_PAYLOAD] or b"null"),
    )
    xapp.rmr_free(sbuf)


def ran_state_changed(channel, events):
    emit(event="ran_state", channel=channel, events=list(events))


def post_init(xapp):
    gnbs = xapp.get_list_gnb_ids()
    emit(
        event="gnbs",
        gnbs=[
            {
                "name": g.inventory_name,
                "plmn": g.global_nb_id.plmn_id,
                "nb": g.global_nb_id.nb_id,
                "status": g.connection_status,
            }
            for g in gnbs
        ],
    )
    for name in sorted(g.inventory_name for g in gnbs):
        nodeb = xapp.GetNodeb(name)
        emit(
            event="nodeb",
            name=nodeb.ran_name,
            status=nodeb.connection_status,
            type=nodeb.node_type,
            e2t=nodeb.associated_e2t_instance_address,
            functions=[[f.ran_function_id, f.ran_function_oid] for f in nodeb.gnb.ran_functions],
            kpm_definitions=len(xapp.GetRanFunctionDefinition(name, KPM_OID) or []),
        )
    emit(event="all_nodebs", count=len(xapp.GetListNodebIds()))
    xapp.sdl.subscribe_channel("e2Manager", ran_state_changed, "RAN_CONNECTION_STATUS_CHANGE")
    xapp.sdl.start_event_listener()
    states = requests.get(f"{E2MGR}/v1/nodeb/states", timeout=5)
    emit(
        event="e2mgr_states",
        status=states.status_code,
        names=sorted(s["inventoryName"] for s in states.json()),
    )
    alarm = requests.post(f"{ALARM_MANAGER}/ric/v1/alarms", json={"managedObjectId": "hw-rnib"}, timeout=5)
    emit(event="alarm_manager", status=alarm.status_code, body=alarm.json())
    emit(event="ready", config=xapp._config_data.get("controls"))


def main():
    xapp = RMRXapp(default_handler, rmr_port=4560, post_init=post_init)
    xapp.register_callback(ran_connected, RAN_CONNECTED)

    def stop(*_):
        xapp.stop()
        emit(event="stopped")
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    xapp.run()


if __name__ == "__main__":
    main()
