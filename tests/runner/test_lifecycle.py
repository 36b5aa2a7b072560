"""Setup, health states and the user healthcheck (spec §4.4, §18).

What a predictor sees goes through ``cogrt.testing``, as a user's own tests would."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from cogrt.config import Settings
from cogrt.errors import NotReadyError
from cogrt.runner.health import UserHealthcheck
from cogrt.runner.runtime import Runtime
from cogrt.testing import AsyncClient
from tests.support.harness import running
from tests.support.predictors import RUNNER

load = RUNNER.load


async def test_setup_and_predict_share_one_worker_thread() -> None:
    async with AsyncClient(load("thread_identity").Predictor) as client:
        setup_thread, predict_thread = await client.predict()
    assert setup_thread == predict_thread != threading.get_ident()


async def test_async_setup_runs_on_the_prediction_loop() -> None:
    async with AsyncClient(load("async_setup_loop").Predictor) as client:
        assert await client.predict() is True


async def test_reference_string_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(RUNNER.path)
    async with AsyncClient("echo_sync.py:Predictor") as client:
        assert client.runtime.status == "READY"
        assert await client.predict(text="yo") == "yo"


async def test_weights_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COG_WEIGHTS", "https://example.invalid/w.tar")
    async with AsyncClient(load("weights").Predictor) as client:
        assert await client.predict() == "str:https://example.invalid/w.tar"


async def test_weights_file_in_model_folder_is_not_passed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``cog train`` leaves a ``weights`` file in the model folder; Cog never passes it."""
    monkeypatch.delenv("COG_WEIGHTS", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "weights").write_bytes(b"trained")
    async with AsyncClient(load("weights").Predictor, workdir=tmp_path) as client:
        assert await client.predict() == "NoneType:None"


async def test_weights_from_environment_beat_a_weights_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COG_WEIGHTS", "https://example.invalid/w.tar")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "weights").write_bytes(b"trained")
    async with AsyncClient(load("weights").Predictor, workdir=tmp_path) as client:
        assert await client.predict() == "str:https://example.invalid/w.tar"


async def test_empty_weights_variable_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COG_WEIGHTS", "")
    async with AsyncClient(load("weights").Predictor) as client:
        assert await client.predict() == "NoneType:None"


async def test_weights_none_without_source(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("COG_WEIGHTS", raising=False)
    async with AsyncClient(load("weights").Predictor, workdir=tmp_path) as client:
        assert await client.predict() == "NoneType:None"


async def test_failed_setup_keeps_runtime_up_with_logs_and_traceback() -> None:
    async with running(load("setup_fails").Predictor) as runtime:
        health = await runtime.health()
        assert health["status"] == "SETUP_FAILED"
        assert health["setup"]["status"] == "failed"
        assert "loading weights" in health["setup"]["logs"]
        assert "RuntimeError: weights are corrupt" in health["setup"]["logs"]
        assert "Traceback" in health["setup"]["logs"]
        assert "completed_at" in health["setup"]
        with pytest.raises(NotReadyError):
            await runtime.predict()


async def test_sys_exit_in_setup_fails_setup_not_the_process() -> None:
    async with running(load("setup_exits").Predictor) as runtime:
        assert runtime.status == "SETUP_FAILED"
        assert "SystemExit" in (await runtime.health())["setup"]["logs"]


async def test_setup_timeout() -> None:
    module = load("setup_gated")
    settings = Settings(setup_timeout=0.2)
    async with running(module.Predictor, settings=settings) as runtime:
        try:
            health = await runtime.health()
            assert health["status"] == "SETUP_FAILED"
            assert "timed out" in health["setup"]["logs"]
        finally:
            module.GATE.set()  # frees the worker thread, which the runtime joins on exit


async def test_starting_until_setup_finishes() -> None:
    module = load("setup_gated")
    async with Runtime(module.Predictor) as runtime:
        health = await runtime.health()
        assert health["status"] == "STARTING"
        assert health["setup"]["status"] == "starting"
        assert "completed_at" not in health["setup"]
        with pytest.raises(NotReadyError):
            runtime.decode_request(b"{}")
        module.GATE.set()
        assert await runtime.wait_setup(10) == "READY"
        health = await runtime.health()
        assert health["setup"]["status"] == "succeeded"
        assert set(health["version"]) >= {"coglet", "python_sdk", "python"}


async def test_busy_while_the_only_slot_is_taken() -> None:
    module = load("gated_sync")
    async with running(module.Predictor) as runtime:
        prediction = runtime.start(runtime.decode_request(b"{}"))
        assert runtime.status == "BUSY"
        assert (await runtime.health())["status"] == "BUSY"
        module.RELEASE.set()
        await prediction.wait()
        assert runtime.status == "READY"


@pytest.mark.parametrize(
    ("mode", "status", "error"),
    [
        ("ok", "READY", None),
        ("none", "READY", None),
        ("false", "UNHEALTHY", "Healthcheck failed: user-defined healthcheck returned False"),
        ("raise", "UNHEALTHY", "Healthcheck failed: ConnectionError: database unreachable"),
    ],
)
async def test_user_healthcheck(mode: str, status: str, error: str | None) -> None:
    module = load("healthcheck")
    module.BEHAVIOUR["mode"] = mode
    async with running(module.Predictor) as runtime:
        health = await runtime.health()
    assert health["status"] == status
    assert health.get("user_healthcheck_error") == error


async def test_user_healthcheck_timeout_shares_one_invocation() -> None:
    calls = []

    def slow() -> bool:
        calls.append(1)
        threading.Event().wait(0.5)
        return True

    check = UserHealthcheck(slow, timeout=0.1)
    results = await asyncio.gather(check.check(), check.check())
    assert (
        results == ["Healthcheck failed: user-defined healthcheck timed out after 0.1 seconds"] * 2
    )
    assert await check.check() is not None  # still the same, unfinished invocation
    assert len(calls) == 1
