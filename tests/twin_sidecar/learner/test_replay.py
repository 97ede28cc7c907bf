"""Sum tree and sequence replay: proportional sampling, windows that never cross the write head, cuts."""

from __future__ import annotations

import numpy as np
import pytest

from twin_sidecar.learner.replay import SequenceReplay
from twin_sidecar.learner.sum_tree import SumTree


def test_sum_tree_samples_in_proportion_and_never_picks_a_zero_leaf() -> None:
    tree = SumTree(10)  # not a power of two: padded leaves stay at 0
    values = np.array([0.0, 1.0, 2.0, 0.0, 4.0, 0.5, 0.0, 0.0, 0.5, 2.0])
    tree.update(np.arange(10), values)
    assert tree.total == pytest.approx(values.sum())
    rng = np.random.default_rng(0)
    picks = tree.find(rng.random(200_000) * tree.total)
    freq = np.bincount(picks, minlength=10) / len(picks)
    np.testing.assert_allclose(freq, values / values.sum(), atol=0.005)
    assert freq[values == 0].sum() == 0.0
    # the very top of the range (round-off) still lands on a positive leaf
    assert values[tree.find(np.array([tree.total]))[0]] > 0


def test_sum_tree_updates_propagate_and_bad_values_are_refused() -> None:
    tree = SumTree(8)
    tree.update(np.array([1, 1, 5]), np.array([3.0, 2.0, 1.0]))  # repeated index: the last value wins
    assert tree.total == pytest.approx(3.0)
    np.testing.assert_allclose(tree.get(np.array([1, 5])), [2.0, 1.0])
    with pytest.raises(ValueError):
        tree.update(np.array([0]), np.array([-1.0]))
    with pytest.raises(IndexError):
        tree.update(np.array([8]), np.array([1.0]))


def fill(replay: SequenceReplay, start: int, n: int, follows: np.ndarray | None = None) -> None:
    steps = np.arange(start, start + n)
    obs = np.repeat(steps[:, None], replay.obs_dim, axis=1).astype(np.float32)
    replay.add(
        obs,
        steps % 3,
        steps.astype(np.float32),
        obs + 1,
        np.full(n, 0.5, np.float32),
        np.zeros(n, np.int32),
        np.ones(n, bool) if follows is None else follows,
    )


@pytest.mark.parametrize("prioritized", [False, True])
def test_windows_are_consecutive_and_never_cross_the_write_head(prioritized: bool) -> None:
    replay = SequenceReplay(capacity=50, obs_dim=2, sequence_length=5, prioritized=prioritized)
    fill(replay, 0, 137)  # wrapped around twice: the ring holds steps 87..136
    assert replay.size == 50 and replay.n_windows == 46
    batch = replay.sample(4000, np.random.default_rng(1))
    steps = batch.reward.numpy()
    assert (np.diff(steps, axis=1) == 1).all()  # consecutive, in order, no wrap across the head
    assert steps.min() == 87 and steps.max() == 136
    assert len(np.unique(steps[:, 0])) == 46  # every complete window can be drawn
    np.testing.assert_array_equal(batch.next_obs.numpy()[..., 0], steps + 1)


def test_a_break_in_the_stream_becomes_a_cut_inside_the_window() -> None:
    replay = SequenceReplay(capacity=20, obs_dim=1, sequence_length=4)
    follows = np.array([False, True, True, False, True, True, True, True])
    fill(replay, 0, 8, follows)
    batch = replay.gather(np.array([1]), np.ones(1))
    # window = slots 1..4; slot 3 does not follow slot 2, so step 2 (index 1 in the window) is a cut
    np.testing.assert_array_equal(batch.cut.numpy()[0], [False, True, False, True])


def test_priorities_steer_sampling_and_new_windows_enter_at_the_top() -> None:
    replay = SequenceReplay(capacity=100, obs_dim=1, sequence_length=2, prioritized=True, alpha=1.0)
    fill(replay, 0, 20)
    starts = np.arange(replay.n_windows)
    td = np.full((len(starts), 2), 0.01)
    td[7] = 10.0
    replay.update_priorities(starts, td, eta=1.0, eps=0.0)
    batch = replay.sample(5000, np.random.default_rng(2), beta=1.0)
    first = batch.reward.numpy()[:, 0]
    assert (first == 7).mean() > 0.9
    # importance weights correct for it: the favoured window weighs least
    assert batch.weight.numpy()[first == 7].max() < batch.weight.numpy()[first != 7].min()
    fill(replay, 20, 1)  # completes window 19..20 at max priority (10)
    assert replay.tree is not None and replay.tree.get(np.array([19]))[0] == pytest.approx(10.0)


@pytest.mark.parametrize("prioritized", [False, True])
def test_replay_state_round_trips_in_arrival_order(prioritized: bool) -> None:
    a = SequenceReplay(capacity=30, obs_dim=3, sequence_length=4, prioritized=prioritized)
    fill(a, 0, 47)
    if prioritized:
        a.update_priorities(np.array([a._physical(np.array([5]))[0]]), np.full((1, 4), 3.0), 0.9, 0.0)
    b = SequenceReplay(capacity=30, obs_dim=3, sequence_length=4, prioritized=prioritized)
    b.load_state_dict(a.state_dict())
    sa, sb = a.state_dict(), b.state_dict()
    for key in sa:
        np.testing.assert_array_equal(np.asarray(sa[key]), np.asarray(sb[key]))
    ra = a.sample(64, np.random.default_rng(3))
    rb = b.sample(64, np.random.default_rng(3))
    np.testing.assert_array_equal(ra.reward.numpy(), rb.reward.numpy())
