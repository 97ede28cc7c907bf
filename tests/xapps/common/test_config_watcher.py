"""The config watcher sees in-place writes and the Kubernetes ConfigMap ``..data`` symlink swap."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from xapps.common.config import ConfigError, ConfigWatcher, load_config
from xapps.common.metrics import XappMetrics


def configmap_dir(root: Path, version: str, content: dict) -> None:
    """Lay out (or update) a ConfigMap volume as kubelet does.

    ``..<ts>/file``, ``..data -> ..<ts>`` (swapped atomically on update), ``file -> ..data/file``.
    """
    stamp = root / f"..{version}"
    stamp.mkdir()
    (stamp / "config-file.json").write_text(json.dumps(content))
    tmp = root / "..data_tmp"
    tmp.symlink_to(stamp.name)
    os.replace(tmp, root / "..data")  # atomic swap of the ..data symlink
    link = root / "config-file.json"
    if not link.is_symlink():
        link.symlink_to("..data/config-file.json")


def test_symlink_swap_is_seen_and_the_old_directory_may_vanish(tmp_path):
    configmap_dir(tmp_path, "2026_01", {"controls": {"v": 1}})
    seen: list[dict] = []
    watcher = ConfigWatcher(tmp_path / "config-file.json", seen.append, XappMetrics("t"))
    assert watcher.prime()["controls"]["v"] == 1
    assert not watcher.poll()
    configmap_dir(tmp_path, "2026_02", {"controls": {"v": 2}})
    for old in (tmp_path / "..2026_01").iterdir():
        old.unlink()
    (tmp_path / "..2026_01").rmdir()
    assert watcher.poll()
    assert seen[-1]["controls"]["v"] == 2
    configmap_dir(tmp_path, "2026_03", {"controls": {"v": 3}})
    assert watcher.poll() and seen[-1]["controls"]["v"] == 3


def test_in_place_write_is_seen_and_identical_content_is_not_redelivered(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"a": 1}')
    seen: list[dict] = []
    watcher = ConfigWatcher(path, seen.append, XappMetrics("t"))
    watcher.prime()
    path.write_text('{"a": 2}')
    assert watcher.poll() and seen == [{"a": 2}]
    os.utime(path, ns=(1, 1))  # stat changes, content does not
    assert not watcher.poll() and len(seen) == 1


def test_content_read_at_prime_is_not_redelivered_when_only_the_stat_changes(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"a": 1}')
    seen: list[dict] = []
    watcher = ConfigWatcher(path, seen.append, XappMetrics("t"))
    assert watcher.prime() == {"a": 1}
    os.utime(path, ns=(1, 1))  # touched (a kubelet resync), same bytes as at start
    assert not watcher.poll() and seen == []


def test_invalid_json_is_counted_and_last_good_config_kept(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"a": 1}')
    metrics = XappMetrics("t")
    watcher = ConfigWatcher(path, lambda c: None, metrics)
    watcher.prime()
    path.write_text("{broken")
    assert not watcher.poll()
    assert watcher.current == {"a": 1}
    assert metrics.error_count("config_invalid") == 1


def test_watcher_thread_delivers(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"a": 1}')
    seen: list[dict] = []
    watcher = ConfigWatcher(path, seen.append, XappMetrics("t"), interval_s=0.02)
    watcher.prime()
    watcher.start()
    try:
        path.write_text('{"a": 22}')
        from twinric.processes import wait_until

        assert wait_until(lambda: seen == [{"a": 22}], 3)
    finally:
        watcher.stop()


def test_stop_gives_up_after_two_seconds_on_a_handler_that_hangs(tmp_path):
    """Shutdown is bounded: an on_change handler stuck past the bound does not hold the xApp's exit."""
    path = tmp_path / "c.json"
    path.write_text('{"a": 1}')
    entered, release = threading.Event(), threading.Event()

    def stuck(_config: dict) -> None:
        entered.set()
        release.wait(10)

    watcher = ConfigWatcher(path, stuck, XappMetrics("t"), interval_s=0.02)
    watcher.prime()
    watcher.start()
    try:
        path.write_text('{"a": 2}')
        assert entered.wait(5)
        started = time.monotonic()
        watcher.stop()
        assert 1.8 <= time.monotonic() - started < 2.7
    finally:
        release.set()


def test_load_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.json")
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(ConfigError, match="object"):
        load_config(tmp_path / "list.json")
