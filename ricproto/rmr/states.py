"""RMR message states (``rmr.h`` of RMR 4.9.4) and the flags and limits the wire format uses."""

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

# Header flag bits (written in host order on the wire).
HFL_HAS_TRACE = 0x01
HFL_SUBID = 0x02
HFL_CALL_MSG = 0x04

# Field sizes of the version-3 header.
MAX_XID = 32
MAX_SID = 32
MAX_SRC = 64
MAX_MEID = 32

# Sizing hint ricxappframe passes to rmr_init (not a limit of the protocol).
RMR_MAX_RCV_BYTES = 2048

# rmr_init flags.
RMRFL_NONE = 0x00
RMRFL_MTCALL = 0x02
RMRFL_NAME_ONLY = 0x08

SUB_ID_NONE = -1


def state_name(state: int) -> str:
    """``RMR_OK``, ``RMR_ERR_RETRY``...; ``UNKNOWN STATE`` like ricxappframe for anything else."""
    return STATE_NAMES.get(state, "UNKNOWN STATE")
