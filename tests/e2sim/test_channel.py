"""Channel physics: path loss, antenna pattern, shadowing correlation, SINR and CQI."""

from __future__ import annotations

import numpy as np
import pytest

from e2sim.ran.channel import (
    CQI_TABLE_64QAM,
    AntennaTable,
    ShadowingField,
    cqi_from_sinr,
    cqi_sinr_thresholds,
    pathloss_db,
    prb_rate_bps,
    sector_gain_db,
    sinr_linear,
    spectral_efficiency,
)


@pytest.mark.parametrize("model", ["UMa", "UMi"])
@pytest.mark.parametrize("fc", [0.7, 3.5, 28.0])
def test_path_loss_is_monotonic_in_distance(model: str, fc: float) -> None:
    d = np.linspace(10.0, 5000.0, 2000)
    pl = pathloss_db(d, fc, 25.0 if model == "UMa" else 10.0, 1.5, model)  # type: ignore[arg-type]
    assert np.all(np.diff(pl) > 0)
    assert np.all(pathloss_db(d, fc * 2, 25.0, 1.5, model) > pl)  # type: ignore[arg-type]


def test_path_loss_matches_38901_uma_nlos_at_a_point() -> None:
    d2d, h_bs, h_ut, fc = 300.0, 25.0, 1.5, 3.5
    d3d = np.hypot(d2d, h_bs - h_ut)
    nlos = 13.54 + 39.08 * np.log10(d3d) + 20 * np.log10(fc) - 0.6 * (h_ut - 1.5)
    assert float(pathloss_db(np.array([d2d]), fc, h_bs, h_ut, "UMa")[0]) == pytest.approx(nlos)
    with pytest.raises(ValueError):
        pathloss_db(np.array([10.0]), fc, h_bs, h_ut, "RMa")  # type: ignore[arg-type]


def test_sector_pattern_peaks_at_boresight_and_floors() -> None:
    bearing = np.array([0.0, 30.0, -30.0, 65.0 / 2, 180.0, 170.0])
    g = sector_gain_db(bearing, np.full(6, 0.0), 8.0)
    assert g[0] == 8.0 and g[1] == g[2] < 8.0
    assert g[3] == pytest.approx(8.0 - 3.0)  # 3 dB down at half the beamwidth
    assert g[4] == g[5] == 8.0 - 30.0
    assert sector_gain_db(np.array([123.0]), np.array([np.nan]), 8.0)[0] == 0.0
    table = AntennaTable.build(np.array([0.0, 120.0, np.nan, 0.0]), 8.0)
    assert table.gains_db.shape[0] == 3 and table.cell_pattern[0] == table.cell_pattern[3]
    north_east = AntennaTable.bearing_bin(np.array([1.0]), np.array([1.0]))  # bearing 45 deg
    assert table.gains_db[table.cell_pattern[0], north_east[0]] == pytest.approx(
        float(sector_gain_db(np.array([45.0]), np.array([0.0]), 8.0)[0]), abs=0.5
    )


def test_shadowing_is_spatially_correlated_with_the_configured_sigma() -> None:
    rng = np.random.default_rng(5)
    field = ShadowingField.generate(rng, 2, (0.0, 0.0, 2000.0, 2000.0), 8.0, 50.0)
    assert field.maps.std() == pytest.approx(8.0, rel=0.05)
    pts = rng.uniform(100, 1900, size=(3000, 2))
    here = field.sample(pts)[:, 0]
    near = field.sample(pts + np.array([5.0, 0.0]))[:, 0]
    far = field.sample(pts + [400.0, 0.0] * (pts[:, :1] < 1000) - [400.0, 0.0] * (pts[:, :1] >= 1000))[:, 0]
    assert np.corrcoef(here, near)[0, 1] > 0.8
    assert abs(np.corrcoef(here, far)[0, 1]) < 0.2
    assert field.sample(pts).shape == (3000, 2)


def test_sinr_falls_when_a_neighbour_loads_up() -> None:
    rx = np.array([[1e-9, 1e-10, 1e-11], [1e-10, 1e-9, 1e-11]])
    serving = np.array([0, 1])
    idle = sinr_linear(rx, serving, np.array([0.5, 0.0, 0.0]), 1e-13)
    busy = sinr_linear(rx, serving, np.array([0.5, 1.0, 0.0]), 1e-13)
    assert busy[0] < idle[0]
    assert busy[1] == pytest.approx(idle[1])  # own load does not interfere with itself
    assert idle[0] == pytest.approx(1e-9 / 1e-13)


def test_cqi_and_rate_grow_with_sinr() -> None:
    sinr = 10 ** (np.linspace(-15, 35, 200) / 10)
    cqi = cqi_from_sinr(sinr)
    assert cqi[0] == 0 and cqi[-1] == 15 and np.all(np.diff(cqi) >= 0)
    se = spectral_efficiency(cqi)
    assert se[0] == 0.0 and se[-1] == CQI_TABLE_64QAM[-1]
    rate = prb_rate_bps(se, mu=1)
    assert rate[-1] == pytest.approx(12 * 14 * 2 * 1000 * 5.5547 * 0.86)


def test_cqi_thresholds_agree_with_the_shannon_mapping() -> None:
    sinr = 10 ** (np.linspace(-20, 40, 5001) / 10)
    thr = cqi_sinr_thresholds(CQI_TABLE_64QAM)
    assert np.array_equal(np.searchsorted(thr, sinr, side="right"), cqi_from_sinr(sinr))
