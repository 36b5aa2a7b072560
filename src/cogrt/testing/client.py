"""``AsyncClient``: a predictor under test, in process, over the ``Runtime`` (no sockets).

    async with AsyncClient("predict.py:Predictor") as client:
        image = await client.predict(prompt="a cat")   # a pathlib.Path
        async for token in client.stream(prompt="hi"):
            ...

Inputs are Python values; a ``pathlib.Path`` is a local file (the tests'
own machine). File outputs come back as ``pathlib.Path`` objects pointing at
the model's files (a file object the model returned is written to a folder
that lives as long as the client). A failed or canceled prediction raises
``PredictionFailedError`` from ``predict``/``stream``; ``run`` returns the
whole record instead, to assert on logs, metrics or the error.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from cogrt.errors import PredictionFailedError, SetupFailedError
from cogrt.runner.prediction import Prediction
from cogrt.runner.runtime import Runtime
from cogrt.schema.output_files import FileMapper

__all__ = ["AsyncClient", "Result", "Running"]


@dataclass(frozen=True)
class Result:
    """A finished prediction: the fields of Cog's prediction object, files as ``Path``."""

    id: str
    status: str
    output: Any
    error: str | None
    logs: str
    metrics: dict[str, Any]

    def raise_for_status(self) -> Result:
        if self.status != "succeeded":
            raise PredictionFailedError(self.status, self.error, self.logs)
        return self


class Running:
    """A started prediction: stream its chunks, cancel it, or wait for its ``Result``."""

    def __init__(self, prediction: Prediction, mapper: FileMapper) -> None:
        self._prediction = prediction
        self._mapper = mapper
        self._chunks: asyncio.Queue[Any] = asyncio.Queue()
        prediction.add_listener(self._on_event)

    @property
    def id(self) -> str:
        return self._prediction.id

    def cancel(self) -> None:
        """Ask the prediction to stop; it ends ``canceled`` once its code stops."""
        self._prediction.cancel()

    async def result(self) -> Result:
        await self._prediction.wait()
        snapshot = self._prediction.snapshot()
        return Result(
            id=snapshot["id"],
            status=snapshot["status"],
            output=self._mapper.whole(snapshot["output"], Path),
            error=snapshot["error"],
            logs=snapshot["logs"],
            metrics=snapshot["metrics"],
        )

    async def chunks(self) -> AsyncIterator[Any]:
        """Each output chunk as the model yields it (a returned list comes item by item)."""
        while True:
            item = await self._chunks.get()
            if item is _END:
                break
            yield item
        (await self.result()).raise_for_status()

    def _on_event(self, event: str, data: Any) -> None:
        if event == "output":
            self._chunks.put_nowait(self._mapper.chunk(data["chunk"], Path))
        elif event == "completed":
            self._chunks.put_nowait(_END)


_END: Any = object()


class AsyncClient:
    """Loads a predictor (a ``file.py:Name`` reference, a class or an instance) and runs
    its setup on entry; ``SetupFailedError`` if setup fails.

    ``runtime_options`` go to :class:`cogrt.Runtime` (``train=``, ``concurrency=``,
    ``settings=``, ``workdir=``...).
    """

    def __init__(self, predictor: Any, **runtime_options: Any) -> None:
        self._runtime = Runtime(predictor, local_file_outputs=True, **runtime_options)
        self._entered = False
        self._mappers: dict[bool, FileMapper] = {}

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    async def __aenter__(self) -> AsyncClient:
        await self._runtime.__aenter__()
        self._entered = True
        if await self._runtime.wait_setup() == "SETUP_FAILED":
            logs = (await self._runtime.health())["setup"].get("logs", "")
            await self.__aexit__(None, None, None)
            raise SetupFailedError(logs)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._entered:
            self._entered = False
            await self._runtime.__aexit__(*exc_info)

    def start(self, *, training: bool = False, **inputs: Any) -> Running:
        """Validate ``inputs`` and start a prediction (``InputValidationError`` if invalid)."""
        body = msgspec.json.encode({"input": inputs}, enc_hook=_encode_path)
        request = self._runtime.decode_request(body, training=training, local_paths=True)
        prediction = self._runtime.start(request, training=training)
        return Running(prediction, self._mapper(training))

    async def run(self, **inputs: Any) -> Result:
        """One prediction's whole record, whatever its status."""
        return await self.start(**inputs).result()

    async def predict(self, **inputs: Any) -> Any:
        """One prediction's output; ``PredictionFailedError`` unless it succeeded."""
        return (await self.run(**inputs)).raise_for_status().output

    async def train(self, **inputs: Any) -> Any:
        """One training's output; ``PredictionFailedError`` unless it succeeded."""
        return (await self.start(training=True, **inputs).result()).raise_for_status().output

    def stream(self, **inputs: Any) -> AsyncIterator[Any]:
        """The output chunks as they arrive; raises at the end if the prediction failed."""
        return self.start(**inputs).chunks()

    def _mapper(self, training: bool) -> FileMapper:
        mapper = self._mappers.get(training)
        if mapper is None:
            mapper = FileMapper.for_document(self._runtime.openapi_json, training=training)
            self._mappers[training] = mapper
        return mapper


def _encode_path(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot send {type(value).__name__} as an input: use JSON values or a Path")
