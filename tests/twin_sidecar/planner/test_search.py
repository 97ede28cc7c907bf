"""The batched search on models whose answers are known: optimality, masks, budgets, determinism."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from known_models import MemberOffsetDynamics, TableQ, TabularMdp

from twin_sidecar.planner import PlanOutput, QModel, SearchConfig, plan

# --- helpers ---------------------------------------------------------------------------------------


def noisy_planning_problem(
    n_mdps: int, n_states: int, n_actions: int, discount: float, noise: float, seed: int
) -> tuple[QModel, torch.Tensor, torch.Tensor]:
    """Many random deterministic MDPs side by side, one plane per (MDP, state); the Q-network is Q*
    plus Gaussian noise of ``noise`` times each state's spread of Q*, so its greedy action is often
    wrong and only lookahead through the (exact) dynamics can put it right.

    Returns the model, the observations [P, S_total] and Q* [P, A] of each plane's state."""
    mdps = [
        TabularMdp.random(n_states, n_actions, torch.Generator().manual_seed(1000 * seed + i))
        for i in range(n_mdps)
    ]
    world = TabularMdp.disjoint(mdps)
    q_star = torch.cat([m.q_star(discount) for m in mdps])
    jitter = torch.randn(
        q_star.shape, generator=torch.Generator().manual_seed(seed + 77), dtype=torch.float64
    )
    q_hat = q_star + noise * jitter * q_star.std(dim=1, keepdim=True)
    model = QModel(world, TableQ(q_hat), discount=discount)
    return model, world.obs(torch.arange(world.n_states)), q_star


def all_valid(batch: int, n_actions: int) -> torch.Tensor:
    return torch.ones(batch, n_actions, dtype=torch.bool)


def run(model, obs, valid, seed: int = 0, **config) -> PlanOutput:
    return plan(model, obs, valid, SearchConfig(**config), generator=torch.Generator().manual_seed(seed))


class FakeClock:
    """A clock the test moves: each model step costs ``step_s``."""

    def __init__(self, step_s: float) -> None:
        self.now = 100.0
        self.step_s = step_s

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += self.step_s


# --- the search finds what value iteration knows ------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["puct", "gumbel"])
def test_search_finds_the_optimal_action_where_the_q_network_alone_does_not(algorithm: str) -> None:
    model, obs, q_star = noisy_planning_problem(40, 8, 4, discount=0.8, noise=0.7, seed=0)
    best = q_star.argmax(dim=1)
    greedy_right = (model.q(obs).argmax(dim=1) == best).double().mean().item()
    out = run(model, obs, all_valid(len(obs), 4), algorithm=algorithm, num_simulations=64, gumbel_scale=0.0)
    search_right = (out.action == best).double().mean().item()
    assert greedy_right <= 0.75, "the known model must make the Q-network's greedy action wrong often"
    assert search_right >= 0.9, f"{algorithm} found the optimum in {search_right:.1%} of states"


def test_gumbel_root_selection_is_not_worse_than_puct_with_few_simulations() -> None:
    # Few simulations and more actions than simulations: the regime of online planning (190 actions,
    # tens of simulations), where Gumbel MuZero's sequential halving is meant to stay sound.
    model, obs, q_star = noisy_planning_problem(20, 8, 16, discount=0.9, noise=0.5, seed=0)
    states = torch.arange(len(obs))
    for simulations in (4, 8):
        regret = {}
        for algorithm in ("puct", "gumbel"):
            out = run(
                model,
                obs,
                all_valid(len(obs), 16),
                algorithm=algorithm,
                num_simulations=simulations,
                gumbel_scale=0.0,
            )
            regret[algorithm] = (q_star.max(dim=1).values - q_star[states, out.action]).mean().item()
        assert regret["gumbel"] <= regret["puct"], f"{simulations} simulations: {regret}"


def test_root_visits_sum_to_the_simulations_and_the_root_counts_its_own_evaluation() -> None:
    model, obs, _ = noisy_planning_problem(2, 6, 5, discount=0.9, noise=0.3, seed=1)
    for algorithm in ("puct", "gumbel"):
        out = run(model, obs, all_valid(len(obs), 5), algorithm=algorithm, num_simulations=20)
        assert torch.equal(out.visit_counts.sum(dim=1), torch.full((len(obs),), 20.0, dtype=torch.float64))
        assert torch.equal(out.tree.node_visits[:, 0], torch.full((len(obs),), 21.0, dtype=torch.float64))
        assert torch.allclose(out.visit_probs.sum(dim=1), torch.ones(len(obs), dtype=torch.float64))


def test_sequential_halving_spends_the_budget_as_the_schedule_says() -> None:
    # 64 simulations over 16 considered actions: 16 x 1 visit, then the best 8 get 2 more each, the best
    # 4 get 4 more, the best 2 get 8 more: final counts 15, 15, 7, 7, 3 x 4, 1 x 8.
    model, obs, _ = noisy_planning_problem(1, 4, 32, discount=0.9, noise=0.5, seed=2)
    out = run(model, obs, all_valid(len(obs), 32), algorithm="gumbel", num_simulations=64)
    expected = sorted([15.0] * 2 + [7.0] * 2 + [3.0] * 4 + [1.0] * 8 + [0.0] * 16, reverse=True)
    for plane in range(len(obs)):
        assert sorted(out.visit_counts[plane].tolist(), reverse=True) == expected
        assert out.visit_counts[plane, out.action[plane]] == 15.0


# --- masks ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["puct", "gumbel"])
def test_masked_actions_are_never_selected_expanded_or_returned(algorithm: str) -> None:
    n_actions = 6
    mdp = TabularMdp.random(10, n_actions, torch.Generator().manual_seed(3))
    # The Q-network loves the actions the mask forbids: masking has to hold against the prior.
    q_table = mdp.q_star(0.9).clone()
    valid = torch.rand(10, n_actions, generator=torch.Generator().manual_seed(4)) > 0.5
    valid[:, 0] = True
    valid[3] = False
    valid[3, 5] = True  # a plane with one allowed action
    q_table[valid] -= 100.0
    model = QModel(mdp, TableQ(q_table), discount=0.9)
    out = run(model, mdp.obs(torch.arange(10)), valid, algorithm=algorithm, num_simulations=40)
    tree = out.tree
    assert valid[torch.arange(10), out.action].all()
    assert out.action[3] == 5 and out.visit_counts[3, 5] == 40
    assert (out.visit_counts[~valid] == 0).all()
    assert (out.visit_probs[~valid] == 0).all() and (out.action_weights[~valid] == 0).all()
    for plane in range(10):
        used = int(tree.num_nodes[plane])
        taken = tree.action_from_parent[plane, 1:used]
        assert valid[plane, taken].all(), f"plane {plane} expanded a masked action"
        edges = tree.children_index[plane, :used]
        assert (edges[:, ~valid[plane]] == tree.sentinel).all()
        assert (tree.children_visits[plane, :used][:, ~valid[plane]] == 0).all()


def test_a_plane_without_any_valid_action_is_refused() -> None:
    mdp = TabularMdp.random(4, 3, torch.Generator().manual_seed(0))
    valid = all_valid(4, 3)
    valid[2] = False
    with pytest.raises(ValueError, match=r"planes \[2\] have no valid action"):
        run(QModel(mdp, TableQ(mdp.q_star(0.9))), mdp.obs(torch.arange(4)), valid)


# --- budgets ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["puct", "gumbel"])
def test_time_budget_stops_before_it_is_exceeded(algorithm: str) -> None:
    mdp = TabularMdp.random(6, 4, torch.Generator().manual_seed(5))
    clock = FakeClock(step_s=0.001)
    mdp.on_step = clock.tick  # every expansion costs 1 ms of the fake clock
    model = QModel(mdp, TableQ(mdp.q_star(0.9)), discount=0.9)
    obs, valid = mdp.obs(torch.arange(6)), all_valid(6, 4)
    config = SearchConfig(algorithm=algorithm, num_simulations=64, time_budget_ms=10.5, max_depth=3)
    out = plan(model, obs, valid, config, generator=torch.Generator().manual_seed(0), clock=clock)
    # 10 simulations fit (10 ms), an 11th would end at 11 ms > 10.5 ms.
    assert out.stats.simulations == 10
    assert out.stats.stop_reason == "time"
    assert out.stats.elapsed_ms <= 10.5
    assert valid[torch.arange(6), out.action].all()
    # The answer is the best action of the tree as it stands: the most visited survivors.
    top = out.visit_counts.max(dim=1).values
    assert torch.equal(out.visit_counts[torch.arange(6), out.action], top)


def test_puct_cut_short_by_time_answers_like_a_search_of_that_many_simulations() -> None:
    mdp = TabularMdp.random(6, 4, torch.Generator().manual_seed(5))
    clock = FakeClock(step_s=0.001)
    mdp.on_step = clock.tick
    model = QModel(mdp, TableQ(mdp.q_star(0.9)), discount=0.9)
    obs, valid = mdp.obs(torch.arange(6)), all_valid(6, 4)
    timed = plan(
        model,
        obs,
        valid,
        SearchConfig("puct", num_simulations=64, time_budget_ms=7.2),
        generator=torch.Generator(),
        clock=clock,
    )
    counted = run(model, obs, valid, algorithm="puct", num_simulations=7)
    assert timed.stats.simulations == 7
    assert torch.equal(timed.action, counted.action)
    assert torch.equal(timed.visit_counts, counted.visit_counts)
    assert torch.allclose(timed.root_value, counted.root_value)


def test_a_budget_too_small_for_one_simulation_still_answers_a_valid_action() -> None:
    mdp = TabularMdp.random(5, 4, torch.Generator().manual_seed(6))
    clock = FakeClock(step_s=0.001)
    mdp.on_step = clock.tick
    q = mdp.q_star(0.9)
    valid = all_valid(5, 4)
    valid[:, q[:5].argmax(dim=1)] = False  # the greedy action of some plane is masked
    valid[:, 0] = True
    model = QModel(mdp, TableQ(q), discount=0.9)
    for algorithm in ("puct", "gumbel"):
        clock.now = 0.0
        config = SearchConfig(algorithm=algorithm, num_simulations=16, time_budget_ms=0.0)
        out = plan(model, mdp.obs(torch.arange(5)), valid, config, generator=torch.Generator(), clock=clock)
        assert out.stats.simulations == 0 and out.stats.stop_reason == "time"
        assert valid[torch.arange(5), out.action].all()
        if algorithm == "puct":  # nothing searched: the prior's (the Q-network's) best valid action
            assert torch.equal(out.action, q[:5].masked_fill(~valid, float("-inf")).argmax(dim=1))


@pytest.mark.parametrize("algorithm", ["puct", "gumbel"])
def test_no_node_is_deeper_than_the_depth_budget(algorithm: str) -> None:
    model, obs, _ = noisy_planning_problem(3, 5, 3, discount=0.9, noise=0.2, seed=7)
    out = run(model, obs, all_valid(len(obs), 3), algorithm=algorithm, num_simulations=48, max_depth=2)
    used = torch.arange(out.tree.depth.shape[1]) < out.tree.num_nodes.unsqueeze(1)
    assert out.stats.max_depth <= 2
    assert int(out.tree.depth[used].max()) <= 2
    # With 3 actions only 3 + 9 nodes fit in two levels: the rest of the budget revisits leaves.
    assert (out.tree.num_nodes <= 1 + 3 + 9).all()
    assert out.stats.simulations == 48


# --- determinism -----------------------------------------------------------------------------------------


TREE_NODE_ARRAYS = (
    "node_visits",
    "node_values",
    "raw_values",
    "node_rewards",
    "parents",
    "action_from_parent",
)
TREE_EDGE_ARRAYS = ("children_index", "children_visits", "children_qvalues", "prior_logits", "embeddings")


def same_tree(a: PlanOutput, b: PlanOutput) -> bool:
    if not torch.equal(a.tree.num_nodes, b.tree.num_nodes):
        return False
    rows = int(a.tree.num_nodes.max())
    return all(
        torch.equal(getattr(a.tree, name)[:, :rows], getattr(b.tree, name)[:, :rows])
        for name in TREE_NODE_ARRAYS + TREE_EDGE_ARRAYS
    ) and torch.equal(a.tree.gumbel, b.tree.gumbel)


@pytest.mark.parametrize("algorithm", ["puct", "gumbel"])
def test_the_same_seed_gives_the_same_tree(algorithm: str) -> None:
    model, obs, _ = noisy_planning_problem(2, 6, 8, discount=0.9, noise=0.5, seed=8)
    valid = all_valid(len(obs), 8)
    torch.manual_seed(1)  # the global RNG must play no part
    first = run(model, obs, valid, seed=42, algorithm=algorithm, num_simulations=32)
    torch.manual_seed(2)
    second = run(model, obs, valid, seed=42, algorithm=algorithm, num_simulations=32)
    assert same_tree(first, second)
    assert torch.equal(first.action, second.action)
    if algorithm == "gumbel":  # the seed is what the root noise comes from
        other = run(model, obs, valid, seed=43, algorithm=algorithm, num_simulations=32)
        assert not torch.equal(first.tree.gumbel, other.tree.gumbel)
        assert not same_tree(first, other)


def test_a_reused_workspace_gives_the_same_result_as_a_fresh_tree() -> None:
    model, obs, _ = noisy_planning_problem(2, 6, 8, discount=0.9, noise=0.5, seed=9)
    valid = all_valid(len(obs), 8)
    config = SearchConfig(num_simulations=24)
    fresh = plan(model, obs, valid, config, generator=torch.Generator().manual_seed(5))
    workspace = plan(model, obs.flip(0), valid, config, generator=torch.Generator().manual_seed(6)).tree
    reused = plan(model, obs, valid, config, generator=torch.Generator().manual_seed(5), workspace=workspace)
    assert reused.tree is workspace
    assert same_tree(fresh, reused)
    with pytest.raises(ValueError, match="workspace does not fit"):
        plan(
            model,
            obs,
            valid,
            dataclasses.replace(config, num_simulations=8),
            generator=torch.Generator(),
            workspace=workspace,
        )


# --- Monte Carlo planes -----------------------------------------------------------------------------------


def test_each_plane_steps_with_its_own_ensemble_member() -> None:
    mdp = TabularMdp.random(4, 3, torch.Generator().manual_seed(10))
    dynamics = MemberOffsetDynamics(mdp, n_members=5)
    model = QModel(dynamics, TableQ(torch.zeros(4, 3, dtype=torch.float64)), discount=0.9)
    obs = mdp.obs(torch.tensor([0, 1, 2, 3]))
    members = torch.tensor([0, 4, 2, 1])
    out = plan(
        model,
        obs,
        all_valid(4, 3),
        SearchConfig("puct", num_simulations=6),
        generator=torch.Generator(),
        members=members,
    )
    assert all(torch.equal(seen, members) for seen in dynamics.seen)
    tree = out.tree
    for plane in range(4):
        for node in range(1, int(tree.num_nodes[plane])):
            parent = int(tree.parents[plane, node])
            state = int(tree.embeddings[plane, parent].argmax())
            action = int(tree.action_from_parent[plane, node])
            expected = mdp.reward[state, action] + members[plane]
            assert tree.node_rewards[plane, node] == pytest.approx(float(expected))
    # Without members the planes plan on the ensemble mean.
    dynamics.seen.clear()
    plan(model, obs, all_valid(4, 3), SearchConfig("puct", num_simulations=2), generator=torch.Generator())
    assert dynamics.seen == [None, None]


# --- bad input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obs", "valid", "members", "message"),
    [
        (torch.zeros(4), torch.ones(1, 3, dtype=torch.bool), None, "observations must be"),
        (torch.full((2, 4), float("nan")), torch.ones(2, 3, dtype=torch.bool), None, "finite"),
        (torch.zeros(2, 4, dtype=torch.int64), torch.ones(2, 3, dtype=torch.bool), None, "finite floats"),
        (torch.zeros(2, 4), torch.ones(2, 3), None, "mask must be bool"),
        (torch.zeros(2, 4), torch.ones(3, 3, dtype=torch.bool), None, "mask must be bool"),
        (torch.zeros(2, 4), torch.ones(2, 3, dtype=torch.bool), torch.zeros(3, dtype=torch.int64), "members"),
        (torch.zeros(2, 4), torch.ones(2, 3, dtype=torch.bool), torch.zeros(2), "members"),
    ],
)
def test_malformed_input_gets_a_clear_error(obs, valid, members, message) -> None:
    mdp = TabularMdp.random(4, 3, torch.Generator().manual_seed(0), dtype=torch.float32)
    model = QModel(mdp, TableQ(torch.zeros(4, 3)))
    with pytest.raises(ValueError, match=message):
        plan(model, obs, valid, SearchConfig(num_simulations=2), generator=torch.Generator(), members=members)


@pytest.mark.parametrize(
    "fields",
    [
        {"algorithm": "alphazero"},
        {"num_simulations": -1},
        {"max_depth": 0},
        {"time_budget_ms": -1.0},
        {"time_budget_ms": float("nan")},
        {"max_considered_actions": 0},
        {"gumbel_scale": -0.5},
    ],
)
def test_a_bad_search_config_is_refused(fields) -> None:
    with pytest.raises(ValueError):
        SearchConfig(**fields)
