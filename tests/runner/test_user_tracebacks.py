"""Setup and prediction failures: the user's frames in the logs, an error line on stderr.

A traceback of user code shows the user's frames, not the worker thread,
``Outcome.unwrap`` or ``asyncio.wait_for`` frames it travelled through
(Cog shows the user's frames only). A setup failure or timeout is also one
error-level record of a ``cogrt`` logger, which the server writes to stderr.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

import cogrt
from cogrt.config import Settings
from tests.support.harness import running
from tests.support.predictors import RUNNER

load, ref, frame_of = RUNNER.load, RUNNER.ref, RUNNER.frame_of

COGRT_FRAME = re.compile(r'File "' + re.escape(str(Path(cogrt.__file__).parent)))


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("cogrt")]


async def test_failed_setup_shows_the_user_frame_and_logs_one_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running(load("setup_fails").Predictor) as runtime:
        logs = (await runtime.health())["setup"]["logs"]
    raise_line = '        raise RuntimeError("weights are corrupt")'
    assert logs.startswith("loading weights\nTraceback (most recent call last):\n")
    assert f"{frame_of('setup_fails', raise_line)}, in setup\n" in logs
    assert logs.endswith("RuntimeError: weights are corrupt\n")
    assert not COGRT_FRAME.search(logs), logs
    [record] = errors(caplog)
    message = record.getMessage()
    assert message.startswith("Setup failed: RuntimeError: weights are corrupt\nTraceback")
    assert frame_of("setup_fails", raise_line) in message
    assert not COGRT_FRAME.search(message), message
    assert "Setup failed" not in logs  # the error line is not captured into the setup logs


async def test_chained_async_setup_failure_shows_both_exceptions_with_user_frames() -> None:
    async with running(load("setup_chained").Predictor) as runtime:
        logs = (await runtime.health())["setup"]["logs"]
    assert not COGRT_FRAME.search(logs), logs
    cause, _, effect = logs.partition(
        "\nThe above exception was the direct cause of the following exception:\n\n"
    )
    assert frame_of("setup_chained", '    raise OSError("weights.bin is truncated")') in cause
    assert cause.rstrip().endswith("OSError: weights.bin is truncated")
    assert effect.startswith("Traceback (most recent call last):\n")
    raise_line = '            raise RuntimeError("model could not load") from exc'
    assert frame_of("setup_chained", raise_line) in effect
    assert effect.endswith("RuntimeError: model could not load\n")


async def test_import_failure_shows_the_module_frame_once() -> None:
    async with running(ref("import_fails")) as runtime:
        logs = (await runtime.health())["setup"]["logs"]
    assert runtime.status == "SETUP_FAILED"
    assert "PredictorLoadError: failed to import" in logs
    assert logs.count(frame_of("import_fails", 'raise ValueError("cannot import this model")')) == 1
    assert logs.count("ValueError: cannot import this model") == 1
    assert not COGRT_FRAME.search(logs), logs
    assert "<frozen importlib" not in logs


async def test_constructor_failure_shows_the_constructor_frame() -> None:
    async with running(ref("init_fails")) as runtime:
        logs = (await runtime.health())["setup"]["logs"]
    assert "PredictorLoadError: Predictor() failed:" in logs
    raise_line = '        raise KeyError("no config")'
    assert f"{frame_of('init_fails', raise_line)}, in __init__" in logs
    assert logs.rstrip().endswith("KeyError: 'no config'")
    assert not COGRT_FRAME.search(logs), logs


async def test_a_timeout_error_of_the_model_is_a_setup_failure_not_a_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running(load("setup_own_timeout").Predictor, settings=Settings()) as runtime:
        logs = (await runtime.health())["setup"]["logs"]
    assert runtime.status == "SETUP_FAILED"
    assert "timed out after" not in logs
    assert logs.endswith("TimeoutError: the weights server did not answer\n")
    assert [r.getMessage().split("\n")[0] for r in errors(caplog)] == [
        "Setup failed: TimeoutError: the weights server did not answer"
    ]


async def test_setup_timeout_logs_an_error_line(caplog: pytest.LogCaptureFixture) -> None:
    module = load("setup_gated")
    async with running(module.Predictor, settings=Settings(setup_timeout=0.2)) as runtime:
        logs = (await runtime.health())["setup"]["logs"]
        module.GATE.set()  # frees the worker thread, which the runtime joins on exit
    assert logs.endswith("Setup timed out after 0.2 seconds\n")
    assert [r.getMessage() for r in errors(caplog)] == [
        "Setup timed out after 0.2 seconds (COG_SETUP_TIMEOUT)"
    ]


async def test_deferred_training_setup_failure_logs_once_with_user_frames(
    caplog: pytest.LogCaptureFixture,
) -> None:
    trainer = load("train_setup_fails").Trainer
    async with running(load("echo_sync").Predictor, train=trainer) as runtime:
        first = await runtime.predict({}, training=True)
        second = await runtime.predict({}, training=True)
    for training in (first, second):
        assert training["status"] == "failed"
        assert training["logs"].endswith("RuntimeError: no base weights\n")
        assert (
            frame_of("train_setup_fails", '        raise RuntimeError("no base weights")')
            in (training["logs"])
        )
        assert not COGRT_FRAME.search(training["logs"]), training["logs"]
    [record] = errors(caplog)
    assert record.getMessage().startswith("Training setup failed: RuntimeError: no base weights\n")
    assert not COGRT_FRAME.search(record.getMessage())


@pytest.mark.parametrize("kind", ["Sync", "Async", "AsyncStream"])
async def test_failed_prediction_logs_show_the_user_frames(kind: str) -> None:
    async with running(getattr(load("predict_fails"), kind)) as runtime:
        response = await runtime.predict({"text": "zz"})
    logs = response["logs"]
    assert response["error"] == "ValueError: bad input 'zz'"
    assert logs.startswith("Traceback (most recent call last):\n")
    assert f'File "{RUNNER.path / "predict_fails"}.py", line ' in logs
    assert ", in predict\n    check(text)\n" in logs
    assert frame_of("predict_fails", '    raise ValueError(f"bad input {text!r}")') in logs
    assert logs.endswith("ValueError: bad input 'zz'\n")
    assert not COGRT_FRAME.search(logs), logs


async def test_sync_generator_failure_shows_the_generator_frame() -> None:
    async with running(load("stream_fails").Predictor) as runtime:
        logs = (await runtime.predict())["logs"]
    assert frame_of("stream_fails", '        raise ValueError("midstream")') in logs
    assert not COGRT_FRAME.search(logs), logs


async def test_an_error_of_cogrt_alone_is_its_exception_line() -> None:
    async with running(load("predict_fails").Unencodable) as runtime:
        response = await runtime.predict()
    assert response["status"] == "failed"
    message = response["error"].removeprefix("OutputEncodingError: ")
    assert response["logs"] == f"cogrt.errors.OutputEncodingError: {message}\n"
