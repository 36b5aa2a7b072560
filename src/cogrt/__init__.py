"""cogrt: an asyncio-native, single-process runtime for Cog predictors."""

from __future__ import annotations

from cogrt import errors
from cogrt.errors import *  # noqa: F403 - every public exception is part of cogrt's API
from cogrt.version import __version__

__all__ = ["Runtime", "__version__", "create_app", "serve"]
__all__ += errors.__all__
__all__.sort()

TYPE_CHECKING = False  # not typing's: `python -m cogrt` imports this package before it forks
if TYPE_CHECKING:  # the first runtime, and typing would cost the supervisor most of a MiB
    from typing import Any

    from cogrt.http.app import create_app
    from cogrt.http.server import serve
    from cogrt.runner.runtime import Runtime


def __getattr__(name: str) -> Any:
    """``serve``, ``create_app`` and ``Runtime`` load on first use: ``import cogrt`` stays light
    (no starlette, no server) for model code that only needs the errors."""
    if name == "create_app":
        from cogrt.http.app import create_app

        return create_app
    if name == "Runtime":
        from cogrt.runner.runtime import Runtime

        return Runtime
    if name == "serve":
        from cogrt.http.server import serve

        return serve
    raise AttributeError(f"module 'cogrt' has no attribute {name!r}")
