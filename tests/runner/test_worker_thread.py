"""How work reaches the worker thread."""

from __future__ import annotations

import threading

import pytest

from cogrt.runner import worker_thread
from cogrt.runner.worker_thread import WorkerThread


async def test_submit_returns_once_an_idle_thread_has_taken_the_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loop lets go of the GIL until the thread holds its job, not just until it is queued.

    With the wait bounded only by a minute, a job still queued when
    ``submit`` returns means the loop never waited for the thread.
    """
    monkeypatch.setattr(worker_thread, "HANDOFF_WAIT", 60.0)
    worker = WorkerThread()
    try:
        for value in range(20):  # the first starts the thread; the rest find it idle
            future = worker.submit(lambda v=value: v * 2)
            assert worker._jobs.empty()
            assert (await future).unwrap() == value * 2
    finally:
        assert worker.stop(5)


async def test_a_job_submitted_during_a_call_runs_after_it() -> None:
    """The thread is busy: the job queues behind the call and the loop goes on."""
    worker = WorkerThread()
    release = threading.Event()
    order: list[str] = []
    try:
        first = worker.submit(lambda: (release.wait(30), order.append("first")))
        second = worker.submit(order.append, "second")
        release.set()
        await first
        await second
        assert order == ["first", "second"]
    finally:
        assert worker.stop(5)
