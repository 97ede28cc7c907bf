from __future__ import annotations

import pytest
import redis

from twinric.ports import port_is_free
from twinric.processes import pid_alive
from twinric.redis_server import PrivateRedis, RedisUnavailable, ping


def test_private_redis_really_starts_and_stops() -> None:
    server = PrivateRedis().start()
    pid = server.process.pid
    assert pid is not None and pid_alive(pid)
    assert not port_is_free(server.port)
    client = redis.Redis.from_url(server.url)
    client.set("twinric:probe", b"42")
    assert client.get("twinric:probe") == b"42"
    assert client.config_get("save")["save"] == ""  # persists nothing
    client.close()
    data_dir = server.dir
    assert data_dir.is_dir()

    server.stop()
    assert not pid_alive(pid)
    assert port_is_free(server.port)
    assert not ping(server.url, 0.2)
    assert not data_dir.exists()


def test_context_manager_stops_on_error() -> None:
    with pytest.raises(RuntimeError, match="boom"), PrivateRedis() as server:
        pid = server.process.pid
        raise RuntimeError("boom")
    assert not pid_alive(pid)


def test_missing_binary_says_how_to_install(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TWINRIC_REDIS_SERVER", str(tmp_path / "no-such-redis-server"))
    with pytest.raises(RedisUnavailable, match="apt-get install redis-server"):
        PrivateRedis()


def test_session_fixture_gives_a_working_redis(redis_client: redis.Redis) -> None:
    redis_client.xadd("twinric:test-stream", {"k": "v"})
    assert redis_client.xlen("twinric:test-stream") == 1
