"""The learner on a known MDP: learns from logged behaviour only, respects the mask, checkpoints exactly."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from known_mdp import N_ACTIONS, OBS_DIM, SPACE, KnownMdp

from ricproto.policy_snapshot import decode_snapshot, encode_snapshot
from ricproto.transition import Transition
from twin_sidecar.learner import Learner, LearnerConfig

SMALL = {
    "hidden": (64,),
    "learning_rate": 1e-3,
    "batch_size": 64,
    "sequence_length": 4,
    "min_replay": 200,
    "target_update_interval": 100,
}


@pytest.fixture(scope="module")
def mdp() -> KnownMdp:
    return KnownMdp.random(seed=0)


def greedy_values(learner: Learner, mdp: KnownMdp) -> tuple[float, np.ndarray]:
    """Exact value of the exported snapshot's greedy policy (masked, as the xApp takes it) and its actions."""
    snap = decode_snapshot(encode_snapshot(learner.export()))
    q = np.stack([snap.action_values(o) for o in mdp.obs(np.arange(mdp.n_states))])
    return float(mdp.policy_values(mdp.greedy(q)).mean()), np.where(mdp.mask, q, -np.inf).argmax(1)


@pytest.mark.parametrize(("target", "prioritized"), [("retrace", False), ("vtrace", True)])
def test_the_learner_improves_on_logged_data_of_a_bad_behaviour(
    mdp: KnownMdp, target: str, prioritized: bool
) -> None:
    q_star = mdp.optimal_q()
    v_star = mdp.policy_values(mdp.greedy(q_star)).mean()
    behaviour = mdp.epsilon_soft(mdp.greedy(-q_star), 0.5)  # worst allowed action, half the time
    v_behaviour = mdp.policy_values(behaviour).mean()
    learner = Learner(
        LearnerConfig(**SMALL, gamma=mdp.gamma, target=target, prioritized=prioritized), SPACE, mdp.mask
    )
    v_untrained, _ = greedy_values(learner, mdp)
    learner.ingest(mdp.log(behaviour, 12_000, 200, seed=1))  # logged data only: no rollouts of its own
    for _ in range(1000):
        diag = learner.update()
    v_learned, actions = greedy_values(learner, mdp)
    assert v_learned >= v_behaviour + 0.9 * (v_star - v_behaviour), (v_learned, v_behaviour, v_star)
    assert v_learned > v_untrained
    assert mdp.mask[actions].all()  # never the tempting masked action
    assert diag.update == 1000 and np.isfinite(diag.loss) and diag.td_error > 0
    assert 0.0 < diag.ess_fraction < 1.0 and 0.0 < diag.truncation_rate < 1.0
    assert diag.replay_size == 12_000 and diag.model_sequences == 0


def test_with_pi_equal_to_mu_the_weights_are_all_ones_and_nothing_is_truncated(mdp: KnownMdp) -> None:
    # target epsilon 1 = uniform over allowed actions, behaviour the same uniform: ratios are exactly 1
    uniform = mdp.epsilon_soft(np.zeros_like(mdp.R), 1.0)
    learner = Learner(LearnerConfig(**SMALL, target="vtrace", target_epsilon=1.0), SPACE, mdp.mask)
    learner.ingest(mdp.log(uniform, 400, 100, seed=2))
    diag = learner.update()
    assert diag.ess_fraction == pytest.approx(1.0) and diag.truncation_rate == 0.0


def transition(step: int, **overrides: object) -> Transition:
    fields: dict[str, object] = {
        "schema_version": 1,
        "xapp_instance": "x",
        "step": step,
        "s": [0.0] * OBS_DIM,
        "action": 1,
        "reward": 0.5,
        "s_next": [0.0] * OBS_DIM,
        "mu": 0.5,
        "policy_version": "heuristic",
    }
    fields.update(overrides)
    return Transition(**fields)  # type: ignore[arg-type]


def test_malformed_transitions_are_counted_and_skipped_without_losing_the_good_ones() -> None:
    learner = Learner(LearnerConfig(**SMALL), SPACE, np.ones(N_ACTIONS, bool))
    batch = [
        transition(0),
        transition(1, s=[0.0] * (OBS_DIM - 1)),
        transition(2, action=N_ACTIONS),
        transition(3, mu=0.0),
        transition(4, reward=float("nan")),
        transition(5, s_next=[float("inf")] * OBS_DIM),
        transition(6),
    ]
    result = learner.ingest(batch)
    assert result.accepted == 2
    assert result.rejected == {"observation_size": 1, "action_range": 1, "mu_range": 1, "non_finite": 2}
    assert learner.replay.size == 2 and dict(learner.rejected) == result.rejected
    # step 6 does not follow step 0: the replay knows it is a new trajectory
    np.testing.assert_array_equal(learner.replay.follows[:2], [False, False])


def test_steps_follow_only_within_one_xapp_instance_without_gaps() -> None:
    learner = Learner(LearnerConfig(**SMALL), SPACE, np.ones(N_ACTIONS, bool))
    learner.ingest([transition(0), transition(1)])
    learner.ingest(
        [transition(2), transition(4), transition(5, xapp_instance="y"), transition(6, xapp_instance="y")]
    )
    np.testing.assert_array_equal(learner.replay.follows[:6], [False, True, True, False, False, True])


def test_policy_lag_counts_updates_since_the_behaviour_version_was_exported(mdp: KnownMdp) -> None:
    learner = Learner(LearnerConfig(**SMALL), SPACE, mdp.mask)
    uniform = mdp.epsilon_soft(np.zeros_like(mdp.R), 1.0)
    learner.ingest(mdp.log(uniform, 300, 100, seed=3, version="q-own"))
    for _ in range(5):
        learner.update()
    assert learner.update().policy_lag == 6  # never exported by this learner: counted from update 0
    learner.export("q-own")  # at update 6
    for _ in range(3):
        diag = learner.update()
    assert diag.policy_lag == 3 and diag.policy_lag_max == 3


def test_a_checkpoint_restores_the_learner_exactly(mdp: KnownMdp) -> None:
    config = LearnerConfig(**SMALL, prioritized=True)
    data = mdp.log(mdp.epsilon_soft(np.zeros_like(mdp.R), 1.0), 600, 100, seed=4)
    a = Learner(config, SPACE, mdp.mask)
    a.ingest(data)
    for _ in range(20):
        a.update()
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    b = Learner(config, SPACE, mdp.mask)
    buffer.seek(0)
    b.load_state_dict(torch.load(buffer, weights_only=False))
    da, db = a.update(), b.update()
    assert (da.loss, da.td_error, da.update) == (db.loss, db.td_error, db.update)
    for pa, pb in zip(a.q.parameters(), b.q.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=0, atol=0)
    # the stream position carries over too: the next step continues the trajectory
    assert b.last_step == a.last_step
    with pytest.raises(ValueError, match="another LearnerConfig"):
        Learner(LearnerConfig(**SMALL), SPACE, mdp.mask).load_state_dict(a.state_dict())


def test_the_snapshot_is_the_network(mdp: KnownMdp) -> None:
    learner = Learner(LearnerConfig(**SMALL), SPACE, mdp.mask)
    snap = decode_snapshot(encode_snapshot(learner.export("v7")))
    assert (snap.version, snap.output, snap.obs_dim, snap.n_actions) == ("v7", "q", OBS_DIM, N_ACTIONS)
    obs = np.random.default_rng(5).random((10, OBS_DIM)).astype(np.float32)
    with torch.no_grad():
        q = learner.q(torch.from_numpy(obs)).numpy()
    np.testing.assert_allclose(np.stack([snap.action_values(o) for o in obs]), q, rtol=1e-5, atol=1e-5)


class TabularPlanes:
    """The known MDP as plane dynamics: next state sampled from P (the 'ensemble' has one member)."""

    def __init__(self, mdp: KnownMdp) -> None:
        self.mdp = mdp
        self.calls: list[tuple[tuple[int, ...], tuple[int, ...], object]] = []
        self.rng = np.random.default_rng(0)

    def step(self, obs: torch.Tensor, action: torch.Tensor, member: torch.Tensor | None):
        self.calls.append(
            (tuple(obs.shape), tuple(action.shape), None if member is None else tuple(member.shape))
        )
        s = self.mdp.state_of(obs).numpy()
        a = action.numpy()
        s2 = np.array(
            [self.rng.choice(self.mdp.n_states, p=self.mdp.P[i, j]) for i, j in zip(s, a, strict=True)]
        )
        return torch.from_numpy(self.mdp.obs(s2)), torch.from_numpy(self.mdp.R[s, a].astype(np.float32))


def test_dyna_rollouts_fill_their_share_of_the_batch_through_the_planes(mdp: KnownMdp) -> None:
    with pytest.raises(ValueError, match="plane dynamics"):
        Learner(LearnerConfig(**SMALL, dyna_ratio=0.5), SPACE, mdp.mask)
    planes = TabularPlanes(mdp)
    learner = Learner(
        LearnerConfig(**SMALL, dyna_ratio=0.5, dyna_members=3), SPACE, mdp.mask, dynamics=planes
    )
    learner.ingest(mdp.log(mdp.epsilon_soft(np.zeros_like(mdp.R), 1.0), 300, 100, seed=6))
    diag = learner.update()
    n = learner.config.n_sequences // 2
    assert diag.model_sequences == n
    assert planes.calls == [((n, OBS_DIM), (n,), (n,))] * learner.config.sequence_length


def test_the_conservative_term_keeps_the_greedy_policy_on_actions_the_behaviour_took(mdp: KnownMdp) -> None:
    # The behaviour only ever takes actions 0 and 1: every other allowed action is unseen and keeps
    # whatever Q the network extrapolates (about 0 here), while the logged ones learn negative values
    # (rewards shifted by -2). Plain Q-learning then prefers the unseen actions; the CQL term pushes
    # them below the logged ones.
    behaviour = np.zeros_like(mdp.R)
    behaviour[:, :2] = 0.5
    data = mdp.log(behaviour, 3000, 100, seed=7)
    for msg in data:
        msg.reward -= 2.0

    def greedy_after_training(weight: float) -> tuple[set[int], np.ndarray]:
        learner = Learner(LearnerConfig(**SMALL, conservative_weight=weight), SPACE, mdp.mask)
        learner.ingest(data)
        for _ in range(400):
            learner.update()
        with torch.no_grad():
            q = learner.q(torch.from_numpy(mdp.obs(np.arange(mdp.n_states)))).numpy()
        return set(np.where(mdp.mask, q, -np.inf).argmax(1).tolist()), q

    plain, _ = greedy_after_training(0.0)
    assert plain - {0, 1}  # the failure the term guards against
    conservative, q = greedy_after_training(1.0)
    assert conservative <= {0, 1}
    logged_best = q[:, :2].max(1)
    assert (q[:, 2:][:, mdp.mask[2:]] < logged_best[:, None]).all()
