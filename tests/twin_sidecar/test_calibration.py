"""The online conformal factor of the ensemble's 90 % interval: on synthetic processes whose served
std is wrong (too narrow, too wide, heavy-tailed, changing), intervals scaled by the factor learnt from
earlier predictions cover about 90 % of later, unseen values."""

from __future__ import annotations

import numpy as np
import pytest

from twin_sidecar.predictive.calibration import Z90, ConformalScale


def served_coverage(
    conformal: ConformalScale, noise: np.ndarray, std: np.ndarray, chunk: int = 100
) -> np.ndarray:
    """Predict each chunk with the factor from the chunks before it, then score it (as the sidecar)."""
    inside = []
    for start in range(0, len(noise), chunk):
        part = slice(start, start + chunk)
        inside.append(np.abs(noise[part]) <= Z90 * std[part] * conformal.multiplier)
        conformal.add(noise[part], std[part])
    return np.concatenate(inside)


@pytest.mark.parametrize(
    ("true_scale", "tails"), [(2.0, "gauss"), (0.5, "gauss"), (1.0, "student3")], ids=str
)
def test_factor_restores_coverage_on_fresh_data(true_scale: float, tails: str) -> None:
    rng = np.random.default_rng(7)
    n, f = 20_000, 3
    std = rng.uniform(0.05, 0.2, size=(n, f))  # what the model serves, heteroscedastic
    z = rng.standard_normal((n, f)) if tails == "gauss" else rng.standard_t(3, size=(n, f))
    noise = true_scale * std * z
    raw = (np.abs(noise) <= Z90 * std).mean()
    conformal = ConformalScale(f, window=5_000)
    inside = served_coverage(conformal, noise, std)
    later = inside[2_000:]  # after the first scores (the factor is 1 before min_scores)
    assert abs(raw - 0.9) > 0.05 or tails != "gauss"  # the served std alone is off
    assert 0.87 <= later.mean() <= 0.93
    expected = true_scale if tails == "gauss" else np.quantile(np.abs(rng.standard_t(3, 200_000)), 0.9) / Z90
    assert conformal.multiplier == pytest.approx(np.full(f, expected), rel=0.08)


def test_factor_follows_a_change_of_the_noise() -> None:
    rng = np.random.default_rng(3)
    n = 12_000
    std = np.full((n, 1), 0.1)
    scale = np.where(np.arange(n) < n // 2, 1.0, 3.0)[:, None]  # the RAN gets noisier halfway
    noise = scale * std * rng.standard_normal((n, 1))
    inside = served_coverage(ConformalScale(1, window=1_000), noise, std)
    assert 0.86 <= inside[n // 2 + 2_000 :].mean() <= 0.94  # once the window holds the new regime


def test_factor_is_one_until_enough_scores_and_skips_unusable_rows() -> None:
    conformal = ConformalScale(2, min_scores=50)
    err = np.full((40, 2), 1.0)
    std = np.full((40, 2), 0.1)
    std[:, 1] = 0.0  # an absent cell: no interval to score
    assert conformal.add(err, std) == 40
    assert conformal.multiplier.tolist() == [1.0, 1.0]
    err[0, 0] = np.nan
    assert conformal.add(err, std) == 39
    assert conformal.multiplier[0] == pytest.approx(1.0 / (Z90 * 0.1), rel=1e-5)
    assert conformal.multiplier[1] == 1.0
    with pytest.raises(ValueError, match="differ"):
        conformal.add(np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="coverage"):
        ConformalScale(1, coverage=1.5)


def test_state_round_trip() -> None:
    rng = np.random.default_rng(0)
    a = ConformalScale(2, window=500, min_scores=10)
    a.add(rng.standard_normal((800, 2)), np.ones((800, 2)))
    b = ConformalScale(2, window=500, min_scores=10)
    b.load_state_dict(a.state_dict())
    assert b.multiplier.tolist() == a.multiplier.tolist()
    other = ConformalScale(2, window=100)
    other.load_state_dict(a.state_dict())  # another window: starts afresh rather than failing
    assert other.count.tolist() == [0, 0]
