"""3GPP TS 28.552 (and O-RAN KPM) measurement names that twinric reports and subscribes to.

Units follow the common reading of 28.552 used by O-RAN KPM implementations; they are what the
simulator puts in the reports and what the xApps assume when they read them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MeasurementName:
    name: str
    unit: str
    meaning: str
    ue_level: bool = True  # may also be reported per UE (KPM report styles 2-5)


DRB_UE_THP_DL = "DRB.UEThpDl"
DRB_UE_THP_UL = "DRB.UEThpUl"
RRU_PRB_USED_DL = "RRU.PrbUsedDl"
RRU_PRB_USED_UL = "RRU.PrbUsedUl"
RRU_PRB_AVAIL_DL = "RRU.PrbAvailDl"
RRU_PRB_AVAIL_UL = "RRU.PrbAvailUl"
RRU_PRB_TOT_DL = "RRU.PrbTotDl"
RRU_PRB_TOT_UL = "RRU.PrbTotUl"
RRC_CONN_MEAN = "RRC.ConnMean"
RRC_CONN_MAX = "RRC.ConnMax"
DRB_MEAN_ACTIVE_UE_DL = "DRB.MeanActiveUeDl"
DRB_RLC_SDU_DELAY_DL = "DRB.RlcSduDelayDl"
DRB_RLC_SDU_TRANSMITTED_VOLUME_DL = "DRB.RlcSduTransmittedVolumeDL"
DRB_RLC_SDU_TRANSMITTED_VOLUME_UL = "DRB.RlcSduTransmittedVolumeUL"
DRB_RLC_PACKET_DROP_RATE_DL = "DRB.RlcPacketDropRateDl"
TB_TOT_NBR_DL = "TB.TotNbrDl"
TB_ERR_TOT_NBR_DL = "TB.ErrTotalNbrDl"
CQI = "CQI"
RSRP = "RSRP"
RSRQ = "RSRQ"
L1M_DL_SS_RSRP_SSB = "L1M.DL-SS-RSRP.SSB"
L1M_DL_SS_SINR_SSB = "L1M.DL-SS-SINR.SSB"
PEE_AVG_POWER = "PEE.AvgPower"
PEE_ENERGY = "PEE.Energy"
MM_HO_EXE_INTRA_REQ = "MM.HoExeIntraReq"
MM_HO_EXE_INTRA_SUCC = "MM.HoExeIntraSucc"

CATALOG: tuple[MeasurementName, ...] = (
    MeasurementName(DRB_UE_THP_DL, "kbit/s", "mean DL UE throughput"),
    MeasurementName(DRB_UE_THP_UL, "kbit/s", "mean UL UE throughput"),
    MeasurementName(RRU_PRB_USED_DL, "PRB", "mean DL PRBs used"),
    MeasurementName(RRU_PRB_USED_UL, "PRB", "mean UL PRBs used"),
    MeasurementName(RRU_PRB_AVAIL_DL, "PRB", "DL PRBs available", ue_level=False),
    MeasurementName(RRU_PRB_AVAIL_UL, "PRB", "UL PRBs available", ue_level=False),
    MeasurementName(RRU_PRB_TOT_DL, "%", "total DL PRB usage", ue_level=False),
    MeasurementName(RRU_PRB_TOT_UL, "%", "total UL PRB usage", ue_level=False),
    MeasurementName(RRC_CONN_MEAN, "UE", "mean RRC-connected UEs", ue_level=False),
    MeasurementName(RRC_CONN_MAX, "UE", "max RRC-connected UEs", ue_level=False),
    MeasurementName(DRB_MEAN_ACTIVE_UE_DL, "UE", "mean active DL UEs", ue_level=False),
    MeasurementName(DRB_RLC_SDU_DELAY_DL, "0.1 ms", "average DL RLC SDU delay"),
    MeasurementName(DRB_RLC_SDU_TRANSMITTED_VOLUME_DL, "kbit", "DL RLC SDU volume"),
    MeasurementName(DRB_RLC_SDU_TRANSMITTED_VOLUME_UL, "kbit", "UL RLC SDU volume"),
    MeasurementName(DRB_RLC_PACKET_DROP_RATE_DL, "0.1 %", "DL RLC packet drop rate"),
    MeasurementName(TB_TOT_NBR_DL, "TB", "DL transport blocks"),
    MeasurementName(TB_ERR_TOT_NBR_DL, "TB", "erroneous DL transport blocks"),
    MeasurementName(CQI, "index", "channel quality indicator (srsRAN UE-level name)"),
    MeasurementName(RSRP, "dBm", "reference signal received power (srsRAN UE-level name)"),
    MeasurementName(RSRQ, "dB", "reference signal received quality (srsRAN UE-level name)"),
    MeasurementName(L1M_DL_SS_RSRP_SSB, "dBm", "SS-RSRP per SSB"),
    MeasurementName(L1M_DL_SS_SINR_SSB, "dB", "SS-SINR per SSB"),
    MeasurementName(PEE_AVG_POWER, "W", "mean power consumption", ue_level=False),
    MeasurementName(PEE_ENERGY, "kWh", "energy consumption", ue_level=False),
    MeasurementName(MM_HO_EXE_INTRA_REQ, "count", "intra-gNB handover executions requested", False),
    MeasurementName(MM_HO_EXE_INTRA_SUCC, "count", "intra-gNB handover executions succeeded", False),
)

BY_NAME: dict[str, MeasurementName] = {m.name: m for m in CATALOG}

# What a cell-level (format 1) report carries by default, and what a per-UE report carries.
CELL_DEFAULT: tuple[str, ...] = (DRB_UE_THP_DL, DRB_UE_THP_UL, RRU_PRB_USED_DL, RRU_PRB_AVAIL_DL)
UE_DEFAULT: tuple[str, ...] = (DRB_UE_THP_DL, RRU_PRB_USED_DL, CQI, RSRP)
