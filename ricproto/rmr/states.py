"""RMR message states (``rmr.h`` of RMR 4.9.4) and the flags and limits the wire format uses.

``STATE_NAMES`` holds every state ``rmr.h`` defines; ``PUBLISHED_STATE_NAMES`` holds the ones the C
library publishes through ``rmr_get_consts`` (0..15: ``RMR_ERR_NOTSUPP`` is not in that table), which
is what ricxappframe's state-name map and ``state_to_status`` are built from.
"""

from __future__ import annotations

RMR_OK = 0
RMR_ERR_BADARG = 1
RMR_ERR_NOENDPT = 2
RMR_ERR_EMPTY = 3
RMR_ERR_NOHDR = 4
RMR_ERR_SENDFAILED = 5
RMR_ERR_CALLFAILED = 6
RMR_ERR_NOWHOPEN = 7
RMR_ERR_WHID = 8
RMR_ERR_OVERFLOW = 9
RMR_ERR_RETRY = 10
RMR_ERR_RCVFAILED = 11
RMR_ERR_TIMEOUT = 12
RMR_ERR_UNSET = 13
RMR_ERR_TRUNC = 14
RMR_ERR_INITFAILED = 15
RMR_ERR_NOTSUPP = 16

STATE_NAMES: dict[int, str] = {
    value: name for name, value in globals().items() if name.startswith(("RMR_OK", "RMR_ERR_"))
}
PUBLISHED_STATE_NAMES: dict[int, str] = {v: n for v, n in STATE_NAMES.items() if v <= RMR_ERR_INITFAILED}

# Header flag bits (written in host order on the wire).
HFL_HAS_TRACE = 0x01
HFL_SUBID = 0x02
HFL_CALL_MSG = 0x04

# Field sizes of the version-3 header.
MAX_XID = 32
MAX_SID = 32
MAX_SRC = 64
MAX_MEID = 32

# The "normal" payload size: rmr_init's default when its size argument is <= 0, and what
# ricxappframe passes to rmr_init (a sizing hint, not a limit of the protocol).
RMR_MAX_RCV_BYTES = 4096
RMR_DEF_SIZE = 0  # rmr_alloc_msg size meaning "the context's normal size"
RMR_VOID_MSGTYPE = -1
RMR_VOID_SUBID = -1

# rmr_init flags (rmr.h). AUTO_ALLOC is 0x03, i.e. NOTHREAD | MTCALL as bits: RMR defines it so.
RMRFL_NONE = 0x00
RMRFL_NOTHREAD = 0x01
RMRFL_MTCALL = 0x02
RMRFL_AUTO_ALLOC = 0x03
RMRFL_NAME_ONLY = 0x04
RMRFL_NOLOCK = 0x08

SUB_ID_NONE = -1


def state_name(state: int) -> str:
    """``RMR_OK``, ``RMR_ERR_RETRY``...; ``UNKNOWN STATE`` like ricxappframe for anything else
    (including 16, which the C library does not publish)."""
    return PUBLISHED_STATE_NAMES.get(state, "UNKNOWN STATE")
