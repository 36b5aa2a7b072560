"""The embeddable entry point: a queue worker in your own process and loop."""

from __future__ import annotations

from typing import Any

from cogrt.runner.runtime import Runtime
from cogrt.telemetry.wiring import observe
from cogrt.worker.options import WorkerOptions
from cogrt.worker.service import QueueWorker

__all__ = ["run_worker"]


async def run_worker(
    predictor: Any,
    options: WorkerOptions,
    *,
    signals: bool = True,
    tune_gc: bool = False,
    **runtime_kwargs: Any,
) -> int:
    """Load ``predictor`` (a reference like ``predict.py:Predictor``, or an object), set it
    up and serve ``options.stream`` until SIGTERM/SIGINT; returns the exit status
    (1 if setup failed, else 0). ``runtime_kwargs`` are ``Runtime``'s (``concurrency``, ...);
    ``tune_gc`` is for a process that runs nothing else (see ``QueueWorker``)."""
    if options.upload_url is not None:
        runtime_kwargs.setdefault("upload_url", options.upload_url)
    runtime = Runtime(predictor, **runtime_kwargs)
    page = observe(runtime, metrics=options.metrics and runtime.settings.metrics)
    async with runtime:
        return await QueueWorker(
            runtime, options, signals=signals, tune_gc=tune_gc, metrics=page
        ).run()
