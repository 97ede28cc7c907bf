"""Stand-in for ``ricxappframe.rmr.rmrclib.rmrclib`` when RMR runs in Python (no ``librmr_si.so``).

The real module loads the C library at import and reads its constants table (``rmr_get_consts``,
a JSON object built in ``wrapper.c``); this one publishes the same table, with the same keys in the
same order and RMR 4.9.4's values, and the same helper functions on top of it. The table has no
``RMRFL_NAME_ONLY`` (C does not publish it) and no state 16 (``RMR_ERR_NOTSUPP`` is defined in
``rmr.h`` but not published), so ricxappframe's state-name map holds exactly states 0..15.
"""

from __future__ import annotations

from ricproto.rmr import states

# There is no C library: anything that reaches for it gets a clear error instead of a segfault.
rmr_c_lib = None

# (name, value) in the order rmr_get_consts writes them.
_PUBLISHED: tuple[tuple[str, int], ...] = (
    ("RMR_MAX_XID", states.MAX_XID),
    ("RMR_MAX_SID", states.MAX_SID),
    ("RMR_MAX_MEID", states.MAX_MEID),
    ("RMR_MAX_SRC", states.MAX_SRC),
    ("RMR_MAX_RCV_BYTES", states.RMR_MAX_RCV_BYTES),
    ("RMRFL_NONE", states.RMRFL_NONE),
    ("RMRFL_AUTO_ALLOC", states.RMRFL_AUTO_ALLOC),
    ("RMRFL_MTCALL", states.RMRFL_MTCALL),
    ("RMR_DEF_SIZE", states.RMR_DEF_SIZE),
    ("RMR_VOID_MSGTYPE", states.RMR_VOID_MSGTYPE),
    ("RMR_VOID_SUBID", states.RMR_VOID_SUBID),
    *((name, value) for value, name in sorted(states.PUBLISHED_STATE_NAMES.items())),
)


def get_constants(cache: dict | None = None) -> dict[str, int]:
    """The constants RMR publishes: a new dict on every call, as the wrapper's (its cache never fills)."""
    return dict(_PUBLISHED)


def get_mapping_dict(cache: dict | None = None) -> dict[int, str]:
    """State number -> ``RMR_OK`` / ``RMR_ERR_...`` name, for the published states only."""
    return {value: name for name, value in _PUBLISHED if name[:7] in ("RMR_ERR", "RMR_OK")}


def state_to_status(stateno: int) -> str:
    """The state's name; ``UNKNOWN STATE`` for anything the map does not hold."""
    return states.state_name(stateno)
