"""A1 policy handling over RMR for one policy type: CREATE/UPDATE/DELETE in both payload forms.

``handle(payload)`` decodes an ``A1_POLICY_REQ`` (the Go mediator's strings-only form or the
documented object form, via ``ricproto.a1``), hands the policy to the xApp's ``apply`` callback and
returns the ``A1_POLICY_RESP`` bytes (type id always a JSON number). A policy the callback rejects
(it raises ``ValueError``) is answered with status ERROR and logged with the reason; a request that
cannot even be decoded is counted and answered with nothing (there is no instance to answer for).
``query()`` is the ``A1_POLICY_QUERY`` sent at start so the mediator re-sends existing instances.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ricproto import a1
from xapps.common.metrics import XappMetrics

log = logging.getLogger("xapps.common.a1")

ApplyPolicy = Callable[[str, dict[str, Any] | None], None]  # (instance id, payload or None on DELETE)


class A1PolicyHandler:
    def __init__(
        self, policy_type_id: int, handler_id: str, apply: ApplyPolicy, metrics: XappMetrics
    ) -> None:
        self.policy_type_id = a1.validate_policy_type_id(policy_type_id)
        self.handler_id = handler_id
        self.apply = apply
        self.metrics = metrics
        self._lock = threading.Lock()
        self.instances: dict[str, dict[str, Any]] = {}
        self.last_error: dict[str, str] = {}
        self._requests = metrics.counter(
            "twinric_xapp_a1_requests", "A1 policy requests handled", ("operation", "status")
        )

    def query(self) -> bytes:
        return a1.encode_policy_query(a1.A1PolicyQuery(self.policy_type_id))

    def handle(self, payload: bytes) -> bytes | None:
        try:
            req = a1.decode_policy_request(payload)
        except a1.A1CodecError as exc:
            self.metrics.error("a1_bad_request")
            log.error("malformed A1_POLICY_REQ: %s", exc)
            return None
        if req.policy_type_id != self.policy_type_id:
            self.metrics.error("a1_wrong_type")
            log.error(
                "A1 request for type %d, this handler serves %d", req.policy_type_id, self.policy_type_id
            )
            return self._answer(req, a1.A1HandlerStatus.ERROR)
        if req.operation is a1.A1Operation.DELETE:
            with self._lock:
                self.instances.pop(req.policy_instance_id, None)
                self.last_error.pop(req.policy_instance_id, None)
            try:
                self.apply(req.policy_instance_id, None)
            except ValueError as exc:
                log.error("A1 delete of %s: %s", req.policy_instance_id, exc)
            return self._answer(req, a1.A1HandlerStatus.DELETED)
        assert req.payload is not None
        try:
            self.apply(req.policy_instance_id, req.payload)
        except ValueError as exc:
            reason = getattr(exc, "reason", str(exc))
            self.metrics.error("a1_policy_rejected")
            log.error("A1 policy %s rejected: %s", req.policy_instance_id, reason)
            with self._lock:
                self.last_error[req.policy_instance_id] = reason
            return self._answer(req, a1.A1HandlerStatus.ERROR)
        with self._lock:
            self.instances[req.policy_instance_id] = req.payload
            self.last_error.pop(req.policy_instance_id, None)
        return self._answer(req, a1.A1HandlerStatus.OK)

    def _answer(self, req: a1.A1PolicyRequest, status: a1.A1HandlerStatus) -> bytes:
        self._requests.labels(operation=str(req.operation), status=str(status)).inc()
        return a1.encode_policy_response(
            a1.A1PolicyResponse(req.policy_type_id, req.policy_instance_id, self.handler_id, status)
        )
