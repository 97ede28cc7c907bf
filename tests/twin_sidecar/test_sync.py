"""The synchronisation engine: trains in the background, publishes model versions with their
fidelity on fresh data, refits the forecaster, and reacts to drift (a node lost, a cell added, fidelity
worse than persistence) by re-weighting recent data and retraining sooner."""

from __future__ import annotations

import numpy as np
from twin_harness import twin_settings
from twin_records import RanScript, produce

from ricproto import ran_view
from twin_sidecar.app import build_parts
from twin_sidecar.predictive.fidelity import FidelityReport
from twin_sidecar.predictive.forecaster import LoadForecaster
from twin_sidecar.sync import CALIBRATION_ROWS


def ingest_all(parts) -> None:
    while parts.consumer.poll(block_ms=10):
        pass


def test_versions_fidelity_forecaster_and_drift(redis_url, redis_client, tmp_path, cfg) -> None:
    script = RanScript(cfg)
    produce(redis_client, script, range(300))
    parts = build_parts(twin_settings(redis_url, tmp_path, fidelity_window=50), train=False)
    parts.consumer.ensure_groups()
    ingest_all(parts)
    sync = parts.sync
    while parts.dynamics.version < 2:
        assert sync.tick() > 0
    assert [v.reason for v in sync.versions] == ["scheduled", "scheduled"]
    assert parts.forecaster.model == "ar8-ridge"  # fitted on the mirror's load history
    assert parts.metrics.sample("twinric_twin_model_version") == 2
    produce(redis_client, script, range(300, 340))  # fresh data for version 2
    ingest_all(parts)
    report = sync.evaluate()
    assert report is not None and report.model_version == 2 and report.samples == 40
    assert set(report.features) >= {"present", "prb_usage_dl", "connected_ues"}
    assert sync.versions[-1].fidelity["samples"] == 40
    assert parts.metrics.sample("twinric_twin_fidelity_ratio", {"horizon": "1"}) == report.prb_ratio_1

    # the next version's interval carries the conformal factor scored on version 2's fresh predictions
    sync.conformal.min_scores = 10
    sync.publish("scheduled")
    n_cells = len(cfg.cells)
    assert sync.conformal.count.tolist() == [40 * n_cells] * cfg.space.n_features
    factor = sync.conformal.multiplier
    assert not np.allclose(factor, 1.0)
    assert np.allclose(sync.served_multiplier.numpy(), factor)
    held = {k: v[-CALIBRATION_ROWS:] for k, v in parts.holdout.all().items()}
    base = parts.trainer.calibrate(held).numpy()
    assert np.allclose(parts.dynamics.current.calibration.numpy(), base * factor, rtol=1e-4)
    restored = build_parts(twin_settings(redis_url, tmp_path / "b", fidelity_window=50), train=False)
    restored.sync.load_state_dict(sync.state_dict())
    assert np.allclose(restored.sync.conformal.multiplier, factor)

    # a node goes silent: drift; recent data weighs more and the next version comes sooner
    six = list(range(6))
    for k in range(340, 380):
        redis_client.xadd(
            ran_view.stream_key("control-t"),
            {ran_view.FIELD: ran_view.encode_ran_round(script.round(k, six))},
        )
    ingest_all(parts)
    updates = parts.trainer.updates
    reasons = sync.check_drift(None, parts.mirror.take_changes())
    assert reasons == [f"ran: node_lost {cfg.cells[6].meid}"]
    assert sync.drift_left == 3 and sync.next_version_at <= updates + 3
    assert parts.metrics.sample("twinric_twin_drift_events_total", {"reason": "ran"}) == 1
    # fidelity worse than persistence twice in a row is drift too
    bad = FidelityReport(2, 50, 5, 1.5, None, None)
    assert sync.check_drift(bad, []) == []
    assert sync.check_drift(bad, []) and sync.drift_events[-1]["reason"].startswith("fidelity")


def test_forecaster_learns_a_periodic_load() -> None:
    t = np.arange(400)
    load = 0.5 + 0.3 * np.sin(2 * np.pi * t / 20)[:, None] * np.ones((1, 3))
    present = np.ones_like(load, dtype=bool)
    present[100:110, 1] = False  # gaps are skipped
    f = LoadForecaster(lags=8, horizon=5)
    assert f.model == "persistence"
    mean, std = f.predict(load[:8])
    assert np.allclose(mean, load[7][:, None]) and not std.any()
    assert f.fit(load[:300], present[:300])
    mean, _ = f.predict(load[300:310])
    assert np.abs(mean - load[310:315].T).max() < 0.02  # persistence would be off by up to ~0.4
    restored = LoadForecaster(lags=8, horizon=5)
    restored.load_state_dict(f.state_dict())
    assert np.allclose(restored.predict(load[300:310])[0], mean)
