"""A benign xApp: it only cleans up. On start it deletes a subscription it believes it left behind in an
earlier life, through ricxappframe's ``xapp_subscribe.NewSubscriber.UnSubscribe`` (whose client raises
on any non-2xx answer), then exits. OSC's submgr answers 204 for an unknown subscription; a 404 would
make this xApp die instead of shutting down cleanly.
"""

import json

from ricxappframe.xapp_subscribe import NewSubscriber

SUBMGR = "http://service-ricplt-submgr-http.ricplt:8088/ric/v1"


def main():
    subscriber = NewSubscriber(SUBMGR, timeout=5)
    _, reason, status = subscriber.UnSubscribe("a-subscription-from-a-previous-life")
    print(json.dumps({"event": "unsubscribe", "status": status, "reason": reason}), flush=True)
    print(json.dumps({"event": "bye"}), flush=True)


if __name__ == "__main__":
    main()
