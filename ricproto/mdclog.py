"""Structured JSON-lines logging in the format of O-RAN SC's mdclog (``mdclogpy``).

Each record is one JSON object on one line::

    {"ts": 1700000000123, "crit": "INFO", "id": "e2sim", "mdc": {"PID": 42}, "msg": "..."}

``ts`` is milliseconds since the epoch, ``crit`` one of DEBUG/INFO/WARNING/ERROR, ``id`` the
component name and ``mdc`` the mapped diagnostic context. Log collectors in an OSC RIC parse exactly
these keys, so our processes and ricxappframe's own logger produce interchangeable lines.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, TextIO

LEVELS: dict[str, int] = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}

# Attributes every LogRecord has; anything else passed with ``extra=`` goes into ``mdc``.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def crit_name(levelno: int) -> str:
    """The mdclog severity name for a logging level number (mdclog has no CRITICAL: it is ERROR)."""
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARNING"
    if levelno >= logging.INFO:
        return "INFO"
    return "DEBUG"


class MdcJsonFormatter(logging.Formatter):
    """Formats a ``LogRecord`` as one mdclog JSON line.

    Keys passed with ``logger.info(..., extra={...})`` become MDC entries, as do the static
    ``mdc`` entries given at construction (for example the process id).
    """

    def __init__(self, component: str, mdc: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.component = component
        self.static_mdc = dict(mdc or {})

    def format(self, record: logging.LogRecord) -> str:
        mdc = dict(self.static_mdc)
        mdc["logger"] = record.name
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                plain = isinstance(value, str | int | float | bool) or value is None
                mdc[key] = value if plain else str(value)
        msg = record.getMessage()
        if record.exc_info:
            msg = f"{msg}\n{self.formatException(record.exc_info)}"
        line = {
            "ts": int(record.created * 1000),
            "crit": crit_name(record.levelno),
            "id": self.component,
            "mdc": mdc,
            "msg": msg,
        }
        return json.dumps(line, separators=(",", ":"), default=str)


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time, so a replaced stderr (a test runner's
    capture, a daemonised process) never leaves log lines pointed at a closed file."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def parse_level(name: str) -> int:
    """Turn a level name (any case) into a logging level; raise ValueError with the choices."""
    try:
        return LEVELS[name.upper()]
    except KeyError:
        raise ValueError(f"unknown log level {name!r}; choose one of {', '.join(LEVELS)}") from None


def configure(component: str, level: str | int = "INFO", stream: TextIO | None = None) -> logging.Logger:
    """Send all logging of this process as mdclog JSON lines to ``stream`` (stderr by default).

    Replaces the root logger's handlers so that a process configured twice does not log twice.
    """
    levelno = parse_level(level) if isinstance(level, str) else level
    handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderrHandler()
    handler.setFormatter(MdcJsonFormatter(component, {"PID": os.getpid()}))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(levelno)
    return logging.getLogger(component)
