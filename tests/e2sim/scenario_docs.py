"""Small scenario documents for the e2sim tests (imported by path from the test modules)."""

from __future__ import annotations

import copy
from typing import Any

BASE: dict[str, Any] = {
    "name": "test",
    "seed": 3,
    "step_ms": 20,
    "channel_update_ms": 100,
    "topology": {
        "sites": 2,
        "sectors": 1,
        "isd_m": 300,
        "tx_power_dbm": 43,
        "bandwidth_mhz": 20,
        "scs_khz": 30,
    },
    "channel": {"model": "UMa", "shadowing_sigma_db": 4, "fast_fading": False},
    "handover": {
        "a3_offset_db": 3,
        "hysteresis_db": 1,
        "time_to_trigger_s": 0.16,
        "execution_delay_s": 0.05,
        "interruption_s": 0.03,
    },
    "slices": [
        {
            "name": "embb",
            "sst": 1,
            "sd": 1,
            "share": 0.7,
            "scheduler": "pf",
            "quota": {"min": 40, "max": 100, "dedicated": 0},
            "traffic": {"kind": "cbr", "rate_bps": 1.0e6},
            "mobility": {"kind": "static"},
        },
        {
            "name": "urllc",
            "sst": 2,
            "share": 0.3,
            "scheduler": "rr",
            "quota": {"min": 20, "max": 60, "dedicated": 10},
            "traffic": {"kind": "poisson", "packet_rate_hz": 50, "packet_bytes": 200},
            "mobility": {"kind": "static"},
        },
    ],
    "ues": {"count": 40, "buffer_bytes": 500000},
    "events": [],
}


def doc(**changes: Any) -> dict[str, Any]:
    """A copy of BASE with top-level keys replaced."""
    out = copy.deepcopy(BASE)
    out.update(copy.deepcopy(changes))
    return out
