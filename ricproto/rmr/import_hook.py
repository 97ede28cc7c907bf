"""Makes ``import ricxappframe...`` use the Python RMR (and E2AP) when the C libraries are absent or not
wanted.

``ricxappframe.rmr.rmrclib.rmrclib`` loads ``librmr_si.so`` at import time, and every part of the
framework imports ``ricxappframe.rmr.rmr`` on top of it. A meta-path finder placed first on
``sys.meta_path`` answers for exactly those two module names and hands back
``ricproto.rmr.xappframe_backend`` / ``ricproto.rmr.xappframe_clib`` (the same module objects, so a
monkeypatch on ``ricxappframe.rmr.rmr.X`` is seen by the whole backend).

Backend choice, made at the first such import: ``TWINRIC_RMR=python`` (always Python), ``c``
(never: the real wrapper loads or fails as usual), ``auto`` or unset (Python unless
``librmr_si.so`` loads). The finder is installed at interpreter start by ``twinric_rmr.pth`` in
site-packages (see ``install()``); this module must stay cheap to import.

``ricxappframe.e2ap`` wraps a second C library, ``libriclibe2ap.so``, loaded by
``ricxappframe.e2ap.asn1clib.asn1clib``; that module is answered by ``ricproto.xappframe_e2ap`` the same
way, chosen by ``TWINRIC_E2AP`` (``python``, ``c``, or ``auto``: Python unless the library loads).
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import ModuleSpec

ENV = "TWINRIC_RMR"
C_LIBRARY = "librmr_si.so"
REPLACEMENTS = {
    "ricxappframe.rmr.rmr": "ricproto.rmr.xappframe_backend",
    "ricxappframe.rmr.rmrclib.rmrclib": "ricproto.rmr.xappframe_clib",
}
E2AP_ENV = "TWINRIC_E2AP"
E2AP_C_LIBRARY = "libriclibe2ap.so"
E2AP_REPLACEMENTS = {"ricxappframe.e2ap.asn1clib.asn1clib": "ricproto.xappframe_e2ap"}
PTH_NAME = "twinric_rmr.pth"
PTH_LINE = (
    "import sys; exec('try:\\n import ricproto.rmr.import_hook as h\\nexcept ImportError:\\n pass\\n"
    "else:\\n h.install()')\n"
)

_choice: str | None = None
_e2ap_choice: str | None = None


def c_library_loads(name: str = C_LIBRARY) -> bool:
    import ctypes

    try:
        ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
    except OSError:
        return False
    return True


def _choose(env: str, library: str) -> str:
    wanted = os.environ.get(env, "auto").strip().lower()
    if wanted in ("python", "c"):
        return wanted
    return "c" if c_library_loads(library) else "python"


def backend() -> str:
    """``python`` or ``c``: which RMR ricxappframe gets in this process (decided once)."""
    global _choice
    if _choice is None:
        _choice = _choose(ENV, C_LIBRARY)
    return _choice


def e2ap_backend() -> str:
    """``python`` or ``c``: which E2AP library ``ricxappframe.e2ap`` gets in this process (decided once)."""
    global _e2ap_choice
    if _e2ap_choice is None:
        _e2ap_choice = _choose(E2AP_ENV, E2AP_C_LIBRARY)
    return _e2ap_choice


class _AliasLoader:
    """Loads a module name as an alias of one of our modules (one shared module object)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._own_spec: ModuleSpec | None = None

    def create_module(self, spec: ModuleSpec) -> object:
        import importlib

        module = importlib.import_module(self.target)
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module: object) -> None:
        # importlib stamped the alias spec on the shared module; give it its own back.
        if self._own_spec is not None:
            module.__spec__ = self._own_spec  # type: ignore[attr-defined]


class RicxappframeRmrFinder:
    """Meta-path finder for the ricxappframe modules that would load a C library (RMR, E2AP)."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        replacement = REPLACEMENTS.get(fullname)
        if replacement is not None and backend() == "python":
            return ModuleSpec(fullname, _AliasLoader(replacement))
        replacement = E2AP_REPLACEMENTS.get(fullname)
        if replacement is not None and e2ap_backend() == "python":
            return ModuleSpec(fullname, _AliasLoader(replacement))
        return None

    def invalidate_caches(self) -> None:
        pass


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (idempotent); in a process ``twinric up`` or ``twinric
    xapp run`` started, also the box's service names (``ricproto.service_resolver``)."""
    if not any(isinstance(f, RicxappframeRmrFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, RicxappframeRmrFinder())
    if os.environ.get("TWINRIC_SERVICE_MAP") or os.environ.get("TWINRIC_LISTEN_PORTS"):
        from ricproto import service_resolver

        service_resolver.install_from_environment()


def write_pth(site_packages: str) -> str:
    """Write ``twinric_rmr.pth`` into ``site_packages`` (what ./dev and the Dockerfile run); its path."""
    path = os.path.join(site_packages, PTH_NAME)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(PTH_LINE)
    return path


if __name__ == "__main__":  # python -m ricproto.rmr.import_hook [site-packages]: install the .pth
    import sysconfig

    print(write_pth(sys.argv[1] if len(sys.argv) > 1 else sysconfig.get_paths()["purelib"]))
