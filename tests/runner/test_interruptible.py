"""Blocking calls a cancel interrupts (``cogrt.runner.interruptible``), guard by guard."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cogrt.errors import CancelationException
from cogrt.runner import interruptible
from cogrt.runner.worker_thread import CancelGuard, guarded_call


@pytest.fixture(autouse=True)
def installed() -> Iterator[None]:
    interruptible.install()
    yield
    interruptible.uninstall()


def in_guarded_thread(fn: Callable[[], Any], guard: CancelGuard) -> tuple[threading.Thread, list]:
    """Run ``fn`` as a guarded call on a thread of its own; the list gets its result or error."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(guarded_call(guard, fn))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def blocked(guard: CancelGuard) -> None:
    """Wait (bounded) until the guarded thread has registered a waker: it is blocking."""
    deadline = time.monotonic() + 30
    while not guard._wakers:
        assert time.monotonic() < deadline, "the call never blocked"
        time.sleep(0.001)


@pytest.mark.parametrize(
    "call",
    [
        lambda: time.sleep(3600),
        lambda: threading.Event().wait(),
        lambda: queue.Queue().get(timeout=3600),
        lambda: threading.Semaphore(0).acquire(timeout=3600),
    ],
    ids=["sleep", "event", "queue", "semaphore"],
)
def test_a_cancel_wakes_the_blocked_call_and_raises_in_it(call: Callable[[], Any]) -> None:
    guard = CancelGuard()
    thread, outcome = in_guarded_thread(call, guard)
    blocked(guard)
    guard.cancel()
    thread.join(30)
    assert not thread.is_alive()
    assert isinstance(outcome[0], CancelationException)
    assert not guard._wakers and not interruptible.watchers


def test_guarded_calls_behave_like_the_originals_without_a_cancel() -> None:
    guard = CancelGuard()
    condition = threading.Condition()
    event = threading.Event()

    def call() -> list[Any]:
        results: list[Any] = [threading.Event().wait(0.001), time.sleep(0)]
        with pytest.raises(ValueError, match="non-negative"):
            time.sleep(-1)
        with pytest.raises(TypeError):
            time.sleep("1")  # type: ignore[arg-type]
        with condition:
            event.set()
            results.append(condition.wait(30))  # notified below: True
        return results

    thread, outcome = in_guarded_thread(call, guard)
    assert event.wait(30)
    with condition:
        condition.notify()
    thread.join(30)
    assert outcome == [[False, None, True]]


def test_a_notify_racing_a_cancel_is_passed_to_the_next_waiter() -> None:
    guard = CancelGuard()
    condition = threading.Condition()
    woken: list[bool] = []

    def other_waiter() -> None:
        with condition:
            woken.append(condition.wait(30))

    def guarded() -> None:
        with condition:
            condition.wait()

    thread, outcome = in_guarded_thread(guarded, guard)
    blocked(guard)
    other = threading.Thread(target=other_waiter)
    other.start()
    deadline = time.monotonic() + 30
    while len(condition._waiters) < 2:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline
        time.sleep(0.001)
    with condition:  # the canceled waiter is first in line, released by the cancel
        guard.cancel()
        condition.notify()
    thread.join(30)
    other.join(30)
    assert isinstance(outcome[0], CancelationException)
    assert woken == [True]


def test_install_is_counted_and_uninstall_restores_the_originals() -> None:
    interruptible.install()
    interruptible.uninstall()
    assert time.sleep is interruptible.sleep  # the fixture's install still holds
    interruptible.uninstall()
    assert time.sleep is interruptible._sleep
    assert threading.Condition.wait is interruptible._condition_wait
    interruptible.install()  # for the fixture's uninstall


def test_one_cancel_raises_once_and_cleanup_then_blocks_normally() -> None:
    guard = CancelGuard()
    gate = threading.Event()

    def call() -> str:
        try:
            time.sleep(3600)
        except CancelationException:
            total = sum(range(100_000))  # many bytecode boundaries: nothing else is pending
            assert gate.wait(30)  # woken by set(), not cut short by the cancel
            return f"cleaned {total}"
        return "slept"

    thread, outcome = in_guarded_thread(call, guard)
    blocked(guard)
    guard.cancel()
    deadline = time.monotonic() + 30
    while not guard._wakers:  # the cleanup's wait registered: it is blocking
        assert time.monotonic() < deadline
        time.sleep(0.001)
    gate.set()
    thread.join(30)
    assert outcome == [f"cleaned {sum(range(100_000))}"]
