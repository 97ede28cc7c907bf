"""The ricxappframe ``rmr`` API at its edges, value for value as the ctypes wrapper over C librmr 4.9.4.

C librmr is not installable here, so the expected values come from reading the C library
(``rmr.h``, ``wrapper.c`` / ``rmr_get_consts``, ``rmr_si.c``, ``sr_si_static.c``, ``mbuf_api.c``,
``wormholes.c``) and ricxappframe 3.2.2's ``rmr.py`` / ``rmrclib.py`` (installed beside us); each test
names what it encodes. ricxappframe's own test suite asserts the same constant and state tables.
"""

from __future__ import annotations

import ctypes
import errno
from collections.abc import Iterator

import pytest

from ricproto.rmr import RmrContext, states
from ricproto.rmr import xappframe_backend as rmr
from ricproto.rmr import xappframe_clib as rmrclib

pytestmark = pytest.mark.timeout(60)

# rmr_get_consts (wrapper.c), in the order it writes them.
C_CONSTANTS = {
    "RMR_MAX_XID": 32,
    "RMR_MAX_SID": 32,
    "RMR_MAX_MEID": 32,
    "RMR_MAX_SRC": 64,
    "RMR_MAX_RCV_BYTES": 4096,
    "RMRFL_NONE": 0,
    "RMRFL_AUTO_ALLOC": 3,
    "RMRFL_MTCALL": 2,
    "RMR_DEF_SIZE": 0,
    "RMR_VOID_MSGTYPE": -1,
    "RMR_VOID_SUBID": -1,
    "RMR_OK": 0,
    "RMR_ERR_BADARG": 1,
    "RMR_ERR_NOENDPT": 2,
    "RMR_ERR_EMPTY": 3,
    "RMR_ERR_NOHDR": 4,
    "RMR_ERR_SENDFAILED": 5,
    "RMR_ERR_CALLFAILED": 6,
    "RMR_ERR_NOWHOPEN": 7,
    "RMR_ERR_WHID": 8,
    "RMR_ERR_OVERFLOW": 9,
    "RMR_ERR_RETRY": 10,
    "RMR_ERR_RCVFAILED": 11,
    "RMR_ERR_TIMEOUT": 12,
    "RMR_ERR_UNSET": 13,
    "RMR_ERR_TRUNC": 14,
    "RMR_ERR_INITFAILED": 15,
}


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RmrContext, RmrContext]]:
    monkeypatch.setenv("RMR_SRC_ID", "127.0.0.1")
    monkeypatch.delenv("RMR_SEED_RT", raising=False)
    monkeypatch.delenv("RMR_RTG_SVC", raising=False)
    monkeypatch.delenv("RMR_SRC_NAMEONLY", raising=False)
    a = rmr.rmr_init(b"tcp:0", rmr.RMR_MAX_RCV_BYTES, rmr.RMRFL_MTCALL)
    b = rmr.rmr_init(b"0", rmr.RMR_MAX_RCV_BYTES, rmr.RMRFL_MTCALL)
    a.load_routes(f"newrt|start\nrte|10|127.0.0.1:{b.port}\nrte|20|127.0.0.1:1\nnewrt|end\n")
    try:
        yield a, b
    finally:
        rmr.rmr_close(a)
        rmr.rmr_close(b)


# ---- the published tables ------------------------------------------------------------------------


def test_constants_are_exactly_what_rmr_get_consts_publishes() -> None:
    consts = rmrclib.get_constants()
    assert consts == C_CONSTANTS and list(consts) == list(C_CONSTANTS)
    assert "RMRFL_NAME_ONLY" not in consts and "RMR_ERR_NOTSUPP" not in consts
    consts["RMR_OK"] = 99  # the wrapper's cache never fills: callers get a new dict every time
    assert rmrclib.get_constants()["RMR_OK"] == 0


def test_state_map_holds_states_0_to_15_only() -> None:
    published = {v: k for k, v in C_CONSTANTS.items() if k[:7] in ("RMR_ERR", "RMR_OK")}
    assert rmrclib.get_mapping_dict() == published
    assert sorted(rmrclib.get_mapping_dict()) == list(range(16))
    assert rmrclib.state_to_status(0) == "RMR_OK" and rmrclib.state_to_status(12) == "RMR_ERR_TIMEOUT"
    assert rmrclib.state_to_status(16) == "UNKNOWN STATE"  # NOTSUPP is in rmr.h but not published
    assert rmrclib.state_to_status(666) == "UNKNOWN STATE"


def test_rmr_h_flag_values() -> None:
    assert (states.RMRFL_NONE, states.RMRFL_NOTHREAD, states.RMRFL_MTCALL) == (0x00, 0x01, 0x02)
    assert (states.RMRFL_AUTO_ALLOC, states.RMRFL_NAME_ONLY, states.RMRFL_NOLOCK) == (0x03, 0x04, 0x08)
    assert states.RMR_ERR_NOTSUPP == 16 and states.RMR_MAX_RCV_BYTES == 4096


def test_module_constants_are_the_wrappers() -> None:
    # rmr.py defines these seven from the table (and the eleven summary keys), nothing else.
    assert (rmr.RMR_MAX_RCV_BYTES, rmr.RMRFL_MTCALL, rmr.RMRFL_NONE, rmr.RMR_OK) == (4096, 2, 0, 0)
    assert (rmr.RMR_ERR_NOENDPT, rmr.RMR_ERR_RETRY, rmr.RMR_ERR_TIMEOUT) == (2, 10, 12)
    for absent in ("RMR_ERR_BADARG", "RMR_ERR_NOTSUPP", "RMR_ERR_WHID", "RMRFL_NAME_ONLY", "rmr_bytes2meid"):
        assert not hasattr(rmr, absent), absent  # code using them would break on the C wrapper
    keys = [
        rmr.RMR_MS_PAYLOAD,
        rmr.RMR_MS_PAYLOAD_LEN,
        rmr.RMR_MS_MSG_TYPE,
        rmr.RMR_MS_SUB_ID,
        rmr.RMR_MS_TRN_ID,
        rmr.RMR_MS_MSG_STATE,
        rmr.RMR_MS_MSG_STATUS,
        rmr.RMR_MS_PAYLOAD_MAX,
        rmr.RMR_MS_MEID,
        rmr.RMR_MS_MSG_SOURCE,
        rmr.RMR_MS_ERRNO,
    ]
    assert keys == [
        "payload",
        "payload length",
        "message type",
        "subscription id",
        "transaction id",
        "message state",
        "message status",
        "payload max size",
        "meid",
        "message source",
        "errno",
    ]


# ---- NULL context (rmr_si.c: every entry point tests ctx == NULL) -------------------------------


def test_alloc_on_a_null_context_raises_bad_buffer_allocation() -> None:
    with pytest.raises(rmr.BadBufferAllocation):
        rmr.rmr_alloc_msg(None, 4096)


def test_null_context_everywhere_else(pair: tuple[RmrContext, RmrContext]) -> None:
    a, _ = pair
    assert rmr.rmr_ready(None) == 0
    assert rmr.rmr_close(None) is None
    assert rmr.rmr_set_stimeout(None, 5) == -1
    assert rmr.rmr_wh_open(None, b"127.0.0.1:1") == -1
    assert rmr.rmr_wh_state(None, 0) == states.RMR_ERR_BADARG
    assert rmr.rmr_wh_close(None, 0) is None
    for send in (
        lambda b: rmr.rmr_send_msg(None, b),
        lambda b: rmr.rmr_rts_msg(None, b),
        lambda b: rmr.rmr_torcv_msg(None, b, 10),
        lambda b: rmr.rmr_rcv_msg(None, b),
    ):
        buf = rmr.rmr_alloc_msg(a, 16, payload=b"x", mtype=10)
        back = send(buf)
        assert back is buf and buf.contents.state == states.RMR_ERR_BADARG
        assert buf.contents.tp_state == errno.EINVAL  # these paths set tp_state = errno
    for call in (lambda b: rmr.rmr_call(None, b), lambda b: rmr.rmr_wh_send_msg(None, 0, b)):
        buf = rmr.rmr_alloc_msg(a, 16, payload=b"x", mtype=10)
        assert call(buf) is buf and buf.contents.state == states.RMR_ERR_BADARG
        assert buf.contents.tp_state == 0  # rmr_call and rmr_wh_send_msg leave tp_state alone


def test_ctypes_argument_checks(pair: tuple[RmrContext, RmrContext]) -> None:
    a, _ = pair
    with pytest.raises(ctypes.ArgumentError):
        rmr.rmr_init("4560", 4096, 0)  # c_char_p takes bytes, not str
    with pytest.raises(ctypes.ArgumentError):
        rmr.rmr_alloc_msg("not a context", 10)
    with pytest.raises(ctypes.ArgumentError):
        rmr.rmr_wh_open(a, "127.0.0.1:1")
    with pytest.raises(ctypes.ArgumentError):
        rmr.rmr_send_msg(a, object())
    with pytest.raises(ctypes.ArgumentError):
        rmr.rmr_torcv_msg(a, None, 1.5)


# ---- NULL buffers --------------------------------------------------------------------------------


def test_null_buffers(pair: tuple[RmrContext, RmrContext]) -> None:
    a, _ = pair
    assert not rmr.rmr_send_msg(a, None)  # C returns the NULL it was given
    assert not rmr.rmr_rts_msg(a, None)
    assert not rmr.rmr_call(a, None)
    assert not rmr.rmr_torcv_msg(a, None, 0)  # nothing queued and no buffer given: NULL
    assert rmr.rmr_payload_size(None) == -1
    assert rmr.rmr_get_meid(None) == b""
    assert rmr.rmr_get_src(None, ctypes.create_string_buffer(64)) is None
    assert rmr.rmr_free_msg(None) is None
    buf = rmr.rmr_alloc_msg(a, 8)
    assert rmr.rmr_get_src(buf, None) is None  # no destination: C copies nothing and returns NULL
    assert not rmr.rmr_realloc_payload(None, 10)
    assert not rmr.rmr_realloc_payload(buf, 0)  # payload_len <= 0: NULL
    with pytest.raises(ValueError):
        rmr.message_summary(rmr.NULL_MBUF)  # ctypes: NULL pointer access


# ---- rmr_init ------------------------------------------------------------------------------------


def test_init_sizes_and_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RMR_SEED_RT", raising=False)
    monkeypatch.delenv("RMR_RTG_SVC", raising=False)
    with pytest.raises(rmr.InitFailed):
        rmr.rmr_init(b"tcp:notaport", 4096, 0)
    small = rmr.rmr_init(b":0", 1500, 0)
    default = rmr.rmr_init(b"0", 0, 0)
    try:
        assert rmr.rmr_payload_size(rmr.rmr_alloc_msg(small, 0)) == 1500  # size <= 0: the normal size
        assert rmr.rmr_payload_size(rmr.rmr_alloc_msg(default, -5)) == 4096  # rmr_init 0: RMR_MAX_RCV_BYTES
        assert rmr.rmr_payload_size(rmr.rmr_alloc_msg(default, 10)) == 10
        assert not rmr.rmr_ready(default)  # no table yet
    finally:
        rmr.rmr_close(small)
        rmr.rmr_close(default)


def test_init_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RMR_SRC_ID", "xapp-one")
    monkeypatch.delenv("RMR_SRC_NAMEONLY", raising=False)
    monkeypatch.setenv("RMR_SEED_RT", "/nonexistent/seed.rt")
    monkeypatch.delenv("RMR_RTG_SVC", raising=False)
    named = rmr.rmr_init(b"0", 0, states.RMRFL_NAME_ONLY)
    quiet = rmr.rmr_init(b"0", 0, states.RMRFL_NOTHREAD)
    plain = rmr.rmr_init(b"0", 0, states.RMRFL_NONE | 0x100)  # bits above the user mask are dropped
    try:
        assert named.srcip == named.src == f"xapp-one:{named.port}"  # the name goes out as srcip
        assert plain.srcip != plain.src
        # no route-table collector: C installs an empty table, so the context is ready at once
        assert rmr.rmr_ready(quiet) == 1 and not rmr.rmr_ready(plain)
        assert quiet.route_table is not None and quiet.route_table.routes == {}
    finally:
        for ctx in (named, quiet, plain):
            rmr.rmr_close(ctx)


# ---- buffers -------------------------------------------------------------------------------------


def test_realloc_payload_follows_c(pair: tuple[RmrContext, RmrContext]) -> None:
    a, _ = pair
    buf = rmr.rmr_alloc_msg(a, 100, payload=b"abc", mtype=10, sub_id=5, meid=b"gnb")
    assert rmr.rmr_realloc_payload(buf, 50) is buf and rmr.get_payload(buf) == b"abc"  # fits: untouched
    grown = rmr.rmr_realloc_payload(buf, 200)  # no copy: length, mtype, sub_id dropped, header kept
    assert grown is buf and rmr.rmr_payload_size(buf) == 200
    assert (buf.contents.len, buf.contents.mtype, buf.contents.sub_id) == (0, -1, -1)
    assert rmr.rmr_get_meid(buf) == b"gnb"
    buf = rmr.rmr_alloc_msg(a, 10, payload=b"abc", mtype=10, sub_id=5)
    assert rmr.rmr_realloc_payload(buf, 300, copy=True) is buf
    assert (rmr.get_payload(buf), buf.contents.mtype, buf.contents.sub_id) == (b"abc", 10, 5)
    clone = rmr.rmr_realloc_payload(buf, 20, copy=True, clone=True)  # even smaller: a new buffer
    assert clone is not buf and rmr.rmr_payload_size(clone) == 300 and rmr.get_payload(clone) == b"abc"
    clone.contents.mtype = 77
    assert buf.contents.mtype == 10


def test_meid_is_cut_at_the_first_nul_and_limited(pair: tuple[RmrContext, RmrContext]) -> None:
    a, _ = pair
    buf = rmr.rmr_alloc_msg(a, 10)
    assert rmr.rmr_set_meid(buf, b"666\x01\x00\x01") == 6
    assert rmr.rmr_get_meid(buf) == b"666\x01"
    assert rmr.rmr_set_meid(buf, b"6" * 31) == 31 and rmr.rmr_get_meid(buf) == b"6" * 31
    with pytest.raises(rmr.MeidSizeOutOfRange):
        rmr.rmr_set_meid(buf, b"8" * 32)


def test_send_failure_keeps_the_buffer_and_reports_enxio(pair: tuple[RmrContext, RmrContext]) -> None:
    a, _ = pair
    buf = rmr.rmr_alloc_msg(a, 16, payload=b"keep", mtype=999, meid=b"gnb")
    back = rmr.rmr_send_msg(a, buf)
    assert back is buf and buf.contents.state == states.RMR_ERR_NOENDPT
    assert buf.contents.tp_state == errno.ENXIO  # no route table entry (mtosend_msg)
    assert (rmr.get_payload(buf), buf.contents.mtype, rmr.rmr_get_meid(buf)) == (b"keep", 999, b"gnb")


def test_rts_resets_the_buffer_but_keeps_the_sender(pair: tuple[RmrContext, RmrContext]) -> None:
    a, b = pair
    rmr.rmr_send_msg(a, rmr.rmr_alloc_msg(a, 64, payload=b"q", mtype=10, gen_transaction_id=True))
    rx = rmr.rmr_torcv_msg(b, None, 2000)
    assert rx.contents.state == rmr.RMR_OK
    back = rmr.rmr_rts_msg(b, rx, payload=b"first", mtype=11)
    assert back is rx and rx.contents.state == rmr.RMR_OK
    assert (rx.contents.len, rx.contents.mtype, rmr.get_xaction(rx)) == (0, -1, b"")
    assert rmr.get_src(rx) == a.src  # src is put back: the same buffer can be returned again
    again = rmr.rmr_rts_msg(b, rx, payload=b"second", mtype=12)
    assert again.contents.state == rmr.RMR_OK
    first, second = a.receive(2), a.receive(2)
    assert (first.mtype, first.payload, second.mtype, second.payload) == (11, b"first", 12, b"second")
    assert second.xid == bytes(32)  # the reset cleared the xid: C sends what the buffer holds


def test_torcv_poll_and_timeout(pair: tuple[RmrContext, RmrContext]) -> None:
    _, b = pair
    mine = rmr.rmr_alloc_msg(b, 10)
    mine.contents.tp_state = 5
    got = rmr.rmr_torcv_msg(b, mine, 0)  # one-shot poll
    assert got is mine and (mine.contents.state, mine.contents.len) == (rmr.RMR_ERR_TIMEOUT, 0)
    assert mine.contents.tp_state == 5  # a timeout does not touch tp_state


def test_wormhole_states(pair: tuple[RmrContext, RmrContext]) -> None:
    a, b = pair
    buf = rmr.rmr_alloc_msg(a, 8, payload=b"x", mtype=5)
    assert rmr.rmr_wh_send_msg(a, 0, buf).contents.state == states.RMR_ERR_NOWHOPEN
    assert rmr.rmr_wh_state(a, 0) == states.RMR_ERR_NOWHOPEN
    assert rmr.rmr_wh_open(a, b"") == -1
    whid = rmr.rmr_wh_open(a, f"127.0.0.1:{b.port}".encode())
    assert rmr.rmr_wh_state(a, whid + 7) == states.RMR_ERR_WHID
    assert rmr.rmr_wh_send_msg(a, whid + 7, buf).contents.state == states.RMR_ERR_WHID
    assert (
        rmr.rmr_wh_call(a, whid, rmr.rmr_alloc_msg(a, 8, payload=b"c", mtype=5), 0, 100).contents.state
        == states.RMR_ERR_BADARG
    )  # call-id 0 means "no call"
    sent = rmr.rmr_wh_send_msg(a, whid, buf)
    assert sent.contents.state == rmr.RMR_OK and sent.contents.len == 0  # reset like a routed send
    assert b.receive(2).payload == b"x"


def test_call_sends_the_xid_the_buffer_holds(pair: tuple[RmrContext, RmrContext]) -> None:
    a, b = pair
    buf = rmr.rmr_alloc_msg(a, 8, payload=b"c", mtype=10)  # no transaction id set
    assert not rmr.rmr_call(a, buf)  # nobody answers: NULL after the 1 s wait
    request = b.receive(2)
    assert request.xid == bytes(32) and request.call_id == 1 and request.flags & 0x04
