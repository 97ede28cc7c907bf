"""The batched search and the plain one-tree-at-a-time baseline build the same trees on the same model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from known_models import MlpDynamics, MlpQ, TableQ, TabularMdp

from twin_sidecar.planner import PlainMcts, QModel, SearchConfig, plan

D, A, B = 6, 8, 6


def mlp_model() -> QModel:
    return QModel(MlpDynamics(D, A, 16, seed=1), MlpQ(D, A, 16, seed=2), discount=0.9)


def planes() -> tuple[torch.Tensor, torch.Tensor]:
    obs = torch.rand(B, D, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    valid = torch.rand(B, A, generator=torch.Generator().manual_seed(4)) > 0.3
    valid[:, 0] = True
    return obs, valid


@pytest.mark.parametrize(
    ("algorithm", "max_depth", "gumbel_scale"),
    [("puct", None, 1.0), ("puct", 2, 1.0), ("gumbel", None, 1.0), ("gumbel", 2, 1.0), ("gumbel", None, 0.0)],
)
def test_batched_and_plain_agree_on_a_small_mlp_model(
    algorithm: str, max_depth: int | None, gumbel_scale: float
):
    model = mlp_model()
    obs, valid = planes()
    config = SearchConfig(
        algorithm=algorithm,
        num_simulations=24,
        max_depth=max_depth,
        max_considered_actions=4,
        gumbel_scale=gumbel_scale,
    )
    batched = plan(model, obs, valid, config, generator=torch.Generator().manual_seed(5))
    baseline = PlainMcts(model, config)
    for plane in range(B):
        plain = baseline.run(obs[plane], valid[plane], gumbel=batched.tree.gumbel[plane])
        np.testing.assert_array_equal(plain.visit_counts, batched.visit_counts[plane].numpy())
        assert plain.action == int(batched.action[plane])
        assert plain.root_value == pytest.approx(float(batched.root_value[plane]), abs=1e-12)
        assert plain.simulations == batched.stats.simulations
    assert batched.stats.max_depth <= (max_depth or 24)


def test_batched_and_plain_agree_on_a_tabular_model_with_its_own_noise() -> None:
    # Without handing over the noise: the plain search draws it from the same seeded generator.
    mdp = TabularMdp.random(5, 6, torch.Generator().manual_seed(6))
    model = QModel(mdp, TableQ(mdp.q_star(0.9) * 0.5), discount=0.9)
    config = SearchConfig(num_simulations=30, max_considered_actions=4)
    obs, valid = mdp.obs(torch.tensor([2])), torch.ones(1, 6, dtype=torch.bool)
    batched = plan(model, obs, valid, config, generator=torch.Generator().manual_seed(7))
    plain = PlainMcts(model, config).run(obs[0], valid[0], generator=torch.Generator().manual_seed(7))
    np.testing.assert_array_equal(plain.visit_counts, batched.visit_counts[0].numpy())
    assert plain.action == int(batched.action[0])


def test_plain_baseline_keeps_to_masks_and_budgets() -> None:
    mdp = TabularMdp.random(5, 6, torch.Generator().manual_seed(8))
    q = mdp.q_star(0.9)
    valid = torch.tensor([True, False, True, False, False, True])
    q[:, ~valid] += 50.0  # the prior prefers what is masked
    ticks = iter(float(t) / 1000.0 for t in range(10_000))  # every clock read moves 1 ms on
    config = SearchConfig(algorithm="puct", num_simulations=40, time_budget_ms=20.0, max_depth=3)
    result = PlainMcts(QModel(mdp, TableQ(q), discount=0.9), config).run(
        mdp.obs(torch.tensor(1)), valid, clock=lambda: next(ticks)
    )
    assert valid[result.action]
    assert (result.visit_counts[~valid.numpy()] == 0).all()
    assert result.stop_reason == "time" and 0 < result.simulations < 40
    assert result.max_depth <= 3
