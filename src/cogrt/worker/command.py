"""``python -m cogrt worker``: the queue worker's flags and its process.

The CLI resolves the project exactly as for ``serve`` (``cog.yaml``, its
environment, ``REF``) and hands it here; this module owns only the worker's
flags and running the loop.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import os
import sys
from typing import Any, Protocol

from cogrt.errors import ConfigError
from cogrt.worker.options import WorkerOptions, default_consumer

__all__ = ["ProjectLike", "add_arguments", "options_from", "run"]

SWITCH_INTERVAL = 0.0005
"""As ``serve``: the loop answers Redis and probes within ms while a sync predictor burns CPU."""


class ProjectLike(Protocol):
    """What the worker needs of the CLI's resolved project (``cli.Project``)."""

    @property
    def predictor(self) -> str: ...

    def runtime_kwargs(self) -> dict[str, Any]: ...


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL"),
        metavar="URL",
        help="redis://host:6379/0 (default: $REDIS_URL)",
    )
    parser.add_argument("--stream", required=True, metavar="NAME", help="the request stream")
    parser.add_argument("--group", default="cogrt", help="consumer group (default: cogrt)")
    parser.add_argument(
        "--consumer",
        default=None,
        metavar="ID",
        help="this worker's name (default: host-pid-random)",
    )
    parser.add_argument(
        "--claim-after",
        type=float,
        default=60.0,
        metavar="S",
        help="take over messages a silent worker held this long (default: 60)",
    )
    parser.add_argument(
        "--max-deliveries",
        type=int,
        default=5,
        metavar="N",
        help="more deliveries than this and a message goes to NAME:dead (default: 5)",
    )
    parser.add_argument("--port", type=int, default=None, help="serve /health-check on this port")
    parser.add_argument("--host", default="0.0.0.0", help="address of the health port")
    parser.add_argument(
        "--no-metrics",
        action="store_true",
        help="no GET /metrics on the health port [env: COGRT_METRICS=0]",
    )
    parser.add_argument(
        "--upload-url", default=None, help="PUT file outputs there instead of data URIs"
    )
    parser.add_argument(
        "--result-ttl",
        type=float,
        default=24 * 3600.0,
        metavar="S",
        help="how long results and response streams stay in Redis (default: 86400)",
    )
    parser.add_argument(
        "--grace-period",
        type=float,
        default=25.0,
        metavar="S",
        help="after SIGTERM, how long in-flight predictions may finish (default: 25)",
    )


def options_from(ns: argparse.Namespace) -> WorkerOptions:
    if not ns.redis:
        raise ConfigError("no Redis: pass --redis redis://host:6379 or set REDIS_URL")
    if ns.claim_after <= 0 or ns.max_deliveries < 1:
        raise ConfigError("--claim-after must be positive and --max-deliveries at least 1")
    return WorkerOptions(
        redis_url=ns.redis,
        stream=ns.stream,
        group=ns.group,
        consumer=ns.consumer or default_consumer(),
        claim_after=ns.claim_after,
        max_deliveries=ns.max_deliveries,
        port=ns.port,
        host=ns.host,
        metrics=not ns.no_metrics,
        result_ttl=ns.result_ttl,
        grace_period=ns.grace_period,
        upload_url=ns.upload_url,
    )


def run(ns: argparse.Namespace, project: ProjectLike) -> int:
    """Run the worker until SIGTERM; the process's exit status."""
    options = options_from(ns)
    if sys.__stderr__ is not None:  # a crash in C code prints the Python stacks
        faulthandler.enable(sys.__stderr__, all_threads=True)
    sys.setswitchinterval(SWITCH_INTERVAL)
    from cogrt.worker.api import run_worker

    main = run_worker(project.predictor, options, tune_gc=True, **project.runtime_kwargs())
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
