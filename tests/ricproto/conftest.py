"""pycrate as an independent APER reference: ASN.1 text compiled with pycrate's compiler at test time."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
OWN_E2SM = REPO / "ricproto" / "e2sm" / "asn"


def compile_with_pycrate(texts: list[str], out_dir: Path) -> dict[str, Any]:
    """Compile ASN.1 ``texts`` with pycrate; {ASN.1 module name: generated module class}."""
    from pycrate_asn1c.asnproc import GLOBAL, PycrateGenerator, compile_text, generate_modules

    GLOBAL.clear()  # pycrate's compiler keeps its modules in one global table
    try:
        compile_text(texts)
        target = out_dir / "pycrate_generated.py"
        generate_modules(PycrateGenerator, str(target))
    finally:
        GLOBAL.clear()
    spec = importlib.util.spec_from_file_location(f"pycrate_generated_{id(texts)}", target)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = re.findall(r"^class (\w+)", target.read_text(), re.M)
    return {name: getattr(module, name) for name in names if not name.startswith("_")}


@pytest.fixture(scope="session")
def pycrate_compile(tmp_path_factory: pytest.TempPathFactory) -> Callable[[list[str]], dict[str, Any]]:
    def run(texts: list[str]) -> dict[str, Any]:
        return compile_with_pycrate(texts, tmp_path_factory.mktemp("pycrate"))

    return run


@pytest.fixture(scope="session")
def pycrate_kpm(pycrate_compile: Callable[[list[str]], dict[str, Any]]) -> Any:
    """The project's own E2SM common + KPM v3 modules compiled by pycrate (E2SM_KPM_IEs)."""
    texts = [(OWN_E2SM / "e2sm_common.asn").read_text(), (OWN_E2SM / "e2sm_kpm_v3.asn").read_text()]
    return pycrate_compile(texts)["E2SM_KPM_IEs"]
