"""Fixtures of the control xApp tests: its shipped descriptor and the RAN inventory in it.

The helpers beside this file (``kpm_messages``, ``xapp_process``, ``platform_peer``) are importable by name.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from xapps.control.ran_view import RanInventory

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

DESCRIPTOR = Path(__file__).resolve().parents[3] / "xapps" / "control" / "config-file.json"


@pytest.fixture
def descriptor() -> dict[str, Any]:
    return json.loads(DESCRIPTOR.read_text())


@pytest.fixture
def inventory(descriptor) -> RanInventory:
    return RanInventory.from_config(descriptor["controls"]["ran"])
