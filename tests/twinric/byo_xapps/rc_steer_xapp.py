"""An RC control xApp in the style of srsRAN's ``xAppBase``: raw ricxappframe RMR (no RMRXapp, no appmgr
registration), E2 nodes from e2mgr's REST API, E2SM-RC slice PRB quota controls sent to E2T by meid. It
handles the answers: an acknowledge, a failure with its cause, and a control nobody answers.

JSON lines on stdout; exit code 0 when every answer matched a control it sent.
"""

import json
import time

import requests
from ricxappframe.rmr import rmr

from ricproto import e2ap
from ricproto.e2sm import rc
from ricproto.e2sm.identities import SNssai, plmn_from_digits
from ricproto.e2sm.ueid import UeIdGnbDu

E2MGR = "http://service-ricplt-e2mgr-http.ricplt:3800/v1/nodeb/states"
RIC_CONTROL_REQ, RIC_CONTROL_ACK, RIC_CONTROL_FAILURE = 12040, 12041, 12042
REQUESTOR = 4242  # this xApp's ricRequestorID in every control


def emit(**event):
    print(json.dumps(event), flush=True)


def quota_control(instance, minimum, maximum, dedicated=0):
    control = rc.SliceQuotaControl.single(
        UeIdGnbDu(1), plmn_from_digits("00101"), SNssai(1, 1), minimum, maximum, dedicated
    )
    header, message = control.encode()
    return e2ap.encode(
        e2ap.RICcontrolRequest(
            e2ap.RICrequestID(REQUESTOR, instance),
            rc.RAN_FUNCTION_ID,
            header,
            message,
            ricControlAckRequest=e2ap.RICcontrolAckRequest.ack,
        )
    )


def send(mrc, payload, meid):
    sbuf = rmr.rmr_alloc_msg(
        mrc, len(payload), payload=payload, gen_transaction_id=True, mtype=RIC_CONTROL_REQ, meid=meid.encode()
    )
    for _ in range(50):
        sbuf = rmr.rmr_send_msg(mrc, sbuf)
        if sbuf.contents.state == rmr.RMR_OK:
            break
        time.sleep(0.05)
    state = sbuf.contents.state
    rmr.rmr_free_msg(sbuf)
    return state


def answers(mrc, seconds):
    """Every control answer that arrives within ``seconds``."""
    out = []
    deadline = time.monotonic() + seconds
    rbuf = rmr.rmr_alloc_msg(mrc, 4096)
    while time.monotonic() < deadline:
        rbuf = rmr.rmr_torcv_msg(mrc, rbuf, 200)
        summary = rmr.message_summary(rbuf)
        if summary[rmr.RMR_MS_MSG_STATE] != rmr.RMR_OK:
            continue
        mtype = summary[rmr.RMR_MS_MSG_TYPE]
        if mtype in (RIC_CONTROL_ACK, RIC_CONTROL_FAILURE):
            pdu = e2ap.decode(summary[rmr.RMR_MS_PAYLOAD])
            out.append(
                {
                    "mtype": mtype,
                    "requestor": pdu.ricRequestID.ricRequestorID,
                    "instance": pdu.ricRequestID.ricInstanceID,
                    "meid": summary[rmr.RMR_MS_MEID].decode(),
                    "sub_id": summary[rmr.RMR_MS_SUB_ID],
                    "cause": getattr(getattr(pdu, "cause", None), "name", None),
                }
            )
    rmr.rmr_free_msg(rbuf)
    return out


def main():
    mrc = rmr.rmr_init(b"4560", rmr.RMR_MAX_RCV_BYTES, 0x00)
    while rmr.rmr_ready(mrc) == 0:
        time.sleep(0.1)
    nodes = sorted(
        n["inventoryName"]
        for n in requests.get(E2MGR, timeout=5).json()
        if n.get("connectionStatus") == "CONNECTED"
    )
    meid = nodes[-1]
    emit(event="nodes", count=len(nodes), meid=meid)

    sent = {1: send(mrc, quota_control(1, 10, 90), meid)}  # valid: dedicated <= min <= max
    got = answers(mrc, 4)
    sent[2] = send(mrc, quota_control(2, 80, 20), meid)  # min > max: the node refuses it
    got += answers(mrc, 4)
    sent[3] = send(mrc, quota_control(3, 10, 90), "gnb_999_999_00ffff")  # a node the RIC does not know
    got += answers(mrc, 3)
    emit(event="sent", states=sent)
    for answer in got:
        emit(event="answer", **answer)
    mine = [a for a in got if a["requestor"] == REQUESTOR]
    by_instance = {a["instance"]: a for a in mine}
    ok = (
        len(mine) == len(got)
        and by_instance.get(1, {}).get("mtype") == RIC_CONTROL_ACK
        and by_instance.get(2, {}).get("mtype") == RIC_CONTROL_FAILURE
        and 3 not in by_instance
    )
    emit(
        event="summary",
        answers=len(got),
        foreign=len(got) - len(mine),
        ok=ok,
        unanswered=[i for i in sent if i not in by_instance],
    )
    rmr.rmr_close(mrc)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
