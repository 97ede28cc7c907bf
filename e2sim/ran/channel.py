"""Radio channel: 38.901 path loss, sector antenna, correlated shadowing, SINR and CQI.

All functions work on whole UE x cell matrices at once (no per-UE Python loops). Powers are per
resource element (RE) so RSRP, interference and noise share one reference bandwidth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

PathLossModel = Literal["UMa", "UMi"]

MIN_DISTANCE_2D_M = 10.0  # 38.901 UMa/UMi formulas hold from 10 m
THERMAL_NOISE_DBM_PER_HZ = -174.0

# TS 38.214 Table 5.2.2.1-2 (CQI table 1, up to 64QAM): spectral efficiency per CQI index 1..15.
CQI_TABLE_64QAM = np.array(
    [
        0.1523,
        0.2344,
        0.3770,
        0.6016,
        0.8770,
        1.1758,
        1.4766,
        1.9141,
        2.4063,
        2.7305,
        3.3223,
        3.9023,
        4.5234,
        5.1152,
        5.5547,
    ]
)
# TS 38.214 Table 5.2.2.1-3 (CQI table 2, up to 256QAM).
CQI_TABLE_256QAM = np.array(
    [
        0.1523,
        0.3770,
        0.8770,
        1.4766,
        1.9141,
        2.4063,
        2.7305,
        3.3223,
        3.9023,
        4.5234,
        5.1152,
        5.5547,
        6.2266,
        6.9141,
        7.4063,
    ]
)
# Attenuation of Shannon capacity that a practical link achieves (a common abstraction, 0.6-0.75).
SHANNON_ATTENUATION = 0.75


def pathloss_db(
    d2d_m: np.ndarray,
    fc_ghz: float | np.ndarray,
    h_bs_m: float | np.ndarray,
    h_ut_m: float,
    model: PathLossModel,
) -> np.ndarray:
    """NLOS path loss of TR 38.901 Table 7.4.1-1 (UMa NLOS is at least the LOS value).

    ``d2d_m`` broadcasts against ``fc_ghz`` and ``h_bs_m``; distances below 10 m are clamped to 10 m.
    """
    d2d = np.maximum(d2d_m, MIN_DISTANCE_2D_M)
    d3d = np.sqrt(d2d * d2d + (np.asarray(h_bs_m) - h_ut_m) ** 2)
    log_d = np.log10(d3d)
    log_f = np.log10(fc_ghz)
    if model == "UMa":
        los = 28.0 + 22.0 * log_d + 20.0 * log_f
        nlos = 13.54 + 39.08 * log_d + 20.0 * log_f - 0.6 * (h_ut_m - 1.5)
        return np.maximum(los, nlos)
    if model == "UMi":
        los = 32.4 + 21.0 * log_d + 20.0 * log_f
        nlos = 22.4 + 35.3 * log_d + 21.3 * log_f - 0.3 * (h_ut_m - 1.5)
        return np.maximum(los, nlos)
    raise ValueError(f"unknown path loss model {model!r} (UMa or UMi)")


def sector_gain_db(
    bearing_deg: np.ndarray,
    azimuth_deg: np.ndarray,
    max_gain_dbi: float,
    beamwidth_deg: float = 65.0,
    max_attenuation_db: float = 30.0,
) -> np.ndarray:
    """Horizontal 3GPP sector pattern: G - min(12 (phi/phi3dB)^2, Am); NaN azimuth = omni (0 dBi)."""
    phi = (bearing_deg - azimuth_deg + 180.0) % 360.0 - 180.0
    att = np.minimum(12.0 * (phi / beamwidth_deg) ** 2, max_attenuation_db)
    gain = max_gain_dbi - att
    return np.where(np.isnan(azimuth_deg), 0.0, gain)


BEARING_BINS = 720  # antenna gain tabulated per half degree of bearing


@dataclass(frozen=True)
class AntennaTable:
    """Sector gains tabulated by bearing: one row per distinct azimuth, so a refresh is a lookup."""

    gains_db: np.ndarray  # (n_patterns, BEARING_BINS)
    cell_pattern: np.ndarray  # (n_cells,) row of each cell

    @classmethod
    def build(cls, azimuth_deg: np.ndarray, max_gain_dbi: float) -> AntennaTable:
        key = np.where(np.isnan(azimuth_deg), -1.0, azimuth_deg)
        patterns, cell_pattern = np.unique(key, return_inverse=True)
        centres = -180.0 + (np.arange(BEARING_BINS) + 0.5) * (360.0 / BEARING_BINS)
        az = np.where(patterns < 0, np.nan, patterns)
        gains = sector_gain_db(centres[None, :], az[:, None], max_gain_dbi)
        return cls(gains, cell_pattern.reshape(-1))

    @staticmethod
    def bearing_bin(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """Bin of the bearing (clockwise from north) from a site to points offset by (dx, dy)."""
        b = np.arctan2(dx, dy) * (BEARING_BINS / (2 * np.pi)) + BEARING_BINS / 2
        return np.minimum(b.astype(np.intp), BEARING_BINS - 1)


@dataclass
class ShadowingField:
    """Spatially correlated log-normal shadowing: one smooth Gaussian map per site.

    Sectors of a site share their site's map (38.901 treats co-sited links as correlated). The map is
    white noise on a grid of ``decorrelation_m / 3`` spacing, smoothed with a Gaussian kernel and
    rescaled to unit variance, so nearby UEs see similar values and the field decorrelates over about
    ``decorrelation_m``.
    """

    maps: np.ndarray  # (n_sites, ny, nx) in dB
    origin: tuple[float, float]
    spacing_m: float

    @classmethod
    def generate(
        cls,
        rng: np.random.Generator,
        n_sites: int,
        area: tuple[float, float, float, float],
        sigma_db: float,
        decorrelation_m: float,
    ) -> ShadowingField:
        spacing = max(decorrelation_m / 3.0, 1.0)
        nx = int(np.ceil((area[2] - area[0]) / spacing)) + 2
        ny = int(np.ceil((area[3] - area[1]) / spacing)) + 2
        noise = rng.standard_normal((n_sites, ny, nx))
        if sigma_db <= 0.0:
            return cls(np.zeros_like(noise), (area[0], area[1]), spacing)
        taps = np.arange(-4, 5, dtype=np.float64)
        kernel = np.exp(-0.5 * (taps / 1.5) ** 2)
        kernel /= kernel.sum()
        smooth = np.apply_along_axis(np.convolve, 2, noise, kernel, mode="same")
        smooth = np.apply_along_axis(np.convolve, 1, smooth, kernel, mode="same")
        std = smooth.reshape(n_sites, -1).std(axis=1)[:, None, None]
        return cls(sigma_db * smooth / np.maximum(std, 1e-12), (area[0], area[1]), spacing)

    def sample(self, xy: np.ndarray) -> np.ndarray:
        """(n_ue, n_sites) shadowing in dB at UE positions ``xy`` (n_ue, 2), nearest grid point."""
        _, ny, nx = self.maps.shape
        ix = np.clip(((xy[:, 0] - self.origin[0]) / self.spacing_m).astype(np.intp), 0, nx - 1)
        iy = np.clip(((xy[:, 1] - self.origin[1]) / self.spacing_m).astype(np.intp), 0, ny - 1)
        return self.maps[:, iy, ix].T


def noise_dbm_per_re(scs_khz: float, noise_figure_db: float) -> float:
    return THERMAL_NOISE_DBM_PER_HZ + 10.0 * np.log10(scs_khz * 1e3) + noise_figure_db


def sinr_linear(
    rx_mw: np.ndarray,
    serving: np.ndarray,
    load: np.ndarray,
    noise_mw: float,
    signal_gain: np.ndarray | None = None,
) -> np.ndarray:
    """SINR per UE: serving power over (sum of other cells' power x their PRB load + noise).

    ``rx_mw`` (n_ue, n_cells) is received power per RE; ``load`` (n_cells,) in [0, 1] is each cell's
    PRB utilisation, so interference rises as neighbours load up. ``signal_gain`` is optional fast
    fading on the serving link.
    """
    rows = np.arange(rx_mw.shape[0])
    signal = rx_mw[rows, serving]
    interference = rx_mw @ load - signal * load[serving]
    if signal_gain is not None:
        signal = signal * signal_gain
    return signal / (np.maximum(interference, 0.0) + noise_mw)


def cqi_from_sinr(sinr_lin: np.ndarray, table: np.ndarray = CQI_TABLE_64QAM) -> np.ndarray:
    """Highest CQI (0..15) whose spectral efficiency the attenuated Shannon rate supports."""
    se = SHANNON_ATTENUATION * np.log2(1.0 + sinr_lin)
    return np.searchsorted(table, se, side="right").astype(np.int8)


def cqi_sinr_thresholds(table: np.ndarray = CQI_TABLE_64QAM) -> np.ndarray:
    """Linear SINR from which each CQI 1..15 is reached: ``searchsorted(thr, sinr, 'right')`` = CQI."""
    return np.power(2.0, table / SHANNON_ATTENUATION) - 1.0


def spectral_efficiency(cqi: np.ndarray, table: np.ndarray = CQI_TABLE_64QAM) -> np.ndarray:
    """bit/s/Hz delivered at a CQI (0 = out of range, nothing delivered)."""
    padded = np.concatenate(([0.0], table))
    return padded[cqi]


def prb_rate_bps(se: np.ndarray, mu: int, overhead: float = 0.14) -> np.ndarray:
    """Bits per second one PRB carries: 12 subcarriers x 14 symbols x 2^mu slots/ms x SE x (1 - OH)."""
    return 12.0 * 14.0 * (2**mu) * 1000.0 * se * (1.0 - overhead)
