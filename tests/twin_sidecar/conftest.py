"""Twin sidecar tests; the helpers beside this file (``known_mdp``) are importable by name."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import torch  # noqa: E402

# The networks here are small: one intra-op thread is faster than two fighting over a shared 2-core box.
torch.set_num_threads(1)
