"""Performance counters: cumulative integrals kept by the model, turned into TS 28.552 measurements.

The model only ever adds to running sums (PRB-seconds, bits, UE-seconds, queued-bit-seconds ...).
A ``Period`` remembers the sums at its start (plus running maxima), so any number of subscriptions
with different granularity periods read their own measurements as differences, without the model
knowing about them. Units follow 28.552 where it fixes them; ``UNITS`` lists every name we emit.
Names starting ``Sim.`` are ours, not 28.552's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from ricproto.kpm_distribution import DELAY_DL_DIST, UE_THP_DL_DIST, WB_CQI_DIST

T = TypeVar("T")

SLICE_SUMS = (
    "prb_dl_s",
    "prb_ul_s",
    "bits_dl",
    "bits_ul",
    "active_ue_s_dl",
    "active_ue_s_ul",
    "conn_ue_s",
    "queue_bit_s_dl",
    "dropped_bits_dl",
    "offered_bits_dl",
    "queue_bit_s_ul",
)
# Cell sums start with the slice sums (a cell's value is the sum over its slices), then cell-only ones.
CELL_SUMS = (
    *SLICE_SUMS,
    "prb_avail_dl_s",
    "prb_avail_ul_s",
    "ho_attempted",
    "ho_succeeded",
    "ho_ping_pong",
    "reestablished",
)
UE_SUMS = (
    "prb_dl_s",
    "prb_ul_s",
    "bits_dl",
    "bits_ul",
    "active_s_dl",
    "active_s_ul",
    "queue_bit_s_dl",
    "dropped_bits_dl",
    "offered_bits_dl",
    "sinr_db_s",
    "queue_bit_s_ul",
)

# Names the model reports per cell (and, where they exist, per slice), and per UE.
CELL_MEASUREMENTS = (
    "DRB.UEThpDl",
    "DRB.UEThpUl",
    "RRU.PrbUsedDl",
    "RRU.PrbUsedUl",
    "RRU.PrbAvailDl",
    "RRU.PrbAvailUl",
    "RRU.PrbTotDl",
    "RRU.PrbTotUl",
    "RRC.ConnMean",
    "RRC.ConnMax",
    "DRB.MeanActiveUeDl",
    "DRB.RlcSduDelayDl",
    "DRB.PdcpSduDelayDl",
    "DRB.RlcDelayUl",
    "DRB.RlcSduTransmittedVolumeDL",
    "DRB.RlcSduTransmittedVolumeUL",
    "DRB.PdcpSduVolumeDL",
    "DRB.PdcpSduVolumeUL",
    "DRB.RlcPacketDropRateDl",
    "RRU.PrbTot",
    "MM.HoExeIntraReq",
    "MM.HoExeIntraSucc",
    "Sim.HoPingPong",
    "Sim.RlfReestablish",
)
SLICE_MEASUREMENTS = (
    "DRB.UEThpDl",
    "DRB.UEThpUl",
    "RRU.PrbUsedDl",
    "RRU.PrbUsedUl",
    "RRC.ConnMean",
    "DRB.RlcSduDelayDl",
    "DRB.PdcpSduDelayDl",
    "DRB.RlcDelayUl",
    "DRB.RlcSduTransmittedVolumeDL",
    "DRB.RlcSduTransmittedVolumeUL",
    "DRB.PdcpSduVolumeDL",
    "DRB.PdcpSduVolumeUL",
    "DRB.RlcPacketDropRateDl",
)
# Distributions, one value per bin labelled distBinX (bins numbered from 1): per slice (label sliceID +
# distBinX) and, for the wideband CQI distribution, also per cell (distBinX alone).
# RanModel.cell_distributions counts them.
DISTRIBUTION_MEASUREMENTS = (UE_THP_DL_DIST, DELAY_DL_DIST, WB_CQI_DIST)
CELL_WIDE_DISTRIBUTIONS = (WB_CQI_DIST,)
# Per-UE counters over the period (RanModel.ue_table), then radio quantities at the period's end
# (RanModel.ue_radio): 28.552 / 38.215 names and the UE-level names srsRAN's E2 agent uses.
UE_COUNTER_MEASUREMENTS = (
    "DRB.UEThpDl",
    "DRB.UEThpUl",
    "RRU.PrbUsedDl",
    "RRU.PrbUsedUl",
    "DRB.RlcSduDelayDl",
    "DRB.PdcpSduDelayDl",
    "DRB.RlcDelayUl",
    "DRB.RlcSduTransmittedVolumeDL",
    "DRB.RlcSduTransmittedVolumeUL",
    "DRB.PdcpSduVolumeDL",
    "DRB.PdcpSduVolumeUL",
    "DRB.RlcPacketDropRateDl",
    "SINR",
)
UE_RADIO_MEASUREMENTS = (
    "CQI",
    "RSRP",
    "RSRQ",
    "L1M.SS-RSRP",
    "L1M.SS-RSRQ",
    "L1M.SS-SINR",
    "L1M.DL-SS-RSRP.SSB",
    "L1M.DL-SS-SINR.SSB",
    "L1M.UL-SRS-RSRP",
    "L1M.UL-SINR",
)
UE_MEASUREMENTS = UE_COUNTER_MEASUREMENTS + UE_RADIO_MEASUREMENTS

UNITS: dict[str, str] = {
    "DRB.UEThpDl": "kbit/s, mean over UE-time with data buffered",
    "DRB.UEThpUl": "kbit/s, mean over UE-time with data buffered",
    "RRU.PrbUsedDl": "PRBs, mean over the period",
    "RRU.PrbUsedUl": "PRBs, mean over the period",
    "RRU.PrbAvailDl": "PRBs, mean over the period (0 while the cell is down)",
    "RRU.PrbAvailUl": "PRBs, mean over the period (0 while the cell is down)",
    "RRU.PrbTotDl": "percent of available PRBs used",
    "RRU.PrbTotUl": "percent of available PRBs used",
    "RRC.ConnMean": "UEs, mean number connected",
    "RRC.ConnMax": "UEs, max number connected at any step",
    "DRB.MeanActiveUeDl": "UEs, mean number with DL data buffered",
    "DRB.RlcSduDelayDl": "0.1 ms, mean queueing delay (Little's law: queued bits / served bit rate)",
    "DRB.PdcpSduDelayDl": "0.1 ms, as DRB.RlcSduDelayDl (the model has one DL queue per UE)",
    "DRB.RlcDelayUl": "0.1 ms, mean UL queueing delay (Little's law on the UL buffer)",
    "DRB.RlcSduTransmittedVolumeDL": "kbit",
    "DRB.RlcSduTransmittedVolumeUL": "kbit",
    "DRB.PdcpSduVolumeDL": "Mbit",
    "DRB.PdcpSduVolumeUL": "Mbit",
    "RRU.PrbTot": "percent of available DL PRBs used (the VIAVI name kpimon-go asks for)",
    "DRB.RlcPacketDropRateDl": "fraction 0..1 of offered DL data dropped at the buffer",
    "MM.HoExeIntraReq": "count of outgoing handover executions attempted",
    "MM.HoExeIntraSucc": "count of outgoing handover executions that succeeded",
    "Sim.HoPingPong": "count of handovers back to the previous cell within the ping-pong window",
    "Sim.RlfReestablish": "count of UEs re-established elsewhere because the cell went down",
    "CQI": "CQI index 0..15 at the end of the period",
    "RSRP": "dBm, SS-RSRP of the serving cell per RE at the end of the period",
    "RSRQ": "dB, SS-RSRQ of the serving cell at the end of the period (N x RSRP / RSSI, 38.215)",
    "SINR": "dB, mean over the period",
    "L1M.SS-RSRP": "dBm, as RSRP",
    "L1M.SS-RSRQ": "dB, as RSRQ",
    "L1M.SS-SINR": "dB, DL SINR at the end of the period",
    "L1M.DL-SS-RSRP.SSB": "dBm, as RSRP (the name OSC's e2sim advertises)",
    "L1M.DL-SS-SINR.SSB": "dB, as L1M.SS-SINR (the name OSC's e2sim advertises)",
    "L1M.UL-SRS-RSRP": "dBm, UL received power per RE at the serving cell (DL RSRP + the scenario's UL "
    "offset: same path loss, UE power below the cell's)",
    "L1M.UL-SINR": "dB, UL SINR at the end of the period (DL SINR + the scenario's UL offset); "
    "28.552 has no per-UE UL SINR name, so it is named in the L1M family",
    "CARR.WBCQIDist": "UEs per wideband CQI (distBinX = CQI + 1, 16 bins), per cell or per slice",
    "DRB.UEThpDlDist": "UEs per DL UE throughput bin (kbit/s bins of ricproto.kpm_distribution), per slice",
    "DRB.DelayDlNgranUeDist": "UE delay samples per DL delay bin (ms bins of ricproto.kpm_distribution), "
    "per slice",
}


class CounterSums:
    """Running integrals in three stacked arrays, with per-name views.

    ``cell_arr`` (len(CELL_SUMS), n_cells), ``slice_arr`` (len(SLICE_SUMS), n_cells, n_slices) and
    ``ue_arr`` (len(UE_SUMS), n_ues); ``cell[name]`` etc. are views into them, so the model can add a
    whole step in a few array operations.
    """

    def __init__(self, cell_arr: np.ndarray, slice_arr: np.ndarray, ue_arr: np.ndarray) -> None:
        self.cell_arr, self.slice_arr, self.ue_arr = cell_arr, slice_arr, ue_arr
        self.cell = {k: cell_arr[i] for i, k in enumerate(CELL_SUMS)}
        self.slice = {k: slice_arr[i] for i, k in enumerate(SLICE_SUMS)}
        self.ue = {k: ue_arr[i] for i, k in enumerate(UE_SUMS)}

    @classmethod
    def zeros(cls, n_cells: int, n_slices: int, n_ues: int) -> CounterSums:
        return cls(
            np.zeros((len(CELL_SUMS), n_cells)),
            np.zeros((len(SLICE_SUMS), n_cells, n_slices)),
            np.zeros((len(UE_SUMS), n_ues)),
        )

    def copy(self) -> CounterSums:
        return CounterSums(self.cell_arr.copy(), self.slice_arr.copy(), self.ue_arr.copy())

    def minus(self, start: CounterSums, ue: bool = True) -> CounterSums:
        """Sums accumulated since ``start`` (``ue=False`` skips the per-UE part, left as zeros)."""
        ue_part = self.ue_arr - start.ue_arr if ue else np.zeros_like(self.ue_arr[:, :0])
        return CounterSums(self.cell_arr - start.cell_arr, self.slice_arr - start.slice_arr, ue_part)


class Period:
    """One granularity period: counters read against this start time and snapshot.

    `cached` keeps readings taken at one model step, so every subscription reading the same period
    at the same step (the model hands out one Period per start step) computes them once."""

    def __init__(self, start_s: float, start: CounterSums, conn_now: np.ndarray) -> None:
        self.start_s = start_s
        self.start = start
        self.conn_max = conn_now.astype(np.float64).copy()
        self._cache_step = -1
        self._cache: dict[str, Any] = {}

    def cached(self, step: int, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` once per model ``step`` and ``key`` (treat the result as read-only)."""
        if self._cache_step != step:
            self._cache_step, self._cache = step, {}
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def observe_connected(self, conn: np.ndarray) -> None:
        np.maximum(self.conn_max, conn, out=self.conn_max)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


def cell_measurements(
    d: dict[str, np.ndarray], duration_s: float, conn_max: np.ndarray
) -> dict[str, np.ndarray]:
    t = max(duration_s, 1e-12)
    return {
        "DRB.UEThpDl": _ratio(d["bits_dl"], d["active_ue_s_dl"]) / 1e3,
        "DRB.UEThpUl": _ratio(d["bits_ul"], d["active_ue_s_ul"]) / 1e3,
        "RRU.PrbUsedDl": d["prb_dl_s"] / t,
        "RRU.PrbUsedUl": d["prb_ul_s"] / t,
        "RRU.PrbAvailDl": d["prb_avail_dl_s"] / t,
        "RRU.PrbAvailUl": d["prb_avail_ul_s"] / t,
        "RRU.PrbTotDl": 100.0 * _ratio(d["prb_dl_s"], d["prb_avail_dl_s"]),
        "RRU.PrbTotUl": 100.0 * _ratio(d["prb_ul_s"], d["prb_avail_ul_s"]),
        "RRC.ConnMean": d["conn_ue_s"] / t,
        "RRC.ConnMax": conn_max.copy(),
        "DRB.MeanActiveUeDl": d["active_ue_s_dl"] / t,
        "DRB.RlcSduDelayDl": _ratio(d["queue_bit_s_dl"], d["bits_dl"]) * 1e4,
        "DRB.PdcpSduDelayDl": _ratio(d["queue_bit_s_dl"], d["bits_dl"]) * 1e4,
        "DRB.RlcDelayUl": _ratio(d["queue_bit_s_ul"], d["bits_ul"]) * 1e4,
        "DRB.RlcSduTransmittedVolumeDL": d["bits_dl"] / 1e3,
        "DRB.RlcSduTransmittedVolumeUL": d["bits_ul"] / 1e3,
        "DRB.PdcpSduVolumeDL": d["bits_dl"] / 1e6,
        "DRB.PdcpSduVolumeUL": d["bits_ul"] / 1e6,
        "DRB.RlcPacketDropRateDl": _ratio(d["dropped_bits_dl"], d["offered_bits_dl"]),
        "RRU.PrbTot": 100.0 * _ratio(d["prb_dl_s"], d["prb_avail_dl_s"]),
        "MM.HoExeIntraReq": d["ho_attempted"].copy(),
        "MM.HoExeIntraSucc": d["ho_succeeded"].copy(),
        "Sim.HoPingPong": d["ho_ping_pong"].copy(),
        "Sim.RlfReestablish": d["reestablished"].copy(),
    }


def slice_measurements(d: dict[str, np.ndarray], duration_s: float) -> dict[str, np.ndarray]:
    t = max(duration_s, 1e-12)
    return {
        "DRB.UEThpDl": _ratio(d["bits_dl"], d["active_ue_s_dl"]) / 1e3,
        "DRB.UEThpUl": _ratio(d["bits_ul"], d["active_ue_s_ul"]) / 1e3,
        "RRU.PrbUsedDl": d["prb_dl_s"] / t,
        "RRU.PrbUsedUl": d["prb_ul_s"] / t,
        "RRC.ConnMean": d["conn_ue_s"] / t,
        "DRB.RlcSduDelayDl": _ratio(d["queue_bit_s_dl"], d["bits_dl"]) * 1e4,
        "DRB.PdcpSduDelayDl": _ratio(d["queue_bit_s_dl"], d["bits_dl"]) * 1e4,
        "DRB.RlcDelayUl": _ratio(d["queue_bit_s_ul"], d["bits_ul"]) * 1e4,
        "DRB.RlcSduTransmittedVolumeDL": d["bits_dl"] / 1e3,
        "DRB.RlcSduTransmittedVolumeUL": d["bits_ul"] / 1e3,
        "DRB.PdcpSduVolumeDL": d["bits_dl"] / 1e6,
        "DRB.PdcpSduVolumeUL": d["bits_ul"] / 1e6,
        "DRB.RlcPacketDropRateDl": _ratio(d["dropped_bits_dl"], d["offered_bits_dl"]),
    }


def ue_measurements(d: dict[str, np.ndarray], duration_s: float) -> dict[str, np.ndarray]:
    t = max(duration_s, 1e-12)
    return {
        "DRB.UEThpDl": _ratio(d["bits_dl"], d["active_s_dl"]) / 1e3,
        "DRB.UEThpUl": _ratio(d["bits_ul"], d["active_s_ul"]) / 1e3,
        "RRU.PrbUsedDl": d["prb_dl_s"] / t,
        "RRU.PrbUsedUl": d["prb_ul_s"] / t,
        "DRB.RlcSduDelayDl": _ratio(d["queue_bit_s_dl"], d["bits_dl"]) * 1e4,
        "DRB.PdcpSduDelayDl": _ratio(d["queue_bit_s_dl"], d["bits_dl"]) * 1e4,
        "DRB.RlcDelayUl": _ratio(d["queue_bit_s_ul"], d["bits_ul"]) * 1e4,
        "DRB.RlcSduTransmittedVolumeDL": d["bits_dl"] / 1e3,
        "DRB.RlcSduTransmittedVolumeUL": d["bits_ul"] / 1e3,
        "DRB.PdcpSduVolumeDL": d["bits_dl"] / 1e6,
        "DRB.PdcpSduVolumeUL": d["bits_ul"] / 1e6,
        "DRB.RlcPacketDropRateDl": _ratio(d["dropped_bits_dl"], d["offered_bits_dl"]),
        "SINR": d["sinr_db_s"] / t,
    }
