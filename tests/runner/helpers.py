"""Helpers for runtime tests: load a predictor file, run a Runtime until setup is done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from cogrt.runner.loader import load_module
from cogrt.runner.runtime import Runtime

PREDICTORS = Path(__file__).parent / "predictors"


def load(name: str) -> ModuleType:
    """Import ``predictors/<name>.py`` fresh, so its module globals are the test's."""
    return load_module(PREDICTORS / f"{name}.py")


def ref(name: str, attribute: str = "Predictor") -> str:
    """A ``path.py:Name`` reference, so the runtime itself imports the module."""
    return f"{PREDICTORS / name}.py:{attribute}"


@asynccontextmanager
async def running(predictor: Any, **kwargs: Any) -> AsyncIterator[Runtime]:
    async with Runtime(predictor, **kwargs) as runtime:
        await runtime.wait_setup(30)
        yield runtime
