"""``python -m twin_sidecar``: settings from the xApp's descriptor and the environment, then uvicorn."""

from __future__ import annotations

import logging
import sys

import torch
import uvicorn

from ricproto import mdclog
from ricproto.ran_config import RanConfigError
from twin_sidecar.app import build_parts, create_app
from twin_sidecar.checkpoint import CheckpointError
from twin_sidecar.settings import SettingsError, TwinSettings

COMPONENT = "twin-sidecar"
SWITCH_INTERVAL_S = 0.0005  # the API thread waits at most this for the GIL held by ingest/training

log = logging.getLogger("twin_sidecar")


def main() -> int:
    try:
        settings = TwinSettings.from_env()
        settings.check_safe()
    except (SettingsError, RanConfigError) as exc:
        mdclog.configure(COMPONENT, "INFO")
        log.critical("cannot start: %s", exc)
        return 2
    mdclog.configure(COMPONENT, settings.log_level)
    torch.set_num_threads(settings.training.torch_threads)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    parts = build_parts(settings)
    app = create_app(parts)
    log.info(
        "twin sidecar for %s on %s:%d (state in %s)",
        settings.xapp_instance,
        settings.host,
        settings.port,
        settings.state_dir,
    )
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    except CheckpointError as exc:
        log.critical("cannot start: %s", exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
