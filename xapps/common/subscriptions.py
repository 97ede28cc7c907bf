"""E2 subscriptions through submgr's REST API (PascalCase bodies of ``ricproto.subscription_api``).

Per E2 node (meid) the xApp keeps one subscription. Its ``SubscriptionId``, the digest of what it asks
for and the E2 instance ids from submgr's notification live in a Redis hash, so a restarted xApp
resends the same ``SubscriptionId`` (submgr then answers with the existing subscription) instead of
piling up duplicates. Nodes that could not be subscribed (503 "No E2 connection" while a node is
down, submgr unreachable) are retried in the background; ``resubscribe(meid)`` is called when a node
reconnects. The notification (``POST /ric/v1/subscriptions/response``) may arrive before the 201
answer; it is then held until the id is known.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import httpx
import redis
from pydantic import ValidationError

from ricproto.subscription_api import SubscriptionParams, SubscriptionResponse
from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.common.subscriptions")


def store_key(xapp: str) -> str:
    return f"twinric:subscriptions:{xapp}"


class SubscriptionClient:
    def __init__(
        self,
        submgr_url: str,
        xapp: str,
        redis_client: redis.Redis,
        params_for: Callable[[str], SubscriptionParams],
        metrics: XappMetrics,
        *,
        timeout_s: float = 5.0,
        retry_s: float = 2.0,
    ) -> None:
        self.url = submgr_url.rstrip("/")
        self.key = store_key(xapp)
        self.redis = redis_client
        self.params_for = params_for
        self.metrics = metrics
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self._lock = threading.Lock()
        self._wanted: set[str] = set()
        self._failed: dict[str, str] = {}  # meid -> last error
        self._early: dict[str, SubscriptionResponse] = {}  # notifications for ids not yet known
        self._instances: dict[int, str] = {}  # E2 instance id (RMR sub_id of indications) -> meid
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._active = metrics.gauge("twinric_xapp_subscriptions", "E2 subscriptions with an E2 instance id")

    # --- store ------------------------------------------------------------------------------------
    def _record(self, meid: str) -> dict[str, Any] | None:
        try:
            raw = self.redis.hget(self.key, meid)
        except redis.RedisError as exc:
            self.metrics.error("redis_unavailable")
            log.warning("subscription store unreadable: %s", exc)
            return None
        return json.loads(raw) if raw else None

    def _save(self, meid: str, record: dict[str, Any]) -> None:
        try:
            self.redis.hset(self.key, meid, json.dumps(record))
        except redis.RedisError as exc:
            self.metrics.error("redis_unavailable")
            log.warning("subscription %s not stored: %s", record.get("SubscriptionId"), exc)

    def subscription_id(self, meid: str) -> str | None:
        rec = self._record(meid)
        return rec.get("SubscriptionId") if rec else None

    def meid_of_instance(self, e2_instance_id: int) -> str | None:
        with self._lock:
            return self._instances.get(e2_instance_id)

    # --- subscribe ---------------------------------------------------------------------------------
    def subscribe(self, meid: str) -> bool:
        """Subscribe (or re-send the stored subscription) to ``meid``; False when it must be retried."""
        with self._lock:
            self._wanted.add(meid)
        params = self.params_for(meid)
        stored = self._record(meid)
        if stored and stored.get("content_key") == params.content_key():
            params = params.model_copy(update={"SubscriptionId": stored["SubscriptionId"]})
        try:
            resp = httpx.post(
                f"{self.url}/ric/v1/subscriptions",
                json=params.model_dump(exclude_none=True),
                timeout=self.timeout_s,
            )
        except httpx.HTTPError as exc:
            return self._fail(meid, "submgr_unreachable", f"submgr unreachable: {exc}")
        if resp.status_code != 201:
            return self._fail(
                meid, f"submgr_{resp.status_code}", f"submgr answered {resp.status_code}: {resp.text[:200]}"
            )
        try:
            answer = SubscriptionResponse.model_validate(resp.json())
        except (ValueError, ValidationError) as exc:
            return self._fail(meid, "submgr_bad_answer", f"bad 201 body: {exc}")
        record = {
            "SubscriptionId": answer.SubscriptionId,
            "content_key": params.content_key(),
            "instances": (stored or {}).get("instances", {})
            if stored and stored.get("SubscriptionId") == answer.SubscriptionId
            else {},
        }
        self._save(meid, record)
        with self._lock:
            self._failed.pop(meid, None)
            early = self._early.pop(answer.SubscriptionId, None)
        for notice in (answer, early):
            if notice is not None and notice.SubscriptionInstances:
                self._apply(meid, notice)
        log.info("subscribed to %s: %s", meid, answer.SubscriptionId)
        return True

    def _fail(self, meid: str, reason: str, detail: str) -> bool:
        self.metrics.error(reason)
        log.warning("subscription to %s failed: %s", meid, detail)
        with self._lock:
            self._failed[meid] = detail
        return False

    def resubscribe(self, meid: str) -> bool:
        """A node (re)connected: its E2 subscriptions are gone on the node side, subscribe again."""
        rec = self._record(meid)
        if rec:
            rec["instances"] = {}
            self._save(meid, rec)
        with self._lock:
            for iid in [i for i, m in self._instances.items() if m == meid]:
                del self._instances[iid]
        self._update_gauge()
        return self.subscribe(meid)

    def unsubscribe(self, meid: str) -> bool:
        with self._lock:
            self._wanted.discard(meid)
            self._failed.pop(meid, None)
        sub_id = self.subscription_id(meid)
        if sub_id is None:
            return True
        try:
            resp = httpx.delete(f"{self.url}/ric/v1/subscriptions/{sub_id}", timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            self.metrics.error("submgr_unreachable")
            log.warning("unsubscribe %s failed: %s", sub_id, exc)
            return False
        if resp.status_code not in (200, 204, 404):
            self.metrics.error(f"submgr_{resp.status_code}")
            return False
        try:
            self.redis.hdel(self.key, meid)
        except redis.RedisError:
            self.metrics.error("redis_unavailable")
        return True

    # --- notifications --------------------------------------------------------------------------
    def notification(self, body: Any) -> None:
        """Handle ``POST /ric/v1/subscriptions/response``; raises ValueError on a malformed body."""
        try:
            notice = SubscriptionResponse.model_validate(body)
        except ValidationError as exc:
            self.metrics.error("bad_subscription_notification")
            raise ValueError(str(exc)) from None
        meid = self._meid_of(notice.SubscriptionId)
        if meid is None:
            with self._lock:
                self._early[notice.SubscriptionId] = notice
            return
        self._apply(meid, notice)

    def _meid_of(self, sub_id: str) -> str | None:
        try:
            records = self.redis.hgetall(self.key)
        except redis.RedisError:
            self.metrics.error("redis_unavailable")
            return None
        for meid, raw in records.items():
            if json.loads(raw).get("SubscriptionId") == sub_id:
                return meid.decode() if isinstance(meid, bytes) else meid
        return None

    def _apply(self, meid: str, notice: SubscriptionResponse) -> None:
        rec = self._record(meid) or {"SubscriptionId": notice.SubscriptionId, "instances": {}}
        for inst in notice.SubscriptionInstances or ():
            if inst.E2EventInstanceId == 0 or inst.ErrorCause:
                self.metrics.error("subscription_failed")
                log.warning(
                    "subscription %s to %s failed: %s (%s)",
                    notice.SubscriptionId,
                    meid,
                    inst.ErrorCause,
                    inst.ErrorSource,
                )
                with self._lock:
                    self._failed[meid] = f"{inst.ErrorSource}: {inst.ErrorCause}"
                continue
            rec.setdefault("instances", {})[str(inst.XappEventInstanceId)] = inst.E2EventInstanceId
            with self._lock:
                self._instances[inst.E2EventInstanceId] = meid
        self._save(meid, rec)
        self._update_gauge()

    def _update_gauge(self) -> None:
        with self._lock:
            self._active.set(len(set(self._instances.values())))

    # --- background retry -------------------------------------------------------------------------
    def start(self, meids: list[str]) -> SubscriptionClient:
        with self._lock:
            self._wanted.update(meids)
            self._failed.update({m: "not yet subscribed" for m in meids})
        self._thread = threading.Thread(target=self._run, name="kpm-subscriptions", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                pending = [m for m in self._failed if m in self._wanted]
            for meid in pending:
                if self._stop.is_set():
                    break
                self.subscribe(meid)
            self._stop.wait(self.retry_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 1)

    def health(self) -> tuple[bool, str]:
        """OK when every wanted node has an E2 instance id (submgr's notification arrived)."""
        with self._lock:
            failed = {m: e for m, e in self._failed.items() if m in self._wanted}
            subscribed = set(self._instances.values())
            awaiting = sorted(self._wanted - subscribed - set(failed))
        detail = f"{len(subscribed)} node(s) subscribed"
        if failed:
            detail += f"; failed (retrying): {failed}"
        if awaiting:
            detail += f"; awaiting submgr notification: {awaiting}"
        return not failed and not awaiting, detail
