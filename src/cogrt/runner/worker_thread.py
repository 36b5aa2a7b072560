"""The one thread cogrt owns for synchronous user code, and how work crosses to it.

Sync ``setup()`` and every sync prediction run here, in order, because model
libraries keep thread-local state (CUDA contexts, tokenizer caches) that must
not hop between threads. Work crosses the boundary in exactly one place:
a queue of ``(context, fn, args, future, loop, guard, taken)``; the result goes back with
``loop.call_soon_threadsafe``. The loop waits (``HANDOFF_WAIT`` at most)
until an idle thread has taken its job, see ``WorkerThread.submit``.

Cancel semantics (the part users ask about): ``CancelGuard.cancel()`` raises
``CancelationException`` asynchronously in this thread, at the next bytecode
boundary of user code, and wakes the blocking call the thread is in, if it is
one :mod:`cogrt.runner.interruptible` knows (``time.sleep``, condition and
event waits, queues, subprocess waits). Any other blocking C call (a CUDA
kernel, a socket read) finishes first. The exception is injected only while
the guarded call runs, decided under a lock, and any exception still pending
when the call ends is cleared, so a cancel that races with completion can
land neither in cogrt's code nor in the next prediction. A cancel raised
where Python can only report it (a weakref callback run by the collector)
is delivered again (:mod:`cogrt.runner.unraisable`).
"""

from __future__ import annotations

import _thread
import asyncio
import contextvars
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn

from cogrt.errors import CancelationException
from cogrt.runner import interruptible

__all__ = ["HANDOFF_WAIT", "REDELIVER_AFTER", "CancelGuard", "Outcome", "WorkerThread"]

REDELIVER_AFTER = 0.001
"""Seconds before a cancel swallowed by a callback is injected again."""

HANDOFF_WAIT = 0.001
"""Seconds the loop waits at most for an idle worker thread to take a submitted job."""

_async_exc_api: Any = None


def _set_async_exc(thread_id: int, exception: type[BaseException] | None) -> None:
    """``PyThreadState_SetAsyncExc``: raise ``exception`` in the thread, ``None`` clears.

    ctypes loads at the first cancel, not at start-up: ~4 ms and some memory
    that a server which never cancels a sync prediction does not need.
    """
    global _async_exc_api
    if _async_exc_api is None:
        import ctypes

        api = ctypes.pythonapi.PyThreadState_SetAsyncExc
        api.argtypes = (ctypes.c_ulong, ctypes.py_object)
        api.restype = ctypes.c_int
        _async_exc_api = (api, ctypes.py_object)
    api, py_object = _async_exc_api
    api(thread_id, py_object() if exception is None else exception)


class Outcome:
    """What a call on the thread produced: a value, or the exception it raised.

    Exceptions travel wrapped because asyncio re-raises ``SystemExit`` and
    ``KeyboardInterrupt`` set on a future out of the event loop itself; a
    predictor calling ``sys.exit()`` must fail its prediction, not the server.
    """

    __slots__ = ("error", "value")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error

    def unwrap(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class CancelGuard:
    """Decides, under a lock, whether a cancel may be injected right now."""

    def __init__(self, exception: type[BaseException] = CancelationException) -> None:
        self._lock = threading.Lock()
        self._thread_id: int | None = None
        self._exception = exception
        self._wakers: list[Callable[[], None]] = []
        self._swallowed = False
        self.requested = False

    def cancel(self) -> None:
        """Request cancel; injects now if the guarded call is running, and wakes it. Idempotent."""
        with self._lock:
            if self.requested:
                return
            self.requested = True
            self._deliver()

    def _deliver(self) -> None:
        """Inject into the guarded call, if it runs, and wake its blocking call (lock held)."""
        if self._thread_id is None:
            return
        _set_async_exc(self._thread_id, self._exception)
        for waker in self._wakers:
            try:
                waker()
            except Exception:  # a waker must not stop the cancel or the others
                pass

    def redeliver(self, swallowed: BaseException | None) -> bool:
        """On the guarded thread: ``swallowed`` was raised where Python could not raise it.

        True if it was this guard's cancel: it is injected again from
        another thread a moment later (at once it would land in the same
        callback), and wakes the blocking call the thread is in by then.
        See :mod:`cogrt.runner.unraisable`.
        """
        # No lock here: this thread may hold it already (the collector runs
        # callbacks anywhere), and only this thread sets ``_thread_id``.
        if not self.requested or not isinstance(swallowed, self._exception):
            return False
        if self._thread_id != threading.get_ident():
            return False
        self._swallowed = True
        # A bare thread: threading's own locks may be held by the code the collector interrupted.
        _thread.start_new_thread(self._redeliver, ())
        return True

    def _redeliver(self) -> None:
        time.sleep(REDELIVER_AFTER)
        with self._lock:
            if self._swallowed:  # not raised since by ``claim()``
                self._swallowed = False
                self._deliver()

    def watch(self, waker: Callable[[], None]) -> None:
        """Have a cancel call ``waker`` (it wakes the guarded thread) until ``unwatch``."""
        with self._lock:
            self._wakers.append(waker)

    def unwatch(self, waker: Callable[[], None]) -> None:
        with self._lock:
            if waker in self._wakers:
                self._wakers.remove(waker)

    def claim(self) -> NoReturn:
        """Raise the cancel now, on the guarded thread, withdrawing the pending injection.

        A woken blocking call raises here rather than wait for the injected
        exception, whose delivery waits for the interpreter's next check.
        """
        with self._lock:
            self._swallowed = False
            if self._thread_id is not None:
                _set_async_exc(self._thread_id, None)
        raise self._exception()

    def enter(self) -> None:
        """Mark the guarded call as running; a cancel requested earlier fires now."""
        with self._lock:
            if self.requested:
                raise self._exception()
            self._thread_id = threading.get_ident()
            interruptible.watchers[self._thread_id] = self

    def exit(self) -> None:
        """Stop injections and clear one that was sent but not yet delivered."""
        with self._lock:
            thread_id, self._thread_id = self._thread_id, None
            if thread_id is not None:
                interruptible.watchers.pop(thread_id, None)
                self._wakers.clear()
                if self.requested:
                    _set_async_exc(thread_id, None)  # clear pending


def guarded_call(guard: CancelGuard, fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn`` with cancel injection allowed only inside the call itself."""
    outcome: Any = _NOTHING
    try:
        guard.enter()
        outcome = fn(*args)
    finally:
        # An injected exception may surface anywhere in here until exit() has
        # run under the lock; retry until it has, keeping the call's outcome.
        while True:
            try:
                guard.exit()
                break
            except CancelationException:
                if outcome is _NOTHING:
                    outcome = _CANCELED_LATE
    if outcome is _CANCELED_LATE:
        raise CancelationException()
    return outcome


_NOTHING: Any = object()
_CANCELED_LATE: Any = object()

_Job = tuple[
    contextvars.Context,
    Callable[..., Any],
    tuple[Any, ...],
    "asyncio.Future[Outcome]",
    asyncio.AbstractEventLoop,
    CancelGuard | None,
    "_thread.LockType",
]


class WorkerThread:
    """A long-lived thread running submitted calls one at a time, in order."""

    def __init__(self, name: str = "cogrt-predictor") -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False
        self._stopped = False
        self._in_call = False

    def submit(
        self, fn: Callable[..., Any], *args: Any, guard: CancelGuard | None = None
    ) -> asyncio.Future[Outcome]:
        """Run ``fn(*args)`` on the thread in a copy of the caller's context.

        When the thread is between calls, this returns once it has taken the
        job (or after ``HANDOFF_WAIT``): the loop lets go of the GIL until
        then. Otherwise a busy loop starves the thread it feeds: each time
        the loop drops the GIL between two callbacks the waiting thread
        wakes, finds it taken again and goes back to sleep, and it only
        wins when the loop runs out of work. With an admission queue in
        front of a one-slot echo model, a job waited 350-450 us for the GIL
        against 60-90 us with this wait, and the server made 4.9 context
        switches per request against 2.1 (benchmarks/README, "Handing a
        job to the worker thread").
        """
        if not self._started:
            self._started = True
            interruptible.install()
            self._thread.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        taken = _thread.allocate_lock()
        taken.acquire()
        self._jobs.put((contextvars.copy_context(), fn, args, future, loop, guard, taken))
        if not self._in_call:  # a call in progress would hold the loop up for its whole length
            taken.acquire(timeout=HANDOFF_WAIT)
        return future

    def stop(self, timeout: float) -> bool:
        """Ask the thread to finish its queue and exit; True if it did in time."""
        if not self._started:
            return True
        self._jobs.put(None)
        self._thread.join(timeout)
        if self._stopped:
            return not self._thread.is_alive()
        self._stopped = True
        interruptible.uninstall()
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            context, fn, args, future, loop, guard, taken = job
            taken.release()
            if future.cancelled():
                continue
            self._in_call = True
            try:
                if guard is None:
                    outcome = Outcome(context.run(fn, *args))
                else:
                    outcome = Outcome(context.run(guarded_call, guard, fn, *args))
            except BaseException as exc:  # handed to the awaiting coroutine
                outcome = Outcome(error=exc)
            self._in_call = False
            _resolve(loop, future, outcome)
            del job, context, fn, args, future, outcome


def _resolve(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Outcome], outcome: Outcome
) -> None:
    def settle() -> None:
        if not future.cancelled():
            future.set_result(outcome)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the loop closed while user code ran; nobody is waiting
        pass
