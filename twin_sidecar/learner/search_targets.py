"""Search-derived policy targets (Gumbel MuZero, Danihelka et al. 2022) for the Q-learner.

The target policy is greedy in Q; read as a policy, Q is ``softmax(Q / T)``. A Gumbel search on the
twin's planes from a batch of logged states, with that policy as the prior and Q as the leaf value,
gives the improved policy ``pi' = softmax(logits + sigma(completed Q))``: the prior moved towards the
actions the model's rewards and next states rate better. The learner adds a cross-entropy from
``softmax(Q / T)`` to ``pi'`` (policy distillation, as Gumbel MuZero trains its policy head), which
reorders Q among the actions where the temporal-difference loss says little (actions the behaviour
rarely took) towards what the search found, without moving the values TD fits.

Pure functions; B states, A actions.
"""

from __future__ import annotations

import torch
from torch import Tensor

from twin_sidecar.plane_dynamics import PlaneDynamics
from twin_sidecar.planner import QModel, QNetwork, SearchConfig, Tree, plan


@torch.no_grad()
def search_policy_targets(
    dynamics: PlaneDynamics,
    q: QNetwork,
    obs: Tensor,
    mask: Tensor,
    *,
    simulations: int,
    max_depth: int,
    discount: float,
    temperature: float,
    max_considered_actions: int,
    generator: torch.Generator,
    members: int = 0,
    workspace: Tree | None = None,
) -> tuple[Tensor, Tree]:
    """The improved policy pi' [B, A] of a Gumbel search from each of obs [B, D] under mask [A] bool
    (0 on masked actions), and the search tree (a workspace for the next call of the same shape).

    The root noise is drawn from ``generator`` (Gumbel MuZero samples its considered actions; the
    target is the improved policy, not the sampled action). ``members`` > 0: each state's plane
    follows one of that many ensemble members, drawn from ``generator`` (Monte Carlo planes)."""
    batch = obs.shape[0]
    valid = mask.to(torch.bool).unsqueeze(0).expand(batch, -1).contiguous()
    member = torch.randint(0, members, (batch,), generator=generator) if members > 0 else None
    model = QModel(dynamics, q, discount=discount, prior_temperature=temperature)
    config = SearchConfig(
        algorithm="gumbel",
        num_simulations=simulations,
        max_depth=max_depth,
        max_considered_actions=max_considered_actions,
        gumbel_scale=1.0,
    )
    if workspace is not None and not workspace.fits(
        batch, simulations, valid.shape[1], (obs.shape[1],), obs.dtype
    ):
        workspace = None
    out = plan(model, obs, valid, config, generator=generator, members=member, workspace=workspace)
    return out.action_weights.masked_fill(~valid, 0.0), out.tree


def distillation_loss(q: Tensor, targets: Tensor, mask: Tensor, temperature: float) -> Tensor:
    """Mean cross-entropy [] from softmax(q / T) over allowed actions to ``targets`` [B, A].

    q: [B, A] with gradient; targets: [B, A], rows summing to 1 over the allowed actions; mask: [A]."""
    logits = (q / temperature).masked_fill(~mask, float("-inf"))
    log_policy = torch.log_softmax(logits, dim=-1).masked_fill(~mask, 0.0)
    return -(targets * log_policy).sum(dim=-1).mean()
