"""Start and stop child processes cleanly: own process group, TERM then KILL, nothing leaked."""

from __future__ import annotations

import atexit
import ctypes
import functools
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path

_LIVE: weakref.WeakSet[ManagedProcess] = weakref.WeakSet()


class ManagedProcess:
    """One child process in its own session, stopped with its whole process group.

    Output goes to ``log_path`` (created) when given, else it is discarded, so a chatty child can
    never block on a full pipe.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: str | Path | None = None,
        log_path: str | Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(os.environ if env is None else env)
        self.cwd = str(cwd) if cwd else None
        self.log_path = Path(log_path) if log_path else None
        self.popen: subprocess.Popen[bytes] | None = None
        self._log_file = None

    def start(self) -> ManagedProcess:
        if self.popen is not None:
            raise RuntimeError(f"{self.name} already started")
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = open(self.log_path, "ab")  # closed in stop()
        out = self._log_file if self._log_file else subprocess.DEVNULL
        # Only from the main thread: Linux sends the death signal when the *thread* that forked exits.
        main = threading.current_thread() is threading.main_thread()
        tie = functools.partial(_die_with_parent, os.getpid()) if main else None
        self.popen = subprocess.Popen(
            self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=tie,
        )
        _LIVE.add(self)
        return self

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def returncode(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the process group, wait up to ``timeout`` s, then SIGKILL it. Returns the exit code."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            _signal_group(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout)
        # Children that outlived the leader would be leaked; the group may still hold them.
        _signal_group(self.popen.pid, signal.SIGKILL)
        if self._log_file:
            self._log_file.close()
            self._log_file = None
        _LIVE.discard(self)
        return self.popen.returncode

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> ManagedProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _die_with_parent(parent: int) -> None:
    """In the child, before exec: get SIGTERM if the orchestrator dies, even by SIGKILL, so a killed
    `twinric up` or test run leaves no platform processes behind (Linux prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def pid_alive(pid: int | None) -> bool:
    """True while process ``pid`` runs; a zombie (exited, not yet reaped) counts as gone."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The state follows the parenthesised command name, which may itself hold spaces.
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:  # no procfs (or the process just went): kill(0) said it existed
        return True


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate()`` until it is truthy or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


@atexit.register
def _stop_leftovers() -> None:
    for proc in list(_LIVE):
        proc.stop(timeout=2.0)
