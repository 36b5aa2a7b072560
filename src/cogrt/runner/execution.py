"""Running one prediction from validated input to a terminal state.

Sync user code runs on the worker thread inside a ``CancelGuard``; its output
is converted to JSON data on that same thread (reading output files there
keeps the loop free). Async user code runs as the prediction's own task;
cancel is ``task.cancel()``.

File outputs become data URIs, or local paths for an in-process client
(:mod:`cogrt.transfer.local_files`), or with an upload URL are uploaded from the
loop (:mod:`cogrt.transfer.uploads`); either way every file of a chunk is stored
before the chunk is published, and ``run`` returns, letting the runtime
publish the terminal state, only once all of them are. Inputs downloaded to
the prediction's temporary directory, and the temp files it returned
(:mod:`cogrt.transfer.returned`), are removed before ``run`` returns,
whatever the outcome: by then nothing reads them any more.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from cogrt.errors import CancelationException
from cogrt.runner.logs import Sink, capturing, routing
from cogrt.runner.prediction import Prediction
from cogrt.runner.target import Target
from cogrt.runner.tracebacks import describe, format_user_exception
from cogrt.runner.worker_thread import Outcome, WorkerThread
from cogrt.schema.arguments import DownloadKey, local_path_inputs
from cogrt.schema.inputs import build_arguments, download_targets
from cogrt.schema.outputs import to_jsonable
from cogrt.sdk.scope import set_current_scope
from cogrt.transfer.files import connect_file_inputs, download_inputs, file_to_data_uri
from cogrt.transfer.local_files import LocalFileStore
from cogrt.transfer.returned import ReturnedFiles
from cogrt.transfer.uploads import (
    FileCollector,
    FileStore,
    OrderedPublisher,
    Uploader,
    resolve_files,
    store_as_data_uri,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["Execution", "ExecutionOptions", "FileConverter"]

MAX_DOWNLOAD_BYTES = 1 << 30


class FileConverter:
    """Turns file outputs into data URIs, numbering unnamed ones per prediction.

    The hook for sync predictors without an upload URL: it runs on the
    worker thread, where reading and encoding the file costs the loop nothing.
    Each file is also recorded in ``returned`` (when given), to be deleted
    at the prediction's end.
    """

    def __init__(self, returned: ReturnedFiles | None = None) -> None:
        self._count = 0
        self._returned = returned

    def __call__(self, value: Any) -> str:
        index = self._count
        self._count += 1
        if self._returned is not None:
            self._returned.add(value)
        return file_to_data_uri(value, index)


class ExecutionOptions(msgspec.Struct, frozen=True):
    """The runtime's choices every prediction of a target follows."""

    user_agent: str | None = None
    """Sent with input downloads (``COG_USER_AGENT``)."""
    upload_url: str | None = None
    """File outputs are PUT there instead of becoming data URIs."""
    keep_output_files: bool = False
    """Returned temp files stay (``COGRT_KEEP_OUTPUT_FILES``)."""
    local_dir: Path | None = None
    """File outputs are copied there and answered as local paths (in-process clients)."""


class Execution:
    """Everything needed to run predictions against one ``Target``."""

    def __init__(
        self,
        target: Target,
        worker: WorkerThread,
        client: Callable[[], httpx.AsyncClient],
        sink: Sink,
        options: ExecutionOptions,
    ) -> None:
        self.target = target
        self._worker = worker
        self._client = client
        self._sink = sink
        self._user_agent = options.user_agent
        self._upload_url = options.upload_url
        self._keep_output_files = options.keep_output_files
        self._local_dir = options.local_dir

    async def run(self, prediction: Prediction, validated: dict[str, Any]) -> None:
        """Drive ``prediction`` to a terminal state; never raises."""
        prediction.run_perf = time.perf_counter()
        temp_dir: Path | None = None
        returned = None if self._keep_output_files else ReturnedFiles()
        try:
            signature = self.target.signature
            targets = download_targets(signature, validated)
            downloaded: Mapping[DownloadKey, os.PathLike[str]] = {}
            if targets or signature.file_inputs:
                prediction.download_perf = prediction.run_perf
            if targets:
                temp_dir = Path(tempfile.mkdtemp(prefix="cogrt-input-"))
                downloaded = await download_inputs(
                    targets,
                    temp_dir,
                    client=self._client(),
                    user_agent=self._user_agent,
                    max_bytes=MAX_DOWNLOAD_BYTES,
                )
            kwargs = build_arguments(signature, validated, downloaded, user_agent=self._user_agent)
            if returned is not None and (local := local_path_inputs(signature, validated)):
                returned.keep(local)
            await connect_file_inputs(signature.file_inputs, kwargs)
            prediction.mark_started()
            if self.target.is_async:
                await self._run_async(prediction, kwargs, returned)
            elif self._upload_url is None and self._local_dir is None:
                await self._run_sync(prediction, kwargs, returned)
            else:
                store = self._store(prediction)
                await self._run_sync_uploading(prediction, kwargs, store, returned)
        except (CancelationException, asyncio.CancelledError):
            prediction.finish("canceled")
        except BaseException as exc:  # user code may raise anything, SystemExit included
            if prediction.cancel_requested:
                prediction.finish("canceled")
            else:
                prediction.append_log(format_user_exception(exc))
                prediction.finish("failed", describe(exc))
        else:
            if prediction.cancel_requested and self.target.is_async:
                prediction.finish("canceled")
            else:
                prediction.finish("succeeded")
        finally:
            if temp_dir is not None or returned:
                # In a thread: unlinking a 1 GiB file can take a while.
                await asyncio.to_thread(_remove_temp_files, temp_dir, returned)

    def _uploader(self, prediction: Prediction) -> Uploader:
        assert self._upload_url is not None
        return Uploader(self._client(), self._upload_url, prediction_id=prediction.id)

    def _store(self, prediction: Prediction) -> FileStore:
        if self._upload_url is not None:
            return self._uploader(prediction)
        if self._local_dir is not None:
            return LocalFileStore(self._local_dir, prediction.id)
        return store_as_data_uri

    async def _run_async(
        self, prediction: Prediction, kwargs: dict[str, Any], returned: ReturnedFiles | None
    ) -> None:
        """Async user code on the loop; files are stored off it before each chunk goes out."""
        set_current_scope(prediction.scope)
        routing.context.set(prediction.log_buffer)
        collect = FileCollector(returned)
        store = self._store(prediction)

        async def convert(item: Any) -> Any:
            value = to_jsonable(item, collect)
            return await resolve_files(value, collect.take(), store)

        result = self.target.loaded.entry(**kwargs)
        if inspect.isasyncgen(result) or isinstance(result, AsyncIterator):
            async for item in result:
                prediction.add_chunk(await convert(item))
            return
        if inspect.isawaitable(result):
            result = await result
        if inspect.isgenerator(result):
            for item in result:
                prediction.add_chunk(await convert(item))
            return
        if self._upload_url is not None:
            prediction.upload_perf = time.perf_counter()
        prediction.set_result(await convert(result), as_list=_is_sequence(result))

    async def _run_sync(
        self, prediction: Prediction, kwargs: dict[str, Any], returned: ReturnedFiles | None
    ) -> None:
        """Sync user code with data-URI files, made on the worker thread."""
        outcome = await self._submit(prediction, kwargs, FileConverter(returned), None)
        result = outcome.unwrap()
        if result is not _STREAMED:
            value, as_list = result
            prediction.set_result(value, as_list=as_list)

    async def _run_sync_uploading(
        self,
        prediction: Prediction,
        kwargs: dict[str, Any],
        store: FileStore,
        returned: ReturnedFiles | None,
    ) -> None:
        """Sync user code whose file outputs are uploaded from the loop.

        Yielded chunks go through an ``OrderedPublisher``; a returned value's
        files are uploaded once the worker is done. Chunks yielded before a
        failure are still uploaded and published (spec §10.3); a cancel
        aborts the uploads in flight.
        """
        collect = FileCollector(returned)

        def publish(value: Any) -> None:
            prediction.flush_chunks()  # chunks that skipped the queue come first
            prediction.add_chunk(value)

        publisher = OrderedPublisher(
            publish=publish, publish_direct=prediction.push_chunk_threadsafe, store=store
        )

        def emit(value: Any) -> None:
            publisher.push_threadsafe(value, collect.take())

        try:
            outcome = await self._submit(prediction, kwargs, collect, emit)
            if isinstance(outcome.error, CancelationException):
                outcome.unwrap()
            prediction.upload_perf = time.perf_counter()
            await publisher.close()
        except BaseException:
            await publisher.abort()
            raise
        result = outcome.unwrap()
        if result is not _STREAMED:
            value, as_list = result
            value = await resolve_files(value, collect.take(), store)
            prediction.set_result(value, as_list=as_list)

    async def _submit(
        self,
        prediction: Prediction,
        kwargs: dict[str, Any],
        hook: Callable[[Any], Any],
        emit: Callable[[Any], None] | None,
    ) -> Outcome:
        set_current_scope(prediction.scope)
        prediction.in_thread = True
        try:
            return await asyncio.shield(
                self._worker.submit(
                    _call_sync,
                    self._sink,
                    self.target,
                    prediction,
                    kwargs,
                    hook,
                    emit or prediction.push_chunk_threadsafe,
                    guard=prediction.guard,
                )
            )
        finally:
            prediction.in_thread = False


_STREAMED: Any = object()


def _call_sync(
    sink: Sink,
    target: Target,
    prediction: Prediction,
    kwargs: dict[str, Any],
    hook: Callable[[Any], Any],
    emit: Callable[[Any], None],
) -> Any:
    """Runs on the worker thread: user code, generator pumping, output conversion."""
    with capturing(sink, prediction.log_buffer):
        result = target.loaded.entry(**kwargs)
        if inspect.isgenerator(result) or (
            # A file object is an iterator of its lines, but as an output it is one file.
            isinstance(result, Iterator) and not isinstance(result, (list, tuple, str, io.IOBase))
        ):
            for item in result:
                emit(to_jsonable(item, hook))
            return _STREAMED
        return to_jsonable(result, hook), _is_sequence(result)


def _remove_temp_files(inputs: Path | None, returned: ReturnedFiles | None) -> None:
    """The end of every prediction, in a thread: returned temp files, then the inputs' dir.

    A predictor returning one of its inputs returns a file of the inputs'
    dir; both rules agree it goes.
    """
    if returned:
        returned.release()
    if inputs is not None:
        shutil.rmtree(inputs, ignore_errors=True)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple))
