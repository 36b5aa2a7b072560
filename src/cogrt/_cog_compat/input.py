"""``cog.input``: both the module of ``Input``/``FieldInfo`` and the legacy decorator.

Legacy models call ``cog.input(name, type=...)`` while modern ones write
``from cog.input import Input``. Importing this submodule makes the import
system set ``cog.input`` to the module, so the module itself is made callable
and forwards calls to the legacy decorator: both spellings keep working.
"""

import sys
import types
from typing import Any

from cogrt.sdk.input import FieldInfo, Input
from cogrt.sdk.legacy import input as _legacy_input

__all__ = ["FieldInfo", "Input"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _legacy_input(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
