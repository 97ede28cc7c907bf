"""The RMR message as applications see it: what the header and payload of one frame carry."""

from __future__ import annotations

from dataclasses import dataclass, field

from ricproto.rmr.states import RMR_OK, SUB_ID_NONE

NO_XID = bytes(32)


@dataclass(slots=True, eq=False)
class RmrMessage:
    """One RMR message (decoded from a frame, or about to be sent).

    ``xid`` is always the raw 32-byte transaction id (NUL padded); ``call_id`` is data1[0];
    ``errno`` is the transport error of a failed send (ricxappframe's ``tp_state``); ``conn`` is the
    connection a received message arrived on (used by return-to-sender).
    """

    mtype: int
    payload: bytes
    sub_id: int = SUB_ID_NONE
    meid: str = ""
    xid: bytes = NO_XID
    src: str = ""
    srcip: str = ""
    state: int = RMR_OK
    trace: bytes = b""
    call_id: int = 0
    flags: int = 0
    version: int = 3
    errno: int = 0
    conn: object = field(default=None, repr=False)

    @property
    def xid_text(self) -> bytes:
        """The transaction id up to the first NUL (what ricxappframe's ``get_xaction`` returns)."""
        return self.xid.split(b"\0", 1)[0]
