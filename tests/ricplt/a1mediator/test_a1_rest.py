"""A1 mediator: A1-P v2 REST over real HTTP, state in a real Redis, RMR behaviour through a recording port."""

from __future__ import annotations

import json
import threading

from fastapi import FastAPI, Request

from ricproto import a1, mtypes
from twinric.processes import wait_until

TYPE_ID = 20008
TYPE_BODY = {
    "name": "tsapolicy",
    "description": "traffic steering threshold",
    "policy_type_id": TYPE_ID,
    "create_schema": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"threshold": {"type": "integer", "minimum": 0}},
        "required": ["threshold"],
        "additionalProperties": False,
    },
}
BASE = "/A1-P/v2"
TYPE_URL = f"{BASE}/policytypes/{TYPE_ID}"


def create_type(m) -> None:
    assert m.http.put(TYPE_URL, json=TYPE_BODY).status_code == 201


def respond(m, iid: str, status: str, type_id: int = TYPE_ID) -> None:
    resp = a1.A1PolicyResponse(type_id, iid, "test-handler", a1.A1HandlerStatus(status))
    m.inject(mtypes.A1_POLICY_RESP, a1.encode_policy_response(resp))


def status_of(m, iid: str) -> dict:
    return m.http.get(f"{TYPE_URL}/policies/{iid}/status").json()


def test_healthcheck(mediator) -> None:
    assert mediator.http.get(f"{BASE}/healthcheck").status_code == 200


def test_policy_type_lifecycle(mediator) -> None:
    m = mediator
    assert m.http.get(f"{BASE}/policytypes").json() == []
    assert m.http.get(TYPE_URL).status_code == 404
    create_type(m)
    assert m.http.get(f"{BASE}/policytypes").json() == [TYPE_ID]
    assert m.http.get(TYPE_URL).json() == TYPE_BODY
    again = m.http.put(TYPE_URL, json=TYPE_BODY)
    assert again.status_code == 400 and "already exists" in again.json()["detail"]
    assert m.http.get(f"{TYPE_URL}/policies").json() == []
    assert m.http.delete(TYPE_URL).status_code == 204
    assert m.http.delete(TYPE_URL).status_code == 404
    assert m.http.get(f"{BASE}/policytypes").json() == []


def test_bad_policy_types_get_400_with_reason_and_are_counted(mediator) -> None:
    m = mediator
    cases = [
        (TYPE_URL, b"{not json", "malformed_json"),
        (TYPE_URL, b"", "empty_body"),
        (TYPE_URL, json.dumps({**TYPE_BODY, "extra": 1}).encode(), "bad_policy_type"),
        (TYPE_URL, json.dumps({**TYPE_BODY, "policy_type_id": 7}).encode(), "bad_policy_type"),
        (
            TYPE_URL,
            json.dumps({k: v for k, v in TYPE_BODY.items() if k != "create_schema"}).encode(),
            "bad_policy_type",
        ),
        (
            TYPE_URL,
            json.dumps({**TYPE_BODY, "create_schema": {"type": "no-such-type"}}).encode(),
            "bad_create_schema",
        ),
        (f"{BASE}/policytypes/abc", json.dumps(TYPE_BODY).encode(), "bad_policy_type_id"),
        (f"{BASE}/policytypes/0", json.dumps(TYPE_BODY).encode(), "bad_policy_type_id"),
    ]
    for url, content, reason in cases:
        resp = m.http.put(url, content=content, headers={"content-type": "application/json"})
        assert resp.status_code == 400, (url, content)
        assert resp.json()["reason"] == reason and resp.json()["detail"]
    assert m.counter("a1_bad_requests_total", reason="bad_policy_type") == 3
    assert m.counter("twinric_errors_total", component="a1mediator", reason="malformed_json") == 1
    assert m.http.get(f"{BASE}/policytypes").json() == []


def test_instance_create_sends_go_form_20010_by_type_and_status_follows_handler(mediator) -> None:
    m = mediator
    assert m.http.put(f"{TYPE_URL}/policies/p1", json={"threshold": 5}).status_code == 404  # no type yet
    create_type(m)
    assert m.http.put(f"{TYPE_URL}/policies/p1", json={"threshold": 5}).status_code == 202
    assert m.http.get(f"{TYPE_URL}/policies").json() == ["p1"]
    assert m.http.get(f"{TYPE_URL}/policies/p1").json() == {"threshold": 5}
    assert len(m.rmr.sent) == 1
    sent = m.rmr.sent[0]
    assert sent.mtype == mtypes.A1_POLICY_REQ and sent.sub_id == TYPE_ID
    assert json.loads(sent.payload) == {
        "operation": "CREATE",
        "policy_type_id": "20008",
        "policy_instance_id": "p1",
        "payload": '{"threshold":5}',
    }
    assert status_of(m, "p1") == {"enforceStatus": "NOT_ENFORCED", "enforceReason": "OTHER_REASON"}

    respond(m, "p1", "OK")
    assert wait_until(lambda: status_of(m, "p1")["enforceStatus"] == "ENFORCED", 5)
    assert status_of(m, "p1") == {"enforceStatus": "ENFORCED"}
    assert m.counter("twinric_a1_policies_enforced") == 1

    # an update is sent as UPDATE and is not enforced until a handler confirms it
    assert m.http.put(f"{TYPE_URL}/policies/p1", json={"threshold": 9}).status_code == 202
    update = a1.decode_policy_request(m.rmr.sent[-1].payload)
    assert update.operation is a1.A1Operation.UPDATE and update.payload == {"threshold": 9}
    assert status_of(m, "p1")["enforceStatus"] == "NOT_ENFORCED"
    respond(m, "p1", "ERROR")
    respond(m, "p1", "OK")
    assert wait_until(lambda: m.counter("a1_handler_responses_total", status="OK") == 2, 5)
    assert status_of(m, "p1")["enforceStatus"] == "ENFORCED"


def test_schema_violation_gets_400_with_reason_and_nothing_is_stored_or_sent(mediator) -> None:
    m = mediator
    create_type(m)
    for body, where in (
        ({"threshold": -1}, "threshold"),
        ({"threshold": 1, "x": 2}, "(root)"),
        ({}, "(root)"),
    ):
        resp = m.http.put(f"{TYPE_URL}/policies/bad", json=body)
        assert resp.status_code == 400
        assert resp.json()["reason"] == "schema_violation" and where in resp.json()["detail"]
    assert "minimum" in m.http.put(f"{TYPE_URL}/policies/bad", json={"threshold": -1}).json()["detail"]
    bad_json = m.http.put(
        f"{TYPE_URL}/policies/bad", content=b"{", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400 and bad_json.json()["reason"] == "malformed_json"
    assert m.http.get(f"{TYPE_URL}/policies").json() == []
    assert m.rmr.sent == []
    assert m.counter("a1_bad_requests_total", reason="schema_violation") == 4


def test_delete_sends_delete_and_deleted_answer_purges(mediator) -> None:
    m = mediator
    create_type(m)
    m.http.put(f"{TYPE_URL}/policies/p1", json={"threshold": 1})
    assert m.http.delete(TYPE_URL).status_code == 400  # instances exist
    assert m.http.delete(f"{TYPE_URL}/policies/p1").status_code == 202
    delete = json.loads(m.rmr.sent[-1].payload)
    assert delete["operation"] == "DELETE" and delete["payload"] == "" and m.rmr.sent[-1].sub_id == TYPE_ID
    assert m.http.get(f"{TYPE_URL}/policies/p1").status_code == 404
    assert m.http.get(f"{TYPE_URL}/policies/p1/status").status_code == 404
    assert m.http.get(f"{TYPE_URL}/policies").json() == []
    assert m.http.delete(f"{TYPE_URL}/policies/p1").status_code == 404
    assert m.store.get_metadata(TYPE_ID, "p1").has_been_deleted
    respond(m, "p1", "DELETED")
    assert wait_until(lambda: m.store.get_metadata(TYPE_ID, "p1") is None, 5)
    assert m.http.delete(TYPE_URL).status_code == 204


def test_query_resends_every_instance_of_the_type(mediator) -> None:
    m = mediator
    create_type(m)
    for i in range(3):
        m.http.put(f"{TYPE_URL}/policies/p{i}", json={"threshold": i})
    m.rmr.sent.clear()
    m.inject(mtypes.A1_POLICY_QUERY, b'{"policy_type_id": 20008}')
    assert wait_until(lambda: len(m.rmr.sent) == 3, 5)
    reqs = sorted(
        (a1.decode_policy_request(s.payload) for s in m.rmr.sent), key=lambda r: r.policy_instance_id
    )
    assert [(r.operation, r.policy_instance_id, r.payload) for r in reqs] == [
        (a1.A1Operation.CREATE, f"p{i}", {"threshold": i}) for i in range(3)
    ]
    assert all(s.sub_id == TYPE_ID for s in m.rmr.sent)


def test_malformed_rmr_messages_are_counted_and_the_mediator_keeps_working(mediator) -> None:
    m = mediator
    create_type(m)
    m.http.put(f"{TYPE_URL}/policies/p1", json={"threshold": 1})
    for payload in (
        b"garbage",
        b'{"policy_type_id": 20008}',
        b'{"policy_type_id":"x","policy_instance_id":"p1"}',
    ):
        m.inject(mtypes.A1_POLICY_RESP, payload)
    m.inject(mtypes.A1_POLICY_QUERY, b"[]")
    m.inject(12345, b"x")
    respond(m, "nope", "OK")  # unknown instance
    respond(m, "p1", "OK")
    assert wait_until(lambda: status_of(m, "p1")["enforceStatus"] == "ENFORCED", 5)
    assert m.counter("a1_rmr_bad_messages_total", reason="malformed_payload") == 4
    assert m.counter("a1_rmr_bad_messages_total", reason="unexpected_mtype") == 1
    assert m.counter("a1_rmr_bad_messages_total", reason="unknown_instance") == 1
    assert m.store.get_instance(TYPE_ID, "nope") is None


def test_rmr_send_failure_keeps_the_accepted_instance(mediator) -> None:
    m = mediator
    create_type(m)
    m.rmr.state = 2  # RMR_ERR_NOENDPT: no handler route
    assert m.http.put(f"{TYPE_URL}/policies/p1", json={"threshold": 3}).status_code == 202
    assert m.http.get(f"{TYPE_URL}/policies/p1").json() == {"threshold": 3}
    assert m.counter("a1_rmr_policy_requests_sent_total", operation="CREATE", result="failed") == 1
    assert m.counter("twinric_errors_total", component="a1mediator", reason="rmr_send_failed") == 1


def test_notification_destination_receives_enforce_status(mediator, serve_app) -> None:
    m = mediator
    received: list[dict] = []
    got = threading.Event()
    receiver = FastAPI()

    @receiver.post("/a1/status")
    async def _status(request: Request) -> dict:
        received.append(await request.json())
        got.set()
        return {}

    with serve_app(receiver) as rx:
        create_type(m)
        # the spec types it as a string: any string is taken; one that cannot be posted to is counted
        odd = m.http.put(
            f"{TYPE_URL}/policies/p0", params={"notificationDestination": "ftp://x"}, json={"threshold": 1}
        )
        assert odd.status_code == 202
        respond(m, "p0", "OK")
        assert wait_until(lambda: m.counter("a1_notifications_total", result="failed") == 1, 5)
        url = f"{rx.url}/a1/status"
        resp = m.http.put(
            f"{TYPE_URL}/policies/p1", params={"notificationDestination": url}, json={"threshold": 1}
        )
        assert resp.status_code == 202
        respond(m, "p1", "OK")
        assert got.wait(5)
    assert received == [{"enforceStatus": "ENFORCED"}]
    assert m.counter("a1_notifications_total", result="ok") == 1


def test_metrics_endpoint_exposes_shared_names(mediator) -> None:
    m = mediator
    m.http.put(TYPE_URL, content=b"nope", headers={"content-type": "application/json"})
    text = m.http.get("/metrics").text
    assert 'twinric_errors_total{component="a1mediator",reason="malformed_json"} 1.0' in text
    assert "twinric_a1_policies_enforced 0.0" in text


def test_instance_must_be_an_object_even_if_the_schema_allows_more(mediator) -> None:
    m = mediator
    body = {**TYPE_BODY, "policy_type_id": 3, "create_schema": {"type": ["object", "array"]}}
    assert m.http.put(f"{BASE}/policytypes/3", json=body).status_code == 201
    resp = m.http.put(f"{BASE}/policytypes/3/policies/a", json=[1, 2])
    assert resp.status_code == 400 and resp.json()["reason"] == "bad_policy_instance"
    assert m.http.put(f"{BASE}/policytypes/3/policies/a", json={"ok": True}).status_code == 202


def test_unreachable_redis_gives_503_not_a_crash(serve_app) -> None:
    import httpx
    import redis

    from ricplt.a1mediator.app import create_app
    from ricplt.a1mediator.metrics import A1Metrics
    from ricplt.a1mediator.southbound import A1Southbound
    from ricplt.a1mediator.store import A1Store
    from twinric.ports import free_port

    dead = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    store, metrics = A1Store(dead), A1Metrics()
    app = create_app(store, A1Southbound(None, store, metrics), metrics)
    with serve_app(app) as server, httpx.Client(base_url=server.url, timeout=5) as http:
        assert http.get(f"{BASE}/healthcheck").status_code == 503
        resp = http.put(TYPE_URL, json=TYPE_BODY)
        assert resp.status_code == 503 and resp.json()["reason"] == "store_unavailable"
        assert http.get(f"{BASE}/policytypes").status_code == 503
    assert (
        metrics.registry.get_sample_value(
            "twinric_errors_total", {"component": "a1mediator", "reason": "store_unavailable"}
        )
        == 2
    )


def test_type_ids_are_ascii_integers_and_anything_else_is_a_400(mediator) -> None:
    m = mediator
    for odd in ("¹", "²0008", "٣", "１２", "12a", "-5", "+5", "1.0", "99999999999", "2147483648"):
        for method, path in (
            ("GET", f"{BASE}/policytypes/{odd}"),
            ("PUT", f"{BASE}/policytypes/{odd}"),
            ("GET", f"{BASE}/policytypes/{odd}/policies"),
            ("GET", f"{BASE}/policytypes/{odd}/policies/p/status"),
        ):
            resp = m.http.request(method, path, json=TYPE_BODY)
            assert resp.status_code == 400, (method, path, resp.status_code)
            assert resp.json()["reason"] == "bad_policy_type_id"
    assert m.counter("a1_bad_requests_total", reason="bad_policy_type_id") == 40
    assert m.http.get(f"{BASE}/policytypes/2147483647").status_code == 404  # the largest id is fine


def test_a_policy_type_needs_a_description_as_upstream(mediator) -> None:
    m = mediator
    body = {k: v for k, v in TYPE_BODY.items() if k != "description"}
    resp = m.http.put(TYPE_URL, json=body)
    assert resp.status_code == 400 and "description" in resp.json()["detail"]
    assert m.http.put(TYPE_URL, json={**body, "description": ""}).status_code == 201


def test_json_without_a_json_value_and_unusable_schemas_are_400s(mediator) -> None:
    m = mediator
    nan = json.dumps(TYPE_BODY).replace('"minimum": 0', '"minimum": NaN').encode()
    resp = m.http.put(TYPE_URL, content=nan, headers={"content-type": "application/json"})
    assert resp.status_code == 400 and resp.json()["reason"] == "malformed_json"
    unresolvable = {**TYPE_BODY, "create_schema": {"$ref": "http://nowhere.invalid/schema.json"}}
    resp = m.http.put(TYPE_URL, json=unresolvable)
    assert resp.status_code == 400 and resp.json()["reason"] == "bad_create_schema"


def test_data_delivery_goes_to_the_xapps_as_upstream_sends_it(mediator) -> None:
    m = mediator
    resp = m.http.post("/data-delivery", json={"job": "job-1", "payload": '{"x": 1}'})
    assert resp.status_code == 200
    sent = m.rmr.sent[-1]
    assert (sent.mtype, sent.sub_id) == (mtypes.A1_EI_DATA_DELIVERY, -1) == (20017, -1)
    assert json.loads(sent.payload) == {"ei_job_id": "job-1", "payload": '{"x": 1}'}
    assert m.http.post("/data-delivery", json={"payload": "p"}).status_code == 404  # no job id
    assert m.http.post("/data-delivery", json={"job": "", "payload": "p"}).status_code == 404
    bad = m.http.post("/data-delivery", json={"job": "j", "payload": {"not": "text"}})
    assert bad.status_code == 400 and bad.json()["reason"] == "bad_data_delivery"
    assert m.http.post("/data-delivery", json=[1]).status_code == 400
    m.rmr.state = 2  # no route to any xApp: upstream still answers 200 and logs; we count it too
    assert m.http.post("/data-delivery", json={"job": "j", "payload": "p"}).status_code == 200
    assert m.counter("twinric_errors_total", component="a1mediator", reason="rmr_send_failed") == 1
