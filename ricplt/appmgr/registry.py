"""What appmgr/rtmgr know, kept in Redis: registered xApps, E2 subscriptions, E2 nodes per E2 termination."""

from __future__ import annotations

import json
import threading

import redis

from ricplt.appmgr.registration import XappRegistration
from ricplt.routes import SubscriptionRoute

XAPPS = "{appmgr},xapps"  # hash: instance name -> registration JSON
SUBSCRIPTIONS = "{appmgr},subscriptions"  # set of "sub_id|host:port"
E2T_RANS = "{appmgr},e2t_rans"  # hash: E2 termination endpoint -> JSON list of RAN names


class Registry:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._ran_lock = threading.Lock()  # RAN maps are read-modify-write; one appmgr process owns them

    @classmethod
    def from_url(cls, url: str) -> Registry:
        return cls(redis.Redis.from_url(url))

    def healthy(self) -> bool:
        try:
            return bool(self.client.ping())
        except (redis.RedisError, OSError):
            return False

    def register(self, reg: XappRegistration) -> None:
        """Add or replace an instance (a restarted xApp registers again under the same name)."""
        self.client.hset(XAPPS, reg.instance_name, reg.to_json())

    def deregister(self, instance_name: str) -> bool:
        return bool(self.client.hdel(XAPPS, instance_name))

    def xapps(self) -> list[XappRegistration]:
        raw = self.client.hgetall(XAPPS)
        return sorted((XappRegistration.from_json(v) for v in raw.values()), key=lambda r: r.instance_name)

    def add_subscription(self, sub: SubscriptionRoute) -> bool:
        return bool(self.client.sadd(SUBSCRIPTIONS, f"{sub.sub_id}|{sub.endpoint}"))

    def delete_subscription(self, sub: SubscriptionRoute) -> bool:
        return bool(self.client.srem(SUBSCRIPTIONS, f"{sub.sub_id}|{sub.endpoint}"))

    def subscriptions(self) -> list[SubscriptionRoute]:
        out = []
        for member in self.client.smembers(SUBSCRIPTIONS):
            sub_id, _, endpoint = member.decode().partition("|")
            out.append(SubscriptionRoute(int(sub_id), endpoint))
        return sorted(out, key=lambda s: (s.sub_id, s.endpoint))

    def associate(self, e2term: str, ran_names: list[str]) -> None:
        """Record that these E2 nodes are served by ``e2term`` (and by no other termination)."""
        with self._ran_lock:
            self._associate(e2term, ran_names)

    def _associate(self, e2term: str, ran_names: list[str]) -> None:
        current = self.meids()
        for owner, names in current.items():
            kept = [n for n in names if n not in ran_names]
            if owner != e2term and kept != names:
                self._set_rans(owner, kept)
        merged = sorted(set(current.get(e2term, [])) | set(ran_names))
        self._set_rans(e2term, merged)

    def dissociate(self, e2term: str, ran_names: list[str] | None) -> None:
        """Forget some (or, with ``None``, all) E2 nodes of ``e2term``."""
        with self._ran_lock:
            if ran_names is None:
                self.client.hdel(E2T_RANS, e2term)
                return
            kept = [n for n in self.meids().get(e2term, []) if n not in ran_names]
            self._set_rans(e2term, kept)

    def _set_rans(self, e2term: str, names: list[str]) -> None:
        if names:
            self.client.hset(E2T_RANS, e2term, json.dumps(names))
        else:
            self.client.hdel(E2T_RANS, e2term)

    def meids(self) -> dict[str, list[str]]:
        return {k.decode(): json.loads(v) for k, v in self.client.hgetall(E2T_RANS).items()}
