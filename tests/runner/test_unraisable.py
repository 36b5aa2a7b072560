"""A cancel that lands where Python cannot raise it (``cogrt.runner.unraisable``)."""

from __future__ import annotations

import sys
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from cogrt.errors import CancelationException
from cogrt.runner import interruptible
from cogrt.runner.worker_thread import CancelGuard
from tests.runner.test_interruptible import in_guarded_thread


@pytest.fixture
def reported() -> Iterator[list[Any]]:
    """What reaches the hook in place before cogrt's (the default one, in production)."""
    seen: list[Any] = []
    saved = sys.unraisablehook
    sys.unraisablehook = seen.append
    interruptible.install()
    try:
        yield seen
    finally:
        interruptible.uninstall()
        sys.unraisablehook = saved


def spin(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


class Thing:
    pass


def test_a_cancel_swallowed_by_a_weakref_callback_is_delivered_again(reported: list) -> None:
    """The cancel lands inside a weakref callback, where CPython can only report it; the
    prediction must still stop (before, it ran on with its slot held: a flaky CI run)."""
    guard = CancelGuard()
    inside = threading.Event()

    def spin_in_callback(_ref: object) -> None:
        inside.set()
        spin(60)  # the cancel is injected while this runs

    def predict() -> str:
        thing = Thing()
        ref = weakref.ref(thing, spin_in_callback)
        del thing  # the callback runs here and swallows the cancel
        assert ref() is None
        spin(60)
        return "ran to the end"

    thread, outcome = in_guarded_thread(predict, guard)
    assert inside.wait(30)
    guard.cancel()
    thread.join(30)
    assert outcome and isinstance(outcome[0], CancelationException)
    assert reported == []  # delivered again, not printed as "Exception ignored"


def test_other_unraisable_errors_still_reach_the_previous_hook(reported: list) -> None:
    guard = CancelGuard()

    def fail(_ref: object) -> None:
        raise ValueError("a callback's own error")

    def predict() -> str:
        thing = Thing()
        ref = weakref.ref(thing, fail)
        del thing
        assert ref() is None
        return "done"

    thread, outcome = in_guarded_thread(predict, guard)
    thread.join(30)
    assert outcome == ["done"]
    assert [type(report.exc_value) for report in reported] == [ValueError]


def test_the_previous_hook_is_back_after_the_last_uninstall() -> None:
    saved = sys.unraisablehook
    interruptible.install()
    interruptible.install()
    assert sys.unraisablehook is not saved
    interruptible.uninstall()
    assert sys.unraisablehook is not saved
    interruptible.uninstall()
    assert sys.unraisablehook is saved


def test_a_hook_installed_after_ours_is_left_in_place() -> None:
    saved = sys.unraisablehook
    interruptible.install()

    def theirs(_report: Any) -> None:
        pass

    sys.unraisablehook = theirs
    try:
        interruptible.uninstall()
        assert sys.unraisablehook is theirs
    finally:
        sys.unraisablehook = saved
