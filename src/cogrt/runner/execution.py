"""Running one prediction from validated input to a terminal state.

Sync user code runs on the worker thread inside a ``CancelGuard``; its output
is converted to JSON data on that same thread (reading output files there
keeps the loop free). Async user code runs as the prediction's own task;
cancel is ``task.cancel()``.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import tempfile
import traceback
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from cogrt.errors import CancelationException
from cogrt.files import download_inputs, file_to_data_uri
from cogrt.runner.logs import routing
from cogrt.runner.prediction import Prediction
from cogrt.runner.target import Target
from cogrt.runner.worker_thread import WorkerThread
from cogrt.schema.arguments import DownloadKey
from cogrt.schema.inputs import build_arguments, download_targets
from cogrt.schema.outputs import to_jsonable
from cogrt.sdk.scope import _current as current_scope_var

__all__ = ["Execution", "FileConverter"]

MAX_DOWNLOAD_BYTES = 1 << 30


class FileConverter:
    """Turns file outputs into data URIs, numbering unnamed ones per prediction."""

    def __init__(self) -> None:
        self._count = 0

    def __call__(self, value: Any) -> str:
        index = self._count
        self._count += 1
        return file_to_data_uri(value, index)


class Execution:
    """Everything needed to run predictions against one ``Target``."""

    def __init__(
        self,
        target: Target,
        worker: WorkerThread,
        client: httpx.AsyncClient,
        *,
        user_agent: str | None = None,
    ) -> None:
        self.target = target
        self._worker = worker
        self._client = client
        self._user_agent = user_agent

    async def run(self, prediction: Prediction, validated: dict[str, Any]) -> None:
        """Drive ``prediction`` to a terminal state; never raises."""
        temp_dir: Path | None = None
        try:
            signature = self.target.signature
            targets = download_targets(signature, validated)
            downloaded: Mapping[DownloadKey, os.PathLike[str]] = {}
            if targets:
                temp_dir = Path(tempfile.mkdtemp(prefix="cogrt-input-"))
                downloaded = await download_inputs(
                    targets,
                    temp_dir,
                    client=self._client,
                    user_agent=self._user_agent,
                    max_bytes=MAX_DOWNLOAD_BYTES,
                )
            kwargs = build_arguments(signature, validated, downloaded)
            prediction.mark_started()
            if self.target.is_async:
                await self._run_async(prediction, kwargs)
            else:
                await self._run_sync(prediction, kwargs)
        except (CancelationException, asyncio.CancelledError):
            prediction.finish("canceled")
        except BaseException as exc:  # user code may raise anything, SystemExit included
            if prediction.cancel_requested:
                prediction.finish("canceled")
            else:
                prediction.append_log("".join(traceback.format_exception(exc)))
                prediction.finish("failed", _describe(exc))
        else:
            if prediction.cancel_requested and self.target.is_async:
                prediction.finish("canceled")
            else:
                prediction.finish("succeeded")
        finally:
            if temp_dir is not None:
                shutil.rmtree(temp_dir, ignore_errors=True)

    async def _run_async(self, prediction: Prediction, kwargs: dict[str, Any]) -> None:
        current_scope_var.set(prediction.scope)
        routing.context.set(prediction.log_buffer)
        convert = FileConverter()
        result = self.target.loaded.entry(**kwargs)
        if inspect.isasyncgen(result) or isinstance(result, AsyncIterator):
            async for item in result:
                prediction.add_chunk(to_jsonable(item, convert))
            return
        if inspect.isawaitable(result):
            result = await result
        if inspect.isgenerator(result):
            for item in result:
                prediction.add_chunk(to_jsonable(item, convert))
            return
        prediction.set_result(to_jsonable(result, convert), as_list=_is_sequence(result))

    async def _run_sync(self, prediction: Prediction, kwargs: dict[str, Any]) -> None:
        current_scope_var.set(prediction.scope)
        prediction.in_thread = True
        try:
            outcome = await asyncio.shield(
                self._worker.submit(
                    _call_sync, self.target, prediction, kwargs, guard=prediction.guard
                )
            )
        finally:
            prediction.in_thread = False
        result = outcome.unwrap()
        if result is not _STREAMED:
            value, as_list = result
            prediction.set_result(value, as_list=as_list)


_STREAMED: Any = object()


def _call_sync(target: Target, prediction: Prediction, kwargs: dict[str, Any]) -> Any:
    """Runs on the worker thread: user code, generator pumping, output conversion."""
    routing.sync = prediction.log_buffer
    try:
        convert = FileConverter()
        result = target.loaded.entry(**kwargs)
        if inspect.isgenerator(result) or (
            isinstance(result, Iterator) and not isinstance(result, (list, tuple, str))
        ):
            for item in result:
                prediction.push_chunk_threadsafe(to_jsonable(item, convert))
            return _STREAMED
        return to_jsonable(result, convert), _is_sequence(result)
    finally:
        routing.sync = None


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _describe(exc: BaseException) -> str:
    message = str(exc)
    name = type(exc).__name__
    return f"{name}: {message}" if message else name
