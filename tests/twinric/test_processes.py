from __future__ import annotations

import os
import sys
import time

from twinric.processes import ManagedProcess, pid_alive, wait_until


def test_stop_kills_the_whole_group_including_grandchildren(tmp_path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    # The child spawns a grandchild that ignores SIGTERM, then waits forever.
    script = (
        "import subprocess, sys, time\n"
        "g = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(g.pid))\n"
        "time.sleep(600)\n"
    )
    proc = ManagedProcess("tree", [sys.executable, "-c", script], log_path=tmp_path / "tree.log").start()
    assert wait_until(lambda: pidfile.exists() and pidfile.read_text(), 10)
    grandchild = int(pidfile.read_text())
    assert pid_alive(grandchild)
    proc.stop(timeout=2)
    assert not proc.alive()
    assert wait_until(lambda: not pid_alive(grandchild), 5)


def test_output_goes_to_the_log(tmp_path) -> None:
    proc = ManagedProcess(
        "echo", [sys.executable, "-c", "print('hello from child')"], log_path=tmp_path / "echo.log"
    ).start()
    assert wait_until(lambda: not proc.alive(), 10)
    proc.stop()
    assert proc.returncode() == 0
    assert "hello from child" in proc.log_tail()


def test_sigterm_is_tried_before_sigkill(tmp_path) -> None:
    marker = tmp_path / "terminated"
    script = (
        "import signal, sys, time\n"
        f"signal.signal(signal.SIGTERM, lambda *a: (open({str(marker)!r}, 'w').write('x'), sys.exit(3)))\n"
        "time.sleep(600)\n"
    )
    proc = ManagedProcess("polite", [sys.executable, "-c", script]).start()
    time.sleep(0.5)  # let the child install its handler
    code = proc.stop(timeout=5)
    assert code == 3
    assert marker.exists()


def test_children_die_with_a_killed_orchestrator(tmp_path) -> None:
    """A `twinric up` (or a test run) killed by SIGKILL must not leave its platform processes running."""
    pidfile = tmp_path / "child.pid"
    orchestrator = (
        "import sys, time\n"
        "from twinric.processes import ManagedProcess\n"
        "p = ManagedProcess('sleeper', [sys.executable, '-c', 'import time; time.sleep(600)']).start()\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(600)\n"
    )
    parent = ManagedProcess("orchestrator", [sys.executable, "-c", orchestrator]).start()
    assert wait_until(lambda: pidfile.exists() and pidfile.read_text(), 20)
    child = int(pidfile.read_text())
    assert pid_alive(child)
    os.kill(parent.pid, 9)
    assert wait_until(lambda: not pid_alive(child), 10)
    parent.stop()
