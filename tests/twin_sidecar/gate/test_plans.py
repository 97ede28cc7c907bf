"""Test plans: scenario perturbations of observations and greedy rollouts on known planes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from toy_ran import LAYOUT, MASK, SPACE, NoopPolicy, ToyRanPlanes, linear_snapshot, loads, observe

from ricproto.ran_space import BASE_FEATURES, SteerUes
from twin_sidecar.gate import GateSettings, PromotionGate, SnapshotPolicy, VerificationPlan, perturb, run_plan

F = SPACE.n_features
SHARE = BASE_FEATURES  # the one slice's PRB share column


def rows(obs: torch.Tensor) -> torch.Tensor:
    return obs.reshape(obs.shape[0], SPACE.max_cells, F)


@pytest.fixture
def obs() -> torch.Tensor:
    return observe(torch.tensor([[0.3, 0.2, 0.4], [0.1, 0.5, 0.2]]))


def test_a_surge_multiplies_the_slice_load_on_its_cells_only(obs: torch.Tensor) -> None:
    plan = VerificationPlan(name="s", kind="traffic_surge", cells=[0, 2], slice=0, factor=2.0)
    out = rows(perturb(obs, plan, SPACE, LAYOUT))
    before = rows(obs)
    torch.testing.assert_close(out[:, [0, 2], SHARE], (2 * before[:, [0, 2], SHARE]).clamp(max=1))
    torch.testing.assert_close(
        out[:, [0, 2], 1], (before[:, [0, 2], 1] + before[:, [0, 2], SHARE]).clamp(max=1)
    )
    torch.testing.assert_close(out[:, 1], before[:, 1])  # untouched cell


def test_a_hotspot_crowds_ues_and_load_into_one_cell(obs: torch.Tensor) -> None:
    plan = VerificationPlan(name="h", kind="hotspot", cell=1, fraction=0.25)
    out, before = rows(perturb(obs, plan, SPACE, LAYOUT)), rows(obs)
    added = 0.25 * before[..., 3].sum(-1)
    torch.testing.assert_close(out[:, 1, 3], before[:, 1, 3] + added)
    assert (out[:, 1, 1] > before[:, 1, 1]).all()
    torch.testing.assert_close(out[:, [0, 2]], before[:, [0, 2]])


def test_an_outage_darkens_a_cell_and_hands_its_load_to_its_neighbours(obs: torch.Tensor) -> None:
    plan = VerificationPlan(name="o", kind="cell_outage", cell=0)
    out, before = rows(perturb(obs, plan, SPACE, LAYOUT)), rows(obs)
    assert (out[:, 0] == 0).all()  # absent: no report
    torch.testing.assert_close(out[:, 1:, 1].sum(-1), before[:, :, 1].sum(-1))  # load is conserved
    torch.testing.assert_close(out[:, 1:, 1] - before[:, 1:, 1], (before[:, 0:1, 1] / 2).expand(-1, 2))


def test_plans_that_do_not_fit_the_space_are_refused_up_front() -> None:
    with pytest.raises(ValueError, match="cell 5"):
        perturb(
            observe(torch.rand(1, 3)), VerificationPlan(name="x", kind="cell_outage", cell=5), SPACE, None
        )
    with pytest.raises(ValueError, match="slice 1"):
        perturb(
            observe(torch.rand(1, 3)),
            VerificationPlan(name="y", kind="traffic_surge", cells=[0], slice=1, factor=2),
            SPACE,
            None,
        )
    with pytest.raises(ValueError, match="hotspot: cell 3"):
        PromotionGate(GateSettings(), SPACE, MASK, ToyRanPlanes(), layout=LAYOUT)  # default plans: 7 cells


def plan_result(sign: float, plan: VerificationPlan, tolerance: float = 0.0):
    start = observe(torch.from_numpy(np.random.default_rng(0).uniform(0.2, 0.8, (32, 3))))
    candidate = SnapshotPolicy(linear_snapshot("c", sign), MASK)
    return run_plan(
        plan, ToyRanPlanes(), candidate, NoopPolicy(), start, SPACE, LAYOUT, 0.9, 0.9, 0.02, tolerance
    )


def test_balancing_passes_a_surge_that_unbalancing_fails() -> None:
    surge = VerificationPlan(name="surge", kind="traffic_surge", cells=[0], factor=2.0, steps=8)
    good = plan_result(+1.0, surge)
    assert good.passed and good.reasons == []
    assert good.candidate_violation_rate <= good.incumbent_violation_rate  # type: ignore[operator]
    assert good.candidate_return > good.incumbent_return  # type: ignore[operator]
    bad = plan_result(-1.0, surge)
    assert not bad.passed
    assert any("load above 0.90" in r for r in bad.reasons) and any(
        "below the policy in force" in r for r in bad.reasons
    )
    assert bad.candidate_max_load == pytest.approx(1.0)


def test_a_violation_tolerance_lets_a_plan_pass() -> None:
    surge = VerificationPlan(name="surge", kind="traffic_surge", cells=[0], factor=2.0, steps=8)
    strict = plan_result(-1.0, surge)
    loose = plan_result(-1.0, surge, tolerance=1.0)
    assert any("load above" in r for r in strict.reasons)
    assert not any("load above" in r for r in loose.reasons)


def test_the_known_planes_follow_the_protocol() -> None:
    from twin_sidecar.gate import PlaneDynamics

    planes = ToyRanPlanes()
    assert isinstance(planes, PlaneDynamics)
    obs = observe(torch.tensor([[0.5, 0.2, 0.2]]))
    nxt, r = planes.step(obs, torch.tensor([SPACE.encode(SteerUes(0, 0))]), None)
    assert nxt.shape == obs.shape and r.shape == (1,)
    assert loads(nxt)[0, 0] < 0.5  # steering moved load off cell 0
