"""The control xApp process: ricxappframe ``RMRXapp`` + HTTP + A1 + subscriptions + the control loop.

Everything is configured from the descriptor (``CONFIG_FILE``; ``controls`` holds the app's own
settings) with a few environment overrides for off-cluster runs (``TWINRIC_*``). The same code runs
in an OSC RIC (in-cluster service names are the defaults) and in ``twinric up``.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import redis

from ricproto import grant, identity, mdclog, mtypes
from ricproto import ran_view as ran_view_stream
from ricproto.transition import DEFAULT_MAXLEN, FIELD, TransitionCodecError, decode_transition, stream_key
from xapps.common.a1_handler import A1PolicyHandler
from xapps.common.config import ENV as CONFIG_ENV
from xapps.common.config import ConfigError, ConfigWatcher, config_path, controls, load_config, redis_url
from xapps.common.health import HealthState
from xapps.common.http_api import HttpServer, create_app
from xapps.common.metrics import XappMetrics
from xapps.common.pep import PepClient
from xapps.common.registration import AppmgrRegistration, RegistrationBody, appmgr_url, service_endpoint
from xapps.common.rmr_port import RmrPort
from xapps.common.subscriptions import SubscriptionClient
from xapps.control.behavior import BehaviorPolicy
from xapps.control.control_policy import ControlSettings, PolicyRejected, policy_type_id, settings_from_policy
from xapps.control.heuristic import HeuristicBalancer
from xapps.control.loop import ControlLoop
from xapps.control.ran_view import InventoryError, RanInventory, RanView
from xapps.control.ran_view_log import RanViewEncoder, RanViewLog, RanViewWriter
from xapps.control.rc_control import ControlBuilder
from xapps.control.shield import ActionShield
from xapps.control.snapshot_source import SnapshotSource
from xapps.control.subscription_request import kpm_subscription
from xapps.control.transition_log import TransitionWriter
from xapps.control.twin_client import TwinClient

log = logging.getLogger("xapps.control")
MODES = ("heuristic", "promoted_policy", "last_promoted_policy")
COMPONENT = "control-xapp"
SWITCH_INTERVAL_S = 0.0005


def _env(name: str, default: Any) -> Any:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


class ControlXapp:
    def __init__(self, config: dict[str, Any], config_path: Path | None = None) -> None:
        self.config = config
        self._started_config = config
        self.config_path = config_path
        ctl = controls(config)
        self.name = str(
            _env("TWINRIC_XAPP_INSTANCE", ctl.get("xapp_instance") or config.get("name", "control"))
        )
        self.rmr_port = int(_env("TWINRIC_RMR_PORT", ctl.get("rmr_port", 4560)))
        self.http_port = int(_env("TWINRIC_HTTP_PORT", ctl.get("http_port", 8080)))
        self.metrics = XappMetrics(COMPONENT)
        self.health = HealthState(self.metrics, MODES)
        self.inventory = RanInventory.from_config(ctl["ran"])
        self.redis = redis.Redis.from_url(redis_url(ctl), socket_timeout=2, socket_connect_timeout=2)
        space = self.inventory.space
        self.settings = ControlSettings()
        defaults = ctl.get("defaults")
        if defaults:
            self.settings = settings_from_policy(defaults, "")
        self.default_settings = self.settings
        self._a1_lock = threading.Lock()
        self._a1_settings: dict[str, ControlSettings] = {}

        self.view = RanView(self.inventory)
        mask = space.action_mask(self.inventory.layout)
        shield = ActionShield(space, self.inventory.layout, float(ctl.get("ping_pong_window_s", 1.0)))
        self.behavior = BehaviorPolicy(
            space, shield, HeuristicBalancer(space, self.inventory.layout), mask, seed=ctl.get("seed")
        )
        ctrl = ctl.get("control", {})
        self.builder = ControlBuilder(
            self.view, int(ctrl.get("requestor_id", 1)), hold_s=float(ctl.get("ping_pong_window_s", 1.0))
        )
        self.snapshots = SnapshotSource(
            self.redis,
            self.name,
            space.max_cells * space.n_features,
            space.n_actions,
            self.metrics,
            float(ctl.get("snapshot_poll_s", 1.0)),
        )
        twin_url = _env("TWINRIC_TWIN_URL", ctl.get("twin_url") or None)
        period_s = self.inventory.report_period_ms / 1000
        # a prediction older than a few report periods says nothing about the next one
        self.twin = TwinClient(
            twin_url, space.max_cells, self.metrics, period_s=period_s, stale_after_s=max(0.5, 3 * period_s)
        )
        self.writer = TransitionWriter(
            self.redis,
            stream_key(self.name),
            self.metrics,
            maxlen=int(ctl.get("transitions", {}).get("maxlen", DEFAULT_MAXLEN)),
        )
        self.ran_view_writer = RanViewWriter(
            self.redis,
            ran_view_stream.stream_key(self.name),
            self.metrics,
            RanViewEncoder(self.name, self.inventory, self.metrics),
            maxlen=int(ctl.get("ran_view", {}).get("maxlen", ran_view_stream.DEFAULT_MAXLEN)),
        )
        self.ran_view_log = RanViewLog(self.name, self.ran_view_writer)
        self.rmr: RmrPort | None = None
        pep_cfg = ctl.get("pep", {})
        self.pep: PepClient | None = None
        # the xApp's identity (a Kubernetes secret in a RIC): signs access requests and the controls
        # sent under a PDP grant; without it the PDP denies every request
        key_file = _env("TWINRIC_XAPP_KEY", ctl.get("identity", {}).get("key_file"))
        self.signing_key = identity.load_private_key(key_file) if key_file else None
        pdp_key = _env("TWINRIC_PDP_PUBLIC_KEY", pep_cfg.get("pdp_public_key"))
        if pep_cfg.get("enabled", True):
            self.pep = PepClient(
                f"xapp:{self.name}",
                self._send_plain,
                self.metrics,
                timeout_s=float(pep_cfg.get("timeout_ms", 50)) / 1000.0,
                fail_open=bool(pep_cfg.get("fail_open", False)),
                signing_key=self.signing_key,
                pdp_public_key=identity.load_public_key(pdp_key) if pdp_key else None,
            )
        self.loop = ControlLoop(
            self.name,
            self.view,
            self.behavior,
            self.builder,
            self.snapshots,
            self.twin,
            self.pep,
            self.writer,
            self._send_control,
            self.metrics,
            self.settings,
            control_timeout_s=float(ctrl.get("timeout_ms", 1000)) / 1000.0,
            ran_view_log=self.ran_view_log,
        )
        self.a1 = A1PolicyHandler(policy_type_id(), self.name, self._apply_policy, self.metrics)

        sub = ctl.get("subscription", {})
        client_host = str(
            _env("TWINRIC_CLIENT_HOST", sub.get("client_host") or f"service-ricxapp-{self.name}-http.ricxapp")
        )
        submgr = str(
            _env("TWINRIC_SUBMGR_URL", ctl.get("submgr_url", "http://service-ricplt-submgr-http.ricplt:8088"))
        )
        self.subscriptions = SubscriptionClient(
            submgr,
            self.name,
            self.redis,
            lambda meid: kpm_subscription(self.inventory, meid, client_host, self.http_port, self.rmr_port),
            self.metrics,
        )
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
            create_app(self.health, lambda: self.config, self.metrics, self.subscriptions.notification),
            host=str(_env("TWINRIC_HTTP_HOST", "0.0.0.0")),
            port=self.http_port,
        )
        self.watcher = ConfigWatcher(config_path, self._config_changed, self.metrics) if config_path else None
        self.xapp: Any = None
        self._health_checks()

    # --- settings from A1 --------------------------------------------------------------------------
    def _apply_policy(self, instance_id: str, payload: dict[str, Any] | None) -> None:
        with self._a1_lock:
            if payload is None:
                self._a1_settings.pop(instance_id, None)
            else:
                updated = settings_from_policy(payload, instance_id, self.default_settings)  # may raise
                self._a1_settings.pop(instance_id, None)
                self._a1_settings[instance_id] = updated
            # the most recently created/updated instance wins; none left -> the descriptor's defaults
            current = next(reversed(self._a1_settings.values()), self.default_settings)
            self.settings = current
        self.loop.update_settings(current)
        log.info("A1 settings now from %r: %s", current.a1_instance or "defaults", current.describe())

    def _config_changed(self, config: dict[str, Any]) -> None:
        """Apply what can change at run time: PEP behaviour and the default (no-A1) policy settings.

        The RAN inventory, ports and service addresses need a restart (they shape subscriptions and
        the observation); a change to them is logged, not applied.
        """
        ctl = controls(config)
        defaults = ctl.get("defaults")
        try:
            new_defaults = settings_from_policy(defaults, "") if defaults else ControlSettings()
        except PolicyRejected as exc:
            self.metrics.error("config_invalid")
            log.error("configuration change ignored: controls.defaults: %s", exc.reason)
            return
        self.config = config
        pep_cfg = ctl.get("pep", {})
        if self.pep is not None:
            self.pep.fail_open = bool(pep_cfg.get("fail_open", self.pep.fail_open))
            self.pep.timeout_s = float(pep_cfg.get("timeout_ms", self.pep.timeout_s * 1000)) / 1000.0
        with self._a1_lock:
            self.default_settings = new_defaults
            if not self._a1_settings:  # no A1 policy in force: the defaults are what acts
                self.settings = new_defaults
                self.loop.update_settings(new_defaults)
        if ctl.get("ran") != controls(self._started_config).get("ran"):
            log.warning("controls.ran changed: restart the xApp to use the new RAN inventory")
        log.info("configuration reloaded")

    # --- health --------------------------------------------------------------------------------------
    def _health_checks(self) -> None:
        def rmr_ok() -> tuple[bool, str]:
            return (self.rmr is not None, "RMR ready" if self.rmr is not None else "RMR not started")

        def redis_ok() -> tuple[bool, str]:
            try:
                self.redis.ping()
            except redis.RedisError as exc:
                return False, f"Redis unreachable: {exc}"
            writer = "ok" if self.writer.redis_ok else "retrying"
            return True, f"transitions writer {writer}, {self.writer.pending} queued"

        def twin_ok() -> tuple[bool, str]:
            if not self.twin.configured:
                return True, "no twin configured"
            return self.twin.up, "twin up" if self.twin.up else f"twin down: {self.twin.last_error}"

        def pdp_ok() -> tuple[bool, str]:
            if self.pep is None:
                return True, "PEP disabled"
            recent = time.monotonic() - self.pep.last_unreachable < 10 if self.pep.last_unreachable else False
            policy = "permit" if self.pep.fail_open else "deny"
            return (
                not recent,
                f"PDP unreachable in the last 10 s ({policy} while unreachable)"
                if recent
                else "PDP answering",
            )

        self.health.add_check("rmr", rmr_ok)
        self.health.add_check("redis", redis_ok)
        self.health.add_check("twin", twin_ok, required=False)
        self.health.add_check("pdp", pdp_ok, required=False)
        self.health.add_check("subscriptions", self.subscriptions.health, required=False)
        self.health.add_check("appmgr", self.registration.health, required=False)

    def update_mode(self) -> None:
        snap = self.loop.pinned_snapshot or self.snapshots.current
        if snap is None:
            mode = "heuristic"
        elif self.twin.configured and self.twin.up:
            mode = "promoted_policy"
        else:
            mode = "last_promoted_policy"
        self.health.set_mode(mode)
        self.health.set_detail("policy_version", snap.version if snap else "heuristic")
        self.health.set_detail("a1_instance", self.settings.a1_instance)
        self.health.set_detail("settings", self.settings.describe())
        self.health.set_detail("decisions", self.loop.decisions)

    # --- RMR -------------------------------------------------------------------------------------------
    def _send_plain(self, mtype: int, payload: bytes) -> bool:
        return self.rmr is not None and self.rmr.send(mtype, payload)

    def _send_control(self, payload: bytes, meid: str, granted: bytes | None = None) -> bool:
        if self.rmr is None:
            return False
        trace = b""
        if granted is not None and self.signing_key is not None:
            # the grant rides in the RMR trace with our proof for this payload; e2term checks both
            trace = grant.control_trace(granted, payload, self.signing_key)
        return self.rmr.send(mtypes.RIC_CONTROL_REQ, payload, meid=meid, trace=trace)

    def _on_message(self, xapp: Any, summary: dict, sbuf: Any) -> None:
        try:
            mtype = summary["message type"]
            payload = summary["payload"]
            meid = summary.get("meid") or b""
            meid = meid.decode(errors="replace") if isinstance(meid, bytes) else str(meid)
            if mtype == mtypes.RIC_INDICATION:
                self.loop.on_indication(meid, summary["subscription id"], payload)
            elif mtype in (mtypes.RIC_CONTROL_ACK, mtypes.RIC_CONTROL_FAILURE):
                self.loop.on_control_answer(mtype, payload)
            elif mtype == mtypes.TWINRIC_ACCESS_RESP:
                if self.pep is not None:
                    self.pep.on_response(payload)
            elif mtype == mtypes.TWINRIC_ACCESS_REVOKE:
                if self.pep is not None:
                    self.pep.on_revocation(payload)
            elif mtype == mtypes.A1_POLICY_REQ:
                answer = self.a1.handle(payload)
                if answer is not None and not xapp.rmr_rts(
                    sbuf, new_payload=answer, new_mtype=mtypes.A1_POLICY_RESP, retries=3
                ):
                    self._send_plain(mtypes.A1_POLICY_RESP, answer)
            elif mtype in (mtypes.RAN_CONNECTED, mtypes.RAN_RESTARTED):
                threading.Thread(target=self.subscriptions.resubscribe, args=(meid,), daemon=True).start()
            else:
                self.metrics.error("unexpected_mtype")
        except Exception:  # a message must never take the dispatch thread down
            self.metrics.error("handler_exception")
            log.exception("message handler failed")
        finally:
            xapp.rmr_free(sbuf)

    # --- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> ControlXapp:
        from ricxappframe.xapp_frame import RMRXapp  # imported late: loads the RMR backend

        self.http.start()
        self.loop.first_step = self._next_step()
        self.ran_view_log.continue_numbering(self.redis, ran_view_stream.stream_key(self.name), self.metrics)
        self.writer.start()
        self.ran_view_writer.start()
        self.snapshots.start()
        self.twin.start()
        self.loop.start()
        if self.watcher is not None:
            self.watcher.prime()
            self.watcher.start()

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
        if self.register_with_appmgr:
            self.registration.start()
        self._a1_query_attempts = 0
        self._a1_queried = self._query_a1()
        self.subscriptions.start(sorted(self.inventory.nodes))
        self.update_mode()
        self._mode_thread = threading.Thread(target=self._mode_loop, name="mode", daemon=True)
        self._stopping = threading.Event()
        self._mode_thread.start()
        log.info("control xApp %s up: RMR %d, HTTP %d", self.name, self.rmr_port, self.http_port)
        return self

    def _next_step(self) -> int:
        """Continue the stream's step numbering across restarts (the twin relies on it having no gaps)."""
        try:
            last = self.redis.xrevrange(stream_key(self.name), count=1)
        except redis.RedisError as exc:
            self.metrics.error("redis_unavailable")
            log.warning("cannot read the last transition, numbering from 0: %s", exc)
            return 0
        if not last:
            return 0
        try:
            return int(decode_transition(last[0][1][FIELD]).step) + 1
        except (KeyError, TransitionCodecError) as exc:
            self.metrics.error("transition_invalid")
            log.warning("last stream entry unreadable, numbering from 0: %s", exc)
            return 0

    def _query_a1(self) -> bool:
        """A1_POLICY_QUERY so the mediator re-sends existing instances; retried while it cannot be sent."""
        self._a1_query_attempts += 1
        if self._send_plain(mtypes.A1_POLICY_QUERY, self.a1.query()):
            return True
        self.metrics.error("a1_query_failed")
        log.warning("A1_POLICY_QUERY not sent (no route to the A1 mediator yet)")
        return False

    def _mode_loop(self) -> None:
        ticks = 0
        while not self._stopping.wait(0.5):
            ticks += 1
            try:
                self.update_mode()
                if not self._a1_queried and self._a1_query_attempts < 30 and ticks % 4 == 0:
                    self._a1_queried = self._query_a1()
            except Exception:
                log.exception("mode update failed")

    def stop(self) -> None:
        """Stop without ricxappframe's 10 s deregistration sleep; deregister ourselves."""
        if hasattr(self, "_stopping"):
            self._stopping.set()
        self.health.alive = False
        if self.watcher is not None:
            self.watcher.stop()
        self.subscriptions.stop()
        if self.register_with_appmgr:
            self.registration.stop(deregister=True)
        self.loop.stop()
        self.twin.stop()
        self.snapshots.stop()
        self.writer.stop()
        self.ran_view_writer.stop()
        if self.xapp is not None:
            self.xapp._keep_going = False
            self.xapp._rmr_loop._keep_going = False
            if self.rmr is not None:
                self.rmr.close()
        self.http.stop()


def main() -> int:
    mdclog.configure(COMPONENT, os.environ.get("TWINRIC_LOG_LEVEL", "INFO"))
    path = config_path()
    try:
        config = load_config(path)
        app = ControlXapp(config, path)
    except (ConfigError, InventoryError, PolicyRejected, KeyError, identity.IdentityError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        log.critical("cannot start: configuration %s (set %s): %s", path, CONFIG_ENV, detail)
        return 2
    app.start()
    # Everything allocated at start (codecs' compiled ASN.1, FastAPI, numpy) is long-lived: keep it out
    # of the collector's generations so full collections stay short on the loop's hot path.
    gc.collect()
    gc.freeze()
    # The loop thread shares the GIL with RMR's receive/dispatch threads, HTTP and the writers; a thread
    # that wakes (an indication queued, a PDP answer) waits for the holder to yield, by default up to
    # 5 ms: a shorter interval bounds that wait on the indication -> control path.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    app.stop()
    return 0
