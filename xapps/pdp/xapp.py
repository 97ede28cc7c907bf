"""The PDP xApp process: ricxappframe ``RMRXapp`` + HTTP (common endpoints and the PDP API) + A1.

RMR: ``TWINRIC_ACCESS_REQ`` is answered by return-to-sender with ``TWINRIC_ACCESS_RESP``; the dispatch
thread only queues requests, and one decider thread takes everything queued at once as a batch (one
Cedar call per batch), so throughput grows with load while a lone request is answered at once.
``A1_POLICY_REQ`` (type 21020) replaces the zero-trust policy in force; ``TWINRIC_ACCESS_REVOKE`` goes
out to every PEP. Configured from the descriptor (``CONFIG_FILE``, ``controls``) with ``TWINRIC_*``
environment overrides for off-cluster runs, like the control xApp.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import redis

from ricproto import identity, mdclog, mtypes
from xapps.common.a1_handler import A1PolicyHandler
from xapps.common.config import ENV as CONFIG_ENV
from xapps.common.config import ConfigError, config_path, controls, load_config, redis_url
from xapps.common.health import HealthState
from xapps.common.http_api import HttpServer, create_app
from xapps.common.metrics import XappMetrics
from xapps.common.registration import AppmgrRegistration, RegistrationBody, appmgr_url, service_endpoint
from xapps.common.rmr_port import RmrPort
from xapps.pdp.api import pdp_router
from xapps.pdp.decision_log import DecisionLog
from xapps.pdp.decision_point import PolicyDecisionPoint
from xapps.pdp.replay_guard import ReplayGuard
from xapps.pdp.revocation_watch import RevocationWatch
from xapps.pdp.trust_view import TrustView
from xapps.pdp.zero_trust_policy import PolicyRejected, ZeroTrustPolicy, parse_policy, policy_type_id

log = logging.getLogger("xapps.pdp")
COMPONENT = "pdp-xapp"
MODES = ("no_policy", "enforcing")
SWITCH_INTERVAL_S = 0.0005


def _env(name: str, default: Any) -> Any:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


class PdpXapp:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        ctl = controls(config)
        self.name = str(_env("TWINRIC_XAPP_INSTANCE", ctl.get("xapp_instance") or config.get("name", "pdp")))
        self.rmr_port = int(_env("TWINRIC_RMR_PORT", ctl.get("rmr_port", 4560)))
        self.http_port = int(_env("TWINRIC_HTTP_PORT", ctl.get("http_port", 8080)))
        self.batch_max = int(ctl.get("batch_max", 256))
        self.metrics = XappMetrics(COMPONENT)
        self.health = HealthState(self.metrics, MODES)
        ident = ctl.get("identity", {})
        key_file = _env("TWINRIC_PDP_KEY", ident.get("key_file"))
        keys_dir = _env("TWINRIC_XAPP_KEYS_DIR", ident.get("xapp_keys_dir"))
        if not key_file or not keys_dir:
            raise ConfigError("controls.identity needs key_file (the PDP's key) and xapp_keys_dir")
        self.signing_key = identity.load_private_key(key_file)
        self.keys = identity.KeyRing(keys_dir)
        self.redis = redis.Redis.from_url(redis_url(ctl), socket_timeout=2, socket_connect_timeout=2)
        self.trust = TrustView(self.redis, self.metrics, scan_s=float(ctl.get("trust_scan_s", 2.0)))
        dl = ctl.get("decision_log", {})
        log_file = _env("TWINRIC_DECISION_LOG_FILE", dl.get("file"))
        self.decision_log = DecisionLog(
            self.redis,
            self.metrics,
            maxlen=int(dl.get("stream_maxlen", 100_000)),
            file_path=Path(log_file) if log_file else None,
            max_bytes=int(dl.get("max_bytes", 20 * 1024 * 1024)),
            backups=int(dl.get("backups", 5)),
        )
        self.rmr: RmrPort | None = None
        self.pdp = PolicyDecisionPoint(
            self.trust,
            self.keys,
            self.decision_log,
            self.signing_key,
            self.metrics,
            replay=ReplayGuard(int(ctl.get("replay_window_ms", 30_000))),
        )
        self.revocations = RevocationWatch(
            self.signing_key,
            self._send_plain,
            self.metrics,
            trust_of=self.trust.get,
            max_age_s=lambda: self.pdp.policy.trust_max_age_s if self.pdp.policy else 60.0,
            on_revoked=self.pdp.revoked,
        )
        self.pdp.on_permit = self.revocations.note_permit
        self.trust.add_listener(self.revocations.on_trust_change)
        self._policies: dict[str, ZeroTrustPolicy] = {}
        self._policy_lock = threading.Lock()
        self.a1 = A1PolicyHandler(policy_type_id(), self.name, self._apply_policy, self.metrics)
        host = socket.gethostname()
        self.registration = AppmgrRegistration(
            appmgr_url(ctl),
            RegistrationBody(
                app_name=os.environ.get("HOSTNAME") or self.name,
                instance_name=str(config.get("name", self.name)),
                version=str(config.get("version", "0.0.0")),
                http_endpoint=service_endpoint(config, "http")
                or str(_env("TWINRIC_HTTP_ENDPOINT", f"{host}:{self.http_port}")),
                rmr_endpoint=service_endpoint(config, "rmr")
                or str(_env("TWINRIC_RMR_ENDPOINT", f"{host}:{self.rmr_port}")),
                config=config,
            ),
            self.metrics,
        )
        self.register_with_appmgr = (
            str(_env("TWINRIC_REGISTER", ctl.get("register", "true"))).lower() != "false"
        )
        self.http = HttpServer(
            create_app(
                self.health,
                lambda: self.config,
                self.metrics,
                routers=[pdp_router(self.pdp, self.decision_log, self.revocations, self.status)],
                title="twinric zero-trust PDP",
                openapi=True,
            ),
            host=str(_env("TWINRIC_HTTP_HOST", "0.0.0.0")),
            port=self.http_port,
        )
        self._inbox: queue.SimpleQueue[tuple[bytes, Any]] = queue.SimpleQueue()
        self._batch_sizes = self.metrics.histogram(
            "twinric_pdp_batch_size",
            "Requests decided together (one Cedar call)",
            (1, 2, 4, 8, 16, 32, 64, 128, 256),
        )
        self._stopping = threading.Event()
        self._rate = 0.0
        self.xapp: Any = None
        self._health_checks()

    # --- A1 ------------------------------------------------------------------------------------------
    def _apply_policy(self, instance_id: str, payload: dict[str, Any] | None) -> None:
        with self._policy_lock:
            if payload is None:
                self._policies.pop(instance_id, None)
            else:
                policy = parse_policy(payload, instance_id)  # PolicyRejected: the old policy stays
                self._policies.pop(instance_id, None)
                self._policies[instance_id] = policy
            # the most recently created/updated instance is in force; none left: deny everything
            current = next(reversed(self._policies.values()), None)
        self.pdp.set_policy(current)
        self.health.set_mode("enforcing" if current else "no_policy")
        self.health.set_detail("policy_version", current.version if current else None)

    # --- RMR -----------------------------------------------------------------------------------------
    def _send_plain(self, mtype: int, payload: bytes) -> bool:
        return self.rmr is not None and self.rmr.send(mtype, payload)

    def _on_message(self, xapp: Any, summary: dict, sbuf: Any) -> None:
        mtype = summary["message type"]
        if mtype == mtypes.TWINRIC_ACCESS_REQ:
            self._inbox.put((summary["payload"], sbuf))  # the decider answers and frees it
            return
        try:
            if mtype == mtypes.A1_POLICY_REQ:
                answer = self.a1.handle(summary["payload"])
                if answer is not None and not xapp.rmr_rts(
                    sbuf, new_payload=answer, new_mtype=mtypes.A1_POLICY_RESP, retries=3
                ):
                    self._send_plain(mtypes.A1_POLICY_RESP, answer)
            elif mtype in (mtypes.RIC_CONTROL_ACK, mtypes.RIC_CONTROL_FAILURE):
                pass  # rtmgr routes control outcomes to every xApp that uses RMR; the PDP sends none
            else:
                self.metrics.error("unexpected_mtype")
        except Exception:  # a message must never take the dispatch thread down
            self.metrics.error("handler_exception")
            log.exception("message handler failed")
        finally:
            xapp.rmr_free(sbuf)

    def _decide_loop(self) -> None:
        inbox = self._inbox
        while not self._stopping.is_set():
            try:
                first = inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < self.batch_max:
                try:
                    batch.append(inbox.get_nowait())
                except queue.Empty:
                    break
            self._batch_sizes.observe(len(batch))
            try:
                answers = self.pdp.decide_payloads([payload for payload, _ in batch], "rmr")
            except Exception:
                self.metrics.error("decide_failed")
                log.exception("decision batch failed")
                answers = [None] * len(batch)
            for (_, sbuf), answer in zip(batch, answers, strict=True):
                try:
                    if answer is not None and not self.xapp.rmr_rts(
                        sbuf, new_payload=answer, new_mtype=mtypes.TWINRIC_ACCESS_RESP, retries=3
                    ):
                        self.metrics.error("answer_not_sent")
                finally:
                    self.xapp.rmr_free(sbuf)

    # --- status and health -----------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        policy = self.pdp.policy
        by_code = dict(self.pdp.by_code)
        return {
            "decisions": self.pdp.decisions,
            "decisions_per_s": round(self._rate, 1),
            "permits": by_code.get("permitted", 0),
            "deny_reasons": {k: v for k, v in sorted(by_code.items()) if k != "permitted"},
            "policy_version": policy.version if policy else None,
            "policy_instance": policy.instance_id if policy else None,
            "trust_subjects": len(self.trust.subjects()),
            "xapp_keys": self.keys.names(),
            "revocations": self.revocations.total,
            "refused_instances": dict(self.a1.last_error),
            "decision_log_pending": self.decision_log.pending,
        }

    def _rate_loop(self) -> None:
        last_n, last_t = self.pdp.decisions, time.monotonic()
        while not self._stopping.wait(1.0):
            n, t = self.pdp.decisions, time.monotonic()
            self._rate = (n - last_n) / max(1e-6, t - last_t)
            last_n, last_t = n, t
            if self.keys.directory is not None and int(t) % 10 == 0:
                self.keys.reload()  # keys provisioned after start (a new xApp) are picked up

    def _health_checks(self) -> None:
        def rmr_ok() -> tuple[bool, str]:
            return (self.rmr is not None, "RMR ready" if self.rmr is not None else "RMR not started")

        def trust_ok() -> tuple[bool, str]:
            n = len(self.trust.subjects())
            if self.trust.redis_ok:
                return True, f"{n} trust subject(s)"
            return False, f"trust namespace unreadable ({n} known, going stale): {self.trust.last_error}"

        def policy_ok() -> tuple[bool, str]:
            p = self.pdp.policy
            return (p is not None, f"policy {p.version}" if p else "no zero-trust policy: denying everything")

        def log_ok() -> tuple[bool, str]:
            ok = self.decision_log.redis_ok
            return ok, f"{self.decision_log.pending} record(s) waiting" + (
                "" if ok else ": Redis unavailable"
            )

        self.health.add_check("rmr", rmr_ok)
        self.health.add_check("trust", trust_ok)
        self.health.add_check("policy", policy_ok, required=False)
        self.health.add_check("decision_log", log_ok, required=False)
        self.health.add_check("appmgr", self.registration.health, required=False)

    # --- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> PdpXapp:
        from ricxappframe.xapp_frame import RMRXapp  # imported late: loads the RMR backend

        self.http.start()
        self.decision_log.start()
        self.trust.start()
        self.revocations.start()

        def post_init(xapp: Any) -> None:
            xapp._keep_registration = False  # registration is ours (retries, off-cluster endpoints)

        self.xapp = RMRXapp(
            self._on_message,
            config_handler=lambda _x, _cfg: None,
            rmr_port=self.rmr_port,
            use_fake_sdl=not os.environ.get("DBAAS_SERVICE_HOST"),
            post_init=post_init,
        )
        self.rmr = RmrPort(self.xapp._mrc)
        self.xapp.run(thread=True, rmr_timeout=0.2)
        for target, name in ((self._decide_loop, "pdp-decider"), (self._rate_loop, "pdp-rate")):
            threading.Thread(target=target, name=name, daemon=True).start()
        if self.register_with_appmgr:
            self.registration.start()
        threading.Thread(target=self._query_a1, name="a1-query", daemon=True).start()
        log.info(
            "PDP xApp %s up: RMR %d, HTTP %d, %d xApp key(s), policy type %d",
            self.name,
            self.rmr_port,
            self.http_port,
            len(self.keys),
            policy_type_id(),
        )
        return self

    def _query_a1(self) -> None:
        """A1_POLICY_QUERY until it can be sent, so the mediator re-sends the instances in force."""
        for _ in range(60):
            if self._stopping.is_set() or self.pdp.policy is not None:
                return
            if self._send_plain(mtypes.A1_POLICY_QUERY, self.a1.query()):
                return
            self.metrics.error("a1_query_failed")
            self._stopping.wait(2.0)

    def stop(self) -> None:
        self._stopping.set()
        self.health.alive = False
        if self.register_with_appmgr:
            self.registration.stop(deregister=True)
        self.revocations.stop()
        self.trust.stop()
        if self.xapp is not None:
            self.xapp._keep_going = False
            self.xapp._rmr_loop._keep_going = False
            if self.rmr is not None:
                self.rmr.close()
        self.decision_log.stop()
        self.http.stop()


def main() -> int:
    mdclog.configure(COMPONENT, os.environ.get("TWINRIC_LOG_LEVEL", "INFO"))
    path = config_path()
    try:
        app = PdpXapp(load_config(path))
    except (ConfigError, identity.IdentityError, PolicyRejected, KeyError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        log.critical("cannot start: configuration %s (set %s): %s", path, CONFIG_ENV, detail)
        return 2
    app.start()
    sys.setswitchinterval(SWITCH_INTERVAL_S)  # a queued request is not held up 5 ms by other threads
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    app.stop()
    return 0
