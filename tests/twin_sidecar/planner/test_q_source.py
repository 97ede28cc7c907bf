"""FollowedQ: the planner follows the learner's network, copied at most once per refresh interval."""
from __future__ import annotations

from types import SimpleNamespace

import torch

from twin_sidecar.app import learner_q
from twin_sidecar.planner.q_source import UNIFORM_VERSION, FollowedQ


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_uniform_until_the_learner_has_a_network_then_refreshed_at_most_once_per_interval() -> None:
    clock, reads, handed = Clock(), [], [None]

    def read():
        reads.append(clock.t)
        return handed[0]

    followed = FollowedQ(read, refresh_s=5.0, clock=clock)
    assert followed.current() == (None, UNIFORM_VERSION)  # no updates yet: the planner goes uniform
    net_a, net_b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    handed[0] = (net_a, "learner@10")
    clock.t = 4.9
    assert followed.current() == (None, UNIFORM_VERSION)  # not asked again within the interval
    clock.t = 5.0
    assert followed.current() == (net_a, "learner@10")
    handed[0] = (net_b, "learner@20")
    clock.t = 9.0
    assert followed.current() == (net_a, "learner@10")
    clock.t = 10.0
    assert followed.current() == (net_b, "learner@20")
    handed[0] = None  # a learner that has nothing (restarted) does not take the last network away
    clock.t = 15.0
    assert followed.current() == (net_b, "learner@20")
    assert reads == [0.0, 5.0, 10.0, 15.0]


def test_learner_q_versions_the_copy_by_its_updates() -> None:
    net = torch.nn.Linear(3, 2)
    policy = SimpleNamespace(current_q=lambda: SimpleNamespace(network=net, updates=42, mask=None))
    assert learner_q(policy) == (net, "learner@42")  # type: ignore[arg-type]
    assert learner_q(SimpleNamespace(current_q=lambda: None)) is None  # type: ignore[arg-type]
