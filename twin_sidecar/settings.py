"""One typed settings object for the sidecar, from the xApp's descriptor and the environment.

The sidecar runs beside a control xApp (a second container of its pod in an OSC RIC, a process of
``twinric up`` locally) and reads the same descriptor (``CONFIG_FILE``): ``controls.ran`` gives the
RAN geometry (``ricproto.ran_config``), the xApp's instance name names the streams, and an optional
``controls.twin`` object overrides any field below (``training`` key by key). Environment variables
override both:

=============================  =====================================================
``CONFIG_FILE``                the descriptor (default ``/opt/ric/config/config-file.json``)
``TWINRIC_TWIN_HOST``/``PORT`` where the API listens (default 127.0.0.1:9000)
``TWINRIC_TWIN_TOKEN``         bearer token; required when bound beyond localhost
``TWINRIC_TWIN_STATE_DIR``     checkpoints (default ``/tmp/twinric-twin/<instance>``)
``TWINRIC_TWIN_CHECKPOINT_S``  seconds between checkpoints
``TWINRIC_XAPP_INSTANCE``      the xApp's instance name (as the xApp resolves it)
``TWINRIC_REDIS_URL``          Redis (else ``DBAAS_SERVICE_HOST``/``PORT`` as in OSC, else localhost)
``TWINRIC_A1_URL``             A1 mediator polled for ``twinric-twin`` policies (``policy.a1_url``)
``TWINRIC_TWIN_OVERRIDES``     a JSON object laid over ``controls.twin`` (a lab's or a test's settings)
``TWINRIC_LOG_LEVEL``          log level
=============================  =====================================================
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ricproto.ran_config import RanConfig

DEFAULT_CONFIG = "/opt/ric/config/config-file.json"


class SettingsError(ValueError):
    """The settings cannot make a safe, working sidecar."""


class TrainingSettings(BaseModel):
    """The predictive model and its background training."""

    model_config = ConfigDict(extra="forbid")

    n_members: int = Field(5, ge=1)
    hidden: int = Field(128, ge=4)
    layers: int = Field(2, ge=1)
    lr: float = Field(2e-3, gt=0)
    weight_decay: float = Field(1e-5, ge=0)
    batch_size: int = Field(256, ge=8)
    replay_size: int = Field(10_000, ge=100)  # transitions kept for training (checkpointed)
    min_samples: int = Field(200, ge=16)  # before the first update
    holdout_every: int = Field(10, ge=2)  # every n-th transition is held out: fresh data for fidelity
    duty: float = Field(0.3, gt=0, le=1)  # share of one core the trainer may use
    torch_threads: int = Field(1, ge=1)
    updates_per_version: int = Field(200, ge=1)  # a new model version after this many updates
    recency_half_life: int = Field(5_000, ge=10)  # replay sampling weight halves over this many samples
    drift_half_life: int = Field(500, ge=10)  # ... and over this many right after drift
    seed: int = 0


class PolicySettings(BaseModel):
    """The target policy: its background learner, the promotion gate and the rollback watch.

    ``learner`` overrides ``LearnerConfig`` fields, ``gate`` ``GateSettings`` and ``rollback``
    ``RollbackSettings`` (checked when the parts are built); an A1 policy of type ``twinric-twin``
    overrides ``gate``/``rollback`` at run time."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    duty: float = Field(0.3, gt=0, le=1)  # share of one core the learner (and the gate) may use
    torch_threads: int = Field(1, ge=1)
    learner: dict[str, Any] = Field(default_factory=dict)
    holdout_every: int = Field(5, ge=2)  # every n-th block of gate.horizon steps is held out for OPE
    held_out_steps: int = Field(5_000, ge=10)  # held-out transitions kept (newest)
    recent_states: int = Field(256, ge=1)  # real states kept for the test plans' start states
    gate_every_s: float = Field(120.0, gt=0)  # at most one candidate per this many seconds ...
    gate_min_updates: int = Field(500, ge=1)  # ... and per this many learner updates
    gate: dict[str, Any] = Field(default_factory=dict)
    rollback: dict[str, Any] = Field(default_factory=dict)
    a1_url: str | None = None  # A1 mediator whose twinric-twin policies set gate/rollback (None: none)
    a1_poll_s: float = Field(10.0, gt=0)
class PlannerSettings(BaseModel):
    """``POST /v1/plan``: the search the sidecar runs for the xApp (``planner.online``)."""

    model_config = ConfigDict(extra="forbid")

    simulations: int = Field(64, ge=0)  # when a request gives none
    max_simulations: int = Field(1024, ge=1)
    max_depth: int | None = Field(8, ge=1)
    algorithm: Literal["gumbel", "puct"] = "gumbel"
    gumbel_scale: float = Field(0.0, ge=0)
    max_considered_actions: int = Field(16, ge=1)
    discount: float = Field(0.95, ge=0, le=1)  # the learner's gamma
    prior_temperature: float = Field(1.0, gt=0)
    budget_share: float = Field(0.8, gt=0, le=1)  # of the xApp's budget the search may use ...
    reserve_ms: float = Field(1.0, ge=0)  # ... minus this: HTTP and a slow simulation fit in the rest
    members: Literal["mean", "sample"] = "mean"
    seed: int = 0


class TwinSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    host: str = "127.0.0.1"
    port: int = Field(9000, ge=0, le=65535)
    token: str | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"
    xapp_instance: str = "twinric-control"
    state_dir: Path = Path("/tmp/twinric-twin")
    checkpoint_interval_s: float = Field(10.0, gt=0)  # also how long entries wait for their XACK
    group: str = "twin"  # Redis consumer group
    consumer: str = "sidecar"
    read_count: int = Field(64, ge=1)  # entries per XREADGROUP: its reply is parsed in one GIL hold
    history_rounds: int = Field(3000, ge=10)  # mirror history (report rounds) kept for time travel
    max_ues: int = Field(20_000, ge=1)
    max_controls: int = Field(2000, ge=1)
    forecast_horizon: int = Field(10, ge=1)  # report periods
    forecast_lags: int = Field(8, ge=1)
    fidelity_window: int = Field(500, ge=10)  # fresh transitions the fidelity figures cover
    fidelity_k: int = Field(5, ge=2)  # the k of the k-step fidelity
    drift_ratio: float = Field(1.0, gt=0)  # one-step RMSE / persistence above this: drift
    node_lost_periods: int = Field(20, ge=2)  # report periods without a report: the node is lost
    max_planes: int = Field(8192, ge=1)
    plane_ttl_s: float = Field(300.0, gt=0)
    log_level: str = "INFO"
    # security analytics (issue 14): scores are always kept (GET /v1/trust); publishing them to the PDP's
    # trust namespace and keeping distrusted nodes' transitions out of training are switched on here
    security_publish: bool = False
    security_guard: bool = False
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    planner: PlannerSettings = Field(default_factory=PlannerSettings)
    ran: RanConfig

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def check_safe(self) -> None:
        """Refuse to serve beyond localhost without a bearer token."""
        if not self.loopback and not self.token:
            raise SettingsError(
                f"bound to {self.host}: set TWINRIC_TWIN_TOKEN (a bearer token is required beyond localhost)"
            )

    @classmethod
    def from_descriptor(
        cls, descriptor: Mapping[str, Any], env: Mapping[str, str] | None = None, **overrides: Any
    ) -> TwinSettings:
        env = os.environ if env is None else env
        ctl = descriptor.get("controls", {})
        if not isinstance(ctl, dict) or "ran" not in ctl:
            raise SettingsError("the descriptor has no controls.ran section")
        ran = RanConfig.from_config(ctl["ran"])
        instance = env.get("TWINRIC_XAPP_INSTANCE") or ctl.get("xapp_instance") or descriptor.get("name")
        values: dict[str, Any] = {
            "xapp_instance": str(instance or "twinric-control"),
            "redis_url": redis_url(ctl, env),
        }
        twin = ctl.get("twin") or {}
        if not isinstance(twin, dict):
            raise SettingsError("controls.twin must be an object")
        values.update(twin)
        if env.get("TWINRIC_TWIN_OVERRIDES"):
            try:
                extra = json.loads(env["TWINRIC_TWIN_OVERRIDES"])
            except ValueError as exc:
                raise SettingsError(f"TWINRIC_TWIN_OVERRIDES is not JSON: {exc}") from None
            if not isinstance(extra, dict):
                raise SettingsError("TWINRIC_TWIN_OVERRIDES must be a JSON object")
            for key, value in extra.items():  # an object is laid over key by key (one level)
                base = values.get(key)
                values[key] = (
                    {**base, **value} if isinstance(base, dict) and isinstance(value, dict) else value
                )
        for name, key, conv in (
            ("TWINRIC_TWIN_HOST", "host", str),
            ("TWINRIC_TWIN_PORT", "port", int),
            ("TWINRIC_TWIN_TOKEN", "token", str),
            ("TWINRIC_TWIN_STATE_DIR", "state_dir", Path),
            ("TWINRIC_TWIN_CHECKPOINT_S", "checkpoint_interval_s", float),
            ("TWINRIC_LOG_LEVEL", "log_level", str),
        ):
            if env.get(name):
                values[key] = conv(env[name])
        if env.get("TWINRIC_A1_URL"):
            values["policy"] = {**values.get("policy", {}), "a1_url": env["TWINRIC_A1_URL"]}
        values.update(overrides)
        if "state_dir" not in values:
            values["state_dir"] = Path("/tmp/twinric-twin") / values["xapp_instance"]
        try:
            return cls(ran=ran, **values)
        except ValueError as exc:
            raise SettingsError(str(exc)) from None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TwinSettings:
        env = os.environ if env is None else env
        path = Path(env.get("CONFIG_FILE") or DEFAULT_CONFIG)
        try:
            descriptor = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise SettingsError(f"cannot read the descriptor {path}: {exc}") from None
        if not isinstance(descriptor, dict):
            raise SettingsError(f"{path} must hold a JSON object")
        return cls.from_descriptor(descriptor, env)


def redis_url(ctl: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """As the xApp resolves it: explicit URL, else OSC's DBAAS service, else localhost."""
    explicit = env.get("TWINRIC_REDIS_URL") or ctl.get("redis_url")
    if explicit:
        return str(explicit)
    host = env.get("DBAAS_SERVICE_HOST")
    if host:
        port = env.get("DBAAS_SERVICE_PORT", "6379").split(",")[0]
        return f"redis://{host.split(',')[0]}:{port}/0"
    return "redis://127.0.0.1:6379/0"
