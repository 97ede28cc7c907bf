"""UE mobility: static, random waypoint and Gauss-Markov, advanced for all UEs at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

MobilityKind = Literal["static", "random_waypoint", "gauss_markov"]
MOBILITY_CODES: dict[str, int] = {"static": 0, "random_waypoint": 1, "gauss_markov": 2}


@dataclass(frozen=True)
class MobilityProfile:
    kind: MobilityKind = "random_waypoint"
    speed_min_mps: float = 0.5
    speed_max_mps: float = 3.0
    gm_memory: float = 0.85  # Gauss-Markov alpha per position update: 0 = memoryless, 1 = straight line

    def __post_init__(self) -> None:
        if self.kind not in MOBILITY_CODES:
            raise ValueError(f"unknown mobility {self.kind!r} (one of {', '.join(MOBILITY_CODES)})")
        if not 0 <= self.speed_min_mps <= self.speed_max_mps:
            raise ValueError("need 0 <= speed_min_mps <= speed_max_mps")
        if not 0 <= self.gm_memory <= 1:
            raise ValueError("gm_memory must be in [0, 1]")


@dataclass
class MobilityState:
    xy: np.ndarray  # (n_ue, 2) metres
    kind: np.ndarray  # int8 codes
    speed_min: np.ndarray
    speed_max: np.ndarray
    gm_memory: np.ndarray
    target: np.ndarray  # random waypoint destination (n_ue, 2)
    velocity: np.ndarray  # (n_ue, 2) m/s
    mean_speed: np.ndarray  # Gauss-Markov mean speed
    area: tuple[float, float, float, float]
    home_centre: np.ndarray  # (n_ue, 2) hotspot centre of UEs tied to one
    home_radius: np.ndarray  # hotspot radius, inf = free to roam the whole area

    @classmethod
    def create(
        cls,
        xy: np.ndarray,
        profiles: list[MobilityProfile],
        ue_profile: np.ndarray,
        area: tuple[float, float, float, float],
        rng: np.random.Generator,
    ) -> MobilityState:
        n = xy.shape[0]
        kind = np.array([MOBILITY_CODES[p.kind] for p in profiles], dtype=np.int8)[ue_profile]
        smin = np.array([p.speed_min_mps for p in profiles])[ue_profile]
        smax = np.array([p.speed_max_mps for p in profiles])[ue_profile]
        mem = np.array([p.gm_memory for p in profiles])[ue_profile]
        state = cls(
            xy.astype(np.float64).copy(),
            kind,
            smin,
            smax,
            mem,
            xy.copy(),
            np.zeros((n, 2)),
            (smin + smax) / 2.0,
            area,
            np.zeros((n, 2)),
            np.full(n, np.inf),
        )
        state._new_legs(kind == MOBILITY_CODES["random_waypoint"], rng)
        heading = rng.uniform(0, 2 * np.pi, n)
        gm = kind == MOBILITY_CODES["gauss_markov"]
        state.velocity[gm] = (state.mean_speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], 1))[gm]
        return state

    def _new_legs(self, mask: np.ndarray, rng: np.random.Generator) -> None:
        """Draw a new destination and speed for the random-waypoint UEs in ``mask``.

        UEs tied to a hotspot draw their destination inside its disc, the others anywhere in the area.
        """
        n = int(mask.sum())
        if n == 0:
            return
        x0, y0, x1, y1 = self.area
        target = np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], axis=1)
        radius = self.home_radius[mask]
        homed = np.isfinite(radius)
        if homed.any():
            r = radius[homed] * np.sqrt(rng.random(int(homed.sum())))
            a = rng.uniform(0, 2 * np.pi, r.size)
            target[homed] = self.home_centre[mask][homed] + np.stack([r * np.cos(a), r * np.sin(a)], axis=1)
        self.target[mask] = np.clip(target, [x0, y0], [x1, y1])
        speed = rng.uniform(self.speed_min[mask], self.speed_max[mask])
        delta = self.target[mask] - self.xy[mask]
        dist = np.maximum(np.hypot(delta[:, 0], delta[:, 1]), 1e-9)
        self.velocity[mask] = delta / dist[:, None] * speed[:, None]

    def attach_hotspot(
        self, mask: np.ndarray, centre: tuple[float, float], radius_m: float, rng: np.random.Generator
    ) -> None:
        """Send the UEs in ``mask`` into a disc and keep them wandering inside it (a hotspot)."""
        self.home_centre[mask] = centre
        self.home_radius[mask] = radius_m
        self.kind = np.where(mask, MOBILITY_CODES["random_waypoint"], self.kind).astype(np.int8)
        self.speed_max = np.where(mask, np.maximum(self.speed_max, 1.0), self.speed_max)
        self._new_legs(mask, rng)

    def release_hotspot(
        self, mask: np.ndarray, kind: np.ndarray, speed_max: np.ndarray, rng: np.random.Generator
    ) -> None:
        """Let hotspot UEs go back to their own mobility (``kind`` and ``speed_max`` as before)."""
        self.home_radius[mask] = np.inf
        self.kind = np.where(mask, kind, self.kind).astype(np.int8)
        self.speed_max = np.where(mask, speed_max, self.speed_max)
        self.velocity[mask & (self.kind == MOBILITY_CODES["static"])] = 0.0
        self._new_legs(mask & (self.kind == MOBILITY_CODES["random_waypoint"]), rng)

    def step(self, dt_s: float, rng: np.random.Generator) -> None:
        rwp = self.kind == MOBILITY_CODES["random_waypoint"]
        gm = self.kind == MOBILITY_CODES["gauss_markov"]
        if gm.any():
            alpha = self.gm_memory[gm, None]
            v = self.velocity[gm]
            speed = np.hypot(v[:, 0], v[:, 1])
            mean_v = v / np.maximum(speed, 1e-9)[:, None] * self.mean_speed[gm, None]
            sigma = (self.speed_max[gm] - self.speed_min[gm])[:, None] / 2.0
            noise = rng.standard_normal(v.shape) * sigma
            self.velocity[gm] = alpha * v + (1 - alpha) * mean_v + np.sqrt(1 - alpha * alpha) * noise
        step = self.velocity * dt_s  # static UEs have zero velocity
        arrive = None
        if rwp.any():
            to_target = self.target - self.xy
            arrive = rwp & ((step * step).sum(axis=1) >= (to_target * to_target).sum(axis=1))
            step[arrive] = to_target[arrive]
        self.xy += step
        if arrive is not None and arrive.any():
            self._new_legs(arrive, rng)
        # Reflect walkers at the area's edge (waypoints always lie inside it).
        x0, y0, x1, y1 = self.area
        lo, hi = np.array([x0, y0]), np.array([x1, y1])
        low, high = self.xy < lo, self.xy > hi
        if low.any() or high.any():
            self.xy = np.where(low, 2 * lo - self.xy, np.where(high, 2 * hi - self.xy, self.xy))
            self.velocity = np.where(low | high, -self.velocity, self.velocity)
            np.clip(self.xy, lo, hi, out=self.xy)
