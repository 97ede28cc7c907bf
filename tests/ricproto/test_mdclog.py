from __future__ import annotations

import io
import json
import logging
import time

import pytest

from ricproto import mdclog


def test_lines_are_mdclog_json() -> None:
    stream = io.StringIO()
    log = mdclog.configure("unit", "DEBUG", stream)
    before = int(time.time() * 1000)
    log.warning("cell %s overloaded", "c1", extra={"cell": "c1", "load": 0.97})
    record = json.loads(stream.getvalue().strip())
    assert set(record) == {"ts", "crit", "id", "mdc", "msg"}
    assert record["crit"] == "WARNING"
    assert record["id"] == "unit"
    assert record["msg"] == "cell c1 overloaded"
    assert record["mdc"]["cell"] == "c1" and record["mdc"]["load"] == 0.97
    assert before <= record["ts"] <= int(time.time() * 1000)


def test_level_filters_and_critical_maps_to_error() -> None:
    stream = io.StringIO()
    log = mdclog.configure("unit", "ERROR", stream)
    log.info("hidden")
    log.critical("shown")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["msg"] for line in lines] == ["shown"]
    assert lines[0]["crit"] == "ERROR"


def test_exception_text_is_kept() -> None:
    stream = io.StringIO()
    log = mdclog.configure("unit", logging.INFO, stream)
    try:
        raise KeyError("missing")
    except KeyError:
        log.exception("failed")
    record = json.loads(stream.getvalue())
    assert "KeyError: 'missing'" in record["msg"]


def test_unknown_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="DEBUG, INFO"):
        mdclog.parse_level("chatty")


def test_default_handler_follows_a_replaced_stderr(monkeypatch) -> None:
    log = mdclog.configure("unit", "INFO")
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    log.info("one")
    first.close()  # as a test runner closes its capture
    monkeypatch.setattr("sys.stderr", second)
    log.info("two")
    assert json.loads(second.getvalue())["msg"] == "two"
