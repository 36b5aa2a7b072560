"""``Runtime``: the in-process engine every client (HTTP, CLI, tests) drives.

    async with Runtime("predict.py:Predictor") as runtime:
        await runtime.wait_setup()
        response = await runtime.predict({"prompt": "hi"})

Entering starts loading and ``setup()`` in the background and returns at
once (health ``STARTING``), so an HTTP server can answer health checks
while a model loads. A request takes a free slot or gets ``AtCapacityError``,
unless an admission queue is configured (:mod:`cogrt.runner.admission`). A
slot is freed in the same loop step that publishes the terminal state,
before any waiter wakes, so a client that reads its answer and sends the
next request is never refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from cogrt import startup_gc
from cogrt.clock import utc_now
from cogrt.config import Settings
from cogrt.errors import (
    DuplicatePredictionError,
    NotReadyError,
    PredictionNotFoundError,
)
from cogrt.runner import logs
from cogrt.runner.admission import Admission, Ticket
from cogrt.runner.execution import Execution, ExecutionOptions
from cogrt.runner.health import UserHealthcheck, health_report
from cogrt.runner.observe import NO_OBSERVER, Observer
from cogrt.runner.prediction import Delivery, Prediction, new_prediction_id
from cogrt.runner.setup import TargetLoader
from cogrt.runner.startup import SetupPhase
from cogrt.runner.target import Target
from cogrt.runner.worker_thread import WorkerThread
from cogrt.schema.inputs import recorded_input
from cogrt.schema.modes import Mode
from cogrt.transfer import http_client
from cogrt.transfer.http_client import new_client
from cogrt.transfer.webhooks import WebhookSender

if TYPE_CHECKING:
    import httpx

    from cogrt.schema.inputs import InputModel
    from cogrt.transfer.journal import Journal

__all__ = ["Runtime"]


class Runtime:
    """Loads one predictor, runs its setup, and admits predictions into slots."""

    def __init__(
        self,
        predictor: Any,
        *,
        mode: Mode = "predict",
        train: Any = None,
        settings: Settings | None = None,
        concurrency: int | None = None,
        upload_url: str | None = None,
        workdir: str | os.PathLike[str] | None = None,
        journal: Journal | None = None,
        keep_output_files: bool | None = None,
        local_file_outputs: bool = False,
        queue: int | None = None,
        queue_timeout: float | None = None,
    ) -> None:
        """``local_file_outputs``: file outputs as local paths, not data URIs, for in-process
        clients (``predict``, tests); see :mod:`cogrt.transfer.local_files`. ``queue``:
        requests that may wait for a slot (default ``COGRT_QUEUE``, else none), each for
        at most ``queue_timeout`` seconds (default ``COGRT_QUEUE_TIMEOUT``, else 30)."""
        self.settings = settings or Settings.from_environ()
        self._journal = journal
        self.upload_url = upload_url
        self.keep_output_files = (
            self.settings.keep_output_files if keep_output_files is None else keep_output_files
        )
        """Leave returned temp files in place (default: ``COGRT_KEEP_OUTPUT_FILES``)."""
        self._workdir = Path(workdir) if workdir is not None else Path.cwd()
        self._local_file_outputs = local_file_outputs
        self._local_dir: Path | None = None
        self._worker = WorkerThread()
        self._sink = logs.Sink()
        self._loader = TargetLoader(
            predictor,
            train=train,
            mode=mode,
            settings=self.settings,
            yaml_concurrency=concurrency,
            worker=self._worker,
            sink=self._sink,
            workdir=self._workdir,
        )
        self._setup = SetupPhase(self._sink, self._workdir)
        self._setup_task: asyncio.Task[None] | None = None
        self.observer: Observer = NO_OBSERVER  # set before entering (runner/observe.py)
        self._entered = asyncio.Event()
        self._warm_up: asyncio.Task[None] | None = None
        self.admission = Admission(
            queue=self.settings.queue if queue is None else queue,
            queue_timeout=queue_timeout or self.settings.queue_timeout,
        )
        self._inflight = self.admission.inflight
        self._client: httpx.AsyncClient | None = None
        self._webhooks: WebhookSender | None = None
        self._predict: Execution | None = None
        self._train: Execution | None = None
        self._healthcheck: UserHealthcheck | None = None
        self.openapi_json: bytes | None = None
        self.supports_streaming = False
        self.supports_training = False

    # -- lifecycle ------------------------------------------------------------------

    async def __aenter__(self) -> Runtime:
        self._webhooks = WebhookSender.from_settings(self.settings, self._journal, self.observer)
        self._webhooks.resume_journal()  # beside setup: a crashed predecessor's webhooks
        if self._local_file_outputs:
            self._local_dir = Path(tempfile.mkdtemp(prefix="cogrt-outputs-"))
        logs.install(self._sink)
        self._setup.started_at = utc_now()
        self._setup_task = asyncio.get_running_loop().create_task(self._run_setup())
        self._entered.set()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # A setup still running is abandoned, not waited for (spec §19): nothing awaits it.
        setup = self._setup_task
        abandoned = setup if setup is not None and not setup.done() else None
        try:
            if abandoned is not None:
                abandoned.cancel()
                await asyncio.gather(abandoned, return_exceptions=True)
            await self.drain(0.0)
        finally:
            if self._warm_up is not None:
                await asyncio.gather(self._warm_up, return_exceptions=True)
            if self._webhooks is not None:  # a closing server still delivers terminal webhooks
                await self._webhooks.aclose(self.settings.webhook_shutdown_grace)
            if self._client is not None:
                await self._client.aclose()
            await asyncio.to_thread(self._worker.stop, 0.0 if abandoned is not None else 10.0)
            logs.uninstall(self._sink)
            if self._local_dir is not None:
                await asyncio.to_thread(shutil.rmtree, self._local_dir, ignore_errors=True)

    async def drain(self, timeout: float) -> None:
        """Let in-flight predictions finish within ``timeout``, then cancel the rest."""
        await self.admission.drain(timeout)

    async def wait_setup(self, timeout: float | None = None) -> str:
        """Wait until setup has finished (either way) and return the health status.

        A runtime not entered yet is waited for too: code that hands one to
        ``create_app`` (the supervised CLI) learns when the server's runtime is ready.
        """
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._setup_finished(), timeout)
        return self.status

    async def wait_schema(self) -> bytes | None:
        """The OpenAPI document as soon as the model is loaded, before its setup() ends
        (``None`` if loading failed): the CLI checks inputs against it (and against
        ``early_inputs``) first."""
        await self._entered.wait()
        waits: list[asyncio.Future[object]] = [
            asyncio.ensure_future(self._loader.schema_ready.wait()),
            asyncio.ensure_future(self._setup_finished()),
        ]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        return self._loader.openapi_json

    def early_inputs(self, training: bool = False) -> InputModel | None:
        """The loaded model's input validator, before its setup() ends (``None`` before
        ``wait_schema``): requests are still started only once the runtime is ready."""
        predict, train = self._loader.predict_target, self._loader.train_target
        found = (train or predict) if training else (predict or train)  # as ``_execution``
        return found.inputs if found is not None else None

    async def _setup_finished(self) -> None:
        await self._entered.wait()
        assert self._setup_task is not None
        await asyncio.wait([self._setup_task])

    async def _run_setup(self) -> None:
        """Set up; then warm up the HTTP client beside serving, if downloads or uploads need it."""
        succeeded = await self._setup.run(self._load, self.settings.setup_timeout, self.observer)
        startup_gc.resume()  # if no model code ever ran (a missing file), the server still collects
        if succeeded:
            targets = (self._predict, self._train)
            if self.upload_url or any(t and t.target.signature.takes_files for t in targets):
                self._warm_up = asyncio.get_running_loop().create_task(http_client.warm_up())

    async def _load(self) -> None:
        """Load and set up the model, then take its targets into service."""
        await self._loader.load()
        self._adopt_loaded()

    def _http_client(self) -> httpx.AsyncClient:
        """The client for input downloads and uploads, made on first use: httpx and
        its TLS context cost ~50 ms of start-up and a few MiB that most models never need."""
        if self._client is None:
            self._client = new_client(follow_redirects=True, timeout=10.0)
        return self._client

    def _adopt_loaded(self) -> None:
        loader = self._loader
        self.admission.slots = loader.slots
        options = ExecutionOptions(
            os.environ.get("COG_USER_AGENT"),
            self.upload_url,
            self.keep_output_files,
            self._local_dir,
        )

        def execution(target: Target | None) -> Execution | None:
            if target is None:
                return None
            return Execution(target, self._worker, self._http_client, self._sink, options)

        self._predict = execution(loader.predict_target)
        self._train = execution(loader.train_target)
        self.openapi_json = loader.openapi_json
        self.supports_streaming = loader.streaming
        self.supports_training = self._train is not None
        primary = loader.predict_target or loader.train_target
        if primary is not None and primary.loaded.healthcheck is not None:
            self._healthcheck = UserHealthcheck(primary.loaded.healthcheck)

    # -- health -------------------------------------------------------------------

    @property
    def entered(self) -> bool:
        """``async with runtime`` has begun: setup is under way or done."""
        return self._entered.is_set()

    @property
    def status(self) -> str:
        if self._setup.status == "starting":
            return "STARTING"
        if self._setup.status == "failed":
            return "SETUP_FAILED"
        return "BUSY" if self.admission.refuses else "READY"

    @property
    def slots(self) -> int:
        return self.admission.slots

    @property
    def queue_length(self) -> int:
        """Requests waiting in the admission queue for a slot."""
        return self.admission.queue_length

    async def health(self) -> dict[str, Any]:
        """The ``/health-check`` body (spec §18.1), running the user healthcheck."""
        queue = self.admission.queue_report()
        return await health_report(self.status, self._setup.report(), self._healthcheck, queue)

    # -- predictions --------------------------------------------------------------

    def _execution(self, training: bool) -> Execution:
        if self._setup.status != "succeeded":
            raise NotReadyError(self.status)
        execution = (self._train or self._predict) if training else (self._predict or self._train)
        if execution is None:
            raise NotReadyError(self.status)
        return execution

    def decode_request(
        self, body: bytes, *, training: bool = False, local_paths: bool = False
    ) -> Any:
        """Parse and validate a request body; see ``InputModel.decode_request``.

        ``local_paths`` lets file inputs name local files: only the one-shot
        CLI, run by the machine's own user, passes it; the HTTP app never does.
        """
        inputs = self._execution(training).target.inputs
        return inputs.decode_request(body, local_paths=local_paths)

    def start(
        self,
        request: Any,
        *,
        prediction_id: str | None = None,
        training: bool = False,
        created_by: Delivery = "sync",
        trace_headers: Mapping[str, str] | None = None,
        ticket: Ticket | None = None,
    ) -> Prediction:
        """Admit a validated request into a free slot (or ``ticket``'s reserved one) and start
        it; ``trace_headers``, the creating request's W3C trace context, go to its webhooks
        and spans."""
        execution = self._execution(training)
        pid = prediction_id or request.id or new_prediction_id()
        if pid in self._inflight:
            raise DuplicatePredictionError(pid)
        self.admission.check(ticket)
        target = execution.target
        validated = request.input
        prediction = Prediction(
            pid,
            recorded_input(target.signature, validated),
            context=request.context,
            created_at=request.created_at,
            created_by=created_by,
            training=training,
            output_is_array=target.output_is_array,
            loop=asyncio.get_running_loop(),
        )
        if request.webhook and self._webhooks is not None:
            self._webhooks.attach(
                prediction, request.webhook, request.webhook_events_filter, trace_headers
            )
        self.admission.admit(prediction, ticket)
        self.observer.prediction_created(prediction, trace_headers)
        task = asyncio.get_running_loop().create_task(self._drive(execution, prediction, validated))
        # A task cancelled before its first step never runs its body, so the
        # same release also hangs off the task's completion.
        task.add_done_callback(lambda _task: self._release(prediction))
        prediction.task = task
        return prediction

    async def _drive(self, execution: Execution, prediction: Prediction, validated: Any) -> None:
        try:
            # A separate training target is set up on first use (spec §21.2).
            if await self._loader.prepare(execution.target.loaded, prediction):
                await execution.run(prediction, validated)
        finally:
            self._release(prediction)

    def _release(self, prediction: Prediction) -> None:
        """Publish the terminal state, freeing the slot before any waiter wakes."""
        if self._inflight.get(prediction.id) is not prediction:
            return
        if not prediction.done:  # run() never raises; a task cancel can still land here
            prediction.finish("canceled")
        self.admission.release(prediction)
        self.observer.prediction_finished(prediction)
        prediction.publish_completed()

    def get(self, prediction_id: str) -> Prediction | None:
        return self._inflight.get(prediction_id)

    def cancel(self, prediction_id: str) -> None:
        """Ask a prediction to cancel; a repeat is harmless (``Admission.cancel``)."""
        if not self.admission.cancel(prediction_id):
            raise PredictionNotFoundError(prediction_id)

    def canceling(self) -> list[Prediction]:
        """In-flight predictions asked to cancel: each frees its slot once its code stops."""
        return [p for p in self._inflight.values() if p.cancel_requested]

    async def predict(
        self, input: dict[str, Any] | None = None, *, training: bool = False, **fields: Any
    ) -> dict[str, Any]:
        """Validate, run and wait for one prediction; returns the prediction object."""
        body = msgspec.json.encode({"input": input or {}, **fields})
        request = self.decode_request(body, training=training)
        prediction = self.start(request, training=training)
        await prediction.wait()
        return prediction.snapshot()
