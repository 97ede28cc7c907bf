"""Pure-Python RMR (RIC Message Router) speaking the SI95 wire protocol of RMR 4.9.4.

``from ricproto.rmr import RmrContext, RmrMessage``. Attributes load lazily so that the import hook
(``ricproto.rmr.import_hook``), which runs at every interpreter start, costs almost nothing.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing at every start is not free
if TYPE_CHECKING:
    from ricproto.rmr.context import RmrContext, RmrInitError
    from ricproto.rmr.message import RmrMessage

_LAZY = {
    "RmrContext": "ricproto.rmr.context",
    "RmrInitError": "ricproto.rmr.context",
    "RmrMessage": "ricproto.rmr.message",
}

__all__ = ["RmrContext", "RmrInitError", "RmrMessage"]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ricproto.rmr' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
