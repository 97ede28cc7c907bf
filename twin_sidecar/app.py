"""Wiring only: build the twin's parts from the settings and hand them to the routers.

Adding a router is two lines: import it and ``app.include_router`` it in ``ROUTERS``. Its endpoints
reach the parts through ``api.deps.Parts``; auth and error counting apply to it automatically.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import redis
from fastapi import FastAPI

from ricproto.transition import TransitionBatch
from twin_sidecar.api import fidelity, health, metrics, plan, planes, policy, predict, state, trust
from twin_sidecar.api.auth import BearerAuth
from twin_sidecar.api.errors import install as install_errors
from twin_sidecar.checkpoint import Checkpointer
from twin_sidecar.dashboard import routes as dashboard
from twin_sidecar.emulation.mirror import Mirror
from twin_sidecar.gate import PolicyStore
from twin_sidecar.metrics import TwinMetrics
from twin_sidecar.parts import TwinParts
from twin_sidecar.planes import PlaneStore
from twin_sidecar.planner.model import QNetwork
from twin_sidecar.planner.online import OnlinePlanner, OnlinePlannerConfig
from twin_sidecar.planner.q_source import FollowedQ
from twin_sidecar.predictive.dynamics import ServingDynamics
from twin_sidecar.predictive.fidelity import FidelityTracker
from twin_sidecar.predictive.forecaster import LoadForecaster
from twin_sidecar.predictive.replay import TransitionReplay
from twin_sidecar.predictive.training import EnsembleTrainer
from twin_sidecar.priority import PriorityMiddleware, RequestGate
from twin_sidecar.security.analytics import SecurityAnalytics
from twin_sidecar.settings import SettingsError, TwinSettings
from twin_sidecar.streams import StreamConsumer
from twin_sidecar.sync import SyncEngine
from twin_sidecar.target_policy import TargetPolicy
from twin_sidecar.twin_a1_policy import A1TwinPolicySource

ROUTERS = (
    health.router,
    metrics.router,
    state.router,
    predict.router,
    fidelity.router,
    planes.router,
    policy.router,
    plan.router,
    trust.router,
)
ROUTERS += (dashboard.router,)  # the live dashboard


def twin_identity(settings: TwinSettings) -> dict[str, Any]:
    """What a checkpoint must match to be restored into these parts: the xApp it twins, the RAN geometry
    (cells, neighbours, slices, the space's sizes) and the shape of the model."""
    ran, tcfg = settings.ran, settings.training
    space = ran.space
    return {
        "xapp_instance": settings.xapp_instance,
        "cells": [c.nr_cell_id for c in ran.cells],
        "neighbours": [list(n) for n in ran.layout.neighbours],
        "slices": [str(s) for s in space.slices],
        "max_cells": space.max_cells,
        "n_features": space.n_features,
        "n_actions": space.n_actions,
        "model": [tcfg.n_members, tcfg.hidden, tcfg.layers],
    }


def build_parts(settings: TwinSettings, *, train: bool = True) -> TwinParts:
    ran = settings.ran
    space = ran.space
    obs_dim = space.max_cells * space.n_features
    metrics_ = TwinMetrics()
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
    tcfg = settings.training
    consumer = StreamConsumer(
        client,
        settings.xapp_instance,
        metrics_,
        obs_dim=obs_dim,
        n_actions=space.n_actions,
        group=settings.group,
        consumer=settings.consumer,
        count=settings.read_count,
    )
    mirror = Mirror(
        ran,
        history_rounds=settings.history_rounds,
        max_ues=settings.max_ues,
        max_controls=settings.max_controls,
        node_lost_periods=settings.node_lost_periods,
    )
    trainer = EnsembleTrainer(space, ran.layout, tcfg)
    serving = ServingDynamics(trainer.snapshot(0))
    replay = TransitionReplay(tcfg.replay_size, obs_dim)
    holdout = TransitionReplay(max(tcfg.replay_size // tcfg.holdout_every, 100), obs_dim)
    tracker = FidelityTracker(space, len(ran.cells), settings.fidelity_window, settings.fidelity_k)
    forecaster = LoadForecaster(settings.forecast_lags, settings.forecast_horizon)
    sync = SyncEngine(settings, mirror, trainer, replay, holdout, tracker, forecaster, serving, metrics_)
    consumer.add_ran_view_sink(mirror.apply)
    security = SecurityAnalytics(publish_to=client if settings.security_publish else None)
    consumer.add_ran_view_sink(security.apply)
    checkpointer = Checkpointer(settings.state_dir / "checkpoint.pt", identity=twin_identity(settings))
    for name, part in (
        ("streams", consumer),
        ("mirror", mirror),
        ("replay", replay),
        ("holdout", holdout),
        ("fidelity", tracker),
        ("trainer", trainer),
        ("sync", sync),
        ("forecaster", forecaster),
    ):
        checkpointer.register(name, part)
    gate = RequestGate()  # requests first: ingestion and training step aside while one is answered
    consumer.pause = gate.yield_to_requests
    sync.pause = gate.yield_to_requests
    policy, policy_a1 = build_target_policy(settings, serving, client, checkpointer, metrics_)

    def learn_from(batch: TransitionBatch) -> None:  # the predictive model's and the learner's data
        sync.on_transitions(batch)
        policy.on_batch(batch)

    # the poisoning defence: with security_guard, rows from distrusted sources reach neither learner
    guarded = security.guard.wrap(learn_from, time.time) if settings.security_guard else learn_from
    consumer.add_transition_batch_sink(guarded)
    policy.pause = gate.yield_to_requests
    parts = TwinParts(
        settings,
        metrics_,
        client,
        consumer,
        checkpointer,
        mirror,
        serving,
        trainer,
        replay,
        holdout,
        tracker,
        forecaster,
        sync,
        PlaneStore(settings.max_planes, settings.plane_ttl_s),
        gate,
        train=train,
        policy=policy,
        policy_a1=policy_a1,
        planner=OnlinePlanner(
            serving,
            FollowedQ(partial(learner_q, policy)),
            obs_dim,
            space.n_actions,
            tcfg.n_members,
            OnlinePlannerConfig(**settings.planner.model_dump()),
        ),
        security=security,
    )
    return parts


def learner_q(policy: TargetPolicy) -> tuple[QNetwork, str] | None:
    """The planner's Q-network: a frozen copy of the learner's, versioned by its update count."""
    target = policy.current_q()
    return None if target is None else (target.network, f"learner@{target.updates}")


def build_target_policy(
    settings: TwinSettings,
    serving: ServingDynamics,
    client: redis.Redis,
    checkpointer: Checkpointer,
    metrics_: TwinMetrics,
) -> tuple[TargetPolicy, A1TwinPolicySource | None]:
    """The learner, gate and rollback watch over the transition stream, and their A1 thresholds."""
    pcfg = settings.policy
    try:
        policy = TargetPolicy(
            pcfg,
            settings.xapp_instance,
            settings.ran.space,
            settings.ran.layout,
            serving,
            PolicyStore(client, settings.xapp_instance),
            metrics_,
        )
    except ValueError as exc:  # learner, gate or rollback settings that cannot work
        raise SettingsError(f"policy settings: {exc}") from None
    checkpointer.register("policy", policy)
    source = None
    if pcfg.a1_url:
        source = A1TwinPolicySource(
            pcfg.a1_url,
            pcfg.gate,
            pcfg.rollback,
            lambda t: policy.apply_thresholds(t.gate, t.rollback, t.candidate_every_s, t.instance),
            metrics_,
            pcfg.a1_poll_s,
        )
    return policy, source


def create_app(parts: TwinParts, *, manage: bool = True) -> FastAPI:
    """The FastAPI app over ``parts``; with ``manage`` the app starts and stops the parts' threads."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage:
            parts.start()
        try:
            yield
        finally:
            if manage:
                parts.stop()

    app = FastAPI(
        title="twinric twin sidecar",
        version="1.0",
        description="A live digital twin of the RAN beside a control xApp: mirror with time travel, "
        "predictive ensemble, load forecasts, fidelity, virtual planes.",
        lifespan=lifespan,
    )
    app.state.parts = parts
    for router in ROUTERS:
        app.include_router(router)
    install_errors(app, parts.metrics)
    app.add_middleware(BearerAuth, token=parts.settings.token, metrics=parts.metrics)
    app.add_middleware(PriorityMiddleware, gate=parts.gate)
    return app
