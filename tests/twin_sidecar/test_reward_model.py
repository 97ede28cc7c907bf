"""The twin's reward model scores an observation as ``RanSpace.reward`` does, with all four terms
(throughput, eMBB 5th percentile, load imbalance, URLLC delay over budget), and recovers the A1
objective weights in force from logged rewards; a term the data cannot identify keeps the space's
weight, and a checkpoint of another form does not break it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from ricproto.kpm_distribution import DELAY_DL_BIN_EDGES_MS, UE_THP_DL_BIN_EDGES_KBPS, histogram
from ricproto.ran_space import THROUGHPUT_COLUMN, CellKpm, RanSpace
from twin_sidecar.predictive.reward import TERMS, RewardModel, reward_terms, space_weights


def observations(space: RanSpace, n: int, seed: int, *, urllc: bool = True) -> np.ndarray:
    """[n, D] observations of random cells (some absent) with eMBB and (optionally) URLLC samples."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        cells: list[CellKpm | None] = []
        for _ in range(space.max_cells - 1):  # the last row stays padding
            if rng.random() < 0.15:
                cells.append(None)
                continue
            thp = histogram(rng.lognormal(7.5, 1.0, rng.integers(0, 12)), UE_THP_DL_BIN_EDGES_KBPS)
            delay = histogram(rng.lognormal(2.0, 1.0, rng.integers(0, 12)), DELAY_DL_BIN_EDGES_MS)
            cells.append(
                CellKpm(
                    rng.uniform(0, 100),
                    rng.lognormal(8, 1),
                    rng.uniform(0, 60),
                    100.0,
                    {s: rng.uniform(0, 30) for s in space.slices},
                    {s: rng.lognormal(7, 1) for s in space.slices},
                    {s: tuple(thp) for s in space.embb_slices},
                    {s: tuple(delay) for s in space.urllc_slices} if urllc else {},
                )
            )
        out.append(space.observation(cells))
    return np.stack(out)


def a1_reward(space: RanSpace, obs: np.ndarray, thp_w: float, p5_w: float, imb_w: float, sla_w: float):
    """The xApp's reward under A1 weights (``BehaviorPolicy.reward``): the space's reward with the
    weights replaced, plus the extra throughput weight on the mean throughput of present cells."""
    weighted = dataclasses.replace(space, p5_weight=p5_w, imbalance_weight=imb_w, sla_weight=sla_w)
    out = []
    for o in obs:
        rows = o.reshape(space.max_cells, space.n_features)
        present = rows[:, 0] > 0.5
        thp = rows[present, THROUGHPUT_COLUMN].mean() if present.any() else 0.0
        out.append(weighted.reward(o) + (thp_w - 1.0) * thp)
    return np.asarray(out)


def test_unfitted_model_is_the_space_reward(cfg) -> None:
    space = cfg.space
    obs = observations(space, 200, seed=1)
    terms = reward_terms(torch.as_tensor(obs), space).numpy()
    assert (terms[:, 1] > 0).mean() > 0.9 and (terms[:, 3] > 0).mean() > 0.5  # the new terms are exercised
    model = RewardModel(space)
    got = model(torch.as_tensor(obs)).numpy()
    want = np.array([space.reward(o) for o in obs])
    assert np.allclose(got, want, atol=1e-5)
    assert model(torch.zeros(3, space.max_cells * space.n_features)).abs().max() == 0  # nothing present


def test_fit_recovers_the_a1_weights(cfg) -> None:
    space = cfg.space
    train, fresh = observations(space, 300, seed=2), observations(space, 100, seed=3)
    weights = (1.5, 2.0, 0.2, 3.0)
    model = RewardModel(space)
    rmse = model.fit(train, a1_reward(space, train, *weights))
    assert rmse < 1e-6
    assert np.allclose(model.weights.numpy(), [1.5, 2.0, -0.2, -3.0], atol=1e-6)
    pred = model(torch.as_tensor(fresh)).numpy()
    assert np.allclose(pred, a1_reward(space, fresh, *weights), atol=1e-5)


def test_a_term_the_data_cannot_identify_keeps_the_space_weight(cfg) -> None:
    space = cfg.space
    obs = observations(space, 200, seed=4, urllc=False)  # no URLLC samples anywhere
    model = RewardModel(space)
    model.fit(obs, a1_reward(space, obs, 0.7, 1.5, 0.9, 5.0))
    w = model.weights.numpy()
    assert np.allclose(w[:3], [0.7, 1.5, -0.9], atol=1e-6)
    assert w[TERMS.index("urllc_over_budget")] == pytest.approx(-space.sla_weight)
    few = RewardModel(space)
    assert few.fit(obs[:5], np.zeros(5)) >= 0 and torch.equal(few.weights, space_weights(space))


def test_weights_of_another_form_are_not_loaded(cfg) -> None:
    model = RewardModel(cfg.space)
    model.load_weights([1.0, -0.5])  # a checkpoint of the two-term model
    assert torch.equal(model.weights, space_weights(cfg.space))
    model.load_weights([2.0, 1.0, -0.1, -4.0])
    assert model.weights.tolist() == [2.0, 1.0, -0.1, -4.0]
