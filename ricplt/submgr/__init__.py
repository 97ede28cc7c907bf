"""Local stand-in for the OSC subscription manager (ric-plt-submgr): its REST API over RMR to E2T.

xApps ``POST /ric/v1/subscriptions`` (PascalCase body of ``ricproto.subscription_api``); submgr
allocates the E2 instance ids (1..65534), builds the RICsubscriptionRequest, sends it to the E2
termination (RMR 12010, meid = RAN name), waits for the answer with the directives' timeout and
retries, asks the route manager to route the indications to the xApp and notifies the xApp at
``POST <client>/ric/v1/subscriptions/response``. State lives in Redis; when an E2 node comes back,
its subscriptions are re-sent with the same instance ids.
"""
