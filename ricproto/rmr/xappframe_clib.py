"""Stand-in for ``ricxappframe.rmr.rmrclib.rmrclib`` when RMR runs in Python (no ``librmr_si.so``).

The real module loads the C library at import and reads its constants table; this one publishes
the same constants (values of RMR 4.9.4's ``rmr_get_consts``) and the same helper functions.
"""

from __future__ import annotations

from ricproto.rmr import states

# There is no C library: anything that reaches for it gets a clear error instead of a segfault.
rmr_c_lib = None

_CONSTANTS: dict[str, int] = {
    "RMR_MAX_XID": states.MAX_XID,
    "RMR_MAX_SID": states.MAX_SID,
    "RMR_MAX_MEID": states.MAX_MEID,
    "RMR_MAX_SRC": states.MAX_SRC,
    "RMR_MAX_RCV_BYTES": states.RMR_MAX_RCV_BYTES,
    "RMRFL_NONE": states.RMRFL_NONE,
    "RMRFL_MTCALL": states.RMRFL_MTCALL,
    "RMRFL_NAME_ONLY": states.RMRFL_NAME_ONLY,
    "RMR_DEF_SIZE": 0,
    "RMR_VOID_MSGTYPE": -1,
    "RMR_VOID_SUBID": -1,
    **{name: value for value, name in states.STATE_NAMES.items()},
}


def get_constants(cache: dict | None = None) -> dict[str, int]:
    """The constants RMR publishes (a fresh copy each call; callers may not mutate ours)."""
    return dict(_CONSTANTS)


def get_mapping_dict(cache: dict | None = None) -> dict[int, str]:
    """State number -> ``RMR_OK`` / ``RMR_ERR_...`` name."""
    return dict(states.STATE_NAMES)


def state_to_status(stateno: int) -> str:
    return states.state_name(stateno)
