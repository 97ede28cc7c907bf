"""QModel: the search model built from the twin's dynamics and the target policy's Q-network."""

from __future__ import annotations

import pytest
import torch
from known_models import TableQ, TabularMdp

from twin_sidecar.planner import QModel


def test_root_priors_are_q_over_temperature_and_the_value_ignores_masked_actions() -> None:
    mdp = TabularMdp.random(2, 3, torch.Generator().manual_seed(0))
    q = torch.tensor([[1.0, 5.0, 2.0], [0.0, -1.0, 4.0]], dtype=torch.float64)
    valid = torch.tensor([[True, False, True], [True, True, True]])
    model = QModel(mdp, TableQ(q), prior_temperature=0.5)
    root = model.root_fn(mdp.obs(torch.tensor([0, 1])), valid)
    assert root.prior_logits.tolist() == [[2.0, 10.0, 4.0], [0.0, -2.0, 8.0]]
    assert root.value.tolist() == [2.0, 4.0]  # 5.0 is masked in plane 0


def test_expectation_leaf_value_averages_q_under_the_masked_prior() -> None:
    mdp = TabularMdp.random(1, 3, torch.Generator().manual_seed(0))
    q = torch.tensor([[1.0, 100.0, 3.0]], dtype=torch.float64)
    valid = torch.tensor([[True, False, True]])
    model = QModel(mdp, TableQ(q), leaf_value="expectation")
    value = model.root_fn(mdp.obs(torch.tensor([0])), valid).value.item()
    p = torch.softmax(torch.tensor([1.0, 3.0], dtype=torch.float64), dim=0)
    assert value == pytest.approx(float(p[0] * 1.0 + p[1] * 3.0))


def test_a_recurrent_step_is_one_dynamics_step_then_the_q_network() -> None:
    mdp = TabularMdp.random(4, 2, torch.Generator().manual_seed(1))
    q = torch.arange(8, dtype=torch.float64).reshape(4, 2)
    model = QModel(mdp, TableQ(q), discount=0.7)
    states, actions = torch.tensor([0, 3]), torch.tensor([1, 0])
    out, embedding = model.recurrent_fn(actions, mdp.obs(states), None, torch.ones(2, 2, dtype=torch.bool))
    following = mdp.next_state[states, actions]
    assert torch.equal(embedding, mdp.obs(following))
    assert torch.equal(out.reward, mdp.reward[states, actions])
    assert out.discount.tolist() == [0.7, 0.7]
    assert torch.equal(out.prior_logits, q[following])
    assert torch.equal(out.value, q[following].amax(dim=1))


@pytest.mark.parametrize(
    "fields", [{"discount": 1.5}, {"discount": -0.1}, {"prior_temperature": 0.0}, {"leaf_value": "min"}]
)
def test_bad_model_settings_are_refused(fields) -> None:
    mdp = TabularMdp.random(1, 2, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError):
        QModel(mdp, TableQ(torch.zeros(1, 2)), **fields)
