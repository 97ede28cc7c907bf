"""The consumer group over real Redis: every record reaches the sinks once, in order; re-deliveries
after a crash are duplicates, trimmed entries are counted lost, malformed ones are skipped and
counted by reason; a consumer restored from its checkpoint resumes where the checkpoint was."""

from __future__ import annotations

import itertools

import numpy as np
from twin_records import RanScript, produce

from ricproto import ran_view, transition
from ricproto.transition import Transition, TransitionBatch, encode_transition
from twin_sidecar.metrics import TwinMetrics
from twin_sidecar.streams import StreamConsumer


def consumer(client, cfg, metrics=None) -> tuple[StreamConsumer, dict]:
    space = cfg.space
    c = StreamConsumer(
        client,
        "control-t",
        metrics or TwinMetrics(),
        obs_dim=space.max_cells * space.n_features,
        n_actions=space.n_actions,
        count=50,
    )
    got: dict = {"steps": [], "seqs": [], "messages": []}
    c.add_transition_batch_sink(lambda b: got["steps"].extend(b.step.tolist()))
    c.add_ran_view_sink(lambda rs: got["seqs"].extend(r.seq for r in rs))
    c.add_transition_sink(lambda ms: got["messages"].extend(ms))
    c.ensure_groups()
    return c, got


def drain(c: StreamConsumer) -> None:
    while c.poll(block_ms=10):
        pass
    c.poll(block_ms=10)


def test_every_record_once_in_order(redis_client, script: RanScript) -> None:
    produce(redis_client, script, range(120))
    c, got = consumer(redis_client, script.cfg)
    drain(c)
    assert got["steps"] == list(range(120)) and got["seqs"] == list(range(120))
    assert isinstance(got["messages"][5], Transition) and got["messages"][5].step == 5
    assert c.positions["transitions"].consumed == 120 and c.unacked == 240
    assert c.ack() == 240
    assert redis_client.xpending(transition.stream_key("control-t"), "twin")["pending"] == 0


def test_sinks_take_chunks_with_the_gate_checked_between(redis_client, script: RanScript) -> None:
    """A request waits for one chunk of sink work at most: the gate is asked between chunks."""
    produce(redis_client, script, range(45))
    c, got = consumer(redis_client, script.cfg)
    c.sink_chunk = 8
    calls: list[object] = []
    c.add_ran_view_sink(lambda rs: calls.append(len(rs)))
    c.pause = lambda: calls.append("pause")
    drain(c)
    assert got["seqs"] == list(range(45)) and got["steps"] == list(range(45))  # once, in order
    sizes = [x for x in calls if x != "pause"]
    assert sum(sizes) == 45 and max(sizes) == 8 and len(sizes) == 6
    assert all(not (a != "pause" and b != "pause") for a, b in itertools.pairwise(calls))


def test_crash_before_ack_redelivers_and_the_checkpoint_skips_duplicates(redis_client, script) -> None:
    produce(redis_client, script, range(60))
    c1, _got1 = consumer(redis_client, script.cfg)
    drain(c1)
    saved = c1.state_dict()  # the checkpoint covers 0..59 ...
    produce(redis_client, script, range(60, 90))
    drain(c1)  # ... 60..89 were applied but not checkpointed; nothing acked: the process dies here
    metrics = TwinMetrics()
    c2, got2 = consumer(redis_client, script.cfg, metrics)
    c2.load_state_dict(saved)  # restart from the checkpoint
    drain(c2)
    assert got2["steps"] == list(range(60, 90)) and got2["seqs"] == list(range(60, 90))
    assert c2.positions["transitions"].duplicates == 60 and c2.positions["transitions"].consumed == 90
    assert metrics.sample("twinric_twin_records_duplicate_total", {"stream": "transitions"}) == 60
    c2.ack()
    produce(redis_client, script, range(90, 95))
    drain(c2)
    assert got2["steps"][-5:] == [90, 91, 92, 93, 94]


def test_gaps_are_lost_and_malformed_records_are_skipped(redis_client, script) -> None:
    key_t, key_v = transition.stream_key("control-t"), ran_view.stream_key("control-t")
    produce(redis_client, script, range(3))
    redis_client.xadd(key_t, {transition.FIELD: b"\xff\xfe garbage"})  # undecodable
    redis_client.xadd(key_t, {b"other": b"x"})  # no field
    redis_client.xadd(
        key_t, {transition.FIELD: encode_transition(Transition(step=3, s=[0.1] * 3, s_next=[0.1] * 3))}
    )
    redis_client.xadd(key_v, {ran_view.FIELD: b"\x08\x05"})  # schema_version 5
    produce(redis_client, script, range(4, 6))
    produce(redis_client, script, range(9, 10))  # 6..8 never arrive (trimmed)
    metrics = TwinMetrics()
    c, got = consumer(redis_client, script.cfg, metrics)
    drain(c)
    assert got["steps"] == [0, 1, 2, 4, 5, 9] and got["seqs"] == [0, 1, 2, 4, 5, 9]
    t = c.positions["transitions"]
    assert t.malformed == 3 and t.lost == 3  # 3 (the wrong shape one) is malformed, 6..8 lost
    v = c.positions["ran_view"]
    assert v.malformed == 1 and v.lost == 3
    sample = metrics.sample
    assert (
        sample("twinric_twin_records_malformed_total", {"stream": "transitions", "reason": "undecodable"})
        == 1
    )
    assert (
        sample("twinric_twin_records_malformed_total", {"stream": "transitions", "reason": "missing_field"})
        == 1
    )
    assert sample("twinric_twin_records_malformed_total", {"stream": "transitions", "reason": "shape"}) == 1
    assert (
        sample("twinric_twin_records_malformed_total", {"stream": "ran_view", "reason": "schema_version"})
        == 1
    )
    assert sample("twinric_twin_records_lost_total", {"stream": "transitions"}) == 3
    c.ack()  # malformed entries are acked too: they never come back
    assert redis_client.xpending(key_t, "twin")["pending"] == 0


def test_a_failing_sink_does_not_stop_the_others(redis_client, script) -> None:
    produce(redis_client, script, range(5))
    metrics = TwinMetrics()
    c, got = consumer(redis_client, script.cfg, metrics)

    def broken(_: TransitionBatch) -> None:
        raise RuntimeError("sink bug")

    c._batch_sinks.insert(0, broken)
    drain(c)
    assert got["steps"] == list(range(5))
    assert metrics.sample("twinric_errors_total", {"component": "twin-sidecar", "reason": "sink_failed"}) >= 1


def test_lag_is_reported(redis_client, script) -> None:
    c, _ = consumer(redis_client, script.cfg)
    produce(redis_client, script, range(30))
    assert c.update_lag()["transitions"] == 30
    drain(c)
    assert c.update_lag()["transitions"] == 0
    assert np.isfinite(c.metrics.sample("twinric_twin_lag_records", {"stream": "ran_view"}))


def test_a_new_stream_numbered_from_zero_is_followed_not_skipped(redis_client, script) -> None:
    """The twin's state outlives the stream (``twinric up`` keeps the run directory but starts a fresh
    Redis; a FLUSH; an xApp that lost its numbering): new entries numbered from 0 again are records,
    not duplicates; while an entry read before stays a duplicate."""
    produce(redis_client, script, range(80))
    c1, _ = consumer(redis_client, script.cfg)
    drain(c1)
    saved = c1.state_dict()  # the checkpoint of the first run: last seq 79
    redis_client.flushdb()  # the streams are gone
    produce(redis_client, script, range(30))  # the xApp of the next run numbers from 0
    metrics = TwinMetrics()
    c2, got = consumer(redis_client, script.cfg, metrics)
    c2.load_state_dict(saved)
    drain(c2)
    assert got["steps"] == list(range(30)) and got["seqs"] == list(range(30))
    t = c2.positions["transitions"]
    assert (t.restarts, t.duplicates, t.lost, t.last_seq) == (1, 0, 0, 29)
    assert metrics.sample("twinric_twin_stream_restarts_total", {"stream": "ran_view"}) == 1
    # a crash before the ack re-delivers what was read: duplicates again, no restart
    again = c2.state_dict()
    produce(redis_client, script, range(30, 35))
    drain(c2)
    c3, got3 = consumer(redis_client, script.cfg)
    c3.load_state_dict(again)
    drain(c3)
    assert got3["steps"] == list(range(30, 35))
    assert c3.positions["transitions"].duplicates == 30 and c3.positions["transitions"].restarts == 1


def test_the_stream_deleted_under_a_running_twin_is_followed(redis_client, script) -> None:
    produce(redis_client, script, range(40))
    c, got = consumer(redis_client, script.cfg)
    drain(c)
    c.ack()
    redis_client.delete(transition.stream_key("control-t"), ran_view.stream_key("control-t"))
    produce(redis_client, script, range(10))  # NOGROUP on the next read: the group is made again
    drain(c)
    assert got["steps"] == [*range(40), *range(10)]
    assert c.positions["ran_view"].restarts == 1 and c.positions["ran_view"].duplicates == 0
