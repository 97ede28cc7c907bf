"""``python -m xapps.control`` refuses an unusable configuration with a clear message and exit code 2."""

from __future__ import annotations

import json
import os
import subprocess


def run(python_exe, config_file) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONFIG_FILE": str(config_file), "TWINRIC_RMR": "python"}
    return subprocess.run(
        [python_exe, "-m", "xapps.control"], env=env, capture_output=True, text=True, timeout=60
    )


def test_missing_config_file(python_exe, tmp_path):
    done = run(python_exe, tmp_path / "absent.json")
    assert done.returncode == 2
    assert "cannot start" in done.stdout + done.stderr and "absent.json" in done.stdout + done.stderr


def test_config_without_ran_inventory(python_exe, tmp_path, descriptor):
    del descriptor["controls"]["ran"]
    path = tmp_path / "c.json"
    path.write_text(json.dumps(descriptor))
    done = run(python_exe, path)
    assert done.returncode == 2 and "missing 'ran'" in done.stdout + done.stderr


def test_invalid_default_policy(python_exe, tmp_path, descriptor):
    descriptor["controls"]["defaults"] = {"cell_load_limit": 5}
    path = tmp_path / "c.json"
    path.write_text(json.dumps(descriptor))
    done = run(python_exe, path)
    assert done.returncode == 2 and "cell_load_limit" in done.stdout + done.stderr
