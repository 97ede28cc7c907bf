"""The ricxappframe ``rmr`` API on the Python RMR: quirks kept, and the import route into ricxappframe."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from ricproto.rmr import RmrContext, import_hook
from ricproto.rmr import xappframe_backend as rmr

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RmrContext, RmrContext]]:
    monkeypatch.setenv("RMR_SRC_ID", "127.0.0.1")
    monkeypatch.delenv("RMR_SEED_RT", raising=False)
    monkeypatch.delenv("RMR_RTG_SVC", raising=False)
    a = rmr.rmr_init(b"tcp:0", rmr.RMR_MAX_RCV_BYTES, rmr.RMRFL_MTCALL)
    b = rmr.rmr_init(b"0", rmr.RMR_MAX_RCV_BYTES, rmr.RMRFL_MTCALL)
    a.load_routes(f"newrt|start\nrte|10|127.0.0.1:{b.port}\nrte|20|127.0.0.1:1\nnewrt|end\n")
    try:
        yield a, b
    finally:
        rmr.rmr_close(a)
        rmr.rmr_close(b)


def test_alloc_keeps_the_truthiness_quirks(pair: tuple[RmrContext, RmrContext]) -> None:
    a, _ = pair
    sbuf = rmr.rmr_alloc_msg(a, 100, payload=b"abc", mtype=0, sub_id=0, meid=b"gnb1", gen_transaction_id=True)
    assert sbuf.contents.mtype == -1 and sbuf.contents.sub_id == -1  # 0 ignored, like ricxappframe
    assert sbuf.contents.len == 3 and rmr.get_payload(sbuf) == b"abc"
    assert rmr.rmr_payload_size(sbuf) == 100
    assert len(rmr.get_xaction(sbuf)) == 32  # uuid1().hex: all 32 bytes, no NUL
    assert rmr.rmr_get_meid(sbuf) == b"gnb1"
    assert rmr.get_src(sbuf) == a.src
    with pytest.raises(rmr.MeidSizeOutOfRange):
        rmr.rmr_set_meid(sbuf, b"m" * 32)
    rmr.set_payload_and_length(b"x" * 500, sbuf)  # grows like the wrapper's realloc
    assert rmr.rmr_payload_size(sbuf) >= 500 and rmr.get_payload(sbuf) == b"x" * 500


def test_summary_keys_and_send_resets_the_buffer(pair: tuple[RmrContext, RmrContext]) -> None:
    a, b = pair
    sbuf = rmr.rmr_alloc_msg(
        a, 64, payload=b"hello", mtype=10, sub_id=7, meid=b"gnb2", fixed_transaction_id=b"T" * 40
    )
    after = rmr.rmr_send_msg(a, sbuf)
    # C re-initialises the sent mbuf for the next message (alloc_zcmsg on the same struct)
    assert after.contents.state == rmr.RMR_OK
    assert (after.contents.len, after.contents.mtype, after.contents.sub_id) == (0, -1, -1)
    assert rmr.get_xaction(after) == b"" and rmr.rmr_get_meid(after) == b""
    assert rmr.rmr_payload_size(after) == rmr.RMR_MAX_RCV_BYTES  # room for the context's normal size
    mbuf = rmr.rmr_torcv_msg(b, rmr.rmr_alloc_msg(b, 4096), 2000)
    summary = rmr.message_summary(mbuf)
    assert summary == {
        "payload": b"hello",
        "payload length": 5,
        "message type": 10,
        "subscription id": 7,
        "transaction id": b"T" * 32,
        "message state": 0,
        "message status": "RMR_OK",
        # the room C's receive accumulator leaves: normal size (4096) + 1088
        "payload max size": 5184,
        "meid": b"gnb2",
        "message source": a.src,
        "errno": 0,
    }
    failed = rmr.rmr_send_msg(a, rmr.rmr_alloc_msg(a, 8, payload=b"x", mtype=99))
    assert failed.contents.state == rmr.RMR_ERR_NOENDPT  # same buffer, with the state
    assert rmr.message_summary(failed)["message status"] == "RMR_ERR_NOENDPT"
    assert rmr.message_summary(failed)["payload"] is None


def test_torcv_timeout_returns_the_callers_buffer(pair: tuple[RmrContext, RmrContext]) -> None:
    _, b = pair
    mine = rmr.rmr_alloc_msg(b, 4096)
    got = rmr.rmr_torcv_msg(b, mine, 50)
    assert got is mine and got.contents.state == rmr.RMR_ERR_TIMEOUT == 12 and got.contents.len == 0


def test_rts_returns_the_same_buffer_and_call_gives_null_on_timeout(
    pair: tuple[RmrContext, RmrContext],
) -> None:
    a, b = pair
    rmr.rmr_send_msg(a, rmr.rmr_alloc_msg(a, 64, payload=b"q", mtype=10, gen_transaction_id=True))
    rx = rmr.rmr_torcv_msg(b, None, 2000)
    xid = rmr.get_xaction(rx)
    back = rmr.rmr_rts_msg(b, rx, payload=b"answer", mtype=11)
    assert back is rx and back.contents.state == rmr.RMR_OK
    reply = a.receive(2)
    assert (reply.mtype, reply.payload, reply.xid_text) == (11, b"answer", xid)
    null = rmr._call(a, rmr.rmr_alloc_msg(a, 8, payload=b"c", mtype=10), None, None, 100)
    assert not null
    with pytest.raises(ValueError):
        null.contents  # noqa: B018 - a NULL POINTER raises on access, like ctypes
    failed = rmr.rmr_call(a, rmr.rmr_alloc_msg(a, 8, payload=b"c", mtype=20))
    assert failed and failed.contents.state == rmr.RMR_ERR_NOENDPT


def test_wormhole_api(pair: tuple[RmrContext, RmrContext]) -> None:
    a, b = pair
    whid = rmr.rmr_wh_open(a, f"127.0.0.1:{b.port}".encode())
    assert whid >= 0 and rmr.rmr_wh_state(a, whid) == rmr.RMR_OK
    sbuf = rmr.rmr_wh_send_msg(a, whid, rmr.rmr_alloc_msg(a, 16, payload=b"wh", mtype=110))
    assert sbuf.contents.state == rmr.RMR_OK
    assert rmr.message_summary(rmr.rmr_torcv_msg(b, None, 2000))["payload"] == b"wh"
    rmr.rmr_wh_close(a, whid)
    assert rmr.rmr_wh_state(a, whid) != rmr.RMR_OK


def test_rmr_mocks_still_patch_the_module(monkeypatch: pytest.MonkeyPatch) -> None:
    import ricxappframe.rmr.rmr as framework_rmr

    if getattr(framework_rmr, "BACKEND", "c") != "python":
        pytest.skip("ricxappframe runs on the C library in this environment")
    from ricxappframe.rmr.rmr_mocks import rmr_mocks

    rmr_mocks.patch_rmr(monkeypatch)
    sbuf = framework_rmr.rmr_alloc_msg(None, 10, payload=b"mocked", mtype=5)
    assert framework_rmr.get_payload(sbuf) == b"mocked" and framework_rmr.get_src(sbuf) == "localtest:80"
    assert rmr.get_payload is framework_rmr.get_payload  # one module object: patches reach the backend


def run_fresh(code: str, python: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "TWINRIC_RMR"}
    full_env.update(env)
    return subprocess.run([python, "-c", code], capture_output=True, text=True, env=full_env, timeout=60)


def test_installed_pth_matches_the_shipped_one() -> None:
    shipped = Path(import_hook.__file__).with_name(import_hook.PTH_NAME).read_text()
    assert shipped == import_hook.PTH_LINE
    installed = Path(sysconfig.get_paths()["purelib"]) / import_hook.PTH_NAME
    assert installed.is_file(), (
        f"{installed} is missing: run `python -m ricproto.rmr.import_hook` after `pip install -e .` "
        "(non-editable installs get it from the wheel's data files)"
    )
    assert installed.read_text() == import_hook.PTH_LINE


@pytest.mark.parametrize("choice", ["python", "auto", ""])
def test_plain_import_of_xapp_frame_works_without_librmr(python_exe: str, choice: str) -> None:
    try:
        ctypes.CDLL("librmr_si.so")
        pytest.skip("librmr_si.so is installed here: auto would pick the C library")
    except OSError:
        pass
    code = (
        "import ricxappframe.xapp_frame as xf; from ricxappframe.rmr import rmr, helpers;"
        "from ricxappframe.rmr.rmrclib import rmrclib; from ricxappframe.alarm import alarm;"
        "print(rmr.BACKEND, rmr.RMR_ERR_TIMEOUT, rmrclib.state_to_status(10), xf.RMRXapp.__name__)"
    )
    result = run_fresh(code, python_exe, TWINRIC_RMR=choice)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["python", "12", "RMR_ERR_RETRY", "RMRXapp"]


def test_twinric_rmr_c_leaves_the_c_wrapper_alone(python_exe: str) -> None:
    try:
        ctypes.CDLL("librmr_si.so")
        pytest.skip("librmr_si.so is installed here")
    except OSError:
        pass
    result = run_fresh("import ricxappframe.xapp_frame", python_exe, TWINRIC_RMR="c")
    assert result.returncode != 0 and "librmr_si.so" in result.stderr


def test_framework_alarm_and_metric_clients_run_on_it(
    pair: tuple[RmrContext, RmrContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from ricxappframe.alarm.alarm import AlarmManager, AlarmSeverity
    from ricxappframe.metric.metric import MetricData, MetricsManager

    a, b = pair
    monkeypatch.setenv("ALARM_MGR_SERVICE_NAME", "127.0.0.1")
    monkeypatch.setenv("ALARM_MGR_SERVICE_PORT", str(b.port))
    alarms = AlarmManager(a, "gnb-7", "twinric-test")
    assert alarms.raise_alarm(alarms.create_alarm(1234, AlarmSeverity.MAJOR, "cell 3", "overload"))
    alarm = b.receive(2)
    assert alarm.mtype == 110
    body = json.loads(alarm.payload)
    assert body["managedObjectId"] == "gnb-7" and body["AlarmAction"] == "RAISE"
    a.load_routes(f"newrt|start\nrte|120|127.0.0.1:{b.port}\nnewrt|end\n")
    metrics_client = MetricsManager(a, "twinric", "test")
    assert metrics_client.send_metrics([MetricData("prb_use", "0.7", "gauge")])
    report = b.receive(2)
    assert report.mtype == 120 and json.loads(report.payload)["data"][0]["id"] == "prb_use"
