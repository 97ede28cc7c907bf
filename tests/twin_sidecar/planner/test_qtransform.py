"""Completed Q, sigma and PUCT's min-max, against values worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from twin_sidecar.planner.qtransform import (
    completed_qvalues,
    mixed_value,
    normalized_by_parent_and_siblings,
    sigma_completed_qvalues,
)
from twin_sidecar.planner.selection import (
    gumbel_final_action,
    gumbel_root_action,
    most_visited_action,
    puct_scores,
)
from twin_sidecar.planner.tree import ChildStats

INF = float("inf")


def stats(visits, q, probs, valid, raw=0.5, node_value=2.0) -> ChildStats:
    probs_t = torch.tensor([probs], dtype=torch.float64)
    valid_t = torch.tensor([valid])
    return ChildStats(
        visits=torch.tensor([visits], dtype=torch.float64),
        qvalues=torch.tensor([q], dtype=torch.float64),
        prior_logits=torch.log(probs_t).masked_fill(~valid_t, -INF),
        prior_probs=probs_t,
        invalid_penalty=torch.zeros(1, len(valid), dtype=torch.float64).masked_fill(~valid_t, -INF),
        node_visits=torch.tensor([sum(visits) + 1.0], dtype=torch.float64),
        node_value=torch.tensor([node_value], dtype=torch.float64),
        raw_value=torch.tensor([raw], dtype=torch.float64),
    )


EXAMPLE = {
    "visits": [2, 0, 1, 0],
    "q": [1.0, 0.0, 3.0, 0.0],
    "probs": [0.5, 0.25, 0.25, 0.0],
    "valid": [True, True, True, False],
}


def test_mixed_value_weights_visited_q_by_prior() -> None:
    # visited prior mass 0.75, prior-weighted q 0.5 * 1 + 0.25 * 3 = 1.25 -> mean 5/3;
    # v_mix = (0.5 + 3 * 5/3) / (1 + 3) = 1.375
    assert mixed_value(stats(**EXAMPLE)).item() == pytest.approx(1.375)


def test_mixed_value_is_the_raw_value_before_any_visit() -> None:
    s = stats([0, 0], [0.0, 0.0], [0.5, 0.5], [True, True], raw=-0.7)
    assert mixed_value(s).item() == pytest.approx(-0.7)
    assert completed_qvalues(s).tolist() == [[pytest.approx(-0.7)] * 2]


def test_completed_q_fills_unvisited_with_the_mixed_value() -> None:
    assert completed_qvalues(stats(**EXAMPLE))[0, :3].tolist() == pytest.approx([1.0, 1.375, 3.0])


def test_sigma_normalises_over_valid_actions_and_scales_with_visits() -> None:
    # low 1, high 3 -> [0, 0.1875, 1]; scale (50 + max visits 2) * 0.1 = 5.2
    sigma = sigma_completed_qvalues(stats(**EXAMPLE), c_visit=50.0, c_scale=0.1)
    assert sigma[0, :3].tolist() == pytest.approx([0.0, 0.975, 5.2])


def test_an_invalid_action_does_not_stretch_the_range() -> None:
    # All valid actions visited; the invalid one would carry v_mix = (-10 + 2 * 3) / 3 = -4/3 < min q.
    s = stats([1, 1, 0], [2.0, 4.0, 0.0], [0.5, 0.5, 0.0], [True, True, False], raw=-10.0)
    sigma = sigma_completed_qvalues(s, c_visit=50.0, c_scale=0.1)
    assert sigma[0, :2].tolist() == pytest.approx([0.0, 5.1])


def test_puct_value_is_min_max_over_parent_and_visited_siblings() -> None:
    normalized = normalized_by_parent_and_siblings(stats(**EXAMPLE, node_value=0.5))
    assert normalized[0].tolist() == pytest.approx([0.2, 0.0, 1.0, 0.0])
    normalized = normalized_by_parent_and_siblings(stats(**EXAMPLE, node_value=2.0))
    assert normalized[0].tolist() == pytest.approx([0.0, 0.0, 1.0, 0.0])


def test_puct_score_adds_the_prior_term() -> None:
    s = stats(**EXAMPLE, node_value=0.5)
    n = 4.0  # the node's own visit plus three
    c = 1.25 + math.log((n + 19652.0 + 1.0) / 19652.0)
    expected = [0.2 + c * 0.5 * 2.0 / 3.0, c * 0.25 * 2.0, 1.0 + c * 0.25 * 2.0 / 2.0]
    assert puct_scores(s, 1.25, 19652.0)[0, :3].tolist() == pytest.approx(expected)


def test_root_rule_picks_only_actions_with_the_scheduled_visit_count() -> None:
    s = stats(**EXAMPLE)
    gumbel = torch.zeros(1, 4, dtype=torch.float64)
    # considered visit 1: only action 2 has one visit, though action 0 scores no worse on the prior
    assert gumbel_root_action(s, gumbel, torch.tensor([1]), 50.0, 0.1).item() == 2
    # considered visit 0: actions 1 and 3 have none, but 3 is invalid
    assert gumbel_root_action(s, gumbel, torch.tensor([0]), 50.0, 0.1).item() == 1
    # no action has 7 visits: every valid action is eligible, the best score wins
    assert gumbel_root_action(s, gumbel, torch.tensor([7]), 50.0, 0.1).item() == 2


def test_answers_come_from_the_most_visited_valid_actions() -> None:
    s = stats([2, 0, 2, 0], [1.0, 0.0, 3.0, 0.0], [0.5, 0.25, 0.25, 0.0], [True, True, True, False])
    assert most_visited_action(s).item() == 0  # tie on visits: the higher prior
    gumbel = torch.tensor([[0.0, 100.0, 0.0, 100.0]], dtype=torch.float64)
    assert gumbel_final_action(s, gumbel, 50.0, 0.1).item() == 2  # q beats prior among survivors
