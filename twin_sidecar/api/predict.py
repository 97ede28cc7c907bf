"""``/v1/predict`` (the xApp's state intervention, contract in xapps/control/README.md) and
``/v1/forecast`` (every cell's PRB load for the next H report periods, with spread)."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ricproto.ran_space import PRB_USAGE_COLUMN, PRESENT_COLUMN
from twin_sidecar.api.deps import Parts
from twin_sidecar.api.errors import BadRequest

router = APIRouter(prefix="/v1", tags=["prediction"])


class PredictIn(BaseModel):
    observation: list[float]


class PredictOut(BaseModel):
    predicted_load: list[float]  # [max_cells]: each cell's DL PRB usage next period, 0..1
    model: str
    forecaster_version: int


def _recent_with(parts: Parts, obs: np.ndarray) -> np.ndarray:
    """The mirror's recent loads with this observation as the latest period."""
    space = parts.settings.ran.space
    lags = parts.forecaster.lags
    current = obs.reshape(space.max_cells, space.n_features)[:, PRB_USAGE_COLUMN]
    recent = parts.mirror.recent_load(lags)
    if len(recent) and np.allclose(recent[-1], current):  # the mirror has this round already
        return recent
    return np.concatenate([recent[len(recent) - (lags - 1) :] if lags > 1 else recent[:0], current[None]])


@router.post("/predict", response_model=PredictOut, summary="Each cell's PRB load next period")
async def predict(body: PredictIn, parts: Parts) -> JSONResponse:
    # asked every report period by the xApp's state intervention: answered in the event loop, as a
    # ready response (no second validation and encoding of what was just built)
    space = parts.settings.ran.space
    want = space.max_cells * space.n_features
    if len(body.observation) != want:
        raise BadRequest(f"observation has {len(body.observation)} values, the RAN space has {want}")
    obs = np.asarray(body.observation, dtype=np.float64)
    if not np.isfinite(obs).all():
        raise BadRequest("observation has non-finite values")
    mean, _ = parts.forecaster.predict(_recent_with(parts, obs))
    present = obs.reshape(space.max_cells, space.n_features)[:, PRESENT_COLUMN] > 0.5
    load = np.where(present, mean[:, 0], 0.0)
    return JSONResponse(
        {
            "predicted_load": load.tolist(),
            "model": parts.forecaster.model,
            "forecaster_version": parts.forecaster.version,
        }
    )


class CellForecast(BaseModel):
    index: int
    nr_cell_id: int
    load: list[float]
    std: list[float]


class ForecastOut(BaseModel):
    t_ns: int | None
    horizon: int
    period_ms: int
    model: str
    forecaster_version: int
    cells: list[CellForecast]


@router.get("/forecast", response_model=ForecastOut, summary="PRB load per cell for the next H periods")
def forecast(
    parts: Parts, horizon: int | None = Query(None, ge=1, description="periods (default: all)")
) -> dict:
    f = parts.forecaster
    if horizon is not None and horizon > f.horizon:
        raise BadRequest(f"horizon {horizon} beyond the forecaster's {f.horizon} periods")
    obs = parts.mirror.observation_at()
    if obs is None:
        raise HTTPException(404, "no RAN-view record yet: nothing to forecast from")
    h = horizon or f.horizon
    mean, std = f.predict(_recent_with(parts, obs))
    cells = [
        {
            "index": c.index,
            "nr_cell_id": c.nr_cell_id,
            "load": mean[c.index, :h].tolist(),
            "std": std[c.index, :h].tolist(),
        }
        for c in parts.settings.ran.cells
    ]
    return {
        "t_ns": parts.mirror.latest_ns,
        "horizon": h,
        "period_ms": parts.settings.ran.report_period_ms,
        "model": f.model,
        "forecaster_version": f.version,
        "cells": cells,
    }
