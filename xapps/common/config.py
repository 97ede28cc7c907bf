"""The xApp descriptor as runtime configuration (``CONFIG_FILE``), with a watcher that survives the
Kubernetes ConfigMap update.

A ConfigMap volume file is a symlink through ``..data`` to a timestamped directory; an update swaps
the ``..data`` symlink and deletes the old directory, so an inotify IN_MODIFY watch on the file (what
ricxappframe does) never fires. The watcher here polls the *content* reached through the path (a
stat, plus a read and hash only when the stat changed), which sees in-place writes, renames and
symlink swaps alike. A file that fails to parse is counted and logged, and the last good config stays.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xapps.common.metrics import XappMetrics

ENV = "CONFIG_FILE"
DEFAULT_PATH = "/opt/ric/config/config-file.json"
log = logging.getLogger("xapps.common.config")


class ConfigError(ValueError):
    pass


def config_path() -> Path:
    return Path(os.environ.get(ENV) or DEFAULT_PATH)


def load_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    return data


def redis_url(ctl: dict[str, Any]) -> str:
    """SDL's Redis: ``TWINRIC_REDIS_URL``, ``controls.redis_url``, else OSC's ``DBAAS_SERVICE_*``."""
    explicit = os.environ.get("TWINRIC_REDIS_URL") or ctl.get("redis_url")
    if explicit:
        return str(explicit)
    host = os.environ.get("DBAAS_SERVICE_HOST")
    if host:
        port = os.environ.get("DBAAS_SERVICE_PORT", "6379").split(",")[0]
        return f"redis://{host.split(',')[0]}:{port}/0"
    return "redis://127.0.0.1:6379/0"


def controls(config: dict[str, Any]) -> dict[str, Any]:
    value = config.get("controls", {})
    return value if isinstance(value, dict) else {}


class ConfigWatcher:
    """Calls ``on_change(config)`` whenever the file's content changes to a valid JSON object."""

    def __init__(
        self,
        path: Path,
        on_change: Callable[[dict[str, Any]], None],
        metrics: XappMetrics,
        interval_s: float = 0.5,
    ) -> None:
        self.path = Path(path)
        self.on_change = on_change
        self.metrics = metrics
        self.interval_s = interval_s
        self._stat: tuple[int, int, int, int] | None = None
        self._digest: bytes | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.current: dict[str, Any] | None = None

    def _stat_key(self) -> tuple[int, int, int, int] | None:
        try:
            st = os.stat(self.path)  # follows symlinks: the target's identity changes on a swap
        except OSError:
            return None
        return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)

    def prime(self) -> dict[str, Any]:
        """Read the file once (at start); raises ConfigError when it is unusable."""
        self._stat = self._stat_key()
        raw = self.path.read_bytes() if self._stat else b""
        self.current = load_config(self.path)
        self._digest = hashlib.sha256(raw).digest()
        return self.current

    def poll(self) -> bool:
        """Check once; True when a new config was delivered."""
        key = self._stat_key()
        if key is None or key == self._stat:
            return False
        self._stat = key
        try:
            raw = self.path.read_bytes()
        except OSError:
            return False
        digest = hashlib.sha256(raw).digest()
        if digest == self._digest:
            return False
        try:
            config = load_config(self.path)
        except ConfigError as exc:
            self.metrics.error("config_invalid")
            log.error("config change ignored: %s", exc)
            self._digest = digest
            return False
        self._digest = digest
        self.current = config
        try:
            self.on_change(config)
        except Exception:
            self.metrics.error("config_handler_failed")
            log.exception("config handler failed")
        return True

    def start(self) -> ConfigWatcher:
        self._thread = threading.Thread(target=self._run, name="config-watcher", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.poll()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
