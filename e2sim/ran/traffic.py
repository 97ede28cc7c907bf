"""Per-UE offered traffic: full buffer, constant bit rate, Poisson packets and on/off bursts.

Each UE carries one profile (from its slice); arrivals for a step are drawn for all UEs at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

TrafficKind = Literal["full_buffer", "cbr", "poisson", "on_off"]
KIND_CODES: dict[str, int] = {"full_buffer": 0, "cbr": 1, "poisson": 2, "on_off": 3}


@dataclass(frozen=True)
class TrafficProfile:
    kind: TrafficKind
    rate_bps: float = 0.0  # cbr, and on_off while on
    packet_rate_hz: float = 0.0  # poisson
    packet_bytes: int = 125  # poisson
    on_mean_s: float = 1.0
    off_mean_s: float = 1.0
    uplink_ratio: float = 0.1  # UL offered load as a fraction of DL

    def __post_init__(self) -> None:
        if self.kind not in KIND_CODES:
            raise ValueError(f"unknown traffic kind {self.kind!r} (one of {', '.join(KIND_CODES)})")
        if min(self.rate_bps, self.packet_rate_hz, self.uplink_ratio) < 0:
            raise ValueError("traffic rates must not be negative")
        if self.on_mean_s <= 0 or self.off_mean_s <= 0:
            raise ValueError("on/off mean durations must be positive")


@dataclass
class TrafficState:
    """Vectorized traffic parameters and on/off state of every UE."""

    kind: np.ndarray  # int8 codes
    rate_bps: np.ndarray
    packet_rate_hz: np.ndarray
    packet_bits: np.ndarray
    on_mean_s: np.ndarray
    off_mean_s: np.ndarray
    uplink_ratio: np.ndarray
    on: np.ndarray  # bool, on/off UEs currently bursting

    @classmethod
    def from_profiles(
        cls, profiles: list[TrafficProfile], ue_profile: np.ndarray, rng: np.random.Generator
    ) -> TrafficState:
        def column(attr: str) -> np.ndarray:
            return np.array([float(getattr(p, attr)) for p in profiles])[ue_profile]

        kind = np.array([KIND_CODES[p.kind] for p in profiles], dtype=np.int8)[ue_profile]
        on_mean, off_mean = column("on_mean_s"), column("off_mean_s")
        on = rng.random(ue_profile.shape[0]) < on_mean / (on_mean + off_mean)
        return cls(
            kind,
            column("rate_bps"),
            column("packet_rate_hz"),
            column("packet_bytes") * 8.0,
            on_mean,
            off_mean,
            column("uplink_ratio"),
            on,
        )

    def __post_init__(self) -> None:
        # Kinds never change during a run, so the masks are made once.
        self.full_buffer = self.kind == KIND_CODES["full_buffer"]
        self._onoff = self.kind == KIND_CODES["on_off"]
        self._cbr = self.kind == KIND_CODES["cbr"]
        self._poisson = self.kind == KIND_CODES["poisson"]
        self._any_onoff = bool(self._onoff.any())
        self._any_poisson = bool(self._poisson.any())

    def arrivals_bits(self, dt_s: float, rng: np.random.Generator, scale: np.ndarray) -> np.ndarray:
        """DL bits offered during one step (full-buffer UEs get 0 here; the model keeps them full).

        ``scale`` (n_ue,) multiplies every rate, which is how traffic surges act.
        """
        cbr_like = self._cbr
        if self._any_onoff:
            # On/off UEs switch state with exponential holding times (memoryless per step).
            p_leave = np.where(self.on, dt_s / self.on_mean_s, dt_s / self.off_mean_s)
            flip = self._onoff & (rng.random(self.kind.shape[0]) < p_leave)
            self.on ^= flip
            cbr_like = cbr_like | (self._onoff & self.on)
        bits = np.where(cbr_like, self.rate_bps * scale * dt_s, 0.0)
        if self._any_poisson:
            lam = np.where(self._poisson, self.packet_rate_hz * scale * dt_s, 0.0)
            bits += rng.poisson(lam) * self.packet_bits
        return bits
