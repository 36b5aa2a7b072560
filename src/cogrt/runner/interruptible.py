"""Blocking calls a cancel interrupts, on the worker thread while a prediction runs.

A sync prediction is canceled by an exception injected into the worker thread
(``PyThreadState_SetAsyncExc``), which the interpreter raises at the next
bytecode boundary. A thread blocked in C (``time.sleep``, a lock, ``waitpid``)
reaches no boundary until the call returns, so ``time.sleep(30)`` canceled
after 0.5 s would end at 30 s. ``KeyboardInterrupt`` does better only because
signal handlers run on the main thread, which user code here never is.

So the blocking calls models commonly make are replaced, once per process
while a runtime's worker thread exists, by versions that behave exactly like
the originals on every thread except one: the worker thread while a guarded
call (a prediction) runs there. On that thread they register a *waker* with
the prediction's ``CancelGuard``; a cancel injects the exception, then calls
the wakers, and the blocked call returns at once. It then raises the cancel
itself, withdrawing the injected exception (still pending: the thread was
blocked since before the cancel), so the exception surfaces inside the call
and never later in code that did not expect it:

* ``time.sleep``: waits on a private lock the waker releases;
* ``threading.Condition.wait``, and with it ``Event.wait``, ``queue.Queue``'s
  ``get``/``put``, ``Semaphore.acquire``, ``Barrier.wait`` and
  ``concurrent.futures.Future.result``: the waker takes the waiter out of the
  condition's queue and releases it, as ``notify()`` would, so a later
  ``notify()`` wakes the next waiter;
* ``subprocess.Popen.wait`` and ``.communicate`` (so ``subprocess.run``,
  ``call``, ``check_output``): the waker sends the child SIGTERM, and SIGKILL
  after ``KILL_AFTER`` seconds if it is still running.

Names bound before the runtime started (``from time import sleep`` in a module
imported earlier) keep the original. A blocking call made after the cancel
was delivered (cleanup code in ``except CancelationException``) blocks
normally: one cancel interrupts once.
"""

from __future__ import annotations

import _thread
import functools
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn, Protocol

from cogrt.runner import unraisable

__all__ = ["KILL_AFTER", "Watcher", "install", "installed", "uninstall", "watchers"]

KILL_AFTER = 5.0
"""Seconds between a canceled wait's SIGTERM to its child and SIGKILL."""


class Watcher(Protocol):
    """What a blocking call asks of the guard of the prediction running on its thread."""

    requested: bool

    def watch(self, waker: Callable[[], None]) -> None:
        """Call ``waker`` when a cancel arrives (until ``unwatch``)."""

    def unwatch(self, waker: Callable[[], None]) -> None: ...

    def claim(self) -> NoReturn:
        """Raise the cancel here, withdrawing the injected exception not yet delivered."""

    def redeliver(self, swallowed: BaseException | None) -> bool:
        """Deliver the cancel again if ``swallowed`` is it (see :mod:`.unraisable`)."""


watchers: dict[int, Watcher] = {}
"""Thread id -> the guard of the call running there; the guard keeps it current."""

_get_ident = threading.get_ident
_sleep = time.sleep
_condition_wait = threading.Condition.wait
_popen_wait = subprocess.Popen.wait
_popen_communicate = subprocess.Popen.communicate
_TIMEOUT_MAX = threading.TIMEOUT_MAX


def _register(guard: Watcher, waker: Callable[[], None]) -> None:
    """Have a cancel call ``waker``; raise a cancel that came during registration.

    Registration takes the guard's lock, so a cancel comes before it or calls
    the waker. One that came before this call began was delivered at a
    bytecode boundary on the way here (or caught, and this call is cleanup
    code): this call blocks normally. One that came while registering is
    still pending: it is raised now, not after the blocking call.
    """
    before = guard.requested
    guard.watch(waker)
    if guard.requested and not before:
        guard.claim()


class _Wake:
    """A waker that releases a lock the blocked thread waits on, and remembers it did.

    A condition's waiter leaves the condition's queue first, so a ``notify()``
    that comes after the cancel goes to the next waiter instead of being
    spent on one that is leaving.
    """

    __slots__ = ("fired", "lock", "waiters")

    def __init__(self, lock: Any, waiters: Any = None) -> None:
        self.lock = lock
        self.waiters = waiters
        self.fired = False

    def __call__(self) -> None:
        self.fired = True
        if self.waiters is not None:
            try:
                self.waiters.remove(self.lock)  # one atomic deque operation
            except ValueError:  # notify() took it already
                pass
        try:
            self.lock.release()
        except RuntimeError:  # already released: a notify() won the race
            pass


@functools.wraps(_sleep)
def sleep(secs: float, /) -> None:
    guard = watchers.get(_get_ident())
    if guard is None or type(secs) not in (int, float) or not secs > 0:
        return _sleep(secs)  # other threads; and the originals' errors (NaN, < 0)
    lock = _thread.allocate_lock()
    lock.acquire()
    wake = _Wake(lock)
    try:
        _register(guard, wake)
        deadline = time.monotonic() + secs
        while not lock.acquire(True, min(secs, _TIMEOUT_MAX)):
            secs = deadline - time.monotonic()
            if secs <= 0:
                break
        if wake.fired:  # woken by the cancel: its exception is still pending
            guard.claim()
    finally:
        guard.unwatch(wake)
    return None


def condition_wait(self: threading.Condition, timeout: float | None = None) -> bool:
    """``Condition.wait``, woken by a cancel on the worker thread (CPython's own logic)."""
    guard = watchers.get(_get_ident())
    if guard is None:
        return _condition_wait(self, timeout)
    cond: Any = self
    if not cond._is_owned():
        raise RuntimeError("cannot wait on un-acquired lock")
    waiter = _thread.allocate_lock()
    waiter.acquire()
    cond._waiters.append(waiter)
    saved_state = cond._release_save()
    wake = _Wake(waiter, cond._waiters)
    gotit = False
    try:  # restore state no matter what, as CPython does
        _register(guard, wake)
        if timeout is None:
            waiter.acquire()
            gotit = True
        elif timeout > 0:
            gotit = waiter.acquire(True, timeout)
        else:
            gotit = waiter.acquire(False)
        if wake.fired:  # woken by the cancel, not by notify()
            gotit = False
            guard.claim()
        return gotit
    finally:
        cond._acquire_restore(saved_state)
        if not gotit:
            try:
                cond._waiters.remove(waiter)
            except ValueError:
                pass
        guard.unwatch(wake)


class _Terminator:
    """A canceled wait's waker: SIGTERM to the child, SIGKILL if it outlives ``KILL_AFTER``."""

    def __init__(self, process: subprocess.Popen[Any]) -> None:
        self._process = process
        self.fired = False

    def __call__(self) -> None:
        self.fired = True
        process = self._process
        if process.returncode is not None:
            return
        process.terminate()
        timer = threading.Timer(KILL_AFTER, self._kill)
        timer.daemon = True
        timer.start()

    def _kill(self) -> None:
        if self._process.returncode is None:
            self._process.kill()


def _terminating(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> Any:
        guard = watchers.get(_get_ident())
        if guard is None:
            return original(self, *args, **kwargs)
        waker = _Terminator(self)
        try:
            _register(guard, waker)
            result = original(self, *args, **kwargs)
            if waker.fired:
                guard.claim()
            return result
        finally:
            guard.unwatch(waker)

    return wrapper


popen_wait = _terminating(_popen_wait)
popen_communicate = _terminating(_popen_communicate)

_PATCHES: tuple[tuple[Any, str, Any, Any], ...] = (
    (time, "sleep", _sleep, sleep),
    (threading.Condition, "wait", _condition_wait, condition_wait),
    (subprocess.Popen, "wait", _popen_wait, popen_wait),
    (subprocess.Popen, "communicate", _popen_communicate, popen_communicate),
)
_lock = threading.Lock()
_installs = 0


def install() -> None:
    """Put the interruptible versions and the unraisable hook in place.

    Counted: one per running worker thread; the first puts them in place.
    """
    global _installs
    with _lock:
        _installs += 1
        if _installs == 1:
            for owner, name, _, patched in _PATCHES:
                setattr(owner, name, patched)
            unraisable.chain(watchers.get)


def uninstall() -> None:
    """Undo one ``install``; the last one restores every original left in place."""
    global _installs
    with _lock:
        if _installs == 0:
            return
        _installs -= 1
        if _installs == 0:
            for owner, name, original, patched in _PATCHES:
                if getattr(owner, name) is patched:  # someone else's patch stays
                    setattr(owner, name, original)
            unraisable.unchain()


def installed() -> bool:
    """Whether the interruptible versions are in place."""
    return _installs > 0
