"""``InputField``: one predictor input, with Cog's required/nullable/default rules applied.

The signature builds these once per predictor; OpenAPI, validation and the
argument builder read them on every request, so what they ask is cached.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from cogrt.schema.annotations import ListOf, Node, Scalar
from cogrt.sdk.input import MISSING, Constraints

__all__ = ["InputField"]


@dataclass(frozen=True, kw_only=True)
class InputField(Constraints):
    """One input: its place, its type, its default and its ``Input()`` constraints."""

    name: str
    index: int
    node: Node
    nullable: bool
    required: bool
    default: Any = MISSING

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING

    @functools.cached_property
    def file_kind(self) -> str | None:
        """``path``/``file``/``secret`` when the value needs converting, else None.

        Cached: every request asks it of every input, three times.
        """
        node = self.node.item if isinstance(self.node, ListOf) else self.node
        if isinstance(node, Scalar) and node.kind in ("path", "file", "secret"):
            return node.kind
        return None
