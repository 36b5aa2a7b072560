"""``QueueWorker``: one ``Runtime`` fed from a Redis stream, from setup to a clean stop.

    async with Runtime("predict.py:Predictor") as runtime:
        code = await QueueWorker(runtime, WorkerOptions(redis_url, "predictions")).run()

Order of a life: the health port opens (probes see ``STARTING``), setup runs
(a failed setup returns 1 before any message is read), the group is created,
the cancel listener, publisher, reclaimer and reader start. A stop (SIGTERM,
SIGINT or ``stop()``) ends reading and reclaiming at once; in-flight
predictions get ``grace_period`` to finish and be recorded; any still
running then are canceled *without* a result, their messages left pending
for another worker (with a note in their lease), and ``run()`` returns 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING

from cogrt.runner.gc_tuning import tune_gc
from cogrt.worker.cancels import CancelListener
from cogrt.worker.connection import connect
from cogrt.worker.health import HealthServer
from cogrt.worker.intake import Intake
from cogrt.worker.jobs import Jobs
from cogrt.worker.ledger import Ledger
from cogrt.worker.responses import ResponsePublisher

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from cogrt.runner.runtime import Runtime
    from cogrt.telemetry.exposition import MetricsPage
    from cogrt.worker.options import WorkerOptions

__all__ = ["QueueWorker"]

log = logging.getLogger("cogrt.worker")


class QueueWorker:
    """Serves an entered ``Runtime`` from ``options.stream`` until stopped."""

    def __init__(
        self,
        runtime: Runtime,
        options: WorkerOptions,
        *,
        signals: bool = True,
        tune_gc: bool = False,
        metrics: MetricsPage | None = None,
    ) -> None:
        """``tune_gc``: apply :mod:`cogrt.runner.gc_tuning` after setup (process-wide, so
        only ``python -m cogrt worker``, which owns its process, sets it). ``metrics``: served
        as ``GET /metrics`` on the health port (``telemetry.wiring``)."""
        self.runtime = runtime
        self._tune_gc = tune_gc
        self._metrics = metrics
        self.options = options
        self._signals = signals
        self._stopping = asyncio.Event()
        self.health_port: int | None = None

    def stop(self) -> None:
        """Stop reading; in-flight work gets the grace period (safe to call twice)."""
        if not self._stopping.is_set():
            log.info("stop requested")
        self._stopping.set()

    async def run(self) -> int:
        """Serve until stopped; 0 after a clean stop, 1 when setup failed."""
        health = HealthServer(self.runtime.health, self._metrics)
        with self._signal_handlers():
            if self.options.port is not None:
                self.health_port = await health.start(self.options.host, self.options.port)
                log.info(
                    "health check on http://%s:%d/health-check", self.options.host, self.health_port
                )
            try:
                return await self._serve()
            finally:
                await health.aclose()

    async def _serve(self) -> int:
        status = await self.runtime.wait_setup()
        if status not in ("READY", "BUSY"):
            setup = (await self.runtime.health())["setup"]
            log.error("setup failed; no message was read:\n%s", setup.get("logs", ""))
            return 1
        if self._tune_gc:
            tune_gc(self.runtime.slots)
        redis = connect(self.options.redis_url)
        try:
            await self._consume(redis)
        finally:
            await redis.aclose()
        return 0

    async def _consume(self, redis: Redis) -> None:
        options = self.options
        ledger = Ledger(lambda: self.runtime.slots)
        publisher = ResponsePublisher(redis, options)
        jobs = Jobs(self.runtime, redis, publisher, ledger, options)
        intake = Intake(redis, options, ledger, jobs)
        cancels = CancelListener(redis, ledger.cancel)
        if not await intake.ensure_group(self._stopping):
            return
        publisher.start()
        loop = asyncio.get_running_loop()
        background = [
            loop.create_task(cancels.run()),
            loop.create_task(intake.refresh_loop()),
        ]
        log.info(
            "worker %s reading stream %s, group %s, %d slots",
            options.consumer,
            options.stream,
            options.group,
            self.runtime.slots,
        )
        try:
            await intake.run(self._stopping)
            log.info(
                "stopped reading; %d predictions in flight get %s s",
                len(ledger.held),
                options.grace_period,
            )
            await self._drain(jobs, ledger)
            await publisher.aclose(timeout=5.0)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)

    async def _drain(self, jobs: Jobs, ledger: Ledger) -> None:
        tasks = [held.task for held in ledger.held.values() if held.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=self.options.grace_period)
        left = list(ledger.held.items())
        for prediction_id, held in left:
            held.abandoned = True
            why = (
                f"consumer {self.options.consumer} stopped before finishing it"
                f" (grace period {self.options.grace_period} s); left pending"
            )
            await jobs.note(prediction_id, why)
            if held.prediction is not None:
                held.prediction.cancel()
        if left:
            log.warning("%d predictions left pending for other workers", len(left))
        await self.runtime.drain(0.0)
        rest = [held.task for _, held in left if held.task is not None]
        if rest:
            await asyncio.wait(rest, timeout=10.0)

    @contextlib.contextmanager
    def _signal_handlers(self) -> Iterator[None]:
        if not self._signals:
            yield
            return
        loop = asyncio.get_running_loop()
        installed = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(signum, self.stop)
                installed.append(signum)
            except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
                pass
        try:
            yield
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)
