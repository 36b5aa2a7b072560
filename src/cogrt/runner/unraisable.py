"""A cancel that lands where Python cannot raise it is delivered again.

The cancel of a sync prediction is an exception injected into the worker
thread, raised at the next bytecode boundary. If that boundary is inside
code Python runs on its own behalf (a weakref callback or a ``__del__``
run by the garbage collector, say asyncio's ``WeakSet`` of tasks dropping
a collected task), the exception cannot propagate: CPython reports it to
``sys.unraisablehook`` ("Exception ignored in ...") and carries on, and the
prediction would run to its end with its slot held. The hook installed here
recognises a cancel swallowed on a thread whose guarded call is still
running and has the guard deliver it again, instead of printing it.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from cogrt.runner import interruptible

__all__ = ["install", "uninstall"]

_lock = threading.Lock()
_installs = 0
_previous: Any = None


def _hook(unraisable: Any) -> None:
    guard = interruptible.watchers.get(threading.get_ident())
    if guard is not None and guard.redeliver(unraisable.exc_value):
        return
    _previous(unraisable)


def install() -> None:
    """Chain the hook in front of the current one (counted, like ``interruptible``)."""
    global _installs, _previous
    with _lock:
        _installs += 1
        if _installs == 1:
            _previous = sys.unraisablehook
            sys.unraisablehook = _hook


def uninstall() -> None:
    """Undo one ``install``; the last one puts the previous hook back if ours is in place."""
    global _installs
    with _lock:
        if _installs == 0:
            return
        _installs -= 1
        if _installs == 0 and sys.unraisablehook is _hook:
            sys.unraisablehook = _previous
