"""Compatibility module: lets unchanged Cog models ``import cog`` under cogrt.

This is a module, not a package, so an installed ``cog`` distribution (a
package directory) always wins over it and no file of another distribution is
ever replaced. ``__path__`` points at ``cogrt/_cog_compat`` so the submodules
models import (``cog.types``, ``cog.server.exceptions``...) and
``python -m cog.server.http`` resolve through the normal import system.
"""

from __future__ import annotations

from pathlib import Path as _FsPath
from typing import Any

import cogrt.sdk as _sdk
from cogrt.sdk import *  # noqa: F403 - this module is a re-export by design
from cogrt.sdk import __all__, __version__  # noqa: F401

__path__ = [str(_FsPath(_sdk.__file__).parent.parent / "_cog_compat")]


def __getattr__(name: str) -> Any:
    return _sdk.__getattr__(name)
