"""RMR message types (values of O-RAN SC RMR 4.9.4 ``RIC_message_types.h``) and twinric's own.

Our own types live at 30100 and above, outside the ranges the OSC header assigns (the traffic
steering and anomaly detection examples occupy 30000-30010).
"""

from __future__ import annotations

# RMR <-> route manager
RMRRM_TABLE_DATA = 20
RMRRM_REQ_TABLE = 21
RMRRM_TABLE_STATE = 22

# system
RIC_HEALTH_CHECK_REQ = 100
RIC_HEALTH_CHECK_RESP = 101
RIC_ALARM = 110
RIC_ALARM_QUERY = 111
RIC_METRICS = 120

# E2 termination / e2mgr internal
RIC_SCTP_CONNECTION_FAILURE = 1080
RIC_SCTP_CLEAR_ALL = 1090
E2_TERM_INIT = 1100
E2_TERM_KEEP_ALIVE_REQ = 1101
E2_TERM_KEEP_ALIVE_RESP = 1102
RAN_CONNECTED = 1200
RAN_RESTARTED = 1210
RAN_RECONFIGURED = 1220

RIC_ERROR_INDICATION = 10030

# E2AP (payload = the whole APER E2AP PDU, except E2 setup which E2T turns into XML for e2mgr)
RIC_E2_SETUP_REQ = 12001
RIC_E2_SETUP_RESP = 12002
RIC_E2_SETUP_FAILURE = 12003
RIC_E2_RESET_REQ = 12004
RIC_E2_RESET_RESP = 12005
RIC_E2_RAN_ERROR_INDICATION = 12006
RIC_E2_RIC_ERROR_INDICATION = 12007
RAN_E2_RESET_REQ = 12008
RAN_E2_RESET_RESP = 12009
RIC_SUB_REQ = 12010
RIC_SUB_RESP = 12011
RIC_SUB_FAILURE = 12012
RIC_SUB_DEL_REQ = 12020
RIC_SUB_DEL_RESP = 12021
RIC_SUB_DEL_FAILURE = 12022
RIC_SUB_DEL_REQUIRED = 12023
RIC_SERVICE_UPDATE = 12030
RIC_SERVICE_UPDATE_ACK = 12031
RIC_SERVICE_UPDATE_FAILURE = 12032
RIC_CONTROL_REQ = 12040
RIC_CONTROL_ACK = 12041
RIC_CONTROL_FAILURE = 12042
RIC_INDICATION = 12050
RIC_SERVICE_QUERY = 12060
RIC_E2NODE_CONFIG_UPDATE = 12070
RIC_E2NODE_CONFIG_UPDATE_ACK = 12071
RIC_E2NODE_CONFIG_UPDATE_FAILURE = 12072

# A1 (routed by sub_id = policy type id)
A1_POLICY_REQ = 20010
A1_POLICY_RESP = 20011
A1_POLICY_QUERY = 20012
# A1 enrichment information (the Go A1 mediator's, not in RMR's header)
A1_EI_QUERY_ALL = 20013
AI_EI_QUERY_ALL_RESP = 20014  # sic
A1_EI_CREATE_JOB = 20015
A1_EI_CREATE_JOB_RESP = 20016
A1_EI_DATA_DELIVERY = 20017

# twinric's own: zero-trust access requests between a PEP (in an xApp) and the PDP xApp, and the
# PDP's revocations to every PEP (xApps and e2term). 30100-30102 collide with no value of RMR 4.9.4's
# RIC_message_types.h: its application examples stop at 30010 (TS, QP, AD, MC) and resume at 33001
# (DCAPTERM), its deprecated config types are 100000/100001. In an OSC RIC rtmgr must be told the
# names (its messagetypes ConfigMap) or given the routes (addrmrroute).
TWINRIC_ACCESS_REQ = 30100
TWINRIC_ACCESS_RESP = 30101
TWINRIC_ACCESS_REVOKE = 30102


def by_value() -> dict[int, str]:
    """Map every message-type value defined here to its name (for logs and diagnostic tools)."""
    return {value: name for name, value in globals().items() if name.isupper() and isinstance(value, int)}


def parse(text: str) -> int:
    """A message type from its name (``RIC_INDICATION``) or number (``12050``)."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    value = globals().get(text.upper())
    if not isinstance(value, int):
        raise ValueError(f"unknown RMR message type {text!r}")
    return value
