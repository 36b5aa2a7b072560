"""Start-up: import the model, introspect it, build its schema, run ``setup()``.

The module import and a sync ``setup()`` run on the worker thread, the same
thread that later runs every sync prediction; an async ``setup()`` runs on
the loop that later runs async predictions.

In predict mode a training target that is a different object from the
predictor is imported at start-up (its signature is part of the schema) but
set up only when the first training needs it (spec §21.2): a slow or broken
trainer never delays or fails the predictor's health. That setup runs once;
its output and, on failure, its traceback go to the training that waited for
it, and a failure fails every training with the same error.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from pathlib import Path
from typing import Any

from cogrt.config import Settings
from cogrt.runner import logs
from cogrt.runner.loader import LoadedPredictor, resolve
from cogrt.runner.prediction import Prediction
from cogrt.runner.target import Target, resolve_slots, weights_argument
from cogrt.runner.tracebacks import describe, error_report, format_user_exception
from cogrt.runner.worker_thread import WorkerThread
from cogrt.schema.document_io import SCHEMA_FILE, derived_facts, dumps, read_document
from cogrt.schema.inputs import InputModel
from cogrt.schema.modes import Mode
from cogrt.schema.openapi import build_document
from cogrt.schema.signature import Signature, inspect_entry
from cogrt.sdk import __version__ as cog_api_version

__all__ = ["TargetLoader"]

_log = logging.getLogger(__name__)


class TargetLoader:
    """Loads the prediction target and, when configured, the training target."""

    def __init__(
        self,
        predictor: Any,
        *,
        train: Any,
        mode: Mode,
        settings: Settings,
        yaml_concurrency: int | None,
        worker: WorkerThread,
        sink: logs.Sink,
        workdir: Path,
    ) -> None:
        self._predictor = predictor
        self._train = train
        self._mode = mode
        self._settings = settings
        self._yaml_concurrency = yaml_concurrency
        self._worker = worker
        self._sink = sink
        self._workdir = workdir
        self.predict_target: Target | None = None
        self.train_target: Target | None = None
        self.slots = 1
        self.openapi_json: bytes | None = None
        self.schema_ready = asyncio.Event()
        """Set once ``openapi_json`` is known: the model is loaded, its setup() not yet run."""
        self.streaming = False
        self._deferred: LoadedPredictor | None = None
        self._deferred_setup: asyncio.Task[None] | None = None

    async def load(self) -> None:
        if self._mode == "train":
            train_loaded = await self._resolve(self._predictor, "train")
            train_sig = self._inspect(train_loaded)
            predict_loaded, predict_sig = None, None
        else:
            predict_loaded = await self._resolve(self._predictor, "predict")
            predict_sig = self._inspect(predict_loaded)
            train_loaded, train_sig = None, None
            if self._train is not None:
                train_loaded = await self._resolve_train(predict_loaded)
                train_sig = self._inspect(train_loaded)
        primary_sig = predict_sig or train_sig
        assert primary_sig is not None
        self.slots = resolve_slots(
            primary_sig, env_max=self._settings.max_concurrency, yaml_max=self._yaml_concurrency
        )
        generated = build_document(
            predict_sig, train_signature=train_sig, mode=self._mode, cog_version=cog_api_version
        )
        bundled = read_document(self._workdir / SCHEMA_FILE)
        if bundled is not None:
            try:
                self._adopt_document(
                    bundled[1], predict_loaded, predict_sig, train_loaded, train_sig
                )
                self.openapi_json = bundled[0]  # served byte for byte, as Cog does
            except Exception as exc:  # a hand-edited file must not stop the model
                _log.warning("ignoring %s (%s); using the generated schema", SCHEMA_FILE, exc)
                bundled = None
        if bundled is None:
            self._adopt_document(generated, predict_loaded, predict_sig, train_loaded, train_sig)
            self.openapi_json = dumps(generated)
        self.schema_ready.set()
        distinct = _distinct(predict_loaded, train_loaded)
        if len(distinct) == 2 and distinct[1].setup is not None:
            self._deferred = distinct.pop()
        for loaded in distinct:
            await self._setup(loaded)

    async def prepare(self, loaded: LoadedPredictor, prediction: Prediction) -> bool:
        """Set up a deferred training target before its first training runs.

        False when that setup failed: ``prediction`` is then failed with the
        setup error and carries the traceback in its logs. Canceling the
        waiting training leaves the setup running for the next one.
        """
        if self._deferred is None or loaded is not self._deferred:
            return True
        if self._deferred_setup is None:
            self._deferred_setup = asyncio.get_running_loop().create_task(
                self._setup(loaded, prediction.log_buffer)
            )
            self._deferred_setup.add_done_callback(_log_failure)
        try:
            await asyncio.shield(self._deferred_setup)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # SystemExit in setup() fails trainings, not the server
            prediction.log_buffer.flush_all()
            prediction.append_log(format_user_exception(exc))
            prediction.finish("failed", describe(exc))
            return False
        return True

    def _adopt_document(
        self,
        document: dict[str, Any],
        predict_loaded: LoadedPredictor | None,
        predict_sig: Signature | None,
        train_loaded: LoadedPredictor | None,
        train_sig: Signature | None,
    ) -> None:
        """Build the input models from ``document``, which validation follows (spec §7.1)."""
        facts = derived_facts(document, mode=self._mode)
        predict_target = train_target = None
        if predict_loaded is not None and predict_sig is not None:
            predict_target = Target(
                predict_loaded,
                predict_sig,
                InputModel.from_document(document, "Input"),
                facts.output_is_array,
            )
        if train_loaded is not None and train_sig is not None:
            component = "TrainingInput" if "TrainingInput" in _schemas(document) else "Input"
            train_target = Target(
                train_loaded,
                train_sig,
                InputModel.from_document(document, component),
                facts.output_is_array
                if self._mode == "train"
                else _is_array(document, "TrainingOutput"),
            )
        self.predict_target, self.train_target = predict_target, train_target
        self.streaming = facts.streaming

    async def _resolve(self, reference: Any, mode: Mode) -> LoadedPredictor:
        outcome = await self._worker.submit(resolve, reference, mode)
        loaded: LoadedPredictor = outcome.unwrap()
        return loaded

    async def _resolve_train(self, predict_loaded: LoadedPredictor) -> LoadedPredictor:
        """Reuse the predictor instance when ``train:`` names the same class."""
        ref = self._shared_train_ref(predict_loaded)
        if ref is None:
            return await self._resolve(self._train, "train")
        instance = predict_loaded.instance
        # Set up once, as the predictor; its healthcheck is the predictor's.
        return LoadedPredictor(
            ref=ref, instance=instance, entry=instance.train, setup=None, healthcheck=None
        )

    def _shared_train_ref(self, predict_loaded: LoadedPredictor) -> str | None:
        """The ref of a training target reusing the predictor instance; None if it needs its own."""
        same_class = self._train is self._predictor or (
            inspect.isclass(self._train) and type(predict_loaded.instance) is self._train
        )
        if same_class and callable(getattr(predict_loaded.instance, "train", None)):
            return predict_loaded.ref
        if isinstance(self._train, str) and isinstance(self._predictor, str):
            train_file, _, train_name = self._train.partition(":")
            same_file = train_file == self._predictor.partition(":")[0]
            if same_file and train_name == type(predict_loaded.instance).__name__:
                return self._train
        return None

    def _inspect(self, loaded: LoadedPredictor) -> Signature:
        signature = inspect_entry(
            loaded.entry, legacy_none_defaults=self._settings.legacy_none_defaults
        )
        for warning in signature.warnings:
            _log.warning("%s", warning)
        return signature

    async def _setup(self, loaded: LoadedPredictor, log: logs.LineBuffer | None = None) -> None:
        """Run ``setup()``; ``log`` captures its output (deferred setup only)."""
        setup = loaded.setup
        if setup is None:
            return
        kwargs: dict[str, Any] = {}
        if "weights" in inspect.signature(setup).parameters:
            kwargs["weights"] = weights_argument(os.environ)
        if inspect.iscoroutinefunction(setup):
            if log is not None:
                logs.routing.context.set(log)  # this runs as its own task: its own context
            await setup(**kwargs)
            return
        outcome = await self._worker.submit(_call_setup, self._sink, setup, kwargs, log)
        outcome.unwrap()


def _log_failure(task: asyncio.Task[None]) -> None:
    """One error line for a training target's failed setup, however many trainings wait."""
    error = None if task.cancelled() else task.exception()
    if error is not None:
        _log.error("%s", error_report("Training setup failed", error))


def _call_setup(
    sink: logs.Sink, setup: Any, kwargs: dict[str, Any], log: logs.LineBuffer | None
) -> None:
    if log is None:  # the first setup: its output goes to the setup logs, by context
        result = setup(**kwargs)
    else:
        with logs.capturing(sink, log):
            result = setup(**kwargs)
    if inspect.isawaitable(result):
        raise TypeError("setup() returned an awaitable; declare it with async def")


def _schemas(document: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    return schemas


def _is_array(document: dict[str, Any], component: str) -> bool:
    return bool(_schemas(document).get(component, {}).get("type") == "array")


def _distinct(*loaded: LoadedPredictor | None) -> list[LoadedPredictor]:
    seen: list[LoadedPredictor] = []
    for item in loaded:
        if item is not None and all(item.instance is not s.instance for s in seen):
            seen.append(item)
    return seen
