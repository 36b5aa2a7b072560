"""``cogrt.startup_gc``: the collector paused for cogrt's imports, running for the model's code."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from cogrt import startup_gc
from tests.support.cli_process import run_cogrt
from tests.support.predictors import PredictorFolder

MODELS = PredictorFolder(Path(__file__).resolve().parent / "cli" / "predictors")


@pytest.fixture
def collector() -> Iterator[None]:
    """The test's own collector state, restored: it changes process-wide settings."""
    was_enabled = gc.isenabled()
    try:
        yield
    finally:
        startup_gc.resume()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def test_pause_stops_the_collector_and_resume_restarts_it_with_imports_frozen(
    collector: None,
) -> None:
    gc.enable()
    frozen_before = gc.get_freeze_count()
    startup_gc.pause()
    assert not gc.isenabled()
    imported = [object() for _ in range(10)]  # stands for what the imports create
    startup_gc.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(imported)


def test_resume_leaves_a_collector_that_someone_else_disabled(collector: None) -> None:
    gc.disable()  # a host program's choice
    startup_gc.pause()
    startup_gc.resume()
    assert not gc.isenabled()


def test_the_model_imports_and_predicts_with_the_collector_running(tmp_path: Path) -> None:
    done = run_cogrt(tmp_path, "predict", MODELS.ref("gc_state"), supervise=False)
    assert done.returncode == 0, done.stderr
    state = dict(item.split("=") for item in done.stdout.decode().split())
    assert (state["import"], state["predict"]) == ("True", "True")
    assert int(state["frozen"]) > 10_000  # cogrt's imports, frozen before the model's code ran


async def test_a_model_that_never_loads_still_leaves_the_collector_running(
    collector: None, tmp_path: Path
) -> None:
    """A missing predictor file: no model code runs, the server serves SETUP_FAILED for ever."""
    from cogrt.runner.runtime import Runtime

    gc.enable()
    startup_gc.pause()
    async with Runtime(str(tmp_path / "missing.py") + ":Predictor") as runtime:
        assert await runtime.wait_setup(30) == "SETUP_FAILED"
        assert gc.isenabled()
