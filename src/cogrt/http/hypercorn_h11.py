"""hypercorn's ``serve`` without loading HTTP/2 and WebSocket support until a client asks for it.

Importing ``hypercorn.asyncio`` loads h2 (with hpack, hyperframe and
priority) and wsproto: ~3 MiB of idle memory and about a tenth of the
server process's import time, for protocols a Cog server reached over plain
HTTP/1.1 never speaks. hypercorn has no setting to leave them out: its
``protocol`` package imports ``H2Protocol`` and ``h11``'s module imports
``WSStream`` at the top, and ``hypercorn.typing`` imports ``h2.events`` for
type annotations only.

``load_serve`` imports hypercorn with those two classes standing in for the
real ones: constructing a stand-in imports hypercorn's real module and
returns the real class's instance, so an ``Upgrade: websocket`` request, an
``Upgrade: h2c`` request or HTTP/2 with prior knowledge is served exactly as
hypercorn serves it, after loading what it needs then. The stand-in modules
are in ``sys.modules`` only while hypercorn's import runs (so later imports
of ``hypercorn.protocol.h2``, ``ws_stream`` or ``h2.events`` get the real
modules), and only for names nobody has imported yet: if hypercorn's
protocols are already loaded in this process, there is nothing to save and
nothing is replaced.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from cogrt.http import hypercorn_idle

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["DEFERRED", "load_serve"]

_CLASSES = {
    "hypercorn.protocol.h2": "H2Protocol",
    "hypercorn.protocol.ws_stream": "WSStream",
}
DEFERRED = ("h2.events", *_CLASSES)
"""Modules not loaded by ``load_serve`` until a connection needs them."""


def load_serve() -> Callable[..., Any]:
    """``hypercorn.asyncio.serve``, imported with HTTP/2 and WebSocket support deferred, its
    connections' keep-alive deadline as a timer (:mod:`cogrt.http.hypercorn_idle`)."""
    placed: dict[str, types.ModuleType] = {}
    if "hypercorn.protocol" not in sys.modules:
        for name in DEFERRED:
            if name not in sys.modules:
                placed[name] = sys.modules[name] = _stand_in_module(name)
    try:
        from hypercorn.asyncio import run, serve
    finally:
        for name, module in placed.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
    hypercorn_idle.install(run)  # a timer per idle connection, not a task per request
    return serve


def _stand_in_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name, "cogrt's stand-in while hypercorn imports; see cogrt.http")
    class_name = _CLASSES.get(name)
    if class_name is not None:
        setattr(module, class_name, _stand_in_class(name, class_name))
    return module


def _stand_in_class(module_name: str, class_name: str) -> type:
    """A class whose construction imports ``module_name`` and builds its ``class_name``."""

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        real = getattr(importlib.import_module(module_name), class_name)
        return real(*args, **kwargs)  # not a ``cls``: Python calls no __init__ again

    doc = f"Builds {module_name}.{class_name}, importing it on first use (cogrt.http)."
    return type(class_name, (), {"__new__": __new__, "__doc__": doc, "__module__": __name__})
