"""`twinric doctor`: what this machine offers and what twinric will use.

Every fact is checked live (a socket is opened, a library loaded, a server pinged); nothing is
assumed from the platform name.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
import platform
import sys
from typing import Any

from ricproto.sctp import kernel_sctp
from twinric.ports import LOCAL_PORT_PLAN, port_is_free
from twinric.redis_server import configured_url, ping, redis_server_binary, redis_server_version

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
RMR_LIBRARY = "librmr_si.so"


def check_python() -> dict[str, Any]:
    return {
        "version": platform.python_version(),
        "executable": sys.executable,
        "implementation": platform.python_implementation(),
        "in_venv": sys.prefix != sys.base_prefix,
        "ok": sys.version_info[:2] == (3, 11),
    }


def check_redis() -> dict[str, Any]:
    configured = configured_url()
    probe_url = configured or DEFAULT_REDIS_URL
    reachable = ping(probe_url)
    binary = redis_server_binary()
    if configured:
        will_use = configured if reachable else None
    elif reachable:
        will_use = probe_url
    elif binary:
        will_use = "private redis-server on a free port"
    else:
        will_use = None
    return {
        "configured_url": configured,
        "probed_url": probe_url,
        "reachable": reachable,
        "server_binary": binary,
        "server_version": redis_server_version(binary) if binary else None,
        "startable": binary is not None,
        "will_use": will_use,
        "ok": will_use is not None,
    }


def check_sctp() -> dict[str, Any]:
    support = kernel_sctp()
    return {
        "kernel_sctp": support.available,
        "reason": support.reason,
        "e2_transport": "sctp" if support.available else "tcp-framed",
        "ok": True,  # TCP framing always works; SCTP is only needed against a real E2T
    }


def check_rmr() -> dict[str, Any]:
    import sysconfig

    from ricproto.rmr import import_hook

    choice = os.environ.get(import_hook.ENV, "auto").lower()
    try:
        ctypes.CDLL(RMR_LIBRARY)
        c_present, c_error = True, None
    except OSError as exc:
        c_present, c_error = False, str(exc)
    if choice == "c":
        backend = "c" if c_present else None
    elif choice == "python":
        backend = "python"
    else:
        backend = "c" if c_present else "python"
    # Without the .pth hook, `import ricxappframe` would try to load librmr_si.so and fail.
    hook = os.path.join(sysconfig.get_paths()["purelib"], import_hook.PTH_NAME)
    hook_installed = os.path.exists(hook)
    return {
        "TWINRIC_RMR": choice,
        "c_librmr_present": c_present,
        "c_librmr_error": c_error,
        "backend": backend,
        "ricxappframe_hook": hook if hook_installed else None,
        "ok": backend is not None and (backend == "c" or hook_installed),
    }


def check_torch() -> dict[str, Any]:
    try:
        import torch
    except ImportError as exc:
        return {"installed": False, "error": str(exc), "ok": False}
    cuda_build = torch.version.cuda
    return {
        "installed": True,
        "version": torch.__version__,
        "build": f"cuda {cuda_build}" if cuda_build else "cpu",
        "cuda_available": bool(torch.cuda.is_available()),
        "threads": torch.get_num_threads(),
        "ok": True,
    }


def check_packages() -> dict[str, Any]:
    names = ["ricxappframe", "ricsdl", "redis", "hiredis", "protobuf", "asn1tools", "pycrate", "numpy",
             "gymnasium", "fastapi", "uvicorn", "cedarpy", "cryptography"]
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {"versions": versions, "ok": all(versions.values())}


def check_ports() -> dict[str, Any]:
    plan = {role: {"port": port, "free": port_is_free(port)} for role, port in LOCAL_PORT_PLAN.items()}
    busy = [role for role, info in plan.items() if not info["free"]]
    return {"plan": plan, "busy": busy, "ok": not busy}


def run_checks() -> dict[str, Any]:
    report: dict[str, Any] = {
        "python": check_python(),
        "redis": check_redis(),
        "sctp": check_sctp(),
        "rmr": check_rmr(),
        "torch": check_torch(),
        "packages": check_packages(),
        "ports": check_ports(),
        "cpus": os.cpu_count(),
    }
    report["ok"] = all(section["ok"] for section in report.values() if isinstance(section, dict))
    return report
