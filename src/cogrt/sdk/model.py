"""``BaseModel``: structured outputs declared as plain classes.

Subclasses become dataclasses automatically, so model code writes
``class Output(BaseModel): image: Path`` and constructs it with keywords,
without pulling pydantic into the runtime.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["BaseModel"]


class BaseModel:
    """Base for output objects; every subclass is turned into a dataclass.

    Pass ``auto_dataclass=False`` as a class keyword to opt out; other class
    keywords (``frozen=True``...) are forwarded to ``dataclasses.dataclass``.
    """

    def __init_subclass__(cls, *, auto_dataclass: bool = True, **kwargs: Any) -> None:
        dataclass_kwargs = {
            key: kwargs.pop(key)
            for key in list(kwargs)
            if key in {"init", "repr", "eq", "order", "unsafe_hash", "frozen", "kw_only", "slots"}
        }
        super().__init_subclass__(**kwargs)
        if not auto_dataclass:
            return
        first_base = cls.__bases__[0]
        if not issubclass(first_base, BaseModel):
            raise TypeError(
                f"{cls.__name__}: the first base class must derive from BaseModel, "
                f"not {first_base.__name__}"
            )
        for base in cls.__bases__[1:]:
            if dataclasses.is_dataclass(base) and not issubclass(base, BaseModel):
                raise TypeError(
                    f"{cls.__name__}: cannot mix BaseModel with the dataclass {base.__name__}"
                )
        dataclass_kwargs.setdefault("init", True)
        dataclasses.dataclass(cls, **dataclass_kwargs)
