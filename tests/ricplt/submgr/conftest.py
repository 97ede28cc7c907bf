"""submgr tests share the e2term tests' helpers (test E2 node, process harness): make them importable."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (str(HERE), str(HERE.parent / "e2term")):
    if folder not in sys.path:
        sys.path.insert(0, folder)
