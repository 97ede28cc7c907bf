"""Settings from the xApp's descriptor and the environment: the same RAN and instance name as the
xApp, controls.twin overrides, env overrides, OSC's DBAAS Redis, and the localhost rule."""

from __future__ import annotations

import json

import pytest
from twin_records import descriptor

from twin_sidecar.settings import SettingsError, TwinSettings


def test_from_the_descriptor_and_env(tmp_path) -> None:
    desc = descriptor()
    desc["controls"]["twin"] = {"forecast_horizon": 5, "training": {"n_members": 7}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(desc))
    s = TwinSettings.from_env(
        {
            "CONFIG_FILE": str(path),
            "TWINRIC_TWIN_PORT": "9123",
            "DBAAS_SERVICE_HOST": "dbaas",
            "DBAAS_SERVICE_PORT": "6380",
        }
    )
    assert s.xapp_instance == "twinric-control" and s.port == 9123 and s.host == "127.0.0.1"
    assert s.redis_url == "redis://dbaas:6380/0" and s.forecast_horizon == 5
    assert s.training.n_members == 7 and s.training.hidden == 128
    assert s.ran.space.max_cells == 7 and s.ran.cells[0].meid == "gnb_001_001_000001"
    assert str(s.state_dir).endswith("twinric-control")
    s.check_safe()  # localhost without a token is fine
    env = {
        "CONFIG_FILE": str(path),
        "TWINRIC_XAPP_INSTANCE": "ctl-2",
        "TWINRIC_TWIN_HOST": "0.0.0.0",
        "TWINRIC_REDIS_URL": "redis://r:1/0",
    }
    open_twin = TwinSettings.from_env(env)
    assert open_twin.xapp_instance == "ctl-2" and open_twin.redis_url == "redis://r:1/0"
    with pytest.raises(SettingsError, match="bearer token is required"):
        open_twin.check_safe()
    TwinSettings.from_env({**env, "TWINRIC_TWIN_TOKEN": "t"}).check_safe()


def test_bad_settings_are_refused(tmp_path) -> None:
    with pytest.raises(SettingsError, match="cannot read"):
        TwinSettings.from_env({"CONFIG_FILE": str(tmp_path / "missing.json")})
    with pytest.raises(SettingsError, match=r"controls\.ran"):
        TwinSettings.from_descriptor({"controls": {}}, env={})
    desc = descriptor()
    desc["controls"]["twin"] = {"training": {"n_members": 0}}
    with pytest.raises(SettingsError, match="n_members"):
        TwinSettings.from_descriptor(desc, env={})
    desc["controls"]["twin"] = {"no_such_setting": 1}
    with pytest.raises(SettingsError, match="no_such_setting"):
        TwinSettings.from_descriptor(desc, env={})


def test_policy_settings_from_the_descriptor_and_the_environment() -> None:
    desc = descriptor()
    desc["controls"]["twin"] = {
        "policy": {"gate_every_s": 60, "gate": {"horizon": 10}},
        "training": {"hidden": 64},
    }
    overrides = {"policy": {"duty": 0.5, "learner": {"min_replay": 100}}, "training": {"min_samples": 50}}
    env = {"TWINRIC_A1_URL": "http://a1:10000", "TWINRIC_TWIN_OVERRIDES": json.dumps(overrides)}
    s = TwinSettings.from_descriptor(desc, env)
    # laid over controls.twin key by key: the descriptor's own values stay where the overrides say nothing
    assert s.policy.gate_every_s == 60 and s.policy.gate == {"horizon": 10} and s.policy.duty == 0.5
    assert s.policy.learner == {"min_replay": 100} and s.policy.a1_url == "http://a1:10000"
    assert s.training.hidden == 64 and s.training.min_samples == 50
    defaults = TwinSettings.from_descriptor(descriptor(), {})
    assert defaults.policy.enabled and defaults.policy.a1_url is None and defaults.policy.duty == 0.3
    for bad, reason in (
        ("{not json", "not JSON"),
        ("[1]", "JSON object"),
        ('{"policy": {"duty": 2}}', "duty"),
    ):
        with pytest.raises(SettingsError, match=reason):
            TwinSettings.from_descriptor(descriptor(), {"TWINRIC_TWIN_OVERRIDES": bad})
