"""Resolve ``path/to/predict.py:Name`` into a ready-to-introspect predictor.

Follows Cog's rules (spec §2.3, §4.1): the module is named after the file,
registered in ``sys.modules`` before it executes, the project root (CWD) is on
``sys.path`` but the file's own folder is not, and ``sys.argv`` is reduced
while it imports so model code calling ``argparse`` never sees cogrt's flags.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec

from cogrt import startup_gc
from cogrt.errors import PredictorDefinitionError, PredictorLoadError
from cogrt.runner.tracebacks import format_user_exception
from cogrt.schema.modes import Mode

__all__ = ["LoadedPredictor", "instantiate", "load_module", "load_object", "resolve"]

_BASE_NAMES = frozenset({"BaseRunner", "BasePredictor", "Predictor", "object"})


class LoadedPredictor(msgspec.Struct, frozen=True):
    """The user object and the bound callables cogrt will call."""

    ref: str
    instance: Any
    entry: Callable[..., Any]
    setup: Callable[..., Any] | None
    healthcheck: Callable[..., Any] | None


def load_module(path: str | os.PathLike[str]) -> ModuleType:
    """Import a predictor file the way Cog does; errors name the file."""
    file = Path(path)
    if not file.is_file():
        raise PredictorLoadError(
            f"predictor file not found: {file} (working directory {Path.cwd()})"
        )
    name = file.name.removesuffix(".py")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise PredictorLoadError(f"cannot import {file}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    startup_gc.resume()  # the model's code runs with the collector as CPython sets it
    try:
        with _reduced_argv():
            spec.loader.exec_module(module)
    except BaseException as exc:
        sys.modules.pop(name, None)
        detail = format_user_exception(exc).rstrip()
        raise PredictorLoadError(f"failed to import {file}:\n{detail}") from exc
    return module


@contextlib.contextmanager
def _reduced_argv() -> Iterator[None]:
    saved = sys.argv
    sys.argv = saved[:1]
    try:
        yield
    finally:
        sys.argv = saved


def load_object(ref: str) -> Any:
    """The object a ``file.py:Name`` reference names (``Runner``/``Predictor`` by default)."""
    file, _, attribute = ref.partition(":")
    module = load_module(file)
    if attribute:
        if not hasattr(module, attribute):
            raise PredictorLoadError(f"{file} has no attribute {attribute!r} (reference {ref!r})")
        return getattr(module, attribute)
    for default in ("Runner", "Predictor"):
        if hasattr(module, default):
            return getattr(module, default)
    raise PredictorLoadError(f"module '{module.__name__}' has no Runner or Predictor")


def entry_method_name(cls: type, mode: Mode) -> str:
    """``run``, ``predict`` or ``train``, checked against Cog's class rules."""
    defined: set[str] = set()
    for klass in cls.__mro__:
        if klass.__name__ in _BASE_NAMES and klass.__module__.split(".")[0] in (
            "cog",
            "cogrt",
            "builtins",
        ):
            break
        defined.update(name for name in ("run", "predict", "train") if name in vars(klass))
    if mode == "train":
        if "train" in defined:
            return "train"
        raise PredictorDefinitionError(f"train method not found: {cls.__name__}")
    if "run" in defined and "predict" in defined:
        raise PredictorDefinitionError(
            f"{cls.__name__} must define either run() or predict(), not both"
        )
    if "run" in defined:
        return "run"
    if "predict" in defined:
        return "predict"
    raise PredictorDefinitionError(f"run or predict method not found: {cls.__name__}")


def instantiate(target: Any, ref: str, mode: Mode = "predict") -> LoadedPredictor:
    """Turn a class or function into callables; classes get one long-lived instance."""
    if inspect.isclass(target):
        method = entry_method_name(target, mode)
        try:
            instance = target()
        except Exception as exc:
            detail = format_user_exception(exc).rstrip()
            raise PredictorLoadError(f"{target.__name__}() failed:\n{detail}") from exc
        return _bind(instance, ref, method)
    if callable(target):
        return LoadedPredictor(ref=ref, instance=target, entry=target, setup=None, healthcheck=None)
    raise PredictorLoadError(f"{ref} is neither a class nor a function: {type(target).__name__}")


def resolve(predictor: Any, mode: Mode = "predict") -> LoadedPredictor:
    """Accept a ``"file.py:Name"`` string, a class, an instance or a function."""
    if isinstance(predictor, str):
        return instantiate(load_object(predictor), predictor, mode)
    if inspect.isclass(predictor) or inspect.isfunction(predictor):
        return instantiate(predictor, getattr(predictor, "__qualname__", repr(predictor)), mode)
    if isinstance(predictor, LoadedPredictor):
        return predictor
    method = entry_method_name(type(predictor), mode)
    return _bind(predictor, type(predictor).__qualname__, method)


def _bind(instance: Any, ref: str, method: str) -> LoadedPredictor:
    """An instance's entry method and, where callable, its ``setup`` and ``healthcheck``."""
    setup = getattr(instance, "setup", None)
    healthcheck = getattr(instance, "healthcheck", None)
    return LoadedPredictor(
        ref=ref,
        instance=instance,
        entry=getattr(instance, method),
        setup=setup if callable(setup) else None,
        healthcheck=healthcheck if callable(healthcheck) else None,
    )
