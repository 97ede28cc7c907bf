"""The online planner behind /v1/plan, on small known models: it finds the optimal action with the
target policy's Q and with the model's rewards alone, never answers a masked action, keeps to the
wall-clock budget, is deterministic for a seed, pins one model version per search and refuses bad
requests with a reason."""

from __future__ import annotations

import pytest
import torch
from known_models import TableQ, TabularMdp

from twin_sidecar.planner.online import OnlinePlanner, OnlinePlannerConfig, PlanRequestError
from twin_sidecar.planner.q_source import UNIFORM_VERSION, PublishedQ

S, A = 6, 5
DISCOUNT = 0.9


def mdp(seed: int = 3) -> TabularMdp:
    return TabularMdp.random(S, A, torch.Generator().manual_seed(seed), dtype=torch.float32)


def planner(model, q: PublishedQ | None = None, clock=None, **config) -> OnlinePlanner:
    cfg = OnlinePlannerConfig(discount=DISCOUNT, reserve_ms=0.0, max_depth=None, **config)
    kwargs = {} if clock is None else {"clock": clock}
    return OnlinePlanner(model, q or PublishedQ(), S, A, 1, cfg, **kwargs)


def one_hot(state: int) -> list[float]:
    return [1.0 if i == state else 0.0 for i in range(S)]


def test_finds_the_optimal_action_with_the_target_policys_q() -> None:
    m = mdp()
    q_star = m.q_star(DISCOUNT)
    published = PublishedQ()
    published.publish(TableQ(q_star), "q-7")
    p = planner(m, published, simulations=64)
    for state in range(S):
        out = p.plan(one_hot(state), [1] * A, budget_ms=10_000)
        assert out.action == int(q_star[state].argmax()), state
        assert out.q_source == "target_policy" and out.q_version == "q-7"
        assert sum(out.visits) == out.stats.simulations == 64
        # backed-up returns are means over the paths visited, suboptimal ones included: never above V*
        v_star = float(q_star[state].max())
        assert out.root_value <= v_star + 1e-4
        assert out.q_values[out.action] == pytest.approx(v_star, rel=0.1)


def test_uniform_prior_plans_on_the_model_rewards() -> None:
    # a one-step bandit: every action returns to the same state, so the best action is the best reward
    reward = torch.tensor([[0.1, 0.5, 0.9, 0.3, 0.2]] * S)
    m = TabularMdp(torch.zeros(S, A, dtype=torch.int64), reward)
    out = planner(m, simulations=32).plan(one_hot(0), [1] * A, budget_ms=10_000)
    assert out.q_source == "uniform" and out.q_version == UNIFORM_VERSION
    assert out.action == 2


def test_masked_actions_are_never_chosen_or_visited() -> None:
    m = mdp()
    published = PublishedQ()
    published.publish(TableQ(m.q_star(DISCOUNT)), "q")
    p = planner(m, published, simulations=48)
    for state in range(S):
        best = int(m.q_star(DISCOUNT)[state].argmax())
        mask = [0 if a == best else 1 for a in range(A)]
        out = p.plan(one_hot(state), mask, budget_ms=10_000)
        assert out.action != best and out.visits[best] == 0 and out.q_values[best] == 0.0
        only = [1 if a == 3 else 0 for a in range(A)]
        assert p.plan(one_hot(state), only, budget_ms=10_000).action == 3


def test_time_budget_is_kept_on_the_planners_clock() -> None:
    now = [0.0]
    m = mdp()
    m.on_step = lambda: now.__setitem__(0, now[0] + 0.001)  # each model call takes 1 ms

    p = planner(m, clock=lambda: now[0], simulations=500)
    out = p.plan(one_hot(0), [1] * A, budget_ms=10.0)
    assert out.stats.stop_reason == "time" and out.budget_ms == 8.0
    assert 1 <= out.stats.simulations < 500
    assert out.stats.elapsed_ms <= 8.0
    # a share of the xApp's budget, less a reserve, is the search's: HTTP must fit in the rest
    reserved = OnlinePlanner(
        m, PublishedQ(), S, A, 1, OnlinePlannerConfig(reserve_ms=4.0), clock=lambda: now[0]
    )
    short = reserved.plan(one_hot(0), [1] * A, budget_ms=10.0, simulations=500)
    assert short.budget_ms == 10.0 * 0.8 - 4.0 and short.stats.elapsed_ms <= 4.0
    assert short.stats.simulations < out.stats.simulations
    # no time at all: still an answer, from the prior, never a masked action
    none = reserved.plan(one_hot(0), [0, 0, 1, 1, 0], budget_ms=2.0)
    assert none.stats.simulations == 0 and none.action in (2, 3)


def test_same_seed_same_answer_and_noise_follows_the_seed() -> None:
    m = mdp()
    published = PublishedQ()
    published.publish(TableQ(m.q_star(DISCOUNT) * 0.5), "q")
    p = planner(m, published, simulations=16, gumbel_scale=1.0, max_considered_actions=4)
    first = p.plan(one_hot(1), [1] * A, budget_ms=10_000, seed=11)
    again = p.plan(one_hot(1), [1] * A, budget_ms=10_000, seed=11)
    assert (first.action, first.visits, first.q_values, first.policy) == (
        again.action,
        again.visits,
        again.q_values,
        again.policy,
    )
    # Gumbel noise picks which actions are considered: other seeds see other visit patterns
    patterns = {tuple(p.plan(one_hot(1), [1] * A, budget_ms=10_000, seed=s).visits) for s in range(8)}
    assert len(patterns) > 1


def test_one_model_version_for_a_whole_search() -> None:
    class Serving:
        """A serving slot whose version changes after every call (a publish mid-search)."""

        def __init__(self, inner: TabularMdp) -> None:
            self.inner = inner
            self.calls: list[int] = []
            self.version = 5

        @property
        def current(self) -> Serving:
            pinned = Pinned(self.inner, self.version, self.calls)
            self.version += 1
            return pinned

        def step(self, obs, action, member=None):
            raise AssertionError("the planner must step the pinned version")

    class Pinned:
        def __init__(self, inner: TabularMdp, version: int, calls: list[int]) -> None:
            self.inner, self.version, self.calls = inner, version, calls

        def step(self, obs, action, member=None):
            self.calls.append(self.version)
            return self.inner.step(obs, action)

    serving = Serving(mdp())
    out = planner(serving, simulations=12).plan(one_hot(0), [1] * A, budget_ms=10_000)
    assert out.model_version == 5 and set(serving.calls) == {5} and len(serving.calls) == 12


@pytest.mark.parametrize(
    ("observation", "mask", "simulations", "reason"),
    [
        ([0.0] * (S - 1), [1] * A, None, f"the RAN space has {S}"),
        ([float("nan")] + [0.0] * (S - 1), [1] * A, None, "non-finite"),
        (one_hot(0), [1] * (A + 1), None, f"has {A} actions"),
        (one_hot(0), [1, 2, 1, 1, 1], None, "0 or 1"),
        (one_hot(0), [0] * A, None, "no action"),
        (one_hot(0), [1] * A, 5000, "simulations must lie"),
    ],
)
def test_bad_requests_say_why(observation, mask, simulations, reason) -> None:
    with pytest.raises(PlanRequestError, match=reason):
        planner(mdp()).plan(observation, mask, 10.0, simulations=simulations)


def test_trees_are_reused_per_size_and_only_a_few_kept() -> None:
    p = planner(mdp(), simulations=8)
    p.plan(one_hot(0), [1] * A, budget_ms=10_000)
    first = p._workspaces[8]
    p.plan(one_hot(1), [1] * A, budget_ms=10_000)
    assert p._workspaces[8] is first  # the same preallocated tree searched again
    for sims in range(1, 12):
        p.plan(one_hot(0), [1] * A, budget_ms=10_000, simulations=sims)
    assert len(p._workspaces) == 4 and set(p._workspaces) == {8, 9, 10, 11}
