"""Which entry point a process is started for: ``predict()`` or Cog's ``train()``.

The CLI, the loader, the runtime and the OpenAPI document all branch on it;
one alias keeps the word meaning the same thing in each.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Mode"]

Mode = Literal["predict", "train"]
