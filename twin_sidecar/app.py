"""Wiring only: build the twin's parts from the settings and hand them to the routers.

Adding a router is two lines: import it and ``app.include_router`` it in ``ROUTERS``. Its endpoints
reach the parts through ``api.deps.Parts``; auth and error counting apply to it automatically.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis
from fastapi import FastAPI

from twin_sidecar.api import fidelity, health, metrics, planes, predict, state, trust
from twin_sidecar.api.auth import BearerAuth
from twin_sidecar.api.errors import install as install_errors
from twin_sidecar.checkpoint import Checkpointer
from twin_sidecar.emulation.mirror import Mirror
from twin_sidecar.metrics import TwinMetrics
from twin_sidecar.parts import TwinParts
from twin_sidecar.planes import PlaneStore
from twin_sidecar.predictive.dynamics import ServingDynamics
from twin_sidecar.predictive.fidelity import FidelityTracker
from twin_sidecar.predictive.forecaster import LoadForecaster
from twin_sidecar.predictive.replay import TransitionReplay
from twin_sidecar.predictive.training import EnsembleTrainer
from twin_sidecar.priority import PriorityMiddleware, RequestGate
from twin_sidecar.security.analytics import SecurityAnalytics
from twin_sidecar.settings import TwinSettings
from twin_sidecar.streams import StreamConsumer
from twin_sidecar.sync import SyncEngine

ROUTERS = (
    health.router, metrics.router, state.router, predict.router, fidelity.router, planes.router, trust.router
)


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
    guarded = security.guard.wrap(sync.on_transitions, time.time) if settings.security_guard else None
    consumer.add_transition_batch_sink(guarded or sync.on_transitions)
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
    return TwinParts(
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
        security=security,
    )


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
