"""``cogrt.testing``: the in-process clients a user's own predictor tests drive."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cogrt.errors import InputValidationError, PredictionFailedError, SetupFailedError
from cogrt.testing import AsyncClient, Client
from tests.support.predictors import PredictorFolder

MODELS = PredictorFolder(Path(__file__).resolve().parent / "predictors")
models = MODELS.load("models")


async def test_predict_returns_the_output() -> None:
    async with AsyncClient(models.Echo) as client:
        assert await client.predict(text="ab", times=2) == "abab"
        result = await client.run(text="x")
    assert (result.status, result.output, result.logs) == ("succeeded", "x", "echoing\n")


async def test_file_inputs_are_local_paths_and_file_outputs_come_back_as_paths(
    tmp_path: Path,
) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(b"\x89PNG not really")
    async with AsyncClient(MODELS.ref("models", "Image")) as client:
        output = await client.predict(source=source)
        assert isinstance(output, Path)
        assert output.read_bytes() == b"\x89PNG not really"
    assert not output.exists()  # a copy in the client's output folder, gone with the client


async def test_a_file_object_output_lives_as_long_as_the_client() -> None:
    async with AsyncClient(models.Buffer) as client:
        output = await client.predict(text="kept")
        assert (output.name, output.read_text()) == ("note.txt", "kept")
    assert not output.exists()


async def test_stream_yields_each_chunk_as_it_arrives() -> None:
    async with AsyncClient(models.Gated) as client:
        models.GATE["second"] = asyncio.Event()
        chunks = client.stream()
        assert await anext(chunks) == "first"  # before the model may go on: streamed
        models.GATE["second"].set()
        assert [chunk async for chunk in chunks] == ["second"]


async def test_cancel_ends_the_prediction_canceled() -> None:
    async with AsyncClient(models.Spin) as client:
        running = client.start()
        assert await anext(running.chunks()) == "started"
        running.cancel()
        result = await running.result()
    assert (result.status, result.output) == ("canceled", ["started"])
    with pytest.raises(PredictionFailedError, match="canceled"):
        result.raise_for_status()


async def test_a_failure_raises_with_its_error_and_logs() -> None:
    async with AsyncClient(models.Broken) as client:
        with pytest.raises(PredictionFailedError) as caught:
            await client.predict(text="x")
        with pytest.raises(InputValidationError, match="text"):
            await client.predict()
    assert caught.value.status == "failed"
    assert caught.value.error == "ValueError: cannot handle 'x'"
    assert "Traceback" in caught.value.logs


async def test_a_setup_failure_raises_with_the_setup_logs() -> None:
    with pytest.raises(SetupFailedError) as caught:
        async with AsyncClient(models.SetupFails):
            pass
    assert "loading" in caught.value.logs
    assert "RuntimeError: weights not found" in str(caught.value)


def test_the_sync_client_predicts_streams_and_cancels() -> None:
    models.STARTED.clear()
    with Client(MODELS.ref("models", "Echo")) as client:
        assert client.predict(text="hi") == "hi"
    with Client(models.Spin) as client:
        running = client.start(seconds=0)
        assert list(running) == ["started", "not canceled"]
        spinning = client.start()
        chunks = iter(spinning)
        assert next(chunks) == "started"
        spinning.cancel()
        assert spinning.result().status == "canceled"


def test_the_sync_client_raises_setup_failures() -> None:
    with pytest.raises(SetupFailedError), Client(models.SetupFails):
        pass
