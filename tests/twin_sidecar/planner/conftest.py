"""Planner tests: the helper models beside this file (``known_models``) are importable by name.

Each test runs with one torch intra-op thread: the search is a long chain of small ops, which OpenMP
spreads over threads only to wait on barriers, and on a machine shared with other jobs those waits
grow to milliseconds per op.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
