"""The dashboard's routes on real HTTP over a real Redis: the snapshot agrees with the twin's own API
(state, time series from the same rounds, forecasts against what happened), controls, shield
interventions and PDP denials are marked, the decision log and trust tails are read (bad entries
skipped and counted), the SSE stream runs at 1 Hz and shows new rounds, the page serves only its own
files, the token rule holds, and views whose source is away say so. The page itself is driven in a
real browser in ``tests/twinric/test_dashboard_browser.py``."""

from __future__ import annotations

import json
import re
import time

import httpx
import numpy as np
import redis
from twin_records import T0_NS, RanScript

from ricproto import ran_view, transition, trust
from ricproto.kpm_distribution import BIN_EDGES, UE_THP_DL_DIST, percentile
from ricproto.ran_view import encode_ran_round
from ricproto.transition import encode_transition
from twin_sidecar.dashboard.stream_tails import DECISIONS_KEY
from twinric.ports import free_port
from twinric.processes import wait_until


def produce(
    client: redis.Redis, script: RanScript, rounds: range, flags: dict[int, dict] | None = None
) -> None:
    """RAN-view rounds and transitions as the xApp writes them, with decision times (and, for the steps
    in ``flags``, a shield intervention or a PDP denial)."""
    pipe = client.pipeline(transaction=False)
    for k in rounds:
        pipe.xadd(ran_view.stream_key(script.instance), {ran_view.FIELD: encode_ran_round(script.round(k))})
        msg = script.transition(k)
        msg.timestamps.decided_ns = T0_NS + k * script.period_ns
        for name, value in (flags or {}).get(k, {}).items():
            setattr(msg, name, value)
        pipe.xadd(transition.stream_key(script.instance), {transition.FIELD: encode_transition(msg)})
    pipe.execute()


def errors(base: str) -> dict[str, float]:
    out = {}
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        m = re.match(r'twinric_errors_total\{.*reason="([^"]+)"\} ([0-9.e+]+)', line)
        if m:
            out[m[1]] = float(m[2])
    return out


def test_snapshot_agrees_with_the_twin_api(twin_server, redis_client, script) -> None:
    twin = twin_server()
    base = twin.url
    produce(redis_client, script, range(60))
    assert wait_until(lambda: twin.parts.mirror.rounds == 60, 10)

    def lag() -> dict[str, int]:
        return {k: v["lag"] for k, v in httpx.get(f"{base}/health").json()["streams"].items()}

    assert wait_until(lambda: lag() == {"transitions": 0, "ran_view": 0}, 10), lag()  # all read
    snap = httpx.get(f"{base}/dashboard/v1/snapshot").json()
    state = httpx.get(f"{base}/v1/state").json()
    assert snap["twin"]["lag_records"] == {"transitions": 0, "ran_view": 0}

    # the RAN view is the state API's nodes and cells at the same round
    ran = snap["ran"]
    assert ran["seq"] == state["seq"] == 59 and snap["t"] == state["t_ns"] / 1e9
    for mine, api in zip(ran["cells"], state["cells"], strict=True):
        assert mine["kpm"] == api["kpm"] and mine["nr_cell_id"] == api["nr_cell_id"]
        assert [s["kpm"] for s in mine["slices"]] == [s["kpm"] for s in api["slices"]]
        assert [s["quota"] for s in mine["slices"]] == [s["quota"] for s in api["slices"]]
        assert (mine["handovers_in"], mine["handovers_out"]) == (api["handovers_in"], api["handovers_out"])
    assert ran["cells"][3]["kpm"]["prb_tot_dl_pct"] == round(script.load(3, 59) * 100, 4)
    relations = {tuple(sorted((i, j))) for i, ns in enumerate(script.cfg.layout.neighbours) for j in ns}
    assert {tuple(e) for e in ran["edges"]} == relations and relations
    assert [n["status"] for n in ran["nodes"]] == [n["status"] for n in state["nodes"]]

    # the series: one point per round in the window, loads as the script made them; the throughput
    # mean weighted by connected UEs, the 5th percentile of the UE throughput distribution of every
    # cell and slice, here recomputed from the state API's distributions
    series = snap["series"]
    assert len(series["t"]) == 60 and series["t"][-1] == snap["t"]
    assert series["load"][2][10] == round(script.load(2, 10), 5)
    kpm = [script.kpm(i, 59) for i in range(len(script.cfg.cells))]
    mean = sum(k.ue_thp_dl_kbps * k.conn_mean for k in kpm) / sum(k.conn_mean for k in kpm)
    assert abs(series["thp_mean_kbps"][-1] - mean) < 0.01
    counts = np.sum(
        [s["distributions"]["slice_ue_thp_dl_dist"] for c in state["cells"] for s in c["slices"]], axis=0
    )
    assert abs(series["thp_p5_kbps"][-1] - percentile(counts, BIN_EDGES[UE_THP_DL_DIST], 5.0)) < 0.01
    assert 0 < series["thp_p5_kbps"][-1] < series["thp_mean_kbps"][-1]

    # the reward is the xApp's, step by step
    assert snap["reward"]["v"] == [round(script.transition(k).reward, 5) for k in range(60)]
    assert snap["policy_versions"] == ["heuristic"]

    # controls marked: a quota every round, offset steps; the twin's lag and forecast
    kinds = {m["kind"] for m in snap["markers"]}
    assert {"slice_quota", "cell_offset"} <= kinds
    assert any("offset cell 0" in m["text"] and "acknowledged" in m["text"] for m in snap["markers"])
    twin_view = snap["twin"]
    assert set(twin_view["lag_records"]) == {"transitions", "ran_view"}
    assert abs(twin_view["lag_s"] - (snap["server_time"] - snap["t"])) < 0.5  # both read in the same build
    fc = twin_view["forecast"]
    busiest = int(np.argmax([script.load(i, 59) for i in range(len(script.cfg.cells))]))
    assert fc["cell"] == busiest and fc["model"] == "persistence"
    api_fc = httpx.get(f"{base}/v1/forecast").json()
    assert [a["mean"] for a in fc["ahead"]] == [round(x, 5) for x in api_fc["cells"][busiest]["load"]]
    assert snap["routes"] == {"policy": None, "trust": None}  # not served yet on this branch
    assert snap["unavailable"] == {}


def test_forecasts_are_compared_with_what_happened(twin_server, redis_client, script) -> None:
    twin = twin_server()
    produce(redis_client, script, range(20))
    assert wait_until(lambda: twin.parts.mirror.rounds == 20, 10)
    feed_url = f"{twin.url}/dashboard/v1/snapshot"
    httpx.get(feed_url)  # a forecast from round 19, ten periods (1 s) ahead
    produce(redis_client, script, range(20, 40))
    assert wait_until(lambda: twin.parts.mirror.rounds == 40, 10)
    time.sleep(0.3)  # past the feed's reuse interval
    fc = httpx.get(feed_url).json()["twin"]["forecast"]
    (past,) = [p for p in fc["past"] if abs(p["t"] - (T0_NS + 29 * script.period_ns) / 1e9) < 1e-6]
    cell = fc["cell"]
    # persistence: the forecast is the load at round 19; what happened is the load at round 29
    assert past["mean"] == round(script.load(cell, 19), 5) and past["actual"] == round(
        script.load(cell, 29), 5
    )
    assert past["lo"] == past["hi"] == past["mean"]  # persistence has no spread: no interval, no coverage
    assert fc["coverage_90"] is None


def test_shield_interventions_and_denials_are_marked(twin_server, redis_client, script) -> None:
    twin = twin_server()
    flags = {
        12: {"intervened": True, "proposed_action": 3, "intervention_reason": "cell_load_limit"},
        30: {"denied": True, "deny_reason": "forbidden", "outcome": transition.ControlOutcome.DENIED},
    }
    produce(redis_client, script, range(40), flags)
    redis_client.xadd(transition.stream_key(script.instance), {transition.FIELD: b"\xff\xffnot a transition"})
    assert wait_until(lambda: twin.parts.mirror.rounds == 40, 10)
    snap = httpx.get(f"{twin.url}/dashboard/v1/snapshot").json()
    shield = [m for m in snap["markers"] if m["kind"] == "shield"]
    denial = [m for m in snap["markers"] if m["kind"] == "denial"]
    assert [m["text"] for m in shield] == ["shield: cell_load_limit"]
    assert shield[0]["t"] == (T0_NS + 12 * script.period_ns) / 1e9
    assert [m["text"] for m in denial] == ["PDP denied: forbidden"]
    assert [s["step"] for s in snap["denied_steps"]] == [30]
    assert snap["denied_steps"][0]["deny_reason"] == "forbidden"
    assert errors(twin.url)["dashboard_transition_malformed"] == 1


def test_decision_log_and_trust_tails(twin_server, redis_client, script) -> None:
    twin = twin_server()
    for seq, result in enumerate(("PERMIT", "DENY", "PERMIT")):
        record = {
            "decision_id": f"d-{seq}",
            "seq": seq,
            "ts": "2026-12-07T23:00:00.000000+00:00",
            "request": {"subject": "xapp:twinric-control", "action": "ric_control", "resource": "e2node:x"},
            "result": result,
            "reason": "because",
            "code": "forbidden" if result == "DENY" else "permitted",
            "policies": ["p0"],
            "trust": {"xapp:twinric-control": 0.9},
            "policy_version": "v1",
        }
        redis_client.xadd(DECISIONS_KEY, {"d": json.dumps(record)})
    redis_client.xadd(DECISIONS_KEY, {"d": b"[1, 2]"})  # not a record: skipped and counted
    redis_client.set(
        trust.key("xapp:twinric-control"),
        trust.encode_record(trust.make_record("xapp:twinric-control", 0.9, "operator", ttl_s=1e6)),
    )
    redis_client.set(
        trust.key("ue:7"),
        trust.encode_record(
            trust.make_record(
                "ue:7", 0.2, "twin", explanation="flood", ttl_s=1.0, ts="2020-01-01T00:00:00+00:00"
            )
        ),
    )
    redis_client.set(trust.key("e2node:bad"), b"{not json")
    produce(redis_client, script, range(5))
    assert wait_until(lambda: twin.parts.mirror.rounds == 5, 10)
    snap = httpx.get(f"{twin.url}/dashboard/v1/snapshot").json()
    assert [d["seq"] for d in snap["decisions"]] == [2, 1, 0]  # newest first
    deny = snap["decisions"][1]
    assert deny["result"] == "DENY" and deny["code"] == "forbidden"
    assert deny["request"] == {
        "subject": "xapp:twinric-control",
        "action": "ric_control",
        "resource": "e2node:x",
    }
    assert [(r["subject"], r["score"], r["stale"]) for r in snap["trust"]] == [
        ("ue:7", 0.2, True),
        ("xapp:twinric-control", 0.9, False),
    ]
    assert snap["trust"][0]["explanation"] == "flood"
    counted = errors(twin.url)
    assert counted["dashboard_decision_malformed"] == 1 and counted["dashboard_trust_malformed"] == 1


def test_views_whose_source_is_away_say_so(twin_server, redis_client, script) -> None:
    twin = twin_server()
    produce(redis_client, script, range(5))
    assert wait_until(lambda: twin.parts.mirror.rounds == 5, 10)
    httpx.get(f"{twin.url}/dashboard/v1/snapshot")
    feed = twin.app.state.dashboard_feed
    feed.client = feed.transitions.client = redis.Redis(port=free_port(), socket_connect_timeout=0.5)
    time.sleep(0.3)
    snap = httpx.get(f"{twin.url}/dashboard/v1/snapshot").json()
    assert set(snap["unavailable"]) == {"transitions", "decisions", "trust"}
    assert snap["unavailable"]["decisions"].startswith("Redis: ")
    assert snap["ran"]["seq"] == 4  # the twin's own views still answer
    assert len(snap["reward"]["t"]) == 5  # steps read before Redis went away are kept
    assert errors(twin.url)["dashboard_redis"] >= 2


def test_no_record_yet(twin_server, redis_client) -> None:
    twin = twin_server()
    snap = httpx.get(f"{twin.url}/dashboard/v1/snapshot").json()
    assert snap["ran"] is None and snap["t"] is None and "no RAN-view record" in snap["unavailable"]["ran"]
    assert snap["twin"]["forecast"] is None and snap["series"]["t"] == []


def test_events_arrive_every_second_with_new_rounds(twin_server, redis_client, script) -> None:
    twin = twin_server()
    produce(redis_client, script, range(10))
    assert wait_until(lambda: twin.parts.mirror.rounds == 10, 10)
    events: list[tuple[float, dict]] = []
    with httpx.stream("GET", f"{twin.url}/dashboard/v1/events", timeout=10) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        data = None
        for line in resp.iter_lines():
            if line.startswith("data: "):
                data = json.loads(line[len("data: ") :])
            elif line == "" and data is not None:
                events.append((time.monotonic(), data))
                data = None
                if len(events) == 2:
                    produce(redis_client, script, range(10, 12))
                    # the open stream is not a request in flight: ingestion does not step aside for it
                    assert twin.parts.gate.inflight == 0
                if len(events) == 4:
                    break
    gaps = np.diff([t for t, _ in events])
    assert all(0.5 < g < 1.5 for g in gaps), gaps  # 1 Hz
    assert [e["tick"] for _, e in events] == sorted({e["tick"] for _, e in events})
    assert events[0][1]["ran"]["seq"] == 9 and events[-1][1]["ran"]["seq"] == 11
    assert events[0][1]["routes"] == {"policy": None, "trust": None}
    assert wait_until(lambda: twin.parts.gate.inflight == 0, 5)  # and stays balanced once closed


def test_optional_views_appear_when_their_routes_exist(twin_server, redis_client, script) -> None:
    twin = twin_server()
    twin.app.add_api_route("/v1/policy", lambda: {"in_force": "v3"})
    snap = httpx.get(f"{twin.url}/dashboard/v1/snapshot").json()
    assert snap["routes"] == {"policy": "/v1/policy", "trust": None}


def test_page_serves_only_its_own_files(twin_server, redis_client) -> None:
    twin = twin_server()
    base = twin.url
    resp = httpx.get(f"{base}/dashboard", follow_redirects=True)
    assert resp.status_code == 200 and resp.url.path == "/dashboard/"
    csp = resp.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    refs = re.findall(r'(?:src|href)="([^"]+)"', resp.text)
    assert refs and all(r.startswith("/dashboard/static/") or r == "data:," for r in refs), refs
    for ref in refs:
        if ref.startswith("/"):
            assert httpx.get(f"{base}{ref}").status_code == 200, ref
    script = httpx.get(f"{base}/dashboard/static/dashboard.js").text
    assert "http://" not in script.replace('"http://www.w3.org/2000/svg"', "") and "https://" not in script
    for bad in ("../app.py", "..%2Fapp.py", ".hidden.js", "index.html", "missing.js", "routes.py"):
        assert httpx.get(f"{base}/dashboard/static/{bad}").status_code == 404, bad


def test_token_rule_applies(twin_server, redis_client) -> None:
    twin = twin_server(token="s3cret")
    for path in (
        "/dashboard/",
        "/dashboard/static/dashboard.js",
        "/dashboard/v1/snapshot",
        "/dashboard/v1/events",
    ):
        assert httpx.get(f"{twin.url}{path}").status_code == 401, path
    ok = {"Authorization": "Bearer s3cret"}
    assert httpx.get(f"{twin.url}/dashboard/v1/snapshot", headers=ok).status_code == 200


def test_a_browser_logs_in_with_the_token(twin_server, redis_client) -> None:
    twin = twin_server(token="s3cret")
    with httpx.Client(base_url=twin.url) as browser_like:
        form = browser_like.get("/dashboard/login")
        assert form.status_code == 200 and 'name="token"' in form.text  # no token needed for the form
        wrong = browser_like.post("/dashboard/login", data={"token": "guess"})
        assert wrong.status_code == 303 and wrong.headers["location"].endswith("failed=1")
        assert browser_like.get("/dashboard/v1/snapshot").status_code == 401
        ok = browser_like.post("/dashboard/login", data={"token": "s3cret"})
        assert ok.status_code == 303 and ok.headers["location"] == "/dashboard/"
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert browser_like.get("/dashboard/").status_code == 200  # the cookie is the token now
        assert browser_like.get("/dashboard/v1/snapshot").status_code == 200
        assert browser_like.get("/v1/fidelity").status_code == 200
    assert (
        httpx.get(f"{twin.url}/dashboard/v1/snapshot", cookies={"twinric_twin_token": "guess"}).status_code
        == 401
    )
    assert errors_401(twin.url) >= 3


def errors_401(base: str) -> float:
    total = 0.0
    metrics = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer s3cret"}).text
    for line in metrics.splitlines():
        if line.startswith("twinric_twin_http_errors_total{") and 'status="401"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_percentiles_of_many_histograms_match_the_one_at_a_time_reading() -> None:
    from twin_sidecar.dashboard.ran_view import percentiles

    edges = BIN_EDGES[UE_THP_DL_DIST]
    rng = np.random.default_rng(7)
    counts = rng.integers(0, 6, size=(500, len(edges))) * (rng.random((500, len(edges))) < 0.3)
    counts[0] = 0  # nobody measured: 0, not NaN
    counts[1] = 0
    counts[1, -1] = 4  # everyone in the open last bin: its lower edge
    got = percentiles(counts, edges, 5.0)
    assert got[0] == 0.0 and got[1] == edges[-1]
    want = [percentile(c, edges, 5.0) if c.sum() > 0 else 0.0 for c in counts[2:]]
    assert np.allclose(got[2:], want, rtol=0, atol=1e-9)
    assert (counts[2:].sum(axis=1) > 0).sum() > 400  # mostly measured rows: the comparison is real
