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
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["chain", "unchain"]


class _Redelivers(Protocol):
    def redeliver(self, swallowed: BaseException | None) -> bool: ...


def _no_guard(_ident: int) -> None:
    return None


_lookup: Callable[[int], _Redelivers | None] = _no_guard
_previous: Any = None


def _hook(unraisable: Any) -> None:
    guard = _lookup(threading.get_ident())
    if guard is not None and guard.redeliver(unraisable.exc_value):
        return
    _previous(unraisable)


def chain(lookup: Callable[[int], _Redelivers | None]) -> None:
    """Put the hook in front of the current one; ``lookup`` finds a thread's guard.

    Not counted: ``interruptible.install`` calls it with the patches, under its
    own lock and count, so both come and go together.
    """
    global _lookup, _previous
    _lookup, _previous = lookup, sys.unraisablehook
    sys.unraisablehook = _hook


def unchain() -> None:
    """Put the previous hook back, unless another hook has replaced ours since."""
    if sys.unraisablehook is _hook:
        sys.unraisablehook = _previous
