"""File outputs stored off the producing thread: uploads (spec §10.5), and publishing in order.

Output conversion (:func:`cogrt.schema.outputs.to_jsonable`) runs where the
output is produced, on the worker thread for sync predictors, and must do no
network IO there. So the hook given to it, :class:`FileCollector`, only
records each file and leaves a :class:`PendingFile` placeholder in the
converted value. On the loop, a store turns each file into a string (an
upload's URL, or a data URI built in a thread) and :func:`resolve_files` puts
the strings where the placeholders were. :class:`OrderedPublisher` does that
for a sync generator's chunks while the generator keeps running, and
publishes them in the order they were produced.
"""

from __future__ import annotations

import asyncio
import functools
import io
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from cogrt.errors import OutputUploadError, PublishingStopped
from cogrt.schema.uris import (
    mime_type_for,
    output_filename,
    upload_result_url,
    upload_target_url,
    without_query,
)
from cogrt.transfer import retry
from cogrt.transfer.fanout import all_or_none
from cogrt.transfer.files import file_to_data_uri
from cogrt.transfer.http_client import error_detail
from cogrt.transfer.returned import ReturnedFiles
from cogrt.transfer.upload_body import UploadBody, open_settled

if TYPE_CHECKING:
    import httpx

__all__ = [
    "MAX_PARALLEL_UPLOADS",
    "FileCollector",
    "FileStore",
    "OrderedPublisher",
    "PendingFile",
    "Uploader",
    "resolve_files",
    "store_as_data_uri",
]

MAX_PARALLEL_UPLOADS = 8
"""Uploads in flight per prediction; more only queue for the same bandwidth."""
RETRY_STATUSES = retry.RETRY_STATUSES | {408}
"""A PUT of a large body may also time out at the store, which a retry can get past."""
RETRY_DELAYS = (0.1, 0.2, 0.4)
"""Pauses before the 2nd, 3rd and 4th attempt of a retryable failure."""


class PendingFile(msgspec.Struct, eq=False):
    """A file output waiting to be stored; stands in for its URL in converted output."""

    value: os.PathLike[Any] | io.IOBase
    filename: str
    index: int


FileStore = Callable[[PendingFile], Awaitable[str]]
"""Turns one file output into the string the client sees."""


class FileCollector:
    """The ``to_jsonable`` file hook: records files, numbering them per prediction.

    Used by one thread at a time (the producer), which calls :meth:`take`
    after converting each value to get that value's files. Each file is also
    recorded in ``returned`` (when given), to be deleted at the prediction's end.
    """

    def __init__(self, returned: ReturnedFiles | None = None) -> None:
        self._count = 0
        self._pending: list[PendingFile] = []
        self._returned = returned

    def __call__(self, value: os.PathLike[Any] | io.IOBase) -> PendingFile:
        if self._returned is not None:
            self._returned.add(value)
        pending = PendingFile(value, output_filename(value, self._count), self._count)
        self._count += 1
        self._pending.append(pending)
        return pending

    def take(self) -> list[PendingFile]:
        pending, self._pending = self._pending, []
        return pending


async def resolve_files(value: Any, pending: list[PendingFile], store: FileStore) -> Any:
    """``value`` with every placeholder in ``pending`` replaced by its stored string.

    The files are stored concurrently (the store bounds how many at once);
    the first failure cancels the others and is raised.
    """
    if not pending:
        return value
    results = await all_or_none([functools.partial(store, file) for file in pending])
    return _substitute(value, {id(f): url for f, url in zip(pending, results, strict=True)})


def _substitute(value: Any, stored: dict[int, str]) -> Any:
    cls = type(value)
    if cls is PendingFile:
        return stored[id(value)]
    if cls is dict:
        return {key: _substitute(item, stored) for key, item in value.items()}
    if cls is list:
        return [_substitute(item, stored) for item in value]
    return value


async def store_as_data_uri(file: PendingFile) -> str:
    """The data URI of a file output, built in a thread: base64 of 100 MiB takes a while."""
    return await asyncio.to_thread(file_to_data_uri, file.value, file.index)


class Uploader:
    """``PUT``s one prediction's file outputs under ``upload_url`` (spec §10.5).

    Each file goes to ``<upload_url>/<filename>`` with its MIME type and the
    prediction id; the result is the response's ``Location`` or the URL the
    body was PUT to, without query. 408/429/5xx answers and connection errors
    are retried three times; a failure raises ``OutputUploadError``. Redirects
    are followed by re-sending the body from its start, when it can be.
    """

    def __init__(self, client: httpx.AsyncClient, upload_url: str, *, prediction_id: str) -> None:
        self._client = client
        self._upload_url = upload_url
        self._prediction_id = prediction_id
        self._gate = asyncio.Semaphore(MAX_PARALLEL_UPLOADS)

    async def __call__(self, file: PendingFile) -> str:
        async with self._gate:
            body = await open_settled(file.value)
            try:
                return await self._upload(file.filename, body)
            finally:
                # At once, not in a thread: a second cancel could drop a close still
                # waiting for a free executor thread, and leak the file (closing a
                # file cogrt opened for reading is quick; a predictor's own is not closed).
                body.close()

    async def _upload(self, filename: str, body: UploadBody) -> str:
        import httpx  # loaded by the client's creator already; not at cogrt's start-up

        url = upload_target_url(self._upload_url, filename)
        headers = {"Content-Type": mime_type_for(filename), "X-Prediction-ID": self._prediction_id}
        if body.size is not None:
            headers["Content-Length"] = str(body.size)
        stored: str | None = None
        failure = ""

        async def attempt() -> bool:
            nonlocal stored, failure
            try:
                response = await self._put(url, headers, body)
            except httpx.HTTPError as exc:
                detail = error_detail(exc, self._client)
                failure = f"PUT {without_query(url)} failed: {detail}"
                again = isinstance(exc, httpx.TransportError)
            else:
                if response.is_success:
                    location = response.headers.get("location")
                    stored = upload_result_url(str(response.request.url), location)
                    return False
                reason = f"{response.status_code} {response.reason_phrase}".strip()
                failure = f"PUT {without_query(str(response.request.url))} returned {reason}"
                again = response.status_code in RETRY_STATUSES
            return again and body.rewindable

        attempts, _ = await retry.retrying(attempt, RETRY_DELAYS)
        if stored is not None:
            return stored
        suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
        raise OutputUploadError(filename, failure + suffix)

    async def _put(self, url: str, headers: dict[str, str], body: UploadBody) -> httpx.Response:
        """One attempt; redirects are followed only when the body can be sent again."""
        request = self._client.build_request(
            "PUT", url, content=body, headers=headers, timeout=retry.TIMEOUT
        )
        response = await self._client.send(request, follow_redirects=body.replayable)
        if response.request.method != "PUT":  # a 302/303 made it a GET: the body went nowhere
            return next(hop for hop in reversed(response.history) if hop.request.method == "PUT")
        return response


class OrderedPublisher:
    """Publishes a sync generator's chunks in production order, each once its files are stored.

    The worker thread calls :meth:`push_threadsafe` per chunk. A chunk with
    files gets its stores started at once (so several chunks upload in
    parallel) and is published when it and every earlier chunk are done. A
    chunk without files, while nothing waits here, skips the queue and goes
    to ``publish_direct`` (the prediction's batched path), so token streams
    pay nothing for an upload URL. At most ``limit`` chunks wait; then the
    worker waits (backpressure).
    """

    def __init__(
        self,
        *,
        publish: Callable[[Any], None],
        publish_direct: Callable[[Any], None],
        store: FileStore,
        limit: int = 64,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._publish = publish
        self._direct = publish_direct
        self._store = store
        self._lock = threading.Lock()
        self._space = threading.Semaphore(limit)
        self._waiting = 0
        self._queue: asyncio.Queue[asyncio.Task[Any] | None] = asyncio.Queue()
        self._live: set[asyncio.Task[Any]] = set()
        self._error: BaseException | None = None
        self._task = self._loop.create_task(self._run())

    def push_threadsafe(self, value: Any, pending: list[PendingFile]) -> None:
        """From the worker thread; raises ``PublishingStopped`` once publishing failed."""
        with self._lock:
            if self._error is not None:
                raise PublishingStopped
            direct = not pending and self._waiting == 0
            if not direct:
                self._waiting += 1
        if direct:
            self._direct(value)
            return
        while not self._space.acquire(timeout=0.1):
            if self._error is not None:
                raise PublishingStopped
        self._loop.call_soon_threadsafe(self._accept, value, pending)

    def _accept(self, value: Any, pending: list[PendingFile]) -> None:
        if self._error is not None:
            return
        job = self._loop.create_task(resolve_files(value, pending, self._store))
        self._live.add(job)
        self._queue.put_nowait(job)

    async def _run(self) -> None:
        while (job := await self._queue.get()) is not None:
            try:
                value = await job
            except Exception as exc:  # a store failed: stop, close() raises it
                with self._lock:
                    self._error = exc
                return
            finally:
                self._live.discard(job)
            self._publish(value)
            with self._lock:
                self._waiting -= 1
            self._space.release()

    async def close(self) -> None:
        """Once the producer is done: wait until all is published; raise the first failure.

        Chunks pushed before the worker's result was delivered are already
        queued: both crossed with ``call_soon_threadsafe``, which keeps order.
        """
        self._queue.put_nowait(None)
        await self._task
        if self._error is not None:
            await self._cancel_live()
            raise self._error

    async def abort(self) -> None:
        """Stop publishing and cancel the stores in flight (the prediction was canceled)."""
        with self._lock:
            if self._error is None:
                self._error = PublishingStopped()
        self._task.cancel()
        await self._cancel_live()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _cancel_live(self) -> None:
        live = list(self._live)
        for job in live:
            job.cancel()
        await asyncio.gather(*live, return_exceptions=True)
