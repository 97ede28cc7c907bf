"""Where the online planner gets the target policy's Q-network from: a small provider interface.

The planner only needs "the Q-network to plan with now, and its version". The learner (or whatever
wires it into the sidecar) publishes its target network into a :class:`PublishedQ`; until something is
published the planner plans with a uniform prior and zero leaf values, i.e. on the model's rewards
alone (:class:`UniformQ`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import torch
from torch import Tensor

from twin_sidecar.planner.model import QNetwork

UNIFORM_VERSION = "uniform"


class QSource(Protocol):
    """``current() -> (q_network or None, version)``: the Q-network to plan with, None = none yet."""

    def current(self) -> tuple[QNetwork | None, str]: ...


class UniformQ:
    """``q(obs [B, D]) -> zeros [B, A]``: a uniform prior and a leaf value of 0 (rewards alone count)."""

    def __init__(self, n_actions: int) -> None:
        self.n_actions = n_actions

    def __call__(self, obs: Tensor) -> Tensor:
        return torch.zeros(obs.shape[0], self.n_actions, dtype=obs.dtype)


class PublishedQ:
    """A slot the learner publishes its target Q-network into (swapped atomically under a lock).

    Publish a network that is no longer trained in place (a copy, or a target network between its
    refreshes): the planner evaluates it from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._q: QNetwork | None = None
        self._version = UNIFORM_VERSION

    def publish(self, q: QNetwork, version: str) -> None:
        with self._lock:
            self._q, self._version = q, version

    def clear(self) -> None:
        with self._lock:
            self._q, self._version = None, UNIFORM_VERSION

    def current(self) -> tuple[QNetwork | None, str]:
        with self._lock:
            return self._q, self._version


class FollowedQ:
    """A :class:`QSource` that follows a learner: ``read() -> (network, version) | None`` hands out a
    frozen copy of its current network, and is asked at most once per ``refresh_s`` (copying a network
    on every plan would eat the plan's budget); until it has one, none (the planner goes uniform)."""

    def __init__(self, read: Callable[[], tuple[QNetwork, str] | None], refresh_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._read, self._refresh_s, self._clock = read, refresh_s, clock
        self._lock = threading.Lock()
        self._q: QNetwork | None = None
        self._version = UNIFORM_VERSION
        self._next_read = float("-inf")

    def current(self) -> tuple[QNetwork | None, str]:
        with self._lock:
            now = self._clock()
            if now >= self._next_read:
                self._next_read = now + self._refresh_s
                got = self._read()
                if got is not None:
                    self._q, self._version = got
            return self._q, self._version
