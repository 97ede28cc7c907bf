"""Traffic generators and mobility models, checked statistically on many UEs."""

from __future__ import annotations

import numpy as np
import pytest

from e2sim.ran.mobility import MobilityProfile, MobilityState
from e2sim.ran.traffic import TrafficProfile, TrafficState

AREA = (0.0, 0.0, 1000.0, 1000.0)


def offered_rate(profile: TrafficProfile, seconds: float = 200.0, dt: float = 0.05) -> tuple[float, float]:
    rng = np.random.default_rng(1)
    n = 400
    state = TrafficState.from_profiles([profile], np.zeros(n, dtype=np.intp), rng)
    total = np.zeros(n)
    for _ in range(round(seconds / dt)):
        total += state.arrivals_bits(dt, rng, np.ones(n))
    per_ue = total / seconds
    return float(per_ue.mean()), float(per_ue.std())


def test_cbr_is_exact() -> None:
    mean, std = offered_rate(TrafficProfile("cbr", rate_bps=2e6))
    assert mean == pytest.approx(2e6) and std == pytest.approx(0.0, abs=1e-6)


def test_poisson_mean_rate() -> None:
    mean, std = offered_rate(TrafficProfile("poisson", packet_rate_hz=30, packet_bytes=125))
    assert mean == pytest.approx(30 * 125 * 8, rel=0.02)
    assert std > 0


def test_on_off_duty_cycle() -> None:
    mean, std = offered_rate(TrafficProfile("on_off", rate_bps=1e6, on_mean_s=1.0, off_mean_s=3.0))
    assert mean == pytest.approx(0.25e6, rel=0.08)
    assert std > 0.02e6  # UEs burst independently


def test_full_buffer_offers_nothing_itself_and_bad_profiles_fail() -> None:
    assert offered_rate(TrafficProfile("full_buffer"), seconds=1.0)[0] == 0.0
    with pytest.raises(ValueError):
        TrafficProfile("video")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TrafficProfile("cbr", rate_bps=-1)


def mobility(kind: str, **kw: float) -> tuple[MobilityState, np.random.Generator]:
    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 1000, size=(300, 2))
    profile = MobilityProfile(kind, **kw)  # type: ignore[arg-type]
    return MobilityState.create(xy, [profile], np.zeros(300, dtype=np.intp), AREA, rng), rng


def test_static_ues_stay_put() -> None:
    state, rng = mobility("static")
    start = state.xy.copy()
    for _ in range(50):
        state.step(0.1, rng)
    assert np.array_equal(state.xy, start)


@pytest.mark.parametrize("kind", ["random_waypoint", "gauss_markov"])
def test_walkers_move_at_their_speed_and_stay_in_the_area(kind: str) -> None:
    state, rng = mobility(kind, speed_min_mps=2.0, speed_max_mps=4.0)
    start = state.xy.copy()
    for _ in range(100):
        state.step(0.1, rng)
        assert np.all(state.xy >= 0.0) and np.all(state.xy <= 1000.0)
    moved = np.hypot(*(state.xy - start).T)
    assert moved.mean() > 5.0  # 10 s at 2-4 m/s, however winding
    if kind == "random_waypoint":
        assert moved.max() <= 4.0 * 10.0 + 1e-6  # never faster than the top speed
        speed = np.hypot(*state.velocity.T)
        assert np.all((speed >= 2.0 - 1e-9) & (speed <= 4.0 + 1e-9))


def test_hotspot_attach_and_release() -> None:
    state, rng = mobility("random_waypoint", speed_min_mps=5.0, speed_max_mps=10.0)
    mask = np.zeros(300, dtype=bool)
    mask[:100] = True
    kind, speed_max = state.kind.copy(), state.speed_max.copy()
    state.attach_hotspot(mask, (500.0, 500.0), 30.0, rng)
    for _ in range(1500):
        state.step(0.1, rng)
    dist = np.hypot(*(state.xy - 500.0).T)
    assert np.all(dist[mask] <= 30.0 + 1e-6)
    assert np.mean(dist[~mask] <= 30.0) < 0.05
    state.release_hotspot(mask, kind, speed_max, rng)
    for _ in range(600):
        state.step(0.1, rng)
    assert np.mean(np.hypot(*(state.xy[mask] - 500.0).T) > 30.0) > 0.5
