"""Forecasts kept until what they predicted has happened: the twin's forecast with its interval against
the load each cell then had.

Every ``record`` (one per dashboard tick) keeps the forecaster's prediction ``steps`` report periods
ahead for every cell: the target time, the mean and the central 90 % interval (mean ± 1.645 std, the
forecaster's Gaussian spread, clipped to [0, 1]). ``compare`` pairs the forecasts whose target time
has passed with the mirror's load at that time and reports how often the interval held it (among
forecasts with a spread: persistence, before the forecaster's first fit, has none).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from ricproto.ran_space import PRB_USAGE_COLUMN
from twin_sidecar.emulation.mirror import Mirror
from twin_sidecar.predictive.forecaster import LoadForecaster

Z90 = 1.6449  # two-sided 90 % of a Gaussian


@dataclass(frozen=True)
class Forecast:
    made_ns: int  # the round it was made from
    target_ns: int
    mean: np.ndarray  # [cells]
    lo: np.ndarray
    hi: np.ndarray


def recent_with_latest(mirror: Mirror, lags: int) -> np.ndarray | None:
    """The mirror's last ``lags`` rounds of PRB load ([<=lags, max_cells]); None before the first."""
    load = mirror.load_history(lags)
    return load if len(load) else None


class ForecastLog:
    def __init__(self, period_ms: int, steps: int, capacity: int = 600) -> None:
        self.period_ns = int(period_ms * 1e6)
        self.steps = steps
        self.kept: deque[Forecast] = deque(maxlen=capacity)

    def record(self, mirror: Mirror, forecaster: LoadForecaster) -> Forecast | None:
        """Forecast from the mirror's newest round (once per round); None without history."""
        made = mirror.latest_ns
        if made is None or (self.kept and self.kept[-1].made_ns == made):
            return None
        recent = recent_with_latest(mirror, forecaster.lags)
        if recent is None:
            return None
        mean, std = forecaster.predict(recent)
        k = min(self.steps, mean.shape[1]) - 1
        n = mirror.n_cells
        m, s = mean[:n, k].astype(np.float64), std[:n, k].astype(np.float64)
        f = Forecast(
            made, made + (k + 1) * self.period_ns, m, np.clip(m - Z90 * s, 0, 1), np.clip(m + Z90 * s, 0, 1)
        )
        self.kept.append(f)
        return f

    def compare(self, mirror: Mirror, cell: int, since_ns: int) -> dict[str, Any]:
        """For one cell: past forecasts (target after ``since_ns`` and at most the newest round) with
        the load that happened, and the share of them whose interval held it."""
        latest = mirror.latest_ns
        past = []
        if latest is not None:
            for f in list(self.kept):
                if not since_ns < f.target_ns <= latest:
                    continue
                obs = mirror.observation_at(f.target_ns)
                if obs is None:
                    continue
                actual = float(obs.reshape(mirror.space.max_cells, -1)[cell, PRB_USAGE_COLUMN])
                past.append(
                    {
                        "t": f.target_ns / 1e9,
                        "mean": round(float(f.mean[cell]), 5),
                        "lo": round(float(f.lo[cell]), 5),
                        "hi": round(float(f.hi[cell]), 5),
                        "actual": round(actual, 5),
                    }
                )
        # a forecast without spread (persistence before the fit) has no interval to hold anything
        held = [p["lo"] <= p["actual"] <= p["hi"] for p in past if p["hi"] > p["lo"]]
        return {
            "cell": cell,
            "steps_ahead": self.steps,
            "past": past,
            "coverage_90": round(sum(held) / len(held), 3) if held else None,
        }
