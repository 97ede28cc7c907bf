"""A1Store on a real Redis: key layout, odd instance ids, concurrent creates."""

from __future__ import annotations

import threading

import redis

from ricplt.a1mediator.store import A1Store


def test_keys_follow_the_osc_layout(redis_client: redis.Redis) -> None:
    store = A1Store(redis_client)
    assert store.create_type(20008, {"name": "t"})
    assert not store.create_type(20008, {"name": "other"})
    assert store.put_instance(20008, "p1", {"threshold": 1}) is False
    store.set_handler_status(20008, "p1", "OK")
    keys = {k.decode() for k in redis_client.keys("*")}
    assert keys == {
        "{A1m_ns},a1.policy_type.20008",
        "{A1m_ns},a1.policy_instance.20008.p1",
        "{A1m_ns},a1.policy_inst_metadata.20008.p1",
        "{A1m_ns},a1.policy_handler.20008.p1",
    }


def test_glob_characters_in_ids_do_not_leak_between_types(redis_client: redis.Redis) -> None:
    store = A1Store(redis_client)
    for iid in ("a*b", "x?[y]", "plain", "back\\slash"):
        store.put_instance(1, iid, {})
    store.put_instance(12, "other", {})
    store.put_instance(2, "*", {})
    assert store.list_instances(1) == sorted(["a*b", "x?[y]", "plain", "back\\slash"])
    assert store.list_instances(2) == ["*"]
    assert store.list_instances(12) == ["other"]


def test_concurrent_puts_of_a_new_instance_make_exactly_one_create(redis_url: str, redis_client) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def put() -> None:
        store = A1Store(redis.Redis.from_url(redis_url))
        barrier.wait()
        results.append(store.put_instance(5, "race", {"n": 1}))

    threads = [threading.Thread(target=put) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] + [True] * 7


def test_delete_marks_then_purge_forgets(redis_client: redis.Redis) -> None:
    store = A1Store(redis_client)
    store.put_instance(5, "d", {"n": 1})
    store.set_notification_destination(5, "d", "http://x/y")
    assert store.mark_deleted(5, "d")
    assert not store.mark_deleted(5, "d")
    assert store.get_instance(5, "d") is None and store.get_notification_destination(5, "d") is None
    assert store.get_metadata(5, "d").has_been_deleted
    assert store.put_instance(5, "d", {"n": 2}) is False  # re-created after delete: a CREATE again
    store.mark_deleted(5, "d")
    store.purge(5, "d")
    assert store.get_metadata(5, "d") is None and redis_client.keys("*") == []
