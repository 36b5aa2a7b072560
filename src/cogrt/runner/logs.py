"""Per-prediction capture of ``print`` / ``sys.stdout`` / ``sys.stderr`` / ``logging``.

``sys.stdout`` and ``sys.stderr`` are replaced once per process by streams
that echo to the real ones and route each write to a ``LineBuffer``:

* the buffer in the writer's context (a ``ContextVar``): an async
  prediction's, inherited by the tasks it spawns; a sync prediction's or
  setup's, on the worker thread, whose calls run in a copy of their
  submitter's context. Concurrent predictions and runtimes never mix;
* else, for a thread no context reaches (one user code started: tokenizer
  streamer threads are captured, as in Cog), its runtime's ``Sink``: the
  running sync prediction's buffer, else the setup buffer while setup runs.
  With several runtimes in the process, only when exactly one of them is
  running sync code or setup: the write is then surely its own;
* else nothing is captured.

The event loop's own thread is never routed by the second rule: it runs
cogrt's code (server, access logs) and async predictions, which are routed
by context, so server output never lands in a sync prediction's logs.

File descriptors 1 and 2 are left alone: subprocesses and C extensions that
write to them can never block on a pipe nobody drains.
"""

from __future__ import annotations

import io
import sys
import threading
import types
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TextIO

__all__ = ["LineBuffer", "Sink", "capturing", "install", "routing", "uninstall"]

MAX_WRITE = 4 * 1024 * 1024
_TRUNCATED = "[**** LOG LINE TRUNCATED AT 4 MiB ****]\n"


class LineBuffer:
    """Collects text per stream and hands on complete lines.

    ``on_text(source, text)`` is called with one or more whole lines, on the
    writing thread; a trailing partial line waits for ``flush_all()``.
    """

    def __init__(self, on_text: Callable[[str, str], None]) -> None:
        self._on_text = on_text
        self._partial: dict[str, str] = {}
        self._lock = threading.Lock()

    def feed(self, source: str, text: str) -> None:
        if len(text) > MAX_WRITE:
            text = text[:MAX_WRITE] + _TRUNCATED
        with self._lock:
            pending = self._partial.get(source, "") + text
            cut = pending.rfind("\n") + 1
            self._partial[source] = pending[cut:]
        if cut:
            self._on_text(source, pending[:cut])

    def detach(self) -> None:
        """Drop whatever is written from now on (its prediction is over)."""
        self._on_text = _discard

    def flush_all(self) -> None:
        with self._lock:
            partial, self._partial = self._partial, {}
        for source, text in partial.items():
            if text:
                self._on_text(source, text)


def _discard(source: str, text: str) -> None:
    pass


class Sink:
    """One runtime's buffers for writes from threads that carry no context."""

    __slots__ = ("setup", "sync")

    def __init__(self) -> None:
        self.sync: LineBuffer | None = None
        self.setup: LineBuffer | None = None


class _Routing:
    """Where captured writes go right now."""

    def __init__(self) -> None:
        self.context: ContextVar[LineBuffer | None] = ContextVar("cogrt_log_buffer", default=None)
        self.sinks: tuple[Sink, ...] = ()
        """The installed runtimes' sinks; replaced, never mutated, so readers need no lock."""
        self.loop_threads: dict[int, int] = {}
        """Thread ident -> number of runtimes whose event loop runs on it."""

    def target(self) -> LineBuffer | None:
        buffer = self.context.get()
        if buffer is not None:
            return buffer
        if threading.get_ident() in self.loop_threads:
            return None
        found = None
        for sink in self.sinks:
            buffer = sink.sync or sink.setup
            if buffer is not None:
                if found is not None:  # two runtimes could own this thread's write
                    return None
                found = buffer
        return found


routing = _Routing()


def capturing(sink: Sink, buffer: LineBuffer) -> _Capture:
    """Route writes to ``buffer`` while sync user code runs on the worker thread.

    The worker thread's own writes find ``buffer`` in their context; threads
    the user code starts find it through ``sink``.
    """
    return _Capture(sink, buffer)


class _Capture:
    """``capturing``'s context manager: a class, not a generator.

    A cancel is injected anywhere in the guarded call, this code included. A
    ``@contextmanager`` generator it interrupts mid-``__exit__`` stays
    suspended until the garbage collector closes it, in another context,
    where resetting a ContextVar token fails. Nothing needs resetting anyway:
    every worker-thread job runs in its own copy of its submitter's context.
    """

    __slots__ = ("_buffer", "_sink")

    def __init__(self, sink: Sink, buffer: LineBuffer) -> None:
        self._sink = sink
        self._buffer = buffer

    def __enter__(self) -> None:
        routing.context.set(self._buffer)
        self._sink.sync = self._buffer

    def __exit__(self, *exc_info: object) -> None:
        self._sink.sync = None


class _CaptureStream(io.TextIOBase):
    """Echoes to the real stream and feeds the routed buffer."""

    def __init__(self, source: str, real: TextIO) -> None:
        super().__init__()
        self._source = source
        self._real = real

    @property
    def real(self) -> TextIO:
        return self._real

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        try:
            self._real.write(text)
        except (OSError, ValueError):  # a closed real stream must not fail the prediction
            pass
        buffer = routing.target()
        if buffer is not None:
            buffer.feed(self._source, text)
        return len(text)

    def flush(self) -> None:
        try:
            self._real.flush()
        except (OSError, ValueError):
            pass

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._real, "encoding", "utf-8") or "utf-8"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _GuardedSys(types.ModuleType):
    """``sys``'s class while capture is installed (spec §15.5).

    Model code that assigns its own ``sys.stdout`` would otherwise cut the
    capture off; the assigned stream is wrapped instead, so writes reach both
    the user's stream and the prediction's logs. Wrappers never nest.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("stdout", "stderr") and not isinstance(value, _CaptureStream):
            value = _CaptureStream(name, value)
        super().__setattr__(name, value)


_installed = 0
_lock = threading.Lock()


def install(sink: Sink) -> None:
    """Replace ``sys.stdout``/``sys.stderr`` with capturing streams (counted).

    Call it on the runtime's event loop thread, with the runtime's ``sink``:
    that thread is then excluded from thread-based routing, and the sink
    included in it, until the matching ``uninstall()``.
    """
    global _installed
    with _lock:
        routing.sinks = (*routing.sinks, sink)
        ident = threading.get_ident()
        routing.loop_threads[ident] = routing.loop_threads.get(ident, 0) + 1
        _installed += 1
        if _installed == 1:
            sys.stdout = _CaptureStream("stdout", sys.stdout)
            sys.stderr = _CaptureStream("stderr", sys.stderr)
            sys.__class__ = _GuardedSys


def uninstall(sink: Sink) -> None:
    """Undo ``install(sink)``; the streams go once the last runtime using them has exited."""
    global _installed
    with _lock:
        routing.sinks = tuple(s for s in routing.sinks if s is not sink)
        ident = threading.get_ident()
        remaining = routing.loop_threads.get(ident, 0) - 1
        if remaining > 0:
            routing.loop_threads[ident] = remaining
        else:
            routing.loop_threads.pop(ident, None)
        _installed -= 1
        if _installed == 0:
            sys.__class__ = types.ModuleType
            for name in ("stdout", "stderr"):
                stream = getattr(sys, name)
                if isinstance(stream, _CaptureStream):
                    setattr(sys, name, stream.real)
