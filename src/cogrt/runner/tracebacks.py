"""Tracebacks of user code as the user should read them: their frames, not cogrt's.

An exception from ``setup()``, ``predict()`` or a model's import reaches the
place that formats it through cogrt's machinery: the worker thread hands it
back to the loop, where ``Outcome.unwrap`` raises it again, and async code
runs under ``asyncio.wait_for``. Every one of those hops adds frames at the
top of the traceback that say nothing about the model. Cog shows the user's
frames only, and so do setup logs, prediction logs and the server's error
lines here.

Only the *leading* internal frames go: once the user's code appears, every
frame below it stays, cogrt's included (a model calling into the ``cog`` API
should see where that call failed). An exception cogrt raised itself, with
no user frame at all, renders as its exception line alone.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import traceback
from collections.abc import Iterator

from cogrt.errors import PredictorLoadError

__all__ = ["describe", "error_report", "format_user_exception"]


def _folder(module_file: str) -> str:
    return os.path.dirname(module_file) + os.sep


_INTERNAL_FOLDERS = (
    _folder(os.path.dirname(__file__)),  # the cogrt package: this file is in cogrt/runner/
    _folder(asyncio.__file__),
    _folder(concurrent.futures.__file__),
)
_INTERNAL_FILES = frozenset({threading.__file__})
_FROZEN_IMPORTLIB = "<frozen importlib."


def format_user_exception(exc: BaseException) -> str:
    """``traceback.format_exception(exc)`` without cogrt's frames above the user's.

    Applies to every exception of the chain (``__cause__``, ``__context__``,
    and the members of an exception group). A ``PredictorLoadError`` is its
    message: that message already holds the user's traceback (a failed
    import or constructor), which its chained cause would only repeat.
    """
    if isinstance(exc, PredictorLoadError):
        return "".join(traceback.format_exception_only(type(exc), exc))
    rendered = traceback.TracebackException.from_exception(exc)
    for link in _chain(rendered):
        frames = list(link.stack)
        keep = next((i for i, frame in enumerate(frames) if not _internal(frame)), len(frames))
        if keep:
            link.stack = traceback.StackSummary.from_list(frames[keep:])
    return "".join(rendered.format())


def describe(exc: BaseException) -> str:
    """``Name: message``, or ``Name`` alone: a failed prediction's ``error`` field."""
    message = str(exc)
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def error_report(heading: str, exc: BaseException, trace: str | None = None) -> str:
    """One error record's text: ``heading: Name: message`` (its first line), then the traceback.

    ``trace`` is ``format_user_exception(exc)`` when the caller already has it.
    """
    summary = describe(exc).split("\n", 1)[0]
    trace = format_user_exception(exc) if trace is None else trace
    return f"{heading}: {summary}\n{trace.rstrip()}"


def _internal(frame: traceback.FrameSummary) -> bool:
    """A frame of cogrt, or of the stdlib machinery that runs the user's code for it."""
    filename = frame.filename
    return (
        filename.startswith(_INTERNAL_FOLDERS)
        or filename in _INTERNAL_FILES
        or filename.startswith(_FROZEN_IMPORTLIB)
    )


def _chain(root: traceback.TracebackException) -> Iterator[traceback.TracebackException]:
    """Every exception ``root.format()`` prints, each once."""
    pending = [root]
    seen: set[int] = set()
    while pending:
        link = pending.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        for child in (link.__cause__, link.__context__):
            if child is not None:
                pending.append(child)
        pending.extend(getattr(link, "exceptions", None) or ())
