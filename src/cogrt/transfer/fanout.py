"""Running a prediction's file transfers side by side: all of them, or none.

Input downloads, the GETs of ``File`` inputs and output uploads each fan out
over an anyio task group. A failure is recorded by the job that hit it, not
left to the group, so the caller gets the ``InputDownloadError`` or
``OutputUploadError`` itself rather than an ``ExceptionGroup`` (and Python
3.10 needs no backport to unwrap one).

The group cancels the way anyio does: every ``await`` in a canceled job is
canceled again until the job ends. A job's cleanup that must finish before
the caller's own (closing a file in a thread) shields itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

__all__ = ["all_or_none"]

T = TypeVar("T")


async def all_or_none(
    jobs: Sequence[Callable[[], Awaitable[T]]], *, limit: int | None = None
) -> list[T]:
    """Run every job concurrently, at most ``limit`` at once; their results, in order.

    The first failure cancels the other jobs and is raised once all have
    ended. Nothing keeps running after the call returns or raises (cancel
    included), so the caller's cleanup never races a job. A single job runs
    in the caller's task: most predictions have one file, and pay no group.
    """
    if len(jobs) <= 1:
        return [await job() for job in jobs]
    import anyio  # loaded with httpx already; never at start-up

    results: list[Any] = [None] * len(jobs)
    failure: Exception | None = None
    limiter = anyio.CapacityLimiter(limit or len(jobs))

    async def run(index: int, job: Callable[[], Awaitable[T]]) -> None:
        nonlocal failure
        try:
            async with limiter:
                results[index] = await job()
        except Exception as exc:  # cancel is a BaseException: it passes through
            if failure is None:
                failure = exc
            group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for index, job in enumerate(jobs):
            group.start_soon(run, index, job)
    if failure is not None:
        raise failure
    return results
