"""``SubscriptionService``: the subscription procedures behind the REST API.

create: node connected? -> merge identical requests -> allocate instance ids -> (in the background)
route request, RICsubscriptionRequest with timeout/retries, notification. delete: forget, then
RICsubscriptionDeleteRequest, route removal, instance release. restore: when a node sets up again,
re-send its active subscriptions with the same instance ids.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Coroutine
from typing import Any

import redis.asyncio as aioredis

from ricplt.e2term.inventory import read_node
from ricplt.submgr.e2_exchange import E2Exchange
from ricplt.submgr.e2_request import delete_request, subscription_request
from ricplt.submgr.metrics import SubmgrMetrics
from ricplt.submgr.notifier import Notifier
from ricplt.submgr.route_handles import RouteHandleError, RouteHandles
from ricplt.submgr.store import E2Instance, NoFreeInstance, SubscriptionRecord, SubscriptionStore
from ricproto import mtypes
from ricproto.e2ap import E2CodecError, RICsubscriptionFailure, encode
from ricproto.subscription_api import ClientEndpoint, SubscriptionParams, SubscriptionResponse

log = logging.getLogger("submgr")

DEFAULT_TIMEOUT = 2  # E2TimeoutTimerValue, seconds (submgr's default)
DEFAULT_RETRIES = 2  # E2RetryCount


class NodeNotConnected(Exception):
    def __init__(self, ran_name: str) -> None:
        self.ran_name = ran_name
        super().__init__(f"No E2 connection for ranName {ran_name}")


class InvalidSubscription(ValueError):
    """A body that validates against the schema but cannot be served (the reason is the message)."""


class SubscriptionNotFound(KeyError):
    pass


def new_subscription_id() -> str:
    return secrets.token_hex(8)


def directives(params: SubscriptionParams) -> tuple[float, int]:
    given = params.E2SubscriptionDirectives
    timeout = (
        given.E2TimeoutTimerValue if given and given.E2TimeoutTimerValue is not None else DEFAULT_TIMEOUT
    )
    retries = given.E2RetryCount if given and given.E2RetryCount is not None else DEFAULT_RETRIES
    return float(timeout), retries


def _rmr_host_port(client: ClientEndpoint) -> tuple[str, int]:
    host, _, port = client.rmr_endpoint().rpartition(":")
    return host, int(port)


def _cause_text(failure: RICsubscriptionFailure) -> str:
    return f"RICsubscriptionFailure: {type(failure.cause).__name__}.{failure.cause.name}"


class SubscriptionService:
    def __init__(
        self,
        store: SubscriptionStore,
        nodes: aioredis.Redis,
        exchange: E2Exchange,
        notifier: Notifier,
        routes: RouteHandles,
        metrics: SubmgrMetrics,
    ) -> None:
        self.store = store
        self.nodes = nodes
        self.exchange = exchange
        self.notifier = notifier
        self.routes = routes
        self.metrics = metrics
        # subscriptions whose E2 setup is running -> their final record (merged requests wait on it)
        self._settling: dict[str, asyncio.Future[SubscriptionRecord | None]] = {}
        self._restoring: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # ---- lifecycle -----------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.metrics.error("internal-error")
            log.error("background subscription work failed: %r", task.exception(), exc_info=task.exception())

    async def resume(self) -> None:
        """After a restart: finish subscriptions that were still waiting for their node's answer."""
        for record in await self.store.all():
            if any(i.state == "pending" for i in record.instances):
                log.info("resuming pending subscription %s", record.SubscriptionId)
                self._settling[record.SubscriptionId] = asyncio.get_running_loop().create_future()
                self._spawn(self._establish(record))
        await self.refresh_gauge()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def refresh_gauge(self) -> None:
        self.metrics.subscriptions_active.set(await self.store.count_active())

    # ---- create --------------------------------------------------------------------------------

    async def create(self, params: SubscriptionParams) -> str:
        """Accept a request; returns its SubscriptionId (the E2 work continues in the background)."""
        node = await read_node(self.nodes, params.Meid)
        if node is None or not node.connected:
            raise NodeNotConnected(params.Meid)
        if params.ClientEndpoint.HTTPPort is None:
            raise InvalidSubscription("ClientEndpoint.HTTPPort is required: the notification is sent there")
        if params.SubscriptionId and await self.store.exists(params.SubscriptionId):
            log.info("resent subscription %s", params.SubscriptionId)
            self._spawn(self._notify_when_settled(params.SubscriptionId, params.ClientEndpoint))
            return params.SubscriptionId
        digest = params.content_key()
        subscription_id = params.SubscriptionId or new_subscription_id()
        holder = await self.store.claim_content(digest, subscription_id)
        if holder is not None:
            if holder in self._settling or await self.store.exists(holder):
                log.info("request identical to subscription %s: merged", holder)
                self._spawn(self._notify_when_settled(holder, params.ClientEndpoint))
                return holder
            await self.store.set_content(digest, subscription_id)  # the holder was deleted: take over
        # identical requests arriving from now on wait for this one's outcome
        settling = self._settling[subscription_id] = asyncio.get_running_loop().create_future()
        instances: list[E2Instance] = []
        try:
            for detail in params.SubscriptionDetails:
                instances.append(E2Instance(detail.XappEventInstanceId, await self.store.allocate_instance()))
        except NoFreeInstance:
            for instance in instances:
                await self.store.release_instance(instance.E2EventInstanceId)
            await self.store.drop_content(digest)
            del self._settling[subscription_id]
            settling.set_result(None)
            raise
        record = SubscriptionRecord(
            subscription_id, digest, params.model_dump(mode="json", exclude_none=True), instances, time.time()
        )
        await self.store.save(record)
        log.info(
            "subscription %s to %s function %d: E2 instances %s",
            subscription_id,
            params.Meid,
            params.RANFunctionID,
            [i.E2EventInstanceId for i in instances],
        )
        self._spawn(self._establish(record))
        return subscription_id

    async def _establish(self, record: SubscriptionRecord) -> None:
        params = record.request
        try:
            await asyncio.gather(
                *(
                    self._subscribe(params, detail, instance)
                    for detail, instance in zip(params.SubscriptionDetails, record.instances, strict=True)
                    if instance.state == "pending"
                )
            )
            if not await self.store.update(record):
                log.info("subscription %s was deleted while being set up: undoing it", record.SubscriptionId)
                await self._teardown(record, params)
                return
            if all(i.state == "failed" for i in record.instances):
                # as submgr: a failed subscription is forgotten, so the same request can be tried again
                await self.store.remove(record)
            await self.refresh_gauge()
        finally:
            settling = self._settling.pop(record.SubscriptionId, None)
            if settling is not None and not settling.done():
                settling.set_result(record)
        await self._notify(record, params.ClientEndpoint)

    async def _subscribe(self, params: SubscriptionParams, detail: Any, instance: E2Instance) -> None:
        number = instance.E2EventInstanceId
        host, port = _rmr_host_port(params.ClientEndpoint)
        try:
            await self.routes.add(host, port, number)
        except RouteHandleError as exc:
            self.metrics.error("rtmgr-failed")
            log.error("route request for instance %d failed: %s", number, exc)
            instance.fail(f"route manager: {exc}", "RTMGR", "RTMGR-Timeout" if exc.timeout else None)
            await self.store.release_instance(number)
            return
        try:
            payload = encode(subscription_request(params, detail, number))
        except E2CodecError as exc:
            self.metrics.error("asn1-encode-failed")
            instance.fail(f"cannot encode RICsubscriptionRequest: {exc}", "ASN1")
            await self._undo(params, instance, send_delete=False)
            return
        timeout, retries = directives(params)
        outcome = await self.exchange.request("subscribe", payload, params.Meid, number, timeout, retries)
        if outcome.answer is None:
            self.metrics.error("e2-timeout")
            what = "no answer" if outcome.sent else "RMR could not deliver the request"
            instance.fail(
                f"{what} from E2 node {params.Meid} after {outcome.attempts} attempts of {timeout:g}s",
                "E2Node" if outcome.sent else "SUBMGR",
                "E2-Timeout",
            )
            await self._undo(params, instance, send_delete=outcome.sent)
        elif outcome.answer.mtype == mtypes.RIC_SUB_RESP:
            instance.state = "active"
            log.info("E2 instance %d active on %s", number, params.Meid)
        else:
            self.metrics.error("e2-subscription-failure")
            failure = outcome.answer.message
            cause = _cause_text(failure) if isinstance(failure, RICsubscriptionFailure) else "failure"
            instance.fail(cause, "E2Node")
            log.warning("E2 node %s refused instance %d: %s", params.Meid, number, cause)
            await self._undo(params, instance, send_delete=False)

    async def _undo(self, params: SubscriptionParams, instance: E2Instance, send_delete: bool) -> None:
        """A failed instance: remove its route, release its id (after a delete, as submgr does on timeout)."""
        if send_delete:
            await self._e2_delete(params, instance.XappEventInstanceId, instance.E2EventInstanceId, retries=0)
        await self._remove_route(params, instance.E2EventInstanceId)
        await self.store.release_instance(instance.E2EventInstanceId)

    async def _notify(self, record: SubscriptionRecord, client: ClientEndpoint) -> None:
        for instance in record.instances:  # one notification per E2 subscription, as submgr sends them
            response = SubscriptionResponse(
                SubscriptionId=record.SubscriptionId, SubscriptionInstances=[instance.notification()]
            )
            await self.notifier.notify(client, response)

    async def _notify_when_settled(self, subscription_id: str, client: ClientEndpoint) -> None:
        settling = self._settling.get(subscription_id)
        record = (
            await asyncio.shield(settling) if settling is not None else await self.store.get(subscription_id)
        )
        if record is not None:
            await self._notify(record, client)

    # ---- delete --------------------------------------------------------------------------------

    async def delete(self, subscription_id: str) -> None:
        record = await self.store.get(subscription_id)
        if record is None:
            raise SubscriptionNotFound(subscription_id)
        await self.store.remove(record)
        await self.refresh_gauge()
        log.info("subscription %s deleted", subscription_id)
        if subscription_id not in self._settling:  # a running setup undoes itself when it sees the deletion
            self._spawn(self._teardown(record, record.request))

    async def _teardown(self, record: SubscriptionRecord, params: SubscriptionParams) -> None:
        for instance in record.instances:
            if instance.state == "failed":
                continue  # already released when it failed
            await self._e2_delete(params, instance.XappEventInstanceId, instance.E2EventInstanceId)
            await self._remove_route(params, instance.E2EventInstanceId)
            await self.store.release_instance(instance.E2EventInstanceId)

    async def _e2_delete(
        self, params: SubscriptionParams, requestor: int, number: int, retries: int | None = None
    ) -> None:
        node = await read_node(self.nodes, params.Meid)
        if node is None or not node.connected:
            log.info("E2 node %s is not connected: instance %d deleted locally only", params.Meid, number)
            return
        timeout, default_retries = directives(params)
        payload = encode(delete_request(requestor, number, params.RANFunctionID))
        outcome = await self.exchange.request(
            "delete", payload, params.Meid, number, timeout, default_retries if retries is None else retries
        )
        if outcome.answer is None:
            self.metrics.error("e2-delete-timeout")
            log.warning("no answer to the delete of instance %d from %s", number, params.Meid)
        elif outcome.answer.mtype != mtypes.RIC_SUB_DEL_RESP:
            self.metrics.error("e2-delete-failure")
            log.warning("E2 node %s refused the delete of instance %d", params.Meid, number)

    async def _remove_route(self, params: SubscriptionParams, number: int) -> None:
        host, port = _rmr_host_port(params.ClientEndpoint)
        try:
            await self.routes.remove(host, port, number)
        except RouteHandleError as exc:
            self.metrics.error("rtmgr-failed")
            log.error("route removal for instance %d failed: %s", number, exc)

    # ---- restore -------------------------------------------------------------------------------

    async def restore(self, ran_name: str) -> int:
        """Re-send every active subscription of ``ran_name`` with its instance ids; returns how many took."""
        lock = self._restoring.setdefault(ran_name, asyncio.Lock())
        restored = 0
        async with lock:
            for record in await self.store.all():
                if record.meid != ran_name:
                    continue
                params = record.request
                timeout, retries = directives(params)
                for detail, instance in zip(params.SubscriptionDetails, record.instances, strict=True):
                    if instance.state != "active":
                        continue
                    number = instance.E2EventInstanceId
                    payload = encode(subscription_request(params, detail, number))
                    outcome = await self.exchange.request(
                        "subscribe", payload, ran_name, number, timeout, retries
                    )
                    if outcome.answer is not None and outcome.answer.mtype == mtypes.RIC_SUB_RESP:
                        restored += 1
                        log.info(
                            "subscription %s instance %d restored on %s",
                            record.SubscriptionId,
                            number,
                            ran_name,
                        )
                    else:
                        self.metrics.error("restore-failed")
                        log.error(
                            "subscription %s instance %d could not be restored on %s",
                            record.SubscriptionId,
                            number,
                            ran_name,
                        )
        return restored

    def restore_in_background(self, ran_name: str) -> None:
        self._spawn(self.restore(ran_name))
