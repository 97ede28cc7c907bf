"""The sidecar's HTTP API on real HTTP: the token guards everything but /health; bad requests get
400/422 with a reason and are counted; state, time travel, predict, forecast, fidelity and planes
answer in their documented shapes; the OpenAPI document lists every route."""

from __future__ import annotations

import httpx
from twin_records import T0_NS, produce

from twinric.processes import wait_until


def errors(base: str, headers: dict | None = None) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in httpx.get(f"{base}/metrics", headers=headers or {}).text.splitlines():
        if line.startswith("twinric_twin_http_errors_total{"):
            labels, value = line.rsplit(" ", 1)
            out[labels[len("twinric_twin_http_errors_total") :]] = float(value)
    return out


def test_token_is_enforced_except_health(twin_server, redis_client, script) -> None:
    twin = twin_server(token="s3cret")
    base = twin.url
    assert httpx.get(f"{base}/health").status_code == 200
    for method, path in (
        ("GET", "/v1/state"),
        ("GET", "/metrics"),
        ("POST", "/v1/predict"),
        ("GET", "/docs"),
    ):
        r = httpx.request(method, f"{base}{path}", json={})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", path
    assert httpx.get(f"{base}/v1/state", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = {"Authorization": "Bearer s3cret"}
    assert httpx.get(f"{base}/v1/fidelity", headers=ok).status_code == 200
    assert errors(base, ok)['{route="/v1/state",status="401"}'] == 2


def test_endpoints_and_bad_input(twin_server, redis_client, script) -> None:
    twin = twin_server()
    base = twin.url
    assert httpx.get(f"{base}/v1/state").status_code == 404  # nothing mirrored yet
    assert httpx.get(f"{base}/health/ready").status_code == 200
    produce(redis_client, script, range(60))
    assert wait_until(lambda: twin.parts.mirror.rounds == 60, 10)

    state = httpx.get(f"{base}/v1/state", params={"include_ues": True}).json()
    assert state["seq"] == 59 and len(state["cells"]) == 7 and len(state["ues"]) == 21
    assert state["cells"][3]["kpm"]["prb_tot_dl_pct"] == round(script.load(3, 59) * 100, 4)
    then = httpx.get(f"{base}/v1/state/at", params={"t": (T0_NS + 20 * 100_000_000) / 1e9}).json()
    assert then["seq"] == 20 and then["history"]["rounds"] == 60
    # distributions per slice and bin, cell offsets toward each neighbour (documented shapes)
    embb = script.cfg.space.embb_slices[0]
    cell0 = then["cells"][0]
    (s0,) = [s for s in cell0["slices"] if (s["sst"], s["sd"]) == (embb.sst, embb.sd)]
    assert s0["distributions"]["slice_ue_thp_dl_dist"] == list(script.kpm(0, 20).slice_ue_thp_dl_dist[embb])
    assert then["distribution_bins"]["slice_delay_dl_dist"]["measurement"] == "DRB.DelayDlNgranUeDist"
    j = script.cfg.layout.neighbours[0][0]
    assert cell0["offsets"][0] == {  # stepped to 4 dB at round 15, acknowledged at 16
        "neighbour": j,
        "nr_cell_id": script.cfg.cells[j].nr_cell_id,
        "commanded_db": 4,
        "acknowledged_db": 4,
    }
    dim = script.cfg.space.max_cells * script.cfg.space.n_features

    obs = script.observation(59).tolist()
    pred = httpx.post(f"{base}/v1/predict", json={"observation": obs}).json()
    assert len(pred["predicted_load"]) == 7 and pred["model"] == "persistence"  # not fitted yet
    assert abs(pred["predicted_load"][2] - script.load(2, 59)) < 1e-6
    fc = httpx.get(f"{base}/v1/forecast", params={"horizon": 4}).json()
    assert fc["horizon"] == 4 and len(fc["cells"]) == 7 and len(fc["cells"][0]["load"]) == 4
    fid = httpx.get(f"{base}/v1/fidelity").json()
    assert fid["model_version"] == 0 and fid["sync"]["transitions"] == 60

    created = httpx.post(f"{base}/v1/planes", json={"count": 3, "members": "cycle"})
    assert created.status_code == 201
    planes = created.json()
    assert planes["members"] == [0, 1, 2] and len(planes["observations"]) == 3
    stepped = httpx.post(
        f"{base}/v1/planes/{planes['id']}/step", json={"actions": [[0, 0, 1], [2, 0, 0]]}
    ).json()
    assert stepped["steps"] == [2, 2, 2] and len(stepped["rewards"]) == 2
    assert httpx.get(f"{base}/v1/planes/{planes['id']}").json()["steps"] == [2, 2, 2]
    past = httpx.post(f"{base}/v1/planes", json={"count": 1, "at": (T0_NS + 5 * 100_000_000) / 1e9}).json()
    assert past["source"] == f"t={T0_NS + 5 * 100_000_000}"
    assert httpx.delete(f"{base}/v1/planes/{planes['id']}").status_code == 204
    assert httpx.get(f"{base}/v1/planes/{planes['id']}").status_code == 404

    bad = [
        ("POST", "/v1/predict", {"observation": obs[:5]}, 400, f"RAN space has {dim}"),
        ("POST", "/v1/predict", {"observation": "x"}, 422, "observation"),
        ("POST", "/v1/predict", None, 422, "body"),
        ("GET", "/v1/state/at?t=1", None, 400, "before the retained history"),
        ("GET", "/v1/state/at?t=abc", None, 422, "t"),
        ("GET", "/v1/forecast?horizon=99", None, 400, "beyond"),
        ("POST", "/v1/planes", {"count": 0}, 422, "count"),
        ("POST", "/v1/planes", {"count": 2, "observation": [0.1]}, 400, f"{dim} finite values"),
        ("POST", f"/v1/planes/{past['id']}/step", {"actions": [1, 2]}, 400, "2 actions for 1 planes"),
        ("POST", f"/v1/planes/{past['id']}/step", {"actions": [10_000]}, 400, "actions must lie"),
    ]
    for method, path, body, status, reason in bad:
        r = httpx.request(method, f"{base}{path}", json=body)
        assert r.status_code == status, (path, r.text)
        assert reason in r.json()["reason"], (path, r.json())
    counted = errors(base)
    assert counted['{route="/v1/predict",status="400"}'] == 1
    assert counted['{route="/v1/predict",status="422"}'] == 2
    assert counted['{route="/v1/planes/{plane_id}/step",status="400"}'] == 2
    spec = httpx.get(f"{base}/openapi.json").json()
    assert {
        "/health",
        "/v1/state",
        "/v1/state/at",
        "/v1/predict",
        "/v1/forecast",
        "/v1/fidelity",
        "/v1/planes",
        "/v1/planes/{plane_id}",
        "/v1/planes/{plane_id}/step",
        "/metrics",
    } <= set(spec["paths"])
    assert twin.parts.ingesting  # bad requests never touched ingestion
