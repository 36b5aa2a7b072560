"""The setup phase: loading the model and running ``setup()`` once, in the background.

It records what ``/health-check`` reports under ``setup`` (spec §18.1): the
status, when setup started and ended, and its logs (the model's output while
it loaded and set up, then the traceback if it failed). A failure is also
logged once, as an error line of cogrt's own, which never lands in those logs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from cogrt.clock import utc_now
from cogrt.config import requirements_hint
from cogrt.runner import logs
from cogrt.runner.observe import NO_OBSERVER, Observer
from cogrt.runner.tracebacks import error_report, format_user_exception

__all__ = ["SetupPhase", "SetupStatus"]

_log = logging.getLogger("cogrt.runner.runtime")  # the runtime's logger, as before the split

SetupStatus = Literal["starting", "succeeded", "failed"]


class SetupPhase:
    """Runs the model's loading once and keeps the record of how it went."""

    def __init__(self, sink: logs.Sink, workdir: str | os.PathLike[str] = ".") -> None:
        self._workdir = workdir
        self.status: SetupStatus = "starting"
        self.started_at: str | None = None
        self.completed_at: str | None = None
        self._logs: list[str] = []
        self._sink = sink

    def report(self) -> dict[str, Any]:
        """The ``setup`` object of the ``/health-check`` body."""
        report: dict[str, Any] = {"started_at": self.started_at, "status": self.status}
        if self.completed_at is not None:
            report["completed_at"] = self.completed_at
        report["logs"] = "".join(self._logs)
        return report

    async def run(
        self,
        load: Callable[[], Awaitable[None]],
        timeout: float | None,
        observer: Observer = NO_OBSERVER,
    ) -> bool:
        """Run ``load`` within ``timeout``, capturing its output; True if it succeeded.

        Call it in a task of its own: the setup logs are routed through its context.
        """
        buffer = logs.LineBuffer(lambda _source, text: self._logs.append(text))
        self._sink.setup = buffer  # threads setup() starts
        token = logs.routing.context.set(buffer)  # setup(), on the worker thread or this task
        _log.info("setup started")
        began = time.perf_counter()
        try:
            failure = await self._set_up(load, timeout)
        except asyncio.CancelledError:
            self.completed_at = utc_now()
            raise
        finally:
            buffer.flush_all()
            # Reset before logging: an error line must not land in the setup logs.
            logs.routing.context.reset(token)
            self._sink.setup = None
        if failure is None:
            _log.info("setup completed in %.2f s", time.perf_counter() - began)
            self.status = "succeeded"
        else:
            log_line, setup_log = failure
            _log.error("%s", log_line)
            self._logs.append(setup_log)
            self.status = "failed"
        self.completed_at = utc_now()
        observer.setup_finished(failure is None, began, time.perf_counter())
        return failure is None

    async def _set_up(
        self, load: Callable[[], Awaitable[None]], timeout: float | None
    ) -> tuple[str, str] | None:
        """None once set up, else the failure's error-log text and its setup-log text."""
        try:
            error = await asyncio.wait_for(_outcome(load), timeout)
        except asyncio.TimeoutError:  # wait_for's own: _outcome() returns the model's errors
            message = f"Setup timed out after {timeout:g} seconds"
            return f"{message} (COG_SETUP_TIMEOUT)", f"{message}\n"
        if error is None:
            return None
        trace = format_user_exception(error)
        report = error_report("Setup failed", error, trace)
        if _missing_module(error):
            hint = requirements_hint(self._workdir)
            first, _, rest = report.partition("\n")
            report = f"{first}: {hint}\n{rest}"
            trace = f"{trace.rstrip()}\n{hint}\n"
        return report, trace


def _missing_module(error: BaseException) -> bool:
    """A ``ModuleNotFoundError`` anywhere in the chain (loading wraps import errors)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ModuleNotFoundError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


async def _outcome(load: Callable[[], Awaitable[None]]) -> BaseException | None:
    """What ``load`` raised, returned, so a ``TimeoutError`` of the model's own is
    not taken for the setup timeout."""
    try:
        await load()
    except asyncio.CancelledError:
        raise
    except BaseException as exc:  # SystemExit in setup() fails setup, not the server
        return exc
    return None
